package jobs_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/faultmaven/faultmaven/core/jobs"
	"github.com/faultmaven/faultmaven/core/store"
	"github.com/faultmaven/faultmaven/core/store/storetest"
)

// The crash tests run real worker processes: the test binary re-run as
// TestHelperWorker (go-plugin's helper-process idiom), with a deterministic
// fake source of crashRecords records inside it.
const (
	crashRecords    = 40000
	crashJobTimeout = 12 * time.Second
	crashRescue     = 13 * time.Second
)

func crashSource() *fakeSource {
	return &fakeSource{recs: genRecords(t0, 10*time.Millisecond, crashRecords, false), batch: 500, delay: 40 * time.Millisecond}
}

// TestHelperWorker is not a test: it is the worker process of the crash
// tests, run only when FAULTMAVEN_JOBS_HELPER is set.
func TestHelperWorker(t *testing.T) {
	if os.Getenv("FAULTMAVEN_JOBS_HELPER") != "1" {
		t.Skip("helper process for the crash tests")
	}
	ctx := context.Background()
	jobID, err := strconv.ParseInt(os.Getenv("FAULTMAVEN_JOBS_HELPER_JOB"), 10, 64)
	if err != nil {
		fmt.Fprintln(os.Stderr, "helper: job id:", err)
		os.Exit(2)
	}
	st, err := store.Open(ctx, store.Options{URL: os.Getenv("FAULTMAVEN_JOBS_HELPER_URL"), DataDir: os.Getenv("FAULTMAVEN_JOBS_HELPER_DIR")})
	if err != nil {
		fmt.Fprintln(os.Stderr, "helper: store:", err)
		os.Exit(2)
	}
	defer st.Close()
	q, err := jobs.New(ctx, jobs.Options{Store: st, Source: crashSource(), NewAnalyzer: newFakeAnalyzer, BatchSize: 1000,
		JobTimeout: crashJobTimeout, RescueAfter: crashRescue, PollInterval: 100 * time.Millisecond, Retention: -1,
		RetryDelay: func(int) time.Duration { return 100 * time.Millisecond }})
	if err != nil {
		fmt.Fprintln(os.Stderr, "helper: queue:", err)
		os.Exit(2)
	}
	if err := q.Start(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "helper: start:", err)
		os.Exit(2)
	}
	wctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	s, err := q.Wait(wctx, jobID, nil)
	stopCtx, stop := context.WithTimeout(ctx, 10*time.Second)
	defer stop()
	_ = q.Stop(stopCtx)
	if err != nil || !s.Succeeded() {
		fmt.Fprintf(os.Stderr, "helper: job %d: %v %+v\n", jobID, err, s)
		os.Exit(3)
	}
	os.Exit(0)
}

func startWorker(tb testing.TB, dbURL, dataDir, key string, jobID int64) *exec.Cmd {
	tb.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperWorker$", "-test.count=1")
	cmd.Env = append(os.Environ(), "FAULTMAVEN_JOBS_HELPER=1",
		"FAULTMAVEN_JOBS_HELPER_URL="+dbURL, "FAULTMAVEN_JOBS_HELPER_DIR="+dataDir,
		"FAULTMAVEN_JOBS_HELPER_JOB="+strconv.FormatInt(jobID, 10), store.EnvEncryptionKey+"="+key)
	logf, err := os.Create(filepath.Join(tb.TempDir(), "worker.log"))
	require.NoError(tb, err)
	cmd.Stdout, cmd.Stderr = logf, logf
	require.NoError(tb, cmd.Start())
	tb.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		if tb.Failed() {
			b, _ := os.ReadFile(logf.Name())
			tb.Logf("worker %d log:\n%s", cmd.Process.Pid, tail(b, 4000))
		}
	})
	return cmd
}

func tail(b []byte, n int) []byte {
	if len(b) > n {
		return b[len(b)-n:]
	}
	return b
}

func TestWorkerKilledMidIngestFinishesAfterRestart(t *testing.T) {
	if testing.Short() {
		t.Skip("crash test takes ~30s")
	}
	for _, b := range storetest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			ctx := t.Context()
			opts := b.Fresh(t)
			key, err := store.NewKeyText()
			require.NoError(t, err)
			kr, err := store.ParseKeyring(key)
			require.NoError(t, err)
			st := storetest.Open(t, opts, kr)
			require.NoError(t, st.UpsertIntegration(ctx, store.Integration{Cluster: "prod", Name: "files", Plugin: "files"}))
			q, err := jobs.New(ctx, jobs.Options{Store: st, InsertOnly: true})
			require.NoError(t, err)
			id, err := q.EnqueueIngest(ctx, jobs.IngestRequest{Cluster: "prod", Integration: "files", From: t0, To: t0.Add(24 * time.Hour)})
			require.NoError(t, err)
			if b.Name == store.DialectSQLite {
				// One writer: the parent lets go of the file while workers run.
				require.NoError(t, st.Close())
			}

			w1 := startWorker(t, opts.URL, opts.DataDir, key, id)
			// Kill it once part of the records is stored.
			var stored int64
			require.Eventually(t, func() bool {
				stored = runStored(t, b, opts, kr, id)
				return stored >= crashRecords/5
			}, 60*time.Second, 50*time.Millisecond, "worker never got going")
			require.NoError(t, w1.Process.Signal(syscall.SIGKILL))
			_ = w1.Wait()
			killedAt := time.Now()
			mid := countStored(t, b, opts, kr)
			require.Less(t, mid, int64(crashRecords), "the worker finished before it was killed: make the source slower")
			t.Logf("killed worker after %d records stored (run said %d)", mid, stored)

			// River retries a job whose worker vanished once it has run for
			// RescueAfter; start the next worker when that is due.
			time.Sleep(time.Until(killedAt.Add(crashRescue + time.Second)))
			w2 := startWorker(t, opts.URL, opts.DataDir, key, id)
			done := make(chan error, 1)
			go func() { done <- w2.Wait() }()
			select {
			case err := <-done:
				require.NoError(t, err, "second worker")
			case <-time.After(120 * time.Second):
				t.Fatal("second worker did not finish the job")
			}

			st2 := storetest.Open(t, opts, kr)
			n, err := st2.CountRecords(ctx, "prod", "files")
			require.NoError(t, err)
			require.EqualValues(t, crashRecords, n, "stored count must equal the source's")
			require.EqualValues(t, crashRecords, sumTemplateCounts(t, st2, "prod", "files"))
			require.EqualValues(t, crashRecords, analyzerTotal(t, st2, "prod", "files"))
			run, err := st2.GetRun(ctx, id)
			require.NoError(t, err)
			require.Equal(t, store.RunSucceeded, run.Status)
			require.GreaterOrEqual(t, run.Attempt, 2)
		})
	}
}

// runStored reads the run's progress without holding the store open (the
// SQLite file has one writer: the worker).
func runStored(tb testing.TB, b storetest.Backend, opts store.Options, kr *store.Keyring, id int64) int64 {
	tb.Helper()
	opts.Keyring = kr
	opts.SkipMigrate = true
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	st, err := store.Open(ctx, opts)
	if err != nil {
		return 0 // busy; try again
	}
	defer st.Close()
	run, err := st.GetRun(ctx, id)
	if err != nil {
		return 0
	}
	return run.RecordsStored
}

func countStored(tb testing.TB, b storetest.Backend, opts store.Options, kr *store.Keyring) int64 {
	tb.Helper()
	opts.Keyring = kr
	opts.SkipMigrate = true
	st, err := store.Open(context.Background(), opts)
	require.NoError(tb, err)
	defer st.Close()
	n, err := st.CountRecords(context.Background(), "prod", "files")
	require.NoError(tb, err)
	return n
}
