package splunkadapter

import (
	"bytes"
	"crypto/x509"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"regexp"
	"strings"
	"time"

	"github.com/faultmaven/faultmaven/sdk"
)

//go:embed config.schema.json
var configSchema []byte

// Config is one instance's configuration. Token and Password are secrets:
// the hub resolves them from env or files and passes them in; they are
// never logged.
type Config struct {
	URL                 string   `json:"url"`
	Token               string   `json:"token,omitempty"`
	Username            string   `json:"username,omitempty"`
	Password            string   `json:"password,omitempty"`
	CAFile              string   `json:"ca_file,omitempty"`
	InsecureSkipVerify  bool     `json:"insecure_skip_verify,omitempty"`
	Indexes             []string `json:"indexes,omitempty"`
	ServiceField        string   `json:"service_field,omitempty"`
	WebURL              string   `json:"web_url,omitempty"`
	App                 string   `json:"app,omitempty"`
	TimeoutSeconds      float64  `json:"timeout_seconds,omitempty"`
	MaxRetries          *int     `json:"max_retries,omitempty"`
	MaxRetryWaitSeconds *float64 `json:"max_retry_wait_seconds,omitempty"`
}

// Defaults applied to absent fields.
const (
	DefaultServiceField    = "host"
	DefaultApp             = "search"
	DefaultTimeout         = 60 * time.Second
	DefaultMaxRetries      = 3
	DefaultMaxRetryWait    = 30 * time.Second
	maxConfiguredRetries   = 10
	maxConfiguredTimeout   = 3600
	maxConfiguredRetryWait = 600
)

var (
	fieldNameRe = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_.]*$`)
	indexRe     = regexp.MustCompile(`^[A-Za-z0-9_*][A-Za-z0-9_\-*]*$`)
	appRe       = regexp.MustCompile(`^[A-Za-z0-9_\-]+$`)
)

// settings is a validated config with defaults applied.
type settings struct {
	base         *url.URL
	token        string
	username     string
	password     string
	caPEM        []byte
	insecure     bool
	indexes      []string
	serviceField string
	webURL       *url.URL
	app          string
	timeout      time.Duration
	maxRetries   int
	maxRetryWait time.Duration
}

// parseConfig decodes and validates raw, reporting every problem as a field
// error. It never echoes a secret value back.
func parseConfig(raw json.RawMessage) (*settings, error) {
	var c Config
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		return nil, decodeError(err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, sdk.FieldErrorf("$", "unexpected data after the config object")
	}
	ce := &sdk.ConfigError{}
	s := &settings{
		token: c.Token, username: c.Username, password: c.Password,
		insecure: c.InsecureSkipVerify, serviceField: c.ServiceField, app: c.App,
		timeout: DefaultTimeout, maxRetries: DefaultMaxRetries, maxRetryWait: DefaultMaxRetryWait,
	}
	switch u, err := url.Parse(c.URL); {
	case c.URL == "":
		ce.Add("url", "required: the REST API base, e.g. https://splunk.example.com:8089")
	case err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http"):
		ce.Add("url", "must be an http(s) URL with a host, e.g. https://splunk.example.com:8089")
	case u.User != nil:
		ce.Add("url", "must not hold credentials; use token or username/password")
	case u.RawQuery != "" || u.Fragment != "":
		ce.Add("url", "must not have a query or fragment")
	default:
		u.Path = strings.TrimSuffix(u.Path, "/")
		s.base = u
	}
	switch {
	case c.Token != "" && (c.Username != "" || c.Password != ""):
		ce.Add("token", "give either token or username/password, not both")
	case c.Token == "" && c.Username == "" && c.Password == "":
		ce.Add("token", "required unless username and password are given")
	case c.Token == "" && c.Username == "":
		ce.Add("username", "required with password")
	case c.Token == "" && c.Password == "":
		ce.Add("password", "required with username")
	}
	if c.CAFile != "" {
		pem, err := os.ReadFile(c.CAFile)
		switch {
		case err != nil:
			ce.Add("ca_file", "cannot be read: %v", errors.Unwrap(err))
		case !x509.NewCertPool().AppendCertsFromPEM(pem):
			ce.Add("ca_file", "holds no PEM certificate")
		default:
			s.caPEM = pem
		}
	}
	for i, ix := range c.Indexes {
		if !indexRe.MatchString(ix) {
			ce.Add(fmt.Sprintf("indexes[%d]", i), "%q is not a Splunk index name", ix)
		}
	}
	s.indexes = c.Indexes
	if s.serviceField == "" {
		s.serviceField = DefaultServiceField
	} else if !fieldNameRe.MatchString(s.serviceField) {
		ce.Add("service_field", "must be a field name (letters, digits, _ and .)")
	}
	if s.app == "" {
		s.app = DefaultApp
	} else if !appRe.MatchString(s.app) {
		ce.Add("app", "must be a Splunk app name")
	}
	if c.WebURL != "" {
		u, err := url.Parse(c.WebURL)
		if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") || u.User != nil {
			ce.Add("web_url", "must be the http(s) URL of Splunk Web, e.g. https://splunk.example.com:8000")
		} else {
			u.Path = strings.TrimSuffix(u.Path, "/")
			s.webURL = u
		}
	}
	if c.TimeoutSeconds != 0 {
		if c.TimeoutSeconds < 0 || c.TimeoutSeconds > maxConfiguredTimeout {
			ce.Add("timeout_seconds", "must be between 0 and %d", maxConfiguredTimeout)
		} else {
			s.timeout = time.Duration(c.TimeoutSeconds * float64(time.Second))
		}
	}
	if c.MaxRetries != nil {
		if *c.MaxRetries < 0 || *c.MaxRetries > maxConfiguredRetries {
			ce.Add("max_retries", "must be between 0 and %d", maxConfiguredRetries)
		} else {
			s.maxRetries = *c.MaxRetries
		}
	}
	if c.MaxRetryWaitSeconds != nil {
		if *c.MaxRetryWaitSeconds < 0 || *c.MaxRetryWaitSeconds > maxConfiguredRetryWait {
			ce.Add("max_retry_wait_seconds", "must be between 0 and %d", maxConfiguredRetryWait)
		} else {
			s.maxRetryWait = time.Duration(*c.MaxRetryWaitSeconds * float64(time.Second))
		}
	}
	if err := ce.OrNil(); err != nil {
		return nil, err
	}
	return s, nil
}

// decodeError turns a JSON decoding error into a field error. The
// decoder's messages name fields and types, never values.
func decodeError(err error) error {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		f := te.Field
		if f == "" {
			f = "$"
		}
		return sdk.FieldErrorf(f, "must be of type %s", jsonType(te.Type.Kind().String()))
	}
	var se *json.SyntaxError
	if errors.As(err, &se) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return sdk.FieldErrorf("$", "the config is not a JSON object")
	}
	if msg := err.Error(); strings.HasPrefix(msg, "json: unknown field ") {
		f := strings.Trim(strings.TrimPrefix(msg, "json: unknown field "), `"`)
		return sdk.FieldErrorf(f, "unknown field")
	}
	return sdk.FieldErrorf("$", "the config is not a valid JSON object")
}

func jsonType(kind string) string {
	switch kind {
	case "string":
		return "string"
	case "bool":
		return "boolean"
	case "slice":
		return "array"
	case "struct", "map":
		return "object"
	case "ptr":
		return "number"
	}
	return "number"
}
