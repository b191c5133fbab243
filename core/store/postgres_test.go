package store_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/faultmaven/faultmaven/core/store"
	"github.com/faultmaven/faultmaven/core/store/storetest"
)

// Partitions are created ahead at start-up and retention drops whole days.
func TestPostgresPartitions(t *testing.T) {
	u, _ := storetest.PostgresSchema(t)
	t0 := time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)
	clk := storetest.NewClock(t0)
	s := storetest.Open(t, store.Options{URL: u, Now: clk.Now, PartitionsAhead: 3}, storetest.NewKeyring(t))
	ctx := t.Context()
	parts := func() int64 {
		st, err := s.Stats(ctx)
		require.NoError(t, err)
		return st.Partitions
	}
	require.EqualValues(t, 4, parts(), "today and 3 days ahead")
	_, err := s.InsertRecords(ctx, storetest.Records("prod", "files", t0.Add(-72*time.Hour), 10, true))
	require.NoError(t, err)
	require.EqualValues(t, 5, parts(), "a backfill creates its day")
	clk.Set(t0.Add(24 * time.Hour))
	n, err := s.ApplyRetention(ctx, t0.Add(-48*time.Hour))
	require.NoError(t, err)
	require.EqualValues(t, 10, n)
	require.EqualValues(t, 5, parts(), "the expired day is gone and the new day ahead exists")
}
