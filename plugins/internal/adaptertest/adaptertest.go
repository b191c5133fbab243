// Package adaptertest holds test helpers the backend adapters share: a
// log buffer safe for concurrent writers, a recorder standing in for the
// adapters' sleep, and a check of backoffs against sdk.DefaultRetryPolicy.
package adaptertest

import (
	"bytes"
	"context"
	"sync"
	"testing"
	"time"

	"github.com/faultmaven/faultmaven/sdk"
)

// SyncBuffer is a bytes.Buffer safe for concurrent writes (a logger's
// output read by the test).
type SyncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *SyncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *SyncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// SleepRecorder replaces an adapter's sleep: it records each wait and
// returns at once.
type SleepRecorder struct {
	mu sync.Mutex
	d  []time.Duration
}

// Sleep records d and returns ctx's error.
func (r *SleepRecorder) Sleep(ctx context.Context, d time.Duration) error {
	r.mu.Lock()
	r.d = append(r.d, d)
	r.mu.Unlock()
	return ctx.Err()
}

// Waits returns the recorded waits.
func (r *SleepRecorder) Waits() []time.Duration {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]time.Duration(nil), r.d...)
}

// CheckBackoffs checks that got holds n waits, each within the jitter
// range [d/2, d] that sdk.DefaultRetryPolicy gives its attempt.
func CheckBackoffs(t testing.TB, got []time.Duration, n int) {
	t.Helper()
	p := sdk.DefaultRetryPolicy()
	if len(got) != n {
		t.Fatalf("waits = %v, want %d backoffs", got, n)
	}
	for i, w := range got {
		d := min(p.BaseBackoff<<i, p.MaxBackoff)
		if w < d/2 || w > d {
			t.Fatalf("wait %d = %v, want a backoff in [%v, %v]", i, w, d/2, d)
		}
	}
}
