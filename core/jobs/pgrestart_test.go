package jobs_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/faultmaven/faultmaven/core/jobs"
	"github.com/faultmaven/faultmaven/core/store"
	"github.com/faultmaven/faultmaven/core/store/storetest"
)

// EnvPGRestart enables the test that restarts the local PostgreSQL cluster
// (pg_ctlcluster) in the middle of an ingest. It disturbs every other test
// using that server for a few seconds, so CI opts in.
const EnvPGRestart = "FAULTMAVEN_TEST_PG_RESTART"

func TestPostgresRestartDuringIngest(t *testing.T) {
	if os.Getenv(EnvPGRestart) != "1" {
		t.Skip("set " + EnvPGRestart + "=1 to restart the local PostgreSQL cluster during an ingest")
	}
	versions, _ := filepath.Glob("/etc/postgresql/*")
	if len(versions) == 0 {
		t.Skip("no local PostgreSQL cluster (/etc/postgresql) to restart")
	}
	sort.Strings(versions)
	version := filepath.Base(versions[len(versions)-1])

	var b storetest.Backend
	for _, x := range storetest.Backends() {
		if x.Name == store.DialectPostgres {
			b = x
		}
	}
	st, _ := openStore(t, b, "prod", "files")
	src := crashSource()
	q := startQueue(t, jobs.Options{Store: st, Source: src, BatchSize: 1000})
	ctx := t.Context()
	id, err := q.EnqueueIngest(ctx, jobs.IngestRequest{Cluster: "prod", Integration: "files", From: t0, To: t0.Add(24 * time.Hour)})
	require.NoError(t, err)
	require.Eventually(t, func() bool {
		s, err := q.Job(ctx, id)
		return err == nil && s.RecordsStored >= crashRecords/5
	}, 60*time.Second, 50*time.Millisecond)

	out, err := exec.Command("pg_ctlcluster", "--skip-systemctl-redirect", version, "main", "restart").CombinedOutput()
	require.NoError(t, err, "pg_ctlcluster restart: %s", out)
	t.Logf("restarted PostgreSQL %s", version)

	s := waitJob(t, q, id)
	require.True(t, s.Succeeded(), "job: %+v", s)
	t.Logf("job finished on attempt %d; errors: %v", s.Attempt, s.Errors)
	n, err := st.CountRecords(ctx, "prod", "files")
	require.NoError(t, err)
	require.EqualValues(t, crashRecords, n, "stored count must equal the source's")
	require.EqualValues(t, crashRecords, sumTemplateCounts(t, st, "prod", "files"))
	require.EqualValues(t, crashRecords, analyzerTotal(t, st, "prod", "files"))
}
