//go:build loghub

package loghub_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/faultmaven/faultmaven/core/loganalysis/loghub"
)

type run struct {
	name                  string
	gaV0, fgaV0, gaV2, pa float64
	fta, header           float64
	templates, truthV0    int
	layout                string
}

func TestLoghub(t *testing.T) {
	dir := dataDir(t)
	for _, mode := range []string{"zero-config", "protocol"} {
		var rows []run
		for _, name := range loghub.Names {
			d, err := loghub.Load(dir, name)
			if err != nil {
				t.Skipf("Loghub data absent (%v): put the Loghub-2k samples at ../shared/loghub", err)
			}
			pred, hdr, layout, nt := parseDataset(t, d, mode == "protocol")
			r := run{name: name, header: hdr, layout: layout, templates: nt}
			r.gaV0, r.fgaV0 = loghub.GroupAccuracy(pred, d.EventV0)
			r.gaV2, _ = loghub.GroupAccuracy(pred, d.TmplV2)
			r.pa, r.fta = loghub.ParsingAccuracy(pred, d.TmplV2)
			r.truthV0 = len(uniq(d.EventV0))
			rows = append(rows, r)
		}
		var b strings.Builder
		fmt.Fprintf(&b, "\nmode: %s\n| dataset | GA (V0) | FGA (V0) | GA (V2) | PA (V2) | FTA (V2) | header ok | templates (true) | layout |\n|---|---|---|---|---|---|---|---|---|\n", mode)
		var s run
		for _, r := range rows {
			fmt.Fprintf(&b, "| %s | %.3f | %.3f | %.3f | %.3f | %.3f | %.3f | %d (%d) | %s |\n", r.name, r.gaV0, r.fgaV0, r.gaV2, r.pa, r.fta, r.header, r.templates, r.truthV0, r.layout)
			s.gaV0 += r.gaV0
			s.fgaV0 += r.fgaV0
			s.gaV2 += r.gaV2
			s.pa += r.pa
			s.fta += r.fta
			s.header += r.header
		}
		k := float64(len(rows))
		fmt.Fprintf(&b, "| **average** | %.3f | %.3f | %.3f | %.3f | %.3f | %.3f | | |\n", s.gaV0/k, s.fgaV0/k, s.gaV2/k, s.pa/k, s.fta/k, s.header/k)
		t.Log(b.String())
	}
}
