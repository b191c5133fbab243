package prometheusadapter

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	v1 "github.com/prometheus/client_golang/api/prometheus/v1"

	"github.com/faultmaven/faultmaven/sdk"
)

// exchange records the last HTTP answer of one call: the v1 client hides
// the status and headers a rate limit or an auth failure is told by.
type exchange struct {
	mu         sync.Mutex
	status     int
	retryAfter string
}

type exchangeKey struct{}

// authTransport adds the instance's credentials and records each answer's
// status into the call's exchange.
type authTransport struct {
	base           http.RoundTripper
	bearer         string
	user, password string
}

func (t *authTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	req = req.Clone(req.Context())
	switch {
	case t.bearer != "":
		req.Header.Set("Authorization", "Bearer "+t.bearer)
	case t.user != "":
		req.SetBasicAuth(t.user, t.password)
	}
	resp, err := t.base.RoundTrip(req)
	if ex, ok := req.Context().Value(exchangeKey{}).(*exchange); ok && resp != nil {
		ex.mu.Lock()
		ex.status, ex.retryAfter = resp.StatusCode, resp.Header.Get("Retry-After")
		ex.mu.Unlock()
	}
	return resp, err
}

// CloseIdleConnections releases the pooled connections of a removed or
// replaced instance.
func (t *authTransport) CloseIdleConnections() {
	if c, ok := t.base.(interface{ CloseIdleConnections() }); ok {
		c.CloseIdleConnections()
	}
}

func newTransport(c *config, base http.RoundTripper) http.RoundTripper {
	if base == nil {
		t := http.DefaultTransport.(*http.Transport).Clone()
		t.TLSClientConfig = &tls.Config{MinVersion: tls.VersionTLS12, InsecureSkipVerify: c.InsecureSkipVerify} //nolint:gosec // operator's explicit choice
		if len(c.CAPEM) > 0 {
			pool := x509.NewCertPool()
			pool.AppendCertsFromPEM(c.CAPEM)
			t.TLSClientConfig.RootCAs = pool
		}
		t.ResponseHeaderTimeout = c.RequestTimeout
		base = t
	}
	return &authTransport{base: base, bearer: c.BearerToken, user: c.Username, password: c.Password}
}

// attemptError is the outcome of one failed attempt.
type attemptError struct {
	err        *sdk.Error
	retryable  bool
	retryAfter time.Duration
}

// call runs fn (one API request), retrying bounded by max_retries. Every
// failure is an *sdk.Error with a code; a done ctx gives an error wrapping
// ctx.Err().
func (in *instance) call(ctx context.Context, op string, fn func(ctx context.Context) error) error {
	var last *attemptError
	for attempt := 0; ; attempt++ {
		if err := ctx.Err(); err != nil {
			return ctxError(op, err, last)
		}
		ex := &exchange{}
		actx, cancel := context.WithTimeout(context.WithValue(ctx, exchangeKey{}, ex), in.cfg.RequestTimeout)
		err := fn(actx)
		cancel()
		if err == nil {
			return nil
		}
		if ctx.Err() != nil {
			return ctxError(op, ctx.Err(), last)
		}
		ae := classify(op, err, ex, in.cfg.secrets())
		last = ae
		if !ae.retryable || attempt >= in.cfg.MaxRetries {
			return ae.err
		}
		wait := in.retry.Backoff(attempt)
		if ae.err.Code == sdk.CodeRateLimited {
			if ae.retryAfter > in.retry.MaxRetryAfter {
				return ae.err
			}
			wait = max(wait, ae.retryAfter)
		}
		if dl, ok := ctx.Deadline(); ok && time.Until(dl) < wait {
			return ae.err
		}
		in.log.Warn("prometheus request failed; retrying", "op", op, "attempt", attempt+1, "max_retries", in.cfg.MaxRetries,
			"code", ae.err.Code.String(), "error", ae.err.Message, "wait", wait.String())
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctxError(op, ctx.Err(), ae)
		case <-t.C:
		}
	}
}

func ctxError(op string, err error, last *attemptError) error {
	if errors.Is(err, context.DeadlineExceeded) {
		if last != nil {
			return sdk.Errorf(sdk.CodeUnavailable, "prometheus %s: deadline exceeded (last failure: %s): %w", op, last.err.Message, err)
		}
		return sdk.Errorf(sdk.CodeUnavailable, "prometheus %s: deadline exceeded waiting for the server: %w", op, err)
	}
	return fmt.Errorf("prometheus %s: %w", op, err)
}

// classify maps one failed attempt to a code. The HTTP status comes from
// the exchange, because the v1 client keeps only 400/422 bodies typed.
func classify(op string, err error, ex *exchange, secrets []string) *attemptError {
	ex.mu.Lock()
	status, ra := ex.status, ex.retryAfter
	ex.mu.Unlock()
	msg := redact(err.Error(), secrets)
	var ae *v1.Error
	if errors.As(err, &ae) {
		msg = redact(apiMessage(ae), secrets)
	}
	switch {
	case status == http.StatusUnauthorized:
		return &attemptError{err: sdk.Errorf(sdk.CodeAuth, "prometheus %s: HTTP 401: credentials rejected: %s", op, msg)}
	case status == http.StatusForbidden:
		return &attemptError{err: sdk.Errorf(sdk.CodeAuth, "prometheus %s: HTTP 403: permission denied: %s", op, msg)}
	case status == http.StatusTooManyRequests:
		d := retryAfter(ra)
		return &attemptError{retryable: true, retryAfter: d, err: sdk.RateLimited(d, "prometheus %s: HTTP 429: %s", op, msg)}
	case status >= 500:
		return &attemptError{retryable: true, err: sdk.Errorf(sdk.CodeUnavailable, "prometheus %s: HTTP %d: %s", op, status, msg)}
	}
	if ae != nil {
		switch ae.Type {
		case v1.ErrBadData, v1.ErrExec:
			return &attemptError{err: sdk.Errorf(sdk.CodeBadQuery, "prometheus %s: %s: %s", op, ae.Type, msg)}
		case v1.ErrTimeout, v1.ErrCanceled, "unavailable":
			return &attemptError{retryable: true, err: sdk.Errorf(sdk.CodeUnavailable, "prometheus %s: %s: %s", op, ae.Type, msg)}
		case v1.ErrBadResponse:
			if strings.Contains(ae.Msg, `unexpected value type "string"`) {
				return &attemptError{err: sdk.Errorf(sdk.CodeBadQuery, "prometheus %s: the query evaluates to a string, not a metric", op)}
			}
			if strings.Contains(ae.Msg, "unexpected end of JSON input") {
				return &attemptError{retryable: true, err: sdk.Errorf(sdk.CodeUnavailable, "prometheus %s: response truncated: %s", op, msg)}
			}
			return &attemptError{err: sdk.Errorf(sdk.CodeInternal, "prometheus %s: malformed response (not the Prometheus API JSON; is url the Prometheus base URL?): %s", op, msg)}
		case v1.ErrClient:
			if status == http.StatusNotFound {
				return &attemptError{err: sdk.Errorf(sdk.CodeNotFound, "prometheus %s: HTTP 404 (is url the Prometheus base URL, without /api/v1?): %s", op, msg)}
			}
			return &attemptError{err: sdk.Errorf(sdk.CodeInternal, "prometheus %s: %s", op, msg)}
		case "not_found":
			return &attemptError{err: sdk.Errorf(sdk.CodeNotFound, "prometheus %s: %s", op, msg)}
		}
		if status >= 200 && status < 300 {
			return &attemptError{err: sdk.Errorf(sdk.CodeInternal, "prometheus %s: error inside a %d answer: %s: %s", op, status, ae.Type, msg)}
		}
		return &attemptError{err: sdk.Errorf(sdk.CodeInternal, "prometheus %s: %s: %s", op, ae.Type, msg)}
	}
	// No typed API error: the transport failed or the body was cut off.
	var ne net.Error
	switch {
	case errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF):
		return &attemptError{retryable: true, err: sdk.Errorf(sdk.CodeUnavailable, "prometheus %s: response cut off mid-body: %s", op, msg)}
	case errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout()):
		return &attemptError{retryable: true, err: sdk.Errorf(sdk.CodeUnavailable, "prometheus %s: request timed out: %s", op, msg)}
	}
	var cv *tls.CertificateVerificationError
	if errors.As(err, &cv) {
		return &attemptError{err: sdk.Errorf(sdk.CodeUnavailable, "prometheus %s: TLS certificate not trusted (set ca_pem or ca_file): %s", op, msg)}
	}
	return &attemptError{retryable: true, err: sdk.Errorf(sdk.CodeUnavailable, "prometheus %s: %s", op, msg)}
}

// apiMessage is the most useful text of a v1.Error: for statuses the
// client does not parse, the JSON "error" field hidden in Detail.
func apiMessage(e *v1.Error) string {
	msg := e.Msg
	if e.Detail != "" {
		var body struct {
			ErrorType string `json:"errorType"`
			Error     string `json:"error"`
		}
		if json.Unmarshal([]byte(e.Detail), &body) == nil && body.Error != "" {
			msg += ": " + body.ErrorType + ": " + body.Error
		} else {
			msg += ": " + strings.TrimSpace(e.Detail)
		}
	}
	if len(msg) > 500 {
		msg = msg[:500] + "…"
	}
	return msg
}

func retryAfter(h string) time.Duration {
	h = strings.TrimSpace(h)
	if h == "" {
		return time.Second
	}
	if n, err := strconv.ParseFloat(h, 64); err == nil && n >= 0 {
		return time.Duration(n * float64(time.Second))
	}
	if t, err := http.ParseTime(h); err == nil {
		return max(time.Until(t), 0)
	}
	return time.Second
}

// redact replaces every secret in s.
func redact(s string, secrets []string) string {
	for _, sec := range secrets {
		if len(sec) >= 3 {
			s = strings.ReplaceAll(s, sec, "[redacted]")
		}
	}
	return s
}
