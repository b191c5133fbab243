package datadogadapter

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/DataDog/datadog-api-client-go/v2/api/datadog"

	"github.com/faultmaven/faultmaven/sdk"
)

// call runs fn with the instance's context values, maps its outcome to an
// SDK error, and retries what is retryable.
func (in *instance) call(ctx context.Context, op string, fn func(ctx context.Context) (*http.Response, error)) error {
	for attempt := 0; ; attempt++ {
		resp, err := fn(in.ctx(ctx))
		if err == nil {
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		mapped, retryAfter := mapError(op, resp, err)
		if !sdk.CodeOf(mapped).Retryable() || attempt >= in.s.maxRetries {
			return mapped
		}
		wait := in.retry.Backoff(attempt)
		if retryAfter > 0 {
			if retryAfter > in.retry.MaxRetryAfter {
				return mapped
			}
			wait = retryAfter
		}
		if dl, ok := ctx.Deadline(); ok && time.Until(dl) < wait {
			return mapped
		}
		in.log.Debug("datadog call failed; retrying", "op", op, "attempt", attempt+1, "wait", wait, "code", sdk.CodeOf(mapped).String())
		if err := in.sleep(ctx, wait); err != nil {
			return err
		}
	}
}

// mapError classifies a failed client call and returns the retry-after
// Datadog gave on a 429.
func mapError(op string, resp *http.Response, err error) (error, time.Duration) {
	var oe datadog.GenericOpenAPIError
	isAPI := errors.As(err, &oe)
	if resp == nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			if ue.Timeout() {
				return sdk.Errorf(sdk.CodeUnavailable, "%s: Datadog did not answer in time: %w", op, err), 0
			}
			return sdk.Errorf(sdk.CodeUnavailable, "%s: %w", op, err), 0
		}
		// The client fails before sending (e.g. a bad server variable).
		return sdk.Errorf(sdk.CodeInternal, "%s: %v", op, err), 0
	}
	status := resp.StatusCode
	if status < 300 {
		// 2xx: the body could not be read or decoded.
		if isAPI {
			return sdk.Errorf(sdk.CodeUnavailable, "%s: Datadog's answer does not decode (%s): the response is malformed", op, oe.Error()), 0
		}
		return sdk.Errorf(sdk.CodeUnavailable, "%s: reading Datadog's answer: %v: the response was cut off", op, err), 0
	}
	var body []byte
	if isAPI {
		body = oe.Body()
	}
	text := errorsText(body)
	switch {
	case status == http.StatusUnauthorized || status == http.StatusForbidden:
		return sdk.Errorf(sdk.CodeAuth, "%s: Datadog refused the API or application key (HTTP %d): %s", op, status, text), 0
	case status == http.StatusTooManyRequests:
		ra := rateLimitReset(resp.Header)
		return sdk.RateLimited(ra, "%s: Datadog rate limit %s reached (HTTP 429): %s", op, resp.Header.Get("X-RateLimit-Name"), text), ra
	case status == http.StatusBadRequest || status == http.StatusUnprocessableEntity:
		return sdk.Errorf(sdk.CodeBadQuery, "%s: Datadog rejected the query (HTTP %d): %s", op, status, text), 0
	case status == http.StatusNotFound:
		return sdk.Errorf(sdk.CodeNotFound, "%s: not found (HTTP 404): %s", op, text), 0
	case status >= 500 || status == http.StatusRequestTimeout:
		return sdk.Errorf(sdk.CodeUnavailable, "%s: HTTP %d: %s", op, status, text), 0
	}
	return sdk.Errorf(sdk.CodeInternal, "%s: HTTP %d: %s", op, status, text), 0
}

// rateLimitReset reads X-RateLimit-Reset: seconds until the period resets.
func rateLimitReset(h http.Header) time.Duration {
	v := strings.TrimSpace(h.Get("X-RateLimit-Reset"))
	if v == "" {
		v = strings.TrimSpace(h.Get("Retry-After"))
	}
	if n, err := strconv.ParseFloat(v, 64); err == nil && n > 0 && n < 1e6 {
		return time.Duration(n * float64(time.Second))
	}
	return 0
}

// errorsText reads {"errors":[...]} as strings or JSON:API objects.
func errorsText(body []byte) string {
	var e struct {
		Errors []json.RawMessage `json:"errors"`
	}
	if json.Unmarshal(body, &e) == nil && len(e.Errors) > 0 {
		parts := make([]string, 0, len(e.Errors))
		for _, raw := range e.Errors {
			var s string
			if json.Unmarshal(raw, &s) == nil {
				parts = append(parts, s)
				continue
			}
			var o struct{ Title, Detail string }
			if json.Unmarshal(raw, &o) == nil {
				parts = append(parts, strings.TrimSpace(o.Title+": "+o.Detail))
			}
		}
		return strings.Join(parts, "; ")
	}
	b := strings.TrimSpace(string(body))
	if b == "" {
		return "empty body"
	}
	if len(b) > 200 {
		b = b[:200] + "..."
	}
	return fmt.Sprintf("body %q", b)
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

// bodyLen reports the size of a response body the client already read
// (datadog.ReadBody puts it back as a buffer).
func bodyLen(resp *http.Response) int {
	if resp == nil || resp.Body == nil {
		return 0
	}
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0
	}
	return len(b)
}
