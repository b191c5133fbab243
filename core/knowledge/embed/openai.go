package embed

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// OpenAIOptions configures the OpenAI-compatible client.
type OpenAIOptions struct {
	// BaseURL is the API root including the version, e.g.
	// "https://api.openai.com/v1" or "http://localhost:11434/v1"; the client
	// posts to BaseURL + "/embeddings". Required.
	BaseURL string
	// Model is the embedding model name. Required.
	Model string
	// APIKey is sent as a bearer token when set. It never appears in
	// errors or logs.
	APIKey string
	// Dimensions is the vector length the collection expects. Required:
	// every returned vector is checked against it. When RequestDimensions
	// is set it is also sent as the "dimensions" parameter (models that
	// can shorten their output).
	Dimensions        int
	RequestDimensions bool
	// BatchSize is the number of texts per request (default 64).
	BatchSize int
	// MaxRetries on 429, 5xx and transport errors (default 3).
	MaxRetries int
	// Backoff is the first retry delay, doubled each retry (default 500ms);
	// a Retry-After header, when present, wins.
	Backoff time.Duration
	// Timeout of one request (default 30s).
	Timeout time.Duration
	// HTTPClient defaults to a client with Timeout.
	HTTPClient *http.Client
	// Logger receives retry warnings (default: discard).
	Logger *slog.Logger
	// Sleep waits between retries; tests pass a fake (default: a timer
	// that honours ctx).
	Sleep func(ctx context.Context, d time.Duration) error
}

// OpenAI embeds through an OpenAI-compatible /v1/embeddings endpoint.
type OpenAI struct {
	o        OpenAIOptions
	endpoint string
}

var _ Embedder = (*OpenAI)(nil)

// NewOpenAI validates the options and returns a client.
func NewOpenAI(o OpenAIOptions) (*OpenAI, error) {
	if o.BaseURL == "" || o.Model == "" {
		return nil, errors.New("embed: openai: BaseURL and Model are required")
	}
	u, err := url.Parse(o.BaseURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("embed: openai: BaseURL %q is not an http(s) URL", o.BaseURL)
	}
	if o.Dimensions <= 0 {
		return nil, errors.New("embed: openai: Dimensions must be > 0 (the collection's vector size)")
	}
	if o.BatchSize <= 0 {
		o.BatchSize = 64
	}
	if o.MaxRetries < 0 {
		return nil, errors.New("embed: openai: MaxRetries must not be negative")
	}
	if o.MaxRetries == 0 {
		o.MaxRetries = 3
	}
	if o.Backoff <= 0 {
		o.Backoff = 500 * time.Millisecond
	}
	if o.Timeout <= 0 {
		o.Timeout = 30 * time.Second
	}
	if o.HTTPClient == nil {
		o.HTTPClient = &http.Client{Timeout: o.Timeout}
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Sleep == nil {
		o.Sleep = sleepCtx
	}
	return &OpenAI{o: o, endpoint: strings.TrimSuffix(o.BaseURL, "/") + "/embeddings"}, nil
}

// Name implements Embedder.
func (c *OpenAI) Name() string { return "openai:" + c.o.Model }

// Dimensions implements Embedder.
func (c *OpenAI) Dimensions() int { return c.o.Dimensions }

type embedRequest struct {
	Model      string   `json:"model"`
	Input      []string `json:"input"`
	Dimensions int      `json:"dimensions,omitempty"`
}

type embedResponse struct {
	Data []struct {
		Index     int       `json:"index"`
		Embedding []float32 `json:"embedding"`
	} `json:"data"`
}

// Embed implements Embedder: texts go out in batches of BatchSize.
func (c *OpenAI) Embed(ctx context.Context, texts []string) ([][]float32, error) {
	out := make([][]float32, 0, len(texts))
	for start := 0; start < len(texts); start += c.o.BatchSize {
		batch := texts[start:min(start+c.o.BatchSize, len(texts))]
		vecs, err := c.embedBatch(ctx, batch)
		if err != nil {
			return nil, fmt.Errorf("embed: openai: texts %d..%d: %w", start, start+len(batch)-1, err)
		}
		out = append(out, vecs...)
	}
	return out, nil
}

// statusError is an HTTP failure; retryable marks 429 and 5xx.
type statusError struct {
	code       int
	body       string
	retryAfter time.Duration
}

func (e *statusError) Error() string {
	return fmt.Sprintf("endpoint answered %d: %s", e.code, e.body)
}

func (e *statusError) retryable() bool { return e.code == http.StatusTooManyRequests || e.code >= 500 }

func (c *OpenAI) embedBatch(ctx context.Context, batch []string) ([][]float32, error) {
	req := embedRequest{Model: c.o.Model, Input: batch}
	if c.o.RequestDimensions {
		req.Dimensions = c.o.Dimensions
	}
	body, err := json.Marshal(req)
	if err != nil {
		return nil, err
	}
	delay := c.o.Backoff
	for attempt := 0; ; attempt++ {
		vecs, err := c.post(ctx, body, len(batch))
		if err == nil {
			return vecs, nil
		}
		var se *statusError
		retry := errors.As(err, &se) && se.retryable()
		var te transportError
		if errors.As(err, &te) {
			retry = true
		}
		if !retry || attempt >= c.o.MaxRetries || ctx.Err() != nil {
			return nil, err
		}
		wait := delay
		if se != nil && se.retryAfter > 0 {
			wait = se.retryAfter
		}
		c.o.Logger.Warn("embed: openai: retrying", "attempt", attempt+1, "wait", wait, "err", err)
		if err := c.o.Sleep(ctx, wait); err != nil {
			return nil, err
		}
		delay *= 2
	}
}

type transportError struct{ err error }

func (e transportError) Error() string { return e.err.Error() }
func (e transportError) Unwrap() error { return e.err }

func (c *OpenAI) post(ctx context.Context, body []byte, n int) ([][]float32, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.endpoint, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	if c.o.APIKey != "" {
		req.Header.Set("Authorization", "Bearer "+c.o.APIKey)
	}
	resp, err := c.o.HTTPClient.Do(req)
	if err != nil {
		// url.Error carries the URL only (never headers), so the key stays out.
		return nil, transportError{err}
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 256<<20))
	if err != nil {
		return nil, transportError{err}
	}
	if resp.StatusCode != http.StatusOK {
		se := &statusError{code: resp.StatusCode, body: snippet(data)}
		if ra, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil && ra >= 0 {
			se.retryAfter = time.Duration(ra) * time.Second
		}
		return nil, se
	}
	var er embedResponse
	if err := json.Unmarshal(data, &er); err != nil {
		return nil, fmt.Errorf("decoding response: %w", err)
	}
	if len(er.Data) != n {
		return nil, fmt.Errorf("asked for %d embeddings, got %d", n, len(er.Data))
	}
	out := make([][]float32, n)
	for _, d := range er.Data {
		if d.Index < 0 || d.Index >= n || out[d.Index] != nil {
			return nil, fmt.Errorf("response has an invalid or repeated index %d", d.Index)
		}
		if len(d.Embedding) != c.o.Dimensions {
			return nil, fmt.Errorf("%w: model %s returned %d, the collection expects %d", ErrDimensionMismatch, c.o.Model, len(d.Embedding), c.o.Dimensions)
		}
		out[d.Index] = d.Embedding
	}
	return out, nil
}

func snippet(b []byte) string {
	s := strings.TrimSpace(string(b))
	if len(s) > 300 {
		s = s[:300] + "..."
	}
	return s
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
