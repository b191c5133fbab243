package sdk

import (
	"math/rand/v2"
	"time"
)

// RetryPolicy bounds how an adapter retries a backend inside one call
// (5xx, timeouts, 429s). Zero fields take DefaultRetryPolicy's values.
type RetryPolicy struct {
	BaseBackoff time.Duration // first wait; doubled per attempt (with jitter)
	MaxBackoff  time.Duration // cap of one wait
	// MaxRetryAfter caps how long a 429's Retry-After is honoured inside a
	// call; a longer ask goes back to the host as CodeRateLimited at once,
	// so the host can schedule the retry instead of holding a call open.
	MaxRetryAfter time.Duration
}

// DefaultRetryPolicy returns 200 ms doubling to 5 s, and Retry-After
// honoured up to 30 s.
func DefaultRetryPolicy() RetryPolicy {
	return RetryPolicy{BaseBackoff: 200 * time.Millisecond, MaxBackoff: 5 * time.Second, MaxRetryAfter: 30 * time.Second}
}

// WithDefaults returns p with its zero fields filled.
func (p RetryPolicy) WithDefaults() RetryPolicy {
	d := DefaultRetryPolicy()
	if p.BaseBackoff <= 0 {
		p.BaseBackoff = d.BaseBackoff
	}
	if p.MaxBackoff <= 0 {
		p.MaxBackoff = d.MaxBackoff
	}
	if p.MaxRetryAfter <= 0 {
		p.MaxRetryAfter = d.MaxRetryAfter
	}
	return p
}

// Backoff is the wait before retry attempt+1 (attempt counts from 0).
func (p RetryPolicy) Backoff(attempt int) time.Duration {
	d := p.BaseBackoff << min(attempt, 16)
	if d > p.MaxBackoff || d <= 0 {
		d = p.MaxBackoff
	}
	// Jitter in [d/2, d]: many plugins retrying one backend must not hit it
	// in lockstep.
	return d/2 + rand.N(d/2+1)
}
