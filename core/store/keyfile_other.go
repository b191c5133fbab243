//go:build !unix

package store

import "io/fs"

// rootOwned: no owner check off Unix, so only 0600 files are accepted.
func rootOwned(fs.FileInfo) bool { return false }
