//go:build unix

package store

import (
	"io/fs"
	"syscall"
)

// rootOwned reports whether root owns the file.
func rootOwned(fi fs.FileInfo) bool {
	st, ok := fi.Sys().(*syscall.Stat_t)
	return ok && st.Uid == 0
}
