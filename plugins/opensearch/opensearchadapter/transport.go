package opensearchadapter

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
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/opensearch-project/opensearch-go/v4"
	"github.com/opensearch-project/opensearch-go/v4/opensearchtransport"
	"github.com/opensearch-project/opensearch-go/v4/signer/awsv2"

	"github.com/faultmaven/faultmaven/sdk"
)

// maxResponseBytes bounds one response body. A page of 10,000 large
// documents stays well below it; anything bigger is a misconfiguration
// (page_size) or a broken proxy, and reading it would only exhaust memory.
const maxResponseBytes = 512 << 20

// newClient builds the opensearch-go client of one instance on its
// transport directly, to switch off what opensearch.Config cannot: the
// client's own retries and health checks ([instance.do] retries with the
// backoff and Retry-After handling the host expects) and the node-stats
// poller, which would query every configured cluster every few seconds.
func newClient(c *config, base http.RoundTripper) (*opensearch.Client, error) {
	tr := base
	if tr == nil {
		t := http.DefaultTransport.(*http.Transport).Clone()
		t.TLSClientConfig = &tls.Config{MinVersion: tls.VersionTLS12, InsecureSkipVerify: c.InsecureSkipVerify} //nolint:gosec // operator's explicit choice
		if len(c.CAPEM) > 0 {
			pool := x509.NewCertPool()
			pool.AppendCertsFromPEM(c.CAPEM)
			t.TLSClientConfig.RootCAs = pool
		}
		t.ResponseHeaderTimeout = c.RequestTimeout
		tr = t
	}
	cfg := opensearchtransport.Config{
		URLs:                  []*url.URL{c.URL},
		Username:              c.Username,
		Password:              c.Password,
		Transport:             tr,
		DisableRetry:          true,
		HealthCheckMaxRetries: -1,
		MaxRetryClusterHealth: -1,
		NodeStatsInterval:     -1, // no /_nodes/_local/stats poller against the customer's cluster
	}
	if c.AWS != nil {
		awsCfg := aws.Config{
			Region:      c.AWS.Region,
			Credentials: credentials.NewStaticCredentialsProvider(c.AWS.AccessKeyID, c.AWS.SecretAccessKey, c.AWS.SessionToken),
		}
		s, err := awsv2.NewSignerWithService(awsCfg, c.AWS.Service)
		if err != nil {
			return nil, fmt.Errorf("aws signer: %w", err)
		}
		cfg.Signer = s
	}
	tp, err := opensearchtransport.New(cfg)
	if err != nil {
		// The client's errors name addresses, never the password, but
		// scrub anyway: this text reaches the operator.
		return nil, errors.New(redact(err.Error(), c.secrets()))
	}
	// The transport still runs a cluster-health refresher goroutine (idle
	// with one seed node); Close, called on Remove, stops it.
	return &opensearch.Client{Transport: tp}, nil
}

// request is one OpenSearch API request: the opensearchapi request types
// implement it.
type request interface {
	GetRequest(method string) (*http.Request, error)
}

// attemptError is the outcome of one failed attempt.
type attemptError struct {
	err        *sdk.Error
	retryable  bool
	retryAfter time.Duration // from a 429
}

// do sends req, retrying bounded by the instance's max_retries, and returns
// the body of a 2xx answer. Every failure is an *sdk.Error with a code the
// host can act on; a done ctx returns an error wrapping ctx.Err().
func (in *instance) do(ctx context.Context, op, method string, req request) ([]byte, error) {
	var last *attemptError
	for attempt := 0; ; attempt++ {
		if err := ctx.Err(); err != nil {
			return nil, ctxError(op, err, last)
		}
		body, ae := in.attempt(ctx, op, method, req)
		if ae == nil {
			return body, nil
		}
		if ctx.Err() != nil {
			return nil, ctxError(op, ctx.Err(), ae)
		}
		last = ae
		if !ae.retryable || attempt >= in.cfg.MaxRetries {
			return nil, ae.err
		}
		wait := in.retry.Backoff(attempt)
		if ae.err.Code == sdk.CodeRateLimited {
			if ae.retryAfter > in.retry.MaxRetryAfter {
				return nil, ae.err // the host schedules a retry this long
			}
			wait = max(wait, ae.retryAfter)
		}
		if dl, ok := ctx.Deadline(); ok && time.Until(dl) < wait {
			// Waiting would only end in the deadline: report the real
			// cause now, while the caller can still act on it.
			return nil, ae.err
		}
		in.log.Warn("opensearch request failed; retrying",
			"op", op, "attempt", attempt+1, "max_retries", in.cfg.MaxRetries, "code", ae.err.Code.String(),
			"error", ae.err.Message, "wait", wait.String())
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, ctxError(op, ctx.Err(), ae)
		case <-t.C:
		}
	}
}

func ctxError(op string, err error, last *attemptError) error {
	if last != nil && errors.Is(err, context.DeadlineExceeded) {
		return sdk.Errorf(sdk.CodeUnavailable, "opensearch %s: deadline exceeded (last failure: %s): %w", op, last.err.Message, err)
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return sdk.Errorf(sdk.CodeUnavailable, "opensearch %s: deadline exceeded waiting for the cluster: %w", op, err)
	}
	return fmt.Errorf("opensearch %s: %w", op, err)
}

func (in *instance) attempt(ctx context.Context, op, method string, req request) ([]byte, *attemptError) {
	actx, cancel := context.WithTimeout(ctx, in.cfg.RequestTimeout)
	defer cancel()
	hr, err := req.GetRequest(method)
	if err != nil {
		return nil, &attemptError{err: sdk.Errorf(sdk.CodeInternal, "opensearch %s: building request: %v", op, err)}
	}
	hr = hr.WithContext(actx)
	resp, err := in.client.Stream(hr)
	if resp == nil || err != nil {
		if resp != nil && resp.Body != nil {
			resp.Body.Close()
		}
		if err == nil {
			err = errors.New("no response")
		}
		return nil, transportError(op, err, ctx, in.cfg.secrets())
	}
	defer resp.Body.Close()
	body, rerr := io.ReadAll(io.LimitReader(resp.Body, maxResponseBytes+1))
	switch {
	case rerr != nil:
		if ctx.Err() != nil {
			return nil, &attemptError{err: sdk.Errorf(sdk.CodeUnavailable, "opensearch %s: %v", op, ctx.Err())}
		}
		return nil, &attemptError{retryable: true, err: sdk.Errorf(sdk.CodeUnavailable,
			"opensearch %s: response cut off after %d bytes (HTTP %d): %s", op, len(body), resp.StatusCode, redact(rerr.Error(), in.cfg.secrets()))}
	case len(body) > maxResponseBytes:
		return nil, &attemptError{err: sdk.Errorf(sdk.CodeInternal, "opensearch %s: response larger than %d MiB; lower page_size", op, maxResponseBytes>>20)}
	}
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return body, nil
	}
	return nil, statusError(op, resp, body, in.cfg.secrets())
}

// transportError classifies a failure with no HTTP answer.
func transportError(op string, err error, parent context.Context, secrets []string) *attemptError {
	msg := redact(err.Error(), secrets)
	var ne net.Error
	switch {
	case parent.Err() != nil:
		return &attemptError{err: sdk.Errorf(sdk.CodeUnavailable, "opensearch %s: %s", op, msg)}
	case errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout()):
		return &attemptError{retryable: true, err: sdk.Errorf(sdk.CodeUnavailable, "opensearch %s: request timed out: %s", op, msg)}
	}
	var cv *tls.CertificateVerificationError
	var ua x509.UnknownAuthorityError
	if errors.As(err, &cv) || errors.As(err, &ua) {
		return &attemptError{err: sdk.Errorf(sdk.CodeUnavailable, "opensearch %s: TLS certificate not trusted (set ca_pem or ca_file): %s", op, msg)}
	}
	return &attemptError{retryable: true, err: sdk.Errorf(sdk.CodeUnavailable, "opensearch %s: %s", op, msg)}
}

// osError is the error envelope of OpenSearch (`{"error":{...},"status":N}`,
// or `{"error":"text"}`) and of AWS (`{"Message":...}` / `{"message":...}`).
type osError struct {
	Error   json.RawMessage `json:"error"`
	Message string          `json:"message"`
	AWSMsg  string          `json:"Message"`
}

type osErrorBody struct {
	Type      string `json:"type"`
	Reason    string `json:"reason"`
	RootCause []struct {
		Type   string `json:"type"`
		Reason string `json:"reason"`
	} `json:"root_cause"`
	CausedBy *struct {
		Type   string `json:"type"`
		Reason string `json:"reason"`
	} `json:"caused_by"`
}

// describe turns an error body into one line: "type: reason (root cause)".
// The text is the backend's, cut to a sane length.
func describe(body []byte) (typ, text string) {
	var e osError
	if json.Unmarshal(body, &e) == nil {
		var eb osErrorBody
		var s string
		switch {
		case len(e.Error) > 0 && json.Unmarshal(e.Error, &eb) == nil && (eb.Type != "" || eb.Reason != ""):
			typ, text = eb.Type, eb.Type+": "+eb.Reason
			if len(eb.RootCause) > 0 && (eb.RootCause[0].Reason != eb.Reason) {
				typ = eb.RootCause[0].Type
				text += " (root cause " + eb.RootCause[0].Type + ": " + eb.RootCause[0].Reason + ")"
			} else if eb.CausedBy != nil {
				text += " (caused by " + eb.CausedBy.Type + ": " + eb.CausedBy.Reason + ")"
			}
		case len(e.Error) > 0 && json.Unmarshal(e.Error, &s) == nil:
			text = s
		case e.Message != "":
			text = e.Message
		case e.AWSMsg != "":
			text = e.AWSMsg
		}
	}
	if text == "" {
		text = strings.TrimSpace(string(body))
		if text == "" {
			text = "(empty body)"
		}
	}
	return typ, cut(text, 500)
}

func statusError(op string, resp *http.Response, body []byte, secrets []string) *attemptError {
	typ, text := describe(body)
	text = redact(text, secrets)
	st := resp.StatusCode
	switch {
	case st == http.StatusUnauthorized:
		return &attemptError{err: sdk.Errorf(sdk.CodeAuth, "opensearch %s: HTTP 401: credentials rejected: %s", op, text)}
	case st == http.StatusForbidden:
		return &attemptError{err: sdk.Errorf(sdk.CodeAuth, "opensearch %s: HTTP 403: permission denied: %s", op, text)}
	case st == http.StatusTooManyRequests:
		ra := retryAfter(resp.Header.Get("Retry-After"))
		e := sdk.RateLimited(ra, "opensearch %s: HTTP 429: %s", op, text)
		return &attemptError{err: e, retryable: true, retryAfter: ra}
	case st == http.StatusNotFound && typ == "index_not_found_exception":
		return &attemptError{err: sdk.Errorf(sdk.CodeNotFound, "opensearch %s: %s", op, text)}
	case st == http.StatusNotFound:
		return &attemptError{err: sdk.Errorf(sdk.CodeNotFound, "opensearch %s: HTTP 404: %s", op, text)}
	case st == http.StatusRequestTimeout:
		return &attemptError{retryable: true, err: sdk.Errorf(sdk.CodeUnavailable, "opensearch %s: HTTP 408: %s", op, text)}
	case st >= 500:
		return &attemptError{retryable: true, err: sdk.Errorf(sdk.CodeUnavailable, "opensearch %s: HTTP %d: %s", op, st, text)}
	case st == http.StatusBadRequest:
		return &attemptError{err: sdk.Errorf(sdk.CodeBadQuery, "opensearch %s: HTTP 400: %s", op, text)}
	}
	return &attemptError{err: sdk.Errorf(sdk.CodeInternal, "opensearch %s: unexpected HTTP %d: %s", op, st, text)}
}

// retryAfter parses a Retry-After header: delay seconds or an HTTP date.
// An absent or unparseable header gives 1s, the smallest honest guess.
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

func cut(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// redact replaces every secret in s. Errors from HTTP libraries and backend
// error bodies are passed through it before they reach a log or the host.
func redact(s string, secrets []string) string {
	for _, sec := range secrets {
		if len(sec) >= 3 {
			s = strings.ReplaceAll(s, sec, "[redacted]")
		}
	}
	return s
}
