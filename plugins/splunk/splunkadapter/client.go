package splunkadapter

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/faultmaven/faultmaven/sdk"
)

// client talks to one Splunk deployment.
type client struct {
	s       *settings
	hc      *http.Client
	log     *slog.Logger
	sleep   func(ctx context.Context, d time.Duration) error
	retry   sdk.RetryPolicy // MaxRetryAfter is the instance's max_retry_wait_seconds
	mu      sync.Mutex
	sessKey string // current session key (username/password auth)
}

func newClient(s *settings, log *slog.Logger, sleep func(context.Context, time.Duration) error, retry sdk.RetryPolicy) (*client, error) {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tlsConf := &tls.Config{MinVersion: tls.VersionTLS12, InsecureSkipVerify: s.insecure} //nolint:gosec // opt-in, off by default
	if len(s.caPEM) > 0 {
		pool, err := x509.SystemCertPool()
		if err != nil || pool == nil {
			pool = x509.NewCertPool()
		}
		if !pool.AppendCertsFromPEM(s.caPEM) {
			return nil, sdk.FieldErrorf("ca_file", "holds no PEM certificate")
		}
		tlsConf.RootCAs = pool
	}
	tr.TLSClientConfig = tlsConf
	tr.ResponseHeaderTimeout = s.timeout
	// Set after WithDefaults: max_retry_wait_seconds 0 means "never wait
	// for a Retry-After", not "the default".
	retry.MaxRetryAfter = s.maxRetryWait
	return &client{s: s, hc: &http.Client{Transport: tr}, log: log, sleep: sleep, retry: retry}, nil
}

func (c *client) close() { c.hc.CloseIdleConnections() }

// splunkMessages is Splunk's error envelope.
type splunkMessages struct {
	Messages []struct {
		Type string `json:"type"`
		Code string `json:"code"`
		Text string `json:"text"`
	} `json:"messages"`
}

// text joins the messages of a body, or describes the body when it is not
// the envelope (Splunk Web on port 8000 answers HTML).
func messagesText(body []byte) string {
	var m splunkMessages
	if err := json.Unmarshal(body, &m); err == nil && len(m.Messages) > 0 {
		parts := make([]string, 0, len(m.Messages))
		for _, x := range m.Messages {
			parts = append(parts, strings.TrimSpace(x.Type+" "+x.Text))
		}
		return strings.Join(parts, "; ")
	}
	b := strings.TrimSpace(string(body))
	if strings.HasPrefix(b, "<") {
		return "non-JSON (HTML/XML) body: is url the management port (8089), not Splunk Web?"
	}
	if len(b) > 200 {
		b = b[:200] + "..."
	}
	return fmt.Sprintf("body %q", b)
}

func (c *client) endpoint(path string) string {
	u := *c.s.base
	u.Path += path
	return u.String()
}

// login exchanges username/password for a session key.
func (c *client) login(ctx context.Context) error {
	form := url.Values{"username": {c.s.username}, "password": {c.s.password}, "output_mode": {"json"}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.endpoint("/services/auth/login"), strings.NewReader(form.Encode()))
	if err != nil {
		return sdk.Errorf(sdk.CodeInternal, "splunk login request: %v", err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := c.hc.Do(req)
	if err != nil {
		return transportError(ctx, "splunk login", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return transportError(ctx, "splunk login", err)
	}
	switch {
	case resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden:
		return sdk.Errorf(sdk.CodeAuth, "splunk login as %q refused (HTTP %d): %s", c.s.username, resp.StatusCode, messagesText(body))
	case resp.StatusCode != http.StatusOK:
		return statusError("splunk login", resp, body)
	}
	var out struct {
		SessionKey string `json:"sessionKey"`
	}
	if err := json.Unmarshal(body, &out); err != nil || out.SessionKey == "" {
		return sdk.Errorf(sdk.CodeUnavailable, "splunk login answered 200 without a session key: %s", messagesText(body))
	}
	c.mu.Lock()
	c.sessKey = out.SessionKey
	c.mu.Unlock()
	return nil
}

// authorize sets the Authorization header, logging in first when needed.
// It returns whether a session key was used.
func (c *client) authorize(ctx context.Context, req *http.Request) (bool, error) {
	if c.s.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.s.token)
		return false, nil
	}
	c.mu.Lock()
	key := c.sessKey
	c.mu.Unlock()
	if key == "" {
		if err := c.login(ctx); err != nil {
			return false, err
		}
		c.mu.Lock()
		key = c.sessKey
		c.mu.Unlock()
	}
	req.Header.Set("Authorization", "Splunk "+key)
	return true, nil
}

func (c *client) dropSession(stale string) {
	c.mu.Lock()
	if c.sessKey == stale {
		c.sessKey = ""
	}
	c.mu.Unlock()
}

// request describes one call; body is a form, sent as
// application/x-www-form-urlencoded (Splunk does not parse JSON bodies).
type request struct {
	method string
	path   string
	form   url.Values
}

// do sends r with auth, retries and error mapping. On success the caller
// owns resp.Body. A 404 is returned as errNotFound so callers can fall back.
func (c *client) do(ctx context.Context, op string, r request) (*http.Response, error) {
	relogged := false
	for attempt := 0; ; attempt++ {
		resp, err := c.once(ctx, r)
		var retryAfter time.Duration
		switch {
		case err != nil:
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			var se *sdk.Error
			if !errors.As(err, &se) { // login errors are already mapped
				err = transportError(ctx, op, err)
			}
		case resp.StatusCode == http.StatusOK || resp.StatusCode == http.StatusCreated:
			return resp, nil
		default:
			body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
			resp.Body.Close()
			switch resp.StatusCode {
			case http.StatusUnauthorized:
				if key := strings.TrimPrefix(resp.Request.Header.Get("Authorization"), "Splunk "); c.s.token == "" && !relogged && key != "" {
					// The session key expired: log in again, once.
					relogged = true
					c.dropSession(key)
					c.log.Debug("splunk session key refused; logging in again")
					attempt--
					continue
				}
				return nil, sdk.Errorf(sdk.CodeAuth, "%s: Splunk refused the credentials (HTTP 401): %s", op, messagesText(body))
			case http.StatusForbidden:
				return nil, sdk.Errorf(sdk.CodeAuth, "%s: permission denied (HTTP 403; the role lacks a capability or index access): %s", op, messagesText(body))
			case http.StatusNotFound:
				return nil, &notFoundError{op: op, text: messagesText(body)}
			case http.StatusBadRequest:
				return nil, sdk.Errorf(sdk.CodeBadQuery, "%s: Splunk rejected the request (HTTP 400): %s", op, messagesText(body))
			case http.StatusTooManyRequests:
				retryAfter = parseRetryAfter(resp.Header.Get("Retry-After"), time.Now())
				err = sdk.RateLimited(retryAfter, "%s: Splunk asked to slow down (HTTP 429): %s", op, messagesText(body))
			default:
				err = statusError(op, resp, body)
			}
		}
		if !sdk.CodeOf(err).Retryable() || attempt >= c.s.maxRetries {
			return nil, err
		}
		wait := c.retry.Backoff(attempt)
		if retryAfter > 0 {
			if retryAfter > c.retry.MaxRetryAfter {
				return nil, err
			}
			wait = retryAfter
		}
		if dl, ok := ctx.Deadline(); ok && time.Until(dl) < wait {
			return nil, err
		}
		c.log.Debug("splunk call failed; retrying", "op", op, "attempt", attempt+1, "wait", wait, "code", sdk.CodeOf(err).String())
		if serr := c.sleep(ctx, wait); serr != nil {
			return nil, serr
		}
	}
}

func (c *client) once(ctx context.Context, r request) (*http.Response, error) {
	var (
		req *http.Request
		err error
	)
	if r.method == http.MethodGet {
		u := c.endpoint(r.path)
		if len(r.form) > 0 {
			u += "?" + r.form.Encode()
		}
		req, err = http.NewRequestWithContext(ctx, r.method, u, nil)
	} else {
		req, err = http.NewRequestWithContext(ctx, r.method, c.endpoint(r.path), strings.NewReader(r.form.Encode()))
		if req != nil {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
	}
	if err != nil {
		return nil, sdk.Errorf(sdk.CodeInternal, "building request: %v", err)
	}
	req.Header.Set("Accept", "application/json")
	if _, err := c.authorize(ctx, req); err != nil {
		return nil, err
	}
	return c.hc.Do(req)
}

// notFoundError is a 404; search falls back from v2 to v1 on it.
type notFoundError struct{ op, text string }

func (e *notFoundError) Error() string { return e.op + ": not found (HTTP 404): " + e.text }

func asSDK(err error) error {
	var nf *notFoundError
	if errors.As(err, &nf) {
		return sdk.Errorf(sdk.CodeNotFound, "%s", nf.Error())
	}
	return err
}

func statusError(op string, resp *http.Response, body []byte) error {
	code := sdk.CodeInternal
	if resp.StatusCode >= 500 {
		code = sdk.CodeUnavailable
	}
	return sdk.Errorf(code, "%s: HTTP %d: %s", op, resp.StatusCode, messagesText(body))
}

// transportError maps a network failure. The *url.Error text holds the URL,
// which holds no secret (credentials never go in the URL).
func transportError(ctx context.Context, op string, err error) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	var ue *url.Error
	if errors.As(err, &ue) && ue.Timeout() {
		return sdk.Errorf(sdk.CodeUnavailable, "%s: Splunk did not answer in time: %w", op, err)
	}
	return sdk.Errorf(sdk.CodeUnavailable, "%s: %w", op, err)
}

// parseRetryAfter reads a Retry-After header: delay seconds or an HTTP date.
func parseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if n, err := strconv.ParseFloat(v, 64); err == nil && n >= 0 {
		return time.Duration(n * float64(time.Second))
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
