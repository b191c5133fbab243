package loghub_test

import (
	"bytes"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/faultmaven/faultmaven/core/loganalysis"
	"github.com/faultmaven/faultmaven/core/loganalysis/loghub"
)

func dataDir(tb testing.TB) string {
	tb.Helper()
	_, file, _, _ := runtime.Caller(0)
	// core/loganalysis/loghub -> repo root -> ../shared/loghub
	return filepath.Join(filepath.Dir(file), "..", "..", "..", "..", "shared", "loghub")
}

// parseDataset runs the product parser over one dataset and returns the
// predicted template of every line plus the share of lines whose detected
// message equals the labelled Content.
func parseDataset(tb testing.TB, d *loghub.Dataset, protocol bool) ([]string, float64, string, int) {
	tb.Helper()
	opts := loganalysis.ParseOptions{StripFirstToken: d.HasLabel}
	if protocol {
		p := loghub.Protocol[d.Name]
		opts.Format, opts.Masks = p.Format, p.Masks
		opts.StripFirstToken = false
	}
	p, err := loganalysis.NewParser(opts)
	if err != nil {
		tb.Fatalf("NewParser: %v", err)
	}
	n := len(d.TmplV0)
	cluster := make([]int, n)
	headerOK := 0
	err = p.Run(tb.Context(), bytes.NewReader(d.Raw), func(r loganalysis.ParsedRecord) error {
		for k := 0; k < r.Lines; k++ {
			if i := r.Line - 1 + k; i < n {
				cluster[i] = r.ClusterID
			}
		}
		if i := r.Line - 1; i < n && strings.TrimSpace(r.Header.Content) == strings.TrimSpace(d.Content[i]) {
			headerOK++
		}
		return nil
	})
	if err != nil {
		tb.Fatalf("Run: %v", err)
	}
	pred := make([]string, n)
	for i, c := range cluster {
		pred[i] = p.Template(c)
	}
	return pred, float64(headerOK) / float64(n), p.Layout(), len(p.Templates())
}

func uniq(xs []string) map[string]bool {
	m := map[string]bool{}
	for _, x := range xs {
		m[x] = true
	}
	return m
}
