// Package storetest is the conformance suite every store backend passes,
// plus helpers that give each test its own database (a PostgreSQL schema
// on FAULTMAVEN_TEST_DATABASE_URL, or a SQLite file in a temp dir).
package storetest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/faultmaven/faultmaven/core/store"
	"github.com/faultmaven/faultmaven/sdk"
)

// Clock is a settable clock for Options.Now.
type Clock struct{ ns atomic.Int64 }

// NewClock starts at t.
func NewClock(t time.Time) *Clock { c := &Clock{}; c.Set(t); return c }

// Now returns the clock's time.
func (c *Clock) Now() time.Time { return time.Unix(0, c.ns.Load()).UTC() }

// Set moves the clock.
func (c *Clock) Set(t time.Time) { c.ns.Store(t.UnixNano()) }

// Records makes n records of cluster/integration from start, one per
// millisecond; with native ids when native is set.
func Records(cluster, integration string, start time.Time, n int, native bool) []store.Record {
	out := make([]store.Record, n)
	for i := range out {
		r := store.Record{Cluster: cluster, Integration: integration, TemplateID: fmt.Sprintf("t%d", i%3),
			Template: fmt.Sprintf("request <*> took <*> ms kind %d", i%3)}
		r.Timestamp = start.Add(time.Duration(i) * time.Millisecond)
		r.Body = fmt.Sprintf("request %d took %d ms kind %d", i, i*7%1000, i%3)
		r.Severity = sdk.SeverityInfo
		r.Service = "api"
		r.Host = "node-1"
		r.Attributes = map[string]string{"pod": fmt.Sprintf("api-%d", i%4)}
		r.Source.Instance = cluster + "/" + integration
		if native {
			r.Source.NativeID = fmt.Sprintf("id-%d", i)
		}
		out[i] = r
	}
	return out
}

// Run runs the conformance suite against b.
func Run(t *testing.T, b Backend) {
	t0 := time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)
	open := func(t *testing.T) (store.Store, store.Options, *Clock) {
		clk := NewClock(t0)
		opts := b.Fresh(t)
		opts.Now = clk.Now
		return Open(t, opts, NewKeyring(t)), opts, clk
	}

	t.Run("clusters and integrations", func(t *testing.T) {
		s, _, _ := open(t)
		ctx := t.Context()
		in := store.Integration{Cluster: "prod", Name: "splunk-main", Plugin: "splunk", PluginVersion: "1.2.0",
			PluginDigest: "ab12", Config: json.RawMessage(`{"url":"https://splunk:8089"}`),
			SecretRefs: map[string]store.SecretRef{"token": {Env: "SPLUNK_TOKEN"}}}
		require.NoError(t, s.UpsertIntegration(ctx, in))
		require.NoError(t, s.UpsertIntegration(ctx, store.Integration{Cluster: "prod", Name: "files", Plugin: "files"}))
		got, err := s.GetIntegration(ctx, "prod", "splunk-main")
		require.NoError(t, err)
		require.Equal(t, in.Plugin, got.Plugin)
		require.Equal(t, in.PluginDigest, got.PluginDigest)
		require.JSONEq(t, string(in.Config), string(got.Config))
		require.Equal(t, in.SecretRefs, got.SecretRefs)
		in.PluginVersion = "1.3.0"
		require.NoError(t, s.UpsertIntegration(ctx, in))
		list, err := s.ListIntegrations(ctx, "prod")
		require.NoError(t, err)
		require.Len(t, list, 2)
		require.Equal(t, "1.3.0", list[1].PluginVersion)
		cl, err := s.ListClusters(ctx)
		require.NoError(t, err)
		require.Len(t, cl, 1)
		_, err = s.GetIntegration(ctx, "prod", "nope")
		require.ErrorIs(t, err, store.ErrNotFound)
		bad := []store.Integration{
			{Cluster: "prod", Name: "x"},
			{Cluster: "prod", Name: "x", Plugin: "p", SecretRefs: map[string]store.SecretRef{"k": {}}},
			{Cluster: "prod", Name: "x", Plugin: "p", Config: json.RawMessage(`{`)},
		}
		for i, in := range bad {
			require.Error(t, s.UpsertIntegration(ctx, in), "bad integration %d accepted", i)
		}
	})

	t.Run("cursors only move forward", func(t *testing.T) {
		s, _, _ := open(t)
		ctx := t.Context()
		_, err := s.GetCursor(ctx, "prod", "files")
		require.ErrorIs(t, err, store.ErrNotFound)
		require.NoError(t, s.AdvanceCursor(ctx, "prod", "files", t0.Add(time.Hour)))
		require.NoError(t, s.AdvanceCursor(ctx, "prod", "files", t0))
		c, err := s.GetCursor(ctx, "prod", "files")
		require.NoError(t, err)
		require.True(t, c.Watermark.Equal(t0.Add(time.Hour)), "watermark %v, want %v", c.Watermark, t0.Add(time.Hour))
	})

	t.Run("records are stored once and read back", func(t *testing.T) {
		for _, native := range []bool{true, false} {
			t.Run(fmt.Sprintf("native ids %v", native), func(t *testing.T) {
				s, _, _ := open(t)
				ctx := t.Context()
				recs := Records("prod", "files", t0, 500, native)
				res, err := s.InsertRecords(ctx, recs)
				require.NoError(t, err)
				require.Equal(t, store.InsertResult{Stored: 500}, res)
				// Overlapping retry: 250 old + 250 new, with a repeat inside the batch.
				more := Records("prod", "files", t0, 750, native)[250:]
				more = append(more, more[len(more)-1])
				res, err = s.InsertRecords(ctx, more)
				require.NoError(t, err)
				require.Equal(t, store.InsertResult{Stored: 250, Duplicates: 251}, res)
				n, err := s.CountRecords(ctx, "prod", "files")
				require.NoError(t, err)
				require.EqualValues(t, 750, n)

				got, err := s.QueryRecords(ctx, store.RecordQuery{Cluster: "prod", Integration: "files",
					Start: t0.Add(10 * time.Millisecond), End: t0.Add(20 * time.Millisecond)})
				require.NoError(t, err)
				require.Len(t, got, 10)
				want := recs[10]
				require.Equal(t, want.Body, got[0].Body)
				require.Equal(t, want.Host, got[0].Host)
				require.Equal(t, want.Attributes, got[0].Attributes)
				require.Equal(t, want.Source, got[0].Source)
				require.Equal(t, want.Severity, got[0].Severity)
				require.Equal(t, want.Service, got[0].Service)
				require.Equal(t, want.TemplateID, got[0].TemplateID)
				require.True(t, want.Timestamp.Equal(got[0].Timestamp))

				tpl, err := s.ListTemplates(ctx, "prod", "files")
				require.NoError(t, err)
				require.Len(t, tpl, 3)
				var total int64
				for _, x := range tpl {
					total += x.Count
					require.NotEmpty(t, x.Template)
					require.False(t, x.FirstSeen.IsZero())
				}
				require.EqualValues(t, 750, total, "template counts must count each stored record once")
			})
		}
	})

	t.Run("large batches are stored once", func(t *testing.T) {
		s, _, _ := open(t)
		ctx := t.Context()
		res, err := s.InsertRecords(ctx, Records("prod", "files", t0, 6000, true))
		require.NoError(t, err)
		require.Equal(t, store.InsertResult{Stored: 6000}, res)
		more := Records("prod", "files", t0, 9000, true)[3000:]
		more = append(more, more[:100]...)
		res, err = s.InsertRecords(ctx, more)
		require.NoError(t, err)
		require.Equal(t, store.InsertResult{Stored: 3000, Duplicates: 3100}, res)
		n, err := s.CountRecords(ctx, "prod", "files")
		require.NoError(t, err)
		require.EqualValues(t, 9000, n)
		require.EqualValues(t, 9000, sumCounts(t, s))
	})

	t.Run("seen tells records of other runs", func(t *testing.T) {
		s, _, _ := open(t)
		runSeen(t, s, t0)
	})

	t.Run("identical records without native id are told apart by ordinal", func(t *testing.T) {
		s, _, _ := open(t)
		ctx := t.Context()
		r := Records("prod", "files", t0, 1, false)[0]
		a, b := r, r
		b.Ordinal = 1
		res, err := s.InsertRecords(ctx, []store.Record{a, b})
		require.NoError(t, err)
		require.Equal(t, 2, res.Stored)
		res, err = s.InsertRecords(ctx, []store.Record{a, b})
		require.NoError(t, err)
		require.Equal(t, store.InsertResult{Duplicates: 2}, res)
	})

	t.Run("concurrent duplicate inserts store each record once", func(t *testing.T) {
		s, _, _ := open(t)
		ctx := t.Context()
		recs := Records("prod", "files", t0, 300, true)
		var wg sync.WaitGroup
		var stored atomic.Int64
		errs := make(chan error, 4)
		for range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				res, err := s.InsertRecords(ctx, recs)
				if err != nil {
					errs <- err
					return
				}
				stored.Add(int64(res.Stored))
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			require.NoError(t, err)
		}
		require.EqualValues(t, 300, stored.Load())
		n, err := s.CountRecords(ctx, "prod", "")
		require.NoError(t, err)
		require.EqualValues(t, 300, n)
	})

	t.Run("bad records are refused", func(t *testing.T) {
		s, _, _ := open(t)
		r := Records("prod", "files", t0, 1, true)[0]
		r.Timestamp = time.Time{}
		_, err := s.InsertRecords(t.Context(), []store.Record{r})
		require.Error(t, err)
	})

	t.Run("templates keep text and counts apart", func(t *testing.T) {
		s, _, _ := open(t)
		ctx := t.Context()
		require.NoError(t, s.UpsertTemplates(ctx, []store.Template{{Cluster: "prod", Integration: "files", ID: "t9",
			Template: "disk <*> full", Severity: sdk.SeverityError}}))
		_, err := s.InsertRecords(ctx, Records("prod", "files", t0, 6, true))
		require.NoError(t, err)
		require.NoError(t, s.UpsertTemplates(ctx, []store.Template{{Cluster: "prod", Integration: "files", ID: "t0",
			Template: "renamed <*>", Severity: sdk.SeverityWarn}}))
		tpl, err := s.ListTemplates(ctx, "prod", "")
		require.NoError(t, err)
		byID := map[string]store.Template{}
		for _, x := range tpl {
			byID[x.ID] = x
		}
		require.EqualValues(t, 0, byID["t9"].Count)
		require.Equal(t, "disk <*> full", byID["t9"].Template)
		require.EqualValues(t, 2, byID["t0"].Count)
		require.Equal(t, "renamed <*>", byID["t0"].Template)
		require.Equal(t, sdk.SeverityWarn, byID["t0"].Severity)
		require.Error(t, s.UpsertTemplates(ctx, []store.Template{{Cluster: "prod"}}))
	})

	t.Run("findings are replaced per run and listed latest first", func(t *testing.T) {
		s, _, _ := open(t)
		ctx := t.Context()
		f := store.Finding{Kind: "error_burst", TemplateID: "t1", Template: "db <*> timeout", Severity: sdk.SeverityError,
			Service: "api", FirstSeen: t0, LastSeen: t0.Add(time.Minute), Count: 40, Score: 0.9,
			Examples: []string{"db 10.0.0.1 timeout"}, Explanation: "40 errors in a minute"}
		require.NoError(t, s.ReplaceFindings(ctx, 1, "prod", "files", []store.Finding{f}))
		require.NoError(t, s.ReplaceFindings(ctx, 1, "prod", "files", []store.Finding{f})) // retry: no new rows
		f2 := f
		f2.Count, f2.LastSeen = 50, t0.Add(2*time.Minute)
		g := f
		g.Kind, g.TemplateID, g.Score = "new_template", "t2", 0.5
		require.NoError(t, s.ReplaceFindings(ctx, 2, "prod", "files", []store.Finding{f2, g}))
		list, err := s.ListFindings(ctx, "prod", time.Time{})
		require.NoError(t, err)
		require.Len(t, list, 2)
		require.EqualValues(t, 50, list[0].Count)
		require.EqualValues(t, 2, list[0].RunID)
		require.Equal(t, f.Examples, list[0].Examples)
		list, err = s.ListFindings(ctx, "prod", t0.Add(90*time.Second))
		require.NoError(t, err)
		require.Len(t, list, 1)
		list, err = s.ListFindings(ctx, "other", time.Time{})
		require.NoError(t, err)
		require.Empty(t, list)
	})

	t.Run("runs keep the first window on retry", func(t *testing.T) {
		s, _, clk := open(t)
		ctx := t.Context()
		r, err := s.StartRun(ctx, store.Run{ID: 42, Cluster: "prod", Integration: "files", From: t0, To: t0.Add(time.Hour), Attempt: 1})
		require.NoError(t, err)
		require.Equal(t, store.RunRunning, r.Status)
		r.RecordsRead, r.RecordsStored, r.Status, r.Error = 10, 9, store.RunFailed, "boom"
		require.NoError(t, s.UpdateRun(ctx, r))
		clk.Set(t0.Add(time.Minute))
		r2, err := s.StartRun(ctx, store.Run{ID: 42, Cluster: "prod", Integration: "files", From: t0.Add(time.Hour), To: t0.Add(2 * time.Hour), Attempt: 2})
		require.NoError(t, err)
		require.True(t, r2.From.Equal(t0) && r2.To.Equal(t0.Add(time.Hour)), "window changed on retry: %v-%v", r2.From, r2.To)
		require.Equal(t, 2, r2.Attempt)
		require.Equal(t, store.RunRunning, r2.Status)
		require.Empty(t, r2.Error)
		require.EqualValues(t, 9, r2.RecordsStored)
		_, err = s.GetRun(ctx, 7)
		require.ErrorIs(t, err, store.ErrNotFound)
		require.ErrorIs(t, s.UpdateRun(ctx, store.Run{ID: 7}), store.ErrNotFound)
	})

	t.Run("analyzer state is versioned", func(t *testing.T) {
		s, _, _ := open(t)
		ctx := t.Context()
		_, err := s.GetAnalyzerState(ctx, "prod", "files")
		require.ErrorIs(t, err, store.ErrNotFound)
		require.NoError(t, s.PutAnalyzerState(ctx, store.AnalyzerState{Cluster: "prod", Integration: "files", Data: []byte("v1")}))
		require.ErrorIs(t, s.PutAnalyzerState(ctx, store.AnalyzerState{Cluster: "prod", Integration: "files", Data: []byte("x")}), store.ErrConflict)
		st, err := s.GetAnalyzerState(ctx, "prod", "files")
		require.NoError(t, err)
		require.Equal(t, []byte("v1"), st.Data)
		st.Data = []byte("v2")
		require.NoError(t, s.PutAnalyzerState(ctx, st))
		require.ErrorIs(t, s.PutAnalyzerState(ctx, st), store.ErrConflict)
		st, err = s.GetAnalyzerState(ctx, "prod", "files")
		require.NoError(t, err)
		require.EqualValues(t, 2, st.Version)
		require.Equal(t, []byte("v2"), st.Data)
	})

	t.Run("leases limit concurrency and expire", func(t *testing.T) {
		s, _, clk := open(t)
		ctx := t.Context()
		acq := func(holder string) bool {
			ok, err := s.AcquireLease(ctx, "prod/files", holder, 2, time.Minute)
			require.NoError(t, err)
			return ok
		}
		require.True(t, acq("a"))
		require.True(t, acq("a"), "a holder renews its own slot")
		require.True(t, acq("b"))
		require.False(t, acq("c"), "third holder with limit 2")
		require.NoError(t, s.ReleaseLease(ctx, "prod/files", "a"))
		require.True(t, acq("c"))
		require.False(t, acq("d"))
		clk.Set(t0.Add(2 * time.Minute))
		require.True(t, acq("d"), "expired slots are taken over")
	})

	t.Run("retention removes expired records", func(t *testing.T) {
		s, _, clk := open(t)
		ctx := t.Context()
		old := Records("prod", "files", t0.Add(-72*time.Hour), 5, true)
		recent := Records("prod", "files", t0, 5, true)
		for i := range recent {
			recent[i].Source.NativeID += "-recent"
		}
		_, err := s.InsertRecords(ctx, append(old, recent...))
		require.NoError(t, err)
		clk.Set(t0)
		n, err := s.ApplyRetention(ctx, dayStart(t0.Add(-24*time.Hour)))
		require.NoError(t, err)
		require.EqualValues(t, 5, n)
		left, err := s.CountRecords(ctx, "prod", "files")
		require.NoError(t, err)
		require.EqualValues(t, 5, left)
		// Records may still arrive for a dropped day (a backfill).
		res, err := s.InsertRecords(ctx, old)
		require.NoError(t, err)
		require.Equal(t, 5, res.Stored)
	})

	t.Run("stats", func(t *testing.T) {
		s, _, _ := open(t)
		ctx := t.Context()
		_, err := s.InsertRecords(ctx, Records("prod", "files", t0, 7, true))
		require.NoError(t, err)
		st, err := s.Stats(ctx)
		require.NoError(t, err)
		require.Equal(t, b.Name, st.Dialect)
		require.EqualValues(t, 7, st.Records)
		require.Positive(t, st.SchemaVersion)
		require.EqualValues(t, 7, st.RecordsByKeyID[s.Keyring().CurrentID()])
		require.True(t, st.OldestRecord.Equal(t0))
	})

	t.Run("keys rotate and a wrong or missing key is refused", func(t *testing.T) {
		opts := b.Fresh(t)
		ctx := t.Context()
		k1, k2 := mustKey(t, "old"), mustKey(t, "new")
		kr1 := mustRing(t, k1)
		s := Open(t, opts, kr1)
		_, err := s.InsertRecords(ctx, Records("prod", "files", t0, 3, true))
		require.NoError(t, err)
		require.NoError(t, s.Close())

		// Rotation: new key first, old key kept.
		s = Open(t, opts, mustRing(t, k2, k1))
		recs := Records("prod", "files", t0.Add(time.Second), 3, true)
		for i := range recs {
			recs[i].Source.NativeID += "-b"
		}
		_, err = s.InsertRecords(ctx, recs)
		require.NoError(t, err)
		again, err := s.InsertRecords(ctx, Records("prod", "files", t0, 3, true))
		require.NoError(t, err)
		require.Equal(t, store.InsertResult{Duplicates: 3}, again, "record identities must survive a key rotation")
		got, err := s.QueryRecords(ctx, store.RecordQuery{Cluster: "prod"})
		require.NoError(t, err)
		require.Len(t, got, 6)
		st, err := s.Stats(ctx)
		require.NoError(t, err)
		require.Equal(t, map[string]int64{"old": 3, "new": 3}, st.RecordsByKeyID)
		require.NoError(t, s.Close())

		// Same id, different key material: refused, and nothing changed.
		wrong := mustKey(t, "old")
		opts.Keyring = mustRing(t, wrong)
		_, err = store.Open(ctx, opts)
		require.Error(t, err)
		require.Contains(t, err.Error(), "does not match")

		// Only unrelated keys: refused.
		opts.Keyring = mustRing(t, mustKey(t, "other"))
		_, err = store.Open(ctx, opts)
		require.Error(t, err)
		require.Contains(t, err.Error(), "none of them is configured")

		// No key at all (env empty): refused.
		opts.Keyring = nil
		opts.Getenv = func(string) string { return "" }
		if b.Name == store.DialectSQLite {
			opts.DataDir = t.TempDir() // no key file there either
		}
		_, err = store.Open(ctx, opts)
		require.Error(t, err)

		// Without the old key, new data still reads; old rows give a clear error.
		s = Open(t, opts, mustRing(t, k2))
		_, err = s.QueryRecords(ctx, store.RecordQuery{Cluster: "prod", Start: t0.Add(time.Second)})
		require.NoError(t, err)
		_, err = s.QueryRecords(ctx, store.RecordQuery{Cluster: "prod"})
		require.ErrorIs(t, err, store.ErrUnknownKey)
		require.NoError(t, s.Close())

		// Everything still there with the full keyring.
		s = Open(t, opts, mustRing(t, k2, k1))
		n, err := s.CountRecords(ctx, "prod", "")
		require.NoError(t, err)
		require.EqualValues(t, 6, n)
	})

	runConversations(t, b, t0, open)

	if b.Dump != nil {
		t.Run("a dump never holds raw log text", func(t *testing.T) {
			opts := b.Fresh(t)
			s := Open(t, opts, NewKeyring(t))
			ctx := t.Context()
			marker := uuid.NewString()
			recs := Records("prod", "files", t0, 50, false)
			recs[17].Body = "payment failed for card holder " + marker
			recs[18].Attributes["trace"] = marker
			recs[19].Host = "host-" + marker
			_, err := s.InsertRecords(ctx, recs)
			require.NoError(t, err)
			require.NoError(t, s.ReplaceFindings(ctx, 1, "prod", "files", []store.Finding{{Kind: "error_burst", TemplateID: "t1",
				Template: "payment failed for card holder <*>", Examples: []string{recs[17].Body}}}))
			require.NoError(t, s.PutAnalyzerState(ctx, store.AnalyzerState{Cluster: "prod", Integration: "files", Data: []byte(recs[17].Body)}))
			got, err := s.QueryRecords(ctx, store.RecordQuery{Cluster: "prod", Limit: 100})
			require.NoError(t, err)
			require.Contains(t, got[17].Body, marker, "the marker must be readable through the store")
			dump := b.Dump(t, opts)
			require.Positive(t, len(dump))
			// The dump holds the template and ordinary columns...
			require.True(t, bytes.Contains(dump, []byte("payment failed for card holder <*>")), "dump should hold templates in clear: is it a real dump?")
			// ...but never the marker.
			require.False(t, bytes.Contains(dump, []byte(marker)), "the dump contains the raw marker %s", marker)
			require.NoError(t, s.Close())
			dump = b.Dump(t, opts)
			require.False(t, bytes.Contains(dump, []byte(marker)), "the dump after close contains the raw marker %s", marker)
		})
	}
}

func dayStart(t time.Time) time.Time {
	t = t.UTC()
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
}

func mustKey(tb testing.TB, id string) string {
	tb.Helper()
	text, err := store.NewKeyText()
	require.NoError(tb, err)
	_, b64, _ := cutColon(text)
	return id + ":" + b64
}

func cutColon(s string) (string, string, bool) {
	for i := range len(s) {
		if s[i] == ':' {
			return s[:i], s[i+1:], true
		}
	}
	return s, "", false
}

func mustRing(tb testing.TB, entries ...string) *store.Keyring {
	tb.Helper()
	text := ""
	for _, e := range entries {
		text += e + "\n"
	}
	kr, err := store.ParseKeyring(text)
	require.NoError(tb, err)
	return kr
}

var _ = errors.New
var _ context.Context

func sumCounts(tb testing.TB, s store.Store) int64 {
	tb.Helper()
	ts, err := s.ListTemplates(context.Background(), "prod", "")
	require.NoError(tb, err)
	var n int64
	for _, t := range ts {
		n += t.Count
	}
	return n
}

func runSeen(t *testing.T, s store.Store, t0 time.Time) {
	ctx := t.Context()
	recs := Records("prod", "files", t0, 10, false)
	for i := range recs {
		recs[i].RunID = 1
	}
	_, err := s.InsertRecords(ctx, recs[:6])
	require.NoError(t, err)
	seen, err := s.Seen(ctx, recs)
	require.NoError(t, err)
	require.Equal(t, []bool{false, false, false, false, false, false, false, false, false, false}, seen,
		"a retry of run 1 must see its own earlier records as unseen")
	for i := range recs {
		recs[i].RunID = 2
	}
	seen, err = s.Seen(ctx, recs)
	require.NoError(t, err)
	require.Equal(t, []bool{true, true, true, true, true, true, false, false, false, false}, seen)
	seen, err = s.Seen(ctx, nil)
	require.NoError(t, err)
	require.Empty(t, seen)
}
