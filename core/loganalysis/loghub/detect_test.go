//go:build loghub

package loghub_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/faultmaven/faultmaven/core/loganalysis"
	"github.com/faultmaven/faultmaven/core/loganalysis/loghub"
	"github.com/faultmaven/faultmaven/sdk"
)

// TestBGLAlerts scores the analyzer's per-record Anomalous flag against
// BGL's alert labels, from the text alone (the label column is stripped).
func TestBGLAlerts(t *testing.T) {
	d, err := loghub.Load(dataDir(t), "BGL")
	if err != nil {
		t.Skipf("Loghub data absent (%v): put the Loghub-2k samples at ../shared/loghub", err)
	}
	a, err := loganalysis.New(loganalysis.Options{})
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimRight(string(bytes.ReplaceAll(d.Raw, []byte("\r"), nil)), "\n"), "\n")
	flagged := make([]bool, len(d.Label))
	fatal := make([]bool, len(d.Label))
	truth := make([]bool, len(d.Label))
	for i, ln := range lines {
		if i >= len(truth) {
			break
		}
		_, body, _ := strings.Cut(ln, " ")
		o := a.Observe(loganalysis.StreamKey{Cluster: "bgl", Source: "bgl"}, sdk.Record{Body: body})
		flagged[i] = o.Anomalous
		fatal[i] = o.Severity >= sdk.SeverityFatal
		truth[i] = d.Label[i] != "-"
	}
	p, r, f := loghub.Detection(flagged, truth)
	bp, br, bf := loghub.Detection(fatal, truth)
	t.Logf("\n| detector | precision | recall | F1 |\n|---|---|---|---|\n| every FATAL line | %.3f | %.3f | %.3f |\n| analyzer Anomalous | %.3f | %.3f | %.3f |\n", bp, br, bf, p, r, f)
	if f <= bf {
		t.Errorf("analyzer F1 %.3f does not beat the FATAL baseline %.3f", f, bf)
	}
}
