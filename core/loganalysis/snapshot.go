package loganalysis

import (
	"encoding/json"
	"fmt"
	"io"
	"time"

	"github.com/faultmaven/faultmaven/core/loganalysis/header"
	"github.com/faultmaven/faultmaven/sdk"
)

const snapshotVersion = 1

type snapFile struct {
	Version int          `json:"version"`
	Streams []snapStream `json:"streams"`
}

type snapStream struct {
	Cluster   string         `json:"cluster"`
	Source    string         `json:"source"`
	First     time.Time      `json:"first"`
	Last      time.Time      `json:"last"`
	Templates []snapTemplate `json:"templates"`
}

type snapTemplate struct {
	ID       int          `json:"id"`
	Tokens   []string     `json:"tokens"`
	Count    int64        `json:"count"`
	Severity sdk.Severity `json:"severity"`
	First    time.Time    `json:"first"`
	Last     time.Time    `json:"last"`
	Service  string       `json:"service,omitempty"`
	Examples []string     `json:"examples,omitempty"`
	Buckets  []bucket     `json:"buckets,omitempty"`
}

// Snapshot writes every stream's templates and statistics as JSON. Template
// ids derive from template text, so a restored model keeps them. Header
// layouts are not saved: a restored stream learns its layout again from
// the records that follow.
func (a *Analyzer) Snapshot(w io.Writer) error {
	a.mu.Lock()
	f := snapFile{Version: snapshotVersion}
	for key, s := range a.streams {
		ss := snapStream{Cluster: key.Cluster, Source: key.Source, First: s.first, Last: s.last}
		cl := s.miner.Clusters()
		for i := len(cl) - 1; i >= 0; i-- { // least recent first, so restore keeps LRU order
			c := cl[i]
			st := s.stats[c.ID]
			if st == nil {
				continue
			}
			ss.Templates = append(ss.Templates, snapTemplate{ID: c.ID, Tokens: append([]string(nil), c.Tokens...), Count: st.count,
				Severity: st.sev, First: st.first, Last: st.last, Service: st.service,
				Examples: append([]string(nil), st.examples...), Buckets: append([]bucket(nil), st.buckets...)})
		}
		f.Streams = append(f.Streams, ss)
	}
	a.mu.Unlock()
	enc := json.NewEncoder(w)
	if err := enc.Encode(f); err != nil {
		return fmt.Errorf("loganalysis: writing snapshot: %w", err)
	}
	return nil
}

// Restore replaces the analyzer's state with a snapshot.
func (a *Analyzer) Restore(r io.Reader) error {
	var f snapFile
	if err := json.NewDecoder(r).Decode(&f); err != nil {
		return fmt.Errorf("loganalysis: reading snapshot: %w", err)
	}
	if f.Version != snapshotVersion {
		return fmt.Errorf("loganalysis: snapshot version %d, want %d", f.Version, snapshotVersion)
	}
	streams := map[StreamKey]*stream{}
	for _, ss := range f.Streams {
		key := StreamKey{Cluster: ss.Cluster, Source: ss.Source}
		s := a.newStream(key)
		s.det = header.NewDetector()
		s.first, s.last = ss.First, ss.Last
		for _, t := range ss.Templates {
			if t.ID <= 0 || len(t.Tokens) == 0 && t.Count == 0 {
				return fmt.Errorf("loganalysis: snapshot: bad template %d", t.ID)
			}
			c := s.miner.Restore(t.ID, t.Tokens, t.Count)
			s.stats[c.ID] = &tstats{count: t.Count, sev: t.Severity, first: t.First, last: t.Last,
				service: t.Service, examples: t.Examples, buckets: t.Buckets}
		}
		streams[key] = s
	}
	a.mu.Lock()
	a.streams = streams
	a.mu.Unlock()
	return nil
}
