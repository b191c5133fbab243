package datadogadapter

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"errors"
	"io"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/faultmaven/faultmaven/sdk"
)

//go:embed config.schema.json
var configSchema []byte

// Sites are the Datadog sites the client knows (its server enum).
var Sites = []string{
	"datadoghq.com", "us3.datadoghq.com", "us5.datadoghq.com", "ap1.datadoghq.com",
	"ap2.datadoghq.com", "uk1.datadoghq.com", "datadoghq.eu", "ddog-gov.com", "us2.ddog-gov.com",
}

// Config is one instance's configuration. APIKey and AppKey are secrets:
// the hub resolves them and passes them in; they are never logged.
type Config struct {
	Site                string   `json:"site,omitempty"`
	BaseURL             string   `json:"base_url,omitempty"`
	APIKey              string   `json:"api_key"`
	AppKey              string   `json:"app_key"`
	Indexes             []string `json:"indexes,omitempty"`
	StorageTier         string   `json:"storage_tier,omitempty"`
	PageSize            int      `json:"page_size,omitempty"`
	TimeoutSeconds      float64  `json:"timeout_seconds,omitempty"`
	MaxRetries          *int     `json:"max_retries,omitempty"`
	MaxRetryWaitSeconds *float64 `json:"max_retry_wait_seconds,omitempty"`
}

// Defaults for absent fields.
const (
	DefaultSite         = "datadoghq.com"
	DefaultPageSize     = 1000
	DefaultTimeout      = 60 * time.Second
	DefaultMaxRetries   = 3
	DefaultMaxRetryWait = 30 * time.Second
)

type settings struct {
	site         string
	base         *url.URL // nil: https://api.<site>
	apiKey       string
	appKey       string
	indexes      []string
	storageTier  string
	pageSize     int
	timeout      time.Duration
	maxRetries   int
	maxRetryWait time.Duration
}

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
	s := &settings{site: c.Site, apiKey: c.APIKey, appKey: c.AppKey, indexes: c.Indexes, storageTier: c.StorageTier,
		pageSize: DefaultPageSize, timeout: DefaultTimeout, maxRetries: DefaultMaxRetries, maxRetryWait: DefaultMaxRetryWait}
	if s.site == "" {
		s.site = DefaultSite
	} else if !slices.Contains(Sites, s.site) {
		ce.Add("site", "%q is not a Datadog site; one of %s", s.site, strings.Join(Sites, ", "))
	}
	if c.BaseURL != "" {
		u, err := url.Parse(c.BaseURL)
		switch {
		case err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http"):
			ce.Add("base_url", "must be an http(s) URL with a host")
		case u.User != nil || u.RawQuery != "" || u.Fragment != "":
			ce.Add("base_url", "must not hold credentials, a query or a fragment")
		default:
			u.Path = strings.TrimSuffix(u.Path, "/")
			s.base = u
		}
	}
	if c.APIKey == "" {
		ce.Add("api_key", "required")
	} else if strings.ContainsAny(c.APIKey, " \t\r\n") {
		ce.Add("api_key", "must not contain white space")
	}
	if c.AppKey == "" {
		ce.Add("app_key", "required")
	} else if strings.ContainsAny(c.AppKey, " \t\r\n") {
		ce.Add("app_key", "must not contain white space")
	}
	for i, ix := range c.Indexes {
		if strings.TrimSpace(ix) == "" {
			ce.Add("indexes["+itoa(i)+"]", "must not be empty")
		}
	}
	switch c.StorageTier {
	case "", "indexes", "online-archives", "flex":
	default:
		ce.Add("storage_tier", "must be indexes, online-archives or flex")
	}
	if c.PageSize != 0 {
		if c.PageSize < 1 || c.PageSize > 1000 {
			ce.Add("page_size", "must be between 1 and 1000 (Datadog's maximum)")
		} else {
			s.pageSize = c.PageSize
		}
	}
	if c.TimeoutSeconds != 0 {
		if c.TimeoutSeconds < 0 || c.TimeoutSeconds > 3600 {
			ce.Add("timeout_seconds", "must be between 0 and 3600")
		} else {
			s.timeout = time.Duration(c.TimeoutSeconds * float64(time.Second))
		}
	}
	if c.MaxRetries != nil {
		if *c.MaxRetries < 0 || *c.MaxRetries > 10 {
			ce.Add("max_retries", "must be between 0 and 10")
		} else {
			s.maxRetries = *c.MaxRetries
		}
	}
	if c.MaxRetryWaitSeconds != nil {
		if *c.MaxRetryWaitSeconds < 0 || *c.MaxRetryWaitSeconds > 600 {
			ce.Add("max_retry_wait_seconds", "must be between 0 and 600")
		} else {
			s.maxRetryWait = time.Duration(*c.MaxRetryWaitSeconds * float64(time.Second))
		}
	}
	if err := ce.OrNil(); err != nil {
		return nil, err
	}
	return s, nil
}

func itoa(i int) string {
	b, _ := json.Marshal(i)
	return string(b)
}

// decodeError turns a JSON decoding error into a field error; the
// decoder's messages name fields and types, never values.
func decodeError(err error) error {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		f := te.Field
		if f == "" {
			f = "$"
		}
		return sdk.FieldErrorf(f, "has the wrong type (want %s)", te.Type.String())
	}
	if msg := err.Error(); strings.HasPrefix(msg, "json: unknown field ") {
		return sdk.FieldErrorf(strings.Trim(strings.TrimPrefix(msg, "json: unknown field "), `"`), "unknown field")
	}
	return sdk.FieldErrorf("$", "the config is not a JSON object")
}

// uiHost is the Log Explorer host of a site: app.<site> for the sites
// without a region prefix, the site itself otherwise.
func uiHost(site string) string {
	switch site {
	case "datadoghq.com", "datadoghq.eu", "ddog-gov.com":
		return "app." + site
	}
	return site
}
