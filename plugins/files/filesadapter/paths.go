package filesadapter

import (
	"cmp"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// logFile is one regular file selected by an instance's paths.
type logFile struct {
	Path    string
	ModTime time.Time
}

// resolution is what an instance's paths select right now. Paths are
// resolved on every search and health check, never cached: log files are
// rotated, created and deleted while the hub runs, and a cached list
// would go stale within the hour.
type resolution struct {
	Files    []logFile // regular files, oldest modification first
	Problems []string  // entries that matched nothing or could not be read
}

// resolvePaths expands the configured entries:
//
//   - a pattern holding *, ? or [ is expanded with [filepath.Glob];
//   - a directory (named, or matched by a pattern) stands for the regular
//     files directly inside it: directories are not walked recursively,
//     so pointing at /var/log does not pull in every log on the machine;
//   - anything else must be a file.
//
// Symbolic links are followed; non-regular files (sockets, devices, FIFOs)
// are skipped because reading one could block forever. A file selected by
// several entries is read once.
//
// Files come out sorted by modification time, then path, so that rotated
// files (app.log.2.gz, app.log.1, app.log) are read oldest first, which is
// the order the SDK asks searches to follow where they can.
func resolvePaths(entries []string) resolution {
	var res resolution
	seen := make(map[string]bool)
	var matched bool // the current entry selected at least one regular file
	add := func(path string, info fs.FileInfo) {
		if !info.Mode().IsRegular() {
			return
		}
		matched = true
		if seen[path] {
			return
		}
		seen[path] = true
		res.Files = append(res.Files, logFile{Path: path, ModTime: info.ModTime()})
	}
	for _, entry := range entries {
		matches := []string{entry}
		if hasMeta(entry) {
			// Validated at configure time, so ErrBadPattern cannot occur.
			matches, _ = filepath.Glob(entry)
			if len(matches) == 0 {
				res.Problems = append(res.Problems, fmt.Sprintf("%s: no file matches", entry))
				continue
			}
		}
		matched = false
		problems := len(res.Problems)
		for _, m := range matches {
			info, err := os.Stat(m)
			if err != nil {
				res.Problems = append(res.Problems, describe(m, err))
				continue
			}
			if !info.IsDir() {
				add(filepath.Clean(m), info)
				continue
			}
			dirEntries, err := os.ReadDir(m)
			if err != nil {
				res.Problems = append(res.Problems, describe(m, err))
				continue
			}
			for _, de := range dirEntries {
				p := filepath.Join(m, de.Name())
				if info, err := os.Stat(p); err == nil {
					add(p, info)
				}
			}
		}
		if !matched && len(res.Problems) == problems {
			res.Problems = append(res.Problems, fmt.Sprintf("%s: no regular file", entry))
		}
	}
	slices.SortFunc(res.Files, func(a, b logFile) int {
		return cmp.Or(a.ModTime.Compare(b.ModTime), strings.Compare(a.Path, b.Path))
	})
	return res
}

// describe turns a stat or read error into a short operator-facing
// message. The path is not secret: it is in the instance config.
func describe(path string, err error) string {
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return path + ": does not exist"
	case errors.Is(err, fs.ErrPermission):
		return path + ": permission denied"
	}
	return fmt.Sprintf("%s: %v", path, err)
}

// hasMeta reports whether path holds a filepath.Match metacharacter.
func hasMeta(path string) bool { return strings.ContainsAny(path, `*?[`) }

// serviceName derives a service from a file name by dropping the usual log
// extensions and rotation suffixes: checkout.log.1.gz -> checkout,
// payments.jsonl -> payments. Unknown extensions are kept (api.v2 stays
// api.v2) because guessing wrong merges unrelated services.
func serviceName(path string) string {
	name := filepath.Base(path)
	for {
		ext := filepath.Ext(name)
		if ext == "" || ext == name {
			return name
		}
		switch e := strings.ToLower(ext[1:]); {
		case e == "gz" || e == "log" || e == "txt" || e == "json" || e == "jsonl" ||
			e == "ndjson" || e == "out" || e == "err" || isDigits(e):
			name = strings.TrimSuffix(name, ext)
		default:
			return name
		}
	}
}

func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}
