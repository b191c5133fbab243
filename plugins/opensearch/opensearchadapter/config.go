package opensearchadapter

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

// Defaults and bounds of the config.
const (
	defaultPageSize       = 1000
	maxPageSize           = 10000 // index.max_result_window default; a bigger page is refused by the cluster
	defaultRequestTimeout = 30 * time.Second
	defaultMaxRetries     = 3
	maxMaxRetries         = 10
	defaultKeepAlive      = time.Minute
)

// Field mapping defaults follow the Elastic Common Schema, which the
// OpenSearch Logstash/Fluent Bit/Data Prepper pipelines also default to.
const (
	defaultTimestampField  = "@timestamp"
	defaultMessageField    = "message"
	defaultServiceField    = "service.name"
	defaultLevelField      = "log.level"
	defaultHostField       = "host.name"
	defaultTiebreakerField = "_id"
)

// config is one instance's validated configuration. It holds secrets:
// never log it or print it with %v.
type config struct {
	URL      *url.URL
	Indices  []string // the comma-separated index patterns, split
	Username string
	Password string // secret
	AWS      *awsConfig

	CAPEM              []byte
	InsecureSkipVerify bool

	Fields fieldMap

	DashboardsURL          *url.URL // nil = no links
	DashboardsIndexPattern string

	PageSize       int
	RequestTimeout time.Duration
	MaxRetries     int
	KeepAlive      time.Duration
}

type awsConfig struct {
	Region          string
	Service         string
	AccessKeyID     string
	SecretAccessKey string // secret
	SessionToken    string // secret
}

type fieldMap struct {
	Timestamp, Message, Service, Level, Host, Tiebreaker string
}

// secrets returns the secret values of c, for redaction.
func (c *config) secrets() []string {
	s := []string{c.Password}
	if c.AWS != nil {
		s = append(s, c.AWS.SecretAccessKey, c.AWS.SessionToken)
	}
	return slices.DeleteFunc(s, func(x string) bool { return x == "" })
}

var knownFields = []string{
	"url", "index", "username", "password", "aws", "ca_pem", "ca_file", "insecure_skip_verify",
	"fields", "dashboards_url", "dashboards_index_pattern", "page_size", "request_timeout",
	"max_retries", "pit_keep_alive",
}

var knownAWSFields = []string{"region", "service", "access_key_id", "secret_access_key", "session_token"}

var knownMapFields = []string{"timestamp", "message", "service", "level", "host", "tiebreaker"}

// parseConfig decodes and validates raw, reporting every problem as a field
// error. Messages never repeat a secret's value.
func parseConfig(raw json.RawMessage) (*config, error) {
	fields, err := object(raw)
	if err != nil {
		return nil, sdk.FieldErrorf("config", "must be a JSON object: %v", err)
	}
	cerr := &sdk.ConfigError{}
	unknown(cerr, "", fields, knownFields)

	c := &config{
		PageSize:       defaultPageSize,
		RequestTimeout: defaultRequestTimeout,
		MaxRetries:     defaultMaxRetries,
		KeepAlive:      defaultKeepAlive,
		Fields: fieldMap{
			Timestamp: defaultTimestampField, Message: defaultMessageField, Service: defaultServiceField,
			Level: defaultLevelField, Host: defaultHostField, Tiebreaker: defaultTiebreakerField,
		},
	}

	if s, ok := str(cerr, fields, "", "url", true); ok {
		c.URL = checkURL(cerr, "url", s)
	}
	if s, ok := str(cerr, fields, "", "index", true); ok {
		for i, p := range strings.Split(s, ",") {
			p = strings.TrimSpace(p)
			if msg := checkIndex(p); msg != "" {
				cerr.Add("index", "pattern %d (%q): %s", i+1, p, msg)
				continue
			}
			c.Indices = append(c.Indices, p)
		}
	}

	user, hasUser := str(cerr, fields, "", "username", false)
	pass, hasPass := strSecret(cerr, fields, "", "password")
	switch {
	case hasUser && !hasPass:
		cerr.Add("password", "required with username")
	case hasPass && !hasUser:
		cerr.Add("username", "required with password")
	}
	c.Username, c.Password = user, pass

	if a, ok := fields["aws"]; ok && !isNull(a) {
		af, err := object(a)
		if err != nil {
			cerr.Add("aws", "must be an object with region, access_key_id and secret_access_key")
		} else {
			if hasUser || hasPass {
				cerr.Add("aws", "choose one authentication: aws (SigV4) or username/password, not both")
			}
			unknown(cerr, "aws.", af, knownAWSFields)
			ac := &awsConfig{Service: "es"}
			ac.Region, _ = str(cerr, af, "aws.", "region", true)
			if s, ok := str(cerr, af, "aws.", "service", false); ok {
				if s != "es" && s != "aoss" {
					cerr.Add("aws.service", "must be \"es\" (managed domains) or \"aoss\" (Serverless), got %q", s)
				}
				ac.Service = s
			}
			ac.AccessKeyID, _ = str(cerr, af, "aws.", "access_key_id", true)
			var hasSecret bool
			ac.SecretAccessKey, hasSecret = strSecret(cerr, af, "aws.", "secret_access_key")
			if !hasSecret && !hasField(af, "secret_access_key") {
				cerr.Add("aws.secret_access_key", "required: the plugin gets no AWS environment or instance role, so static keys must be given")
			}
			ac.SessionToken, _ = strSecret(cerr, af, "aws.", "session_token")
			c.AWS = ac
		}
	}

	caPEM, hasPEM := str(cerr, fields, "", "ca_pem", false)
	caFile, hasFile := str(cerr, fields, "", "ca_file", false)
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

	if f, ok := fields["fields"]; ok && !isNull(f) {
		ff, err := object(f)
		if err != nil {
			cerr.Add("fields", "must be an object mapping timestamp, message, service, level, host, tiebreaker to document fields")
		} else {
			unknown(cerr, "fields.", ff, knownMapFields)
			for _, m := range []struct {
				key string
				dst *string
			}{
				{"timestamp", &c.Fields.Timestamp}, {"message", &c.Fields.Message}, {"service", &c.Fields.Service},
				{"level", &c.Fields.Level}, {"host", &c.Fields.Host}, {"tiebreaker", &c.Fields.Tiebreaker},
			} {
				if s, ok := str(cerr, ff, "fields.", m.key, false); ok {
					if strings.ContainsAny(s, " \"\\") || strings.HasPrefix(s, ".") || strings.HasSuffix(s, ".") {
						cerr.Add("fields."+m.key, "%q is not a field path", s)
					}
					*m.dst = s
				}
			}
		}
	}

	if s, ok := str(cerr, fields, "", "dashboards_url", false); ok {
		c.DashboardsURL = checkURL(cerr, "dashboards_url", s)
	}
	if s, ok := str(cerr, fields, "", "dashboards_index_pattern", false); ok {
		if c.DashboardsURL == nil && !hasField(fields, "dashboards_url") {
			cerr.Add("dashboards_index_pattern", "needs dashboards_url")
		}
		c.DashboardsIndexPattern = s
	}

	intField(cerr, fields, "page_size", 1, maxPageSize, &c.PageSize)
	intField(cerr, fields, "max_retries", 0, maxMaxRetries, &c.MaxRetries)
	durField(cerr, fields, "request_timeout", 100*time.Millisecond, 10*time.Minute, &c.RequestTimeout)
	durField(cerr, fields, "pit_keep_alive", time.Second, time.Hour, &c.KeepAlive)

	if err := cerr.OrNil(); err != nil {
		return nil, err
	}
	return c, nil
}

func object(raw json.RawMessage) (map[string]json.RawMessage, error) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, err
	}
	if m == nil {
		return nil, fmt.Errorf("got null")
	}
	return m, nil
}

func isNull(r json.RawMessage) bool { return strings.TrimSpace(string(r)) == "null" }

func hasField(m map[string]json.RawMessage, k string) bool {
	v, ok := m[k]
	return ok && !isNull(v)
}

func unknown(cerr *sdk.ConfigError, prefix string, m map[string]json.RawMessage, known []string) {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if !slices.Contains(known, k) {
			cerr.Add(prefix+k, "unknown field (known fields: %s)", strings.Join(known, ", "))
		}
	}
}

// str reads a non-blank string field. ok is false when the field is absent
// or bad (bad is reported).
func str(cerr *sdk.ConfigError, m map[string]json.RawMessage, prefix, key string, required bool) (string, bool) {
	v, present := m[key]
	if !present || isNull(v) {
		if required {
			cerr.Add(prefix+key, "required")
		}
		return "", false
	}
	var s string
	if err := json.Unmarshal(v, &s); err != nil {
		cerr.Add(prefix+key, "must be a string")
		return "", false
	}
	if strings.TrimSpace(s) == "" {
		cerr.Add(prefix+key, "must not be blank")
		return "", false
	}
	return strings.TrimSpace(s), true
}

// strSecret is str for a secret: its messages never quote the value, and
// the value is not trimmed (spaces may be part of a password).
func strSecret(cerr *sdk.ConfigError, m map[string]json.RawMessage, prefix, key string) (string, bool) {
	v, present := m[key]
	if !present || isNull(v) {
		return "", false
	}
	var s string
	if err := json.Unmarshal(v, &s); err != nil {
		cerr.Add(prefix+key, "must be a string")
		return "", false
	}
	if s == "" {
		cerr.Add(prefix+key, "must not be empty")
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

func durField(cerr *sdk.ConfigError, m map[string]json.RawMessage, key string, lo, hi time.Duration, dst *time.Duration) {
	s, ok := str(cerr, m, "", key, false)
	if !ok {
		return
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		cerr.Add(key, "must be a Go duration such as \"30s\" or \"2m\"")
		return
	}
	if d < lo || d > hi {
		cerr.Add(key, "%s is out of range [%s, %s]", d, lo, hi)
		return
	}
	*dst = d
}

func checkURL(cerr *sdk.ConfigError, key, s string) *url.URL {
	u, err := url.Parse(s)
	switch {
	case err != nil:
		cerr.Add(key, "not a URL")
		return nil
	case u.Scheme != "http" && u.Scheme != "https":
		cerr.Add(key, "must start with http:// or https://")
		return nil
	case u.Host == "":
		cerr.Add(key, "has no host")
		return nil
	case u.User != nil:
		// Never echo the URL: it holds a password.
		cerr.Add(key, "must not hold credentials; use username and password (or aws) instead")
		return nil
	case u.RawQuery != "" || u.Fragment != "":
		cerr.Add(key, "must not have a query or fragment")
		return nil
	}
	u.Path = strings.TrimRight(u.Path, "/")
	return u
}

// checkIndex applies OpenSearch's index-name rules to one pattern (with *
// allowed as a wildcard), so a typo is reported here rather than as a 400
// on the first search.
func checkIndex(p string) string {
	switch {
	case p == "":
		return "empty pattern"
	case p == "_all":
		return "" // a deliberate "all indices"
	case strings.HasPrefix(p, "_") || strings.HasPrefix(p, "+"):
		return "must not start with _ or +"
	case strings.ContainsAny(p, " \\/?\"<>|#"):
		return "holds a character OpenSearch forbids in index names (space \\ / ? \" < > | #)"
	case p != strings.ToLower(p):
		return "index names are lower case"
	}
	return ""
}
