package prometheusadapter

import (
	"crypto/x509"
	_ "embed"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/faultmaven/faultmaven/sdk"
)

// configSchema is the JSON Schema (draft 2020-12) of an instance config,
// served in Metadata. TestSchemaAgreesWithValidate keeps it and
// [parseConfig] in step.
//
//go:embed config.schema.json
var configSchema []byte

const (
	defaultRequestTimeout = 30 * time.Second
	defaultMaxRetries     = 3
	defaultMaxSamples     = 500000
)

// config is one instance's validated configuration. It holds secrets:
// never log it or print it with %v.
type config struct {
	URL                *url.URL
	BearerToken        string // secret
	Username           string
	Password           string // secret
	CAPEM              []byte
	InsecureSkipVerify bool
	RequestTimeout     time.Duration
	MaxRetries         int
	MaxSamples         int
}

func (c *config) secrets() []string {
	return slices.DeleteFunc([]string{c.BearerToken, c.Password}, func(s string) bool { return s == "" })
}

var knownFields = []string{"url", "bearer_token", "username", "password", "ca_pem", "ca_file",
	"insecure_skip_verify", "request_timeout", "max_retries", "max_samples"}

// parseConfig decodes and validates raw, reporting every problem as a field
// error. Messages never repeat a secret's value.
func parseConfig(raw json.RawMessage) (*config, error) {
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(raw, &fields); err != nil || fields == nil {
		if err == nil {
			err = fmt.Errorf("got null")
		}
		return nil, sdk.FieldErrorf("config", "must be a JSON object: %v", err)
	}
	cerr := &sdk.ConfigError{}
	keys := make([]string, 0, len(fields))
	for k := range fields {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if !slices.Contains(knownFields, k) {
			cerr.Add(k, "unknown field (known fields: %s)", strings.Join(knownFields, ", "))
		}
	}
	c := &config{RequestTimeout: defaultRequestTimeout, MaxRetries: defaultMaxRetries, MaxSamples: defaultMaxSamples}

	if s, ok := str(cerr, fields, "url", true, false); ok {
		u, err := url.Parse(s)
		switch {
		case err != nil:
			cerr.Add("url", "not a URL")
		case u.Scheme != "http" && u.Scheme != "https":
			cerr.Add("url", "must start with http:// or https://")
		case u.Host == "":
			cerr.Add("url", "has no host")
		case u.User != nil:
			cerr.Add("url", "must not hold credentials; use bearer_token or username and password")
		case u.RawQuery != "" || u.Fragment != "":
			cerr.Add("url", "must not have a query or fragment")
		case strings.HasSuffix(strings.TrimRight(u.Path, "/"), "/api/v1"):
			cerr.Add("url", "give the base URL without /api/v1")
		default:
			u.Path = strings.TrimRight(u.Path, "/")
			c.URL = u
		}
	}
	token, hasToken := str(cerr, fields, "bearer_token", false, true)
	user, hasUser := str(cerr, fields, "username", false, false)
	pass, hasPass := str(cerr, fields, "password", false, true)
	switch {
	case hasUser && !hasPass:
		cerr.Add("password", "required with username")
	case hasPass && !hasUser:
		cerr.Add("username", "required with password")
	}
	if hasToken && (hasUser || hasPass) {
		cerr.Add("bearer_token", "choose one authentication: bearer_token or username/password, not both")
	}
	c.BearerToken, c.Username, c.Password = token, user, pass

	caPEM, hasPEM := str(cerr, fields, "ca_pem", false, false)
	caFile, hasFile := str(cerr, fields, "ca_file", false, false)
	switch {
	case hasPEM && hasFile:
		cerr.Add("ca_file", "give ca_pem or ca_file, not both")
	case hasPEM:
		if !x509.NewCertPool().AppendCertsFromPEM([]byte(caPEM)) {
			cerr.Add("ca_pem", "holds no PEM certificate")
		}
		c.CAPEM = []byte(caPEM)
	case hasFile:
		b, err := os.ReadFile(caFile)
		switch {
		case err != nil:
			cerr.Add("ca_file", "cannot read: %v", err)
		case !x509.NewCertPool().AppendCertsFromPEM(b):
			cerr.Add("ca_file", "%s holds no PEM certificate", caFile)
		default:
			c.CAPEM = b
		}
	}
	if b, ok := fields["insecure_skip_verify"]; ok && !isNull(b) {
		if err := json.Unmarshal(b, &c.InsecureSkipVerify); err != nil {
			cerr.Add("insecure_skip_verify", "must be true or false")
		}
	}
	if s, ok := str(cerr, fields, "request_timeout", false, false); ok {
		d, err := time.ParseDuration(s)
		switch {
		case err != nil:
			cerr.Add("request_timeout", "must be a Go duration such as \"30s\"")
		case d < 100*time.Millisecond || d > 10*time.Minute:
			cerr.Add("request_timeout", "%s is out of range [100ms, 10m]", d)
		default:
			c.RequestTimeout = d
		}
	}
	intField(cerr, fields, "max_retries", 0, 10, &c.MaxRetries)
	intField(cerr, fields, "max_samples", 1000, 10000000, &c.MaxSamples)

	if err := cerr.OrNil(); err != nil {
		return nil, err
	}
	return c, nil
}

func isNull(r json.RawMessage) bool { return strings.TrimSpace(string(r)) == "null" }

// str reads a non-blank string field; a secret is neither trimmed nor
// quoted in messages.
func str(cerr *sdk.ConfigError, m map[string]json.RawMessage, key string, required, secret bool) (string, bool) {
	v, present := m[key]
	if !present || isNull(v) {
		if required {
			cerr.Add(key, "required")
		}
		return "", false
	}
	var s string
	if err := json.Unmarshal(v, &s); err != nil {
		cerr.Add(key, "must be a string")
		return "", false
	}
	if !secret {
		s = strings.TrimSpace(s)
	}
	if strings.TrimSpace(s) == "" {
		cerr.Add(key, "must not be blank")
		return "", false
	}
	return s, true
}

func intField(cerr *sdk.ConfigError, m map[string]json.RawMessage, key string, lo, hi int, dst *int) {
	v, ok := m[key]
	if !ok || isNull(v) {
		return
	}
	var n int
	if err := json.Unmarshal(v, &n); err != nil {
		cerr.Add(key, "must be an integer")
		return
	}
	if n < lo || n > hi {
		cerr.Add(key, "%d is out of range [%d, %d]", n, lo, hi)
		return
	}
	*dst = n
}
