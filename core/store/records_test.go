package store_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/faultmaven/faultmaven/core/store"
	"github.com/faultmaven/faultmaven/core/store/storetest"
)

// TestInsertRecordsBatchShapes covers batches larger than one statement
// (SQLite writes 200 rows per statement, PostgreSQL splits batches of
// 2,000 or more): duplicates within a batch and across statements, a
// re-ingest that overlaps the stored records on either side, and
// integrations mixed within one statement. Template counts must add each
// stored record exactly once.
func TestInsertRecordsBatchShapes(t *testing.T) {
	t0 := time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)
	files := storetest.Records("prod", "files", t0, 3000, true)
	mixed := func() []store.Record {
		a := storetest.Records("prod", "files", t0, 300, false)
		b := storetest.Records("prod", "splunk", t0, 300, true)
		c := storetest.Records("stage", "files", t0, 300, false)
		var out []store.Record
		for i := range a {
			out = append(out, a[i], b[i], c[i])
		}
		return out
	}()
	withCopies := func() []store.Record {
		out := append([]store.Record(nil), files[:2500]...)
		// Copies in the same statement, in later statements, and of a
		// copy.
		out = append(out[:150], append(append([]store.Record(nil), files[3:13]...), out[150:]...)...)
		out = append(out, files[190:210]...)
		out = append(out, files[2400:2450]...)
		out = append(out, files[195])
		return out
	}()

	for _, be := range storetest.Backends() {
		t.Run(be.Name, func(t *testing.T) {
			for _, tc := range []struct {
				name    string
				before  []store.Record // stored first
				batch   []store.Record
				stored  int
				records map[[2]string]int64 // per cluster/integration after both
			}{
				{name: "new records", batch: files, stored: 3000,
					records: map[[2]string]int64{{"prod", "files"}: 3000}},
				{name: "copies within the batch", batch: withCopies, stored: 2500,
					records: map[[2]string]int64{{"prod", "files"}: 2500}},
				{name: "re-ingest overlapping the end", before: files[2100:], batch: files, stored: 2100,
					records: map[[2]string]int64{{"prod", "files"}: 3000}},
				{name: "re-ingest overlapping the start", before: files[:900], batch: files, stored: 2100,
					records: map[[2]string]int64{{"prod", "files"}: 3000}},
				{name: "re-ingest of scattered records", before: everyNth(files, 7), batch: files, stored: 3000 - len(everyNth(files, 7)),
					records: map[[2]string]int64{{"prod", "files"}: 3000}},
				{name: "integrations mixed in a statement", batch: mixed, stored: 900,
					records: map[[2]string]int64{{"prod", "files"}: 300, {"prod", "splunk"}: 300, {"stage", "files"}: 300}},
				{name: "integrations mixed in a re-ingest", before: mixed[:30], batch: mixed, stored: 870,
					records: map[[2]string]int64{{"prod", "files"}: 300, {"prod", "splunk"}: 300, {"stage", "files"}: 300}},
			} {
				t.Run(tc.name, func(t *testing.T) {
					ctx := t.Context()
					s := storetest.Open(t, be.Fresh(t), storetest.NewKeyring(t))
					if tc.before != nil {
						res, err := s.InsertRecords(ctx, tc.before)
						require.NoError(t, err)
						require.Equal(t, len(tc.before), res.Stored)
					}
					res, err := s.InsertRecords(ctx, tc.batch)
					require.NoError(t, err)
					require.Equal(t, store.InsertResult{Stored: tc.stored, Duplicates: len(tc.batch) - tc.stored}, res)
					for ci, want := range tc.records {
						n, err := s.CountRecords(ctx, ci[0], ci[1])
						require.NoError(t, err)
						require.Equal(t, want, n, "records of %v", ci)
						ts, err := s.ListTemplates(ctx, ci[0], ci[1])
						require.NoError(t, err)
						var counted int64
						for _, x := range ts {
							counted += x.Count
						}
						require.Equal(t, want, counted, "template counts of %v add each record once", ci)
						got, err := s.QueryRecords(ctx, store.RecordQuery{Cluster: ci[0], Integration: ci[1], Limit: 5000})
						require.NoError(t, err)
						require.Len(t, got, int(want))
						for i := 1; i < len(got); i++ {
							require.False(t, got[i].Timestamp.Before(got[i-1].Timestamp), "time order")
						}
					}
				})
			}
		})
	}
}

func everyNth(recs []store.Record, n int) []store.Record {
	var out []store.Record
	for i := 0; i < len(recs); i += n {
		out = append(out, recs[i])
	}
	return out
}
