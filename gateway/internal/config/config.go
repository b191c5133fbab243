// Package config loads faultmaven.yaml: one YAML file whose every key can be
// overridden by a FAULTMAVEN_* environment variable (FAULTMAVEN_LISTEN,
// FAULTMAVEN_PLUGIN_HOST_CALL_TIMEOUT, FAULTMAVEN_CLUSTERS as YAML...).
//
// Secrets never live in the YAML: an integration names them by reference
// (an environment variable or a file) and they are resolved only when the
// instance is configured, never logged or returned.
package config

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// Config is the whole hub configuration.
type Config struct {
	// Listen is the HTTP address. Loopback by default: auth arrives with the
	// gateway API, so the hub must not be exposed before that.
	Listen     string        `yaml:"listen"`
	DataDir    string        `yaml:"data_dir"`
	PluginDir  string        `yaml:"plugin_dir"`
	Plugins    []PluginEntry `yaml:"plugins"`
	PluginHost PluginHost    `yaml:"plugin_host"`
	Database   Database      `yaml:"database"`
	Log        Log           `yaml:"log"`
	Knowledge  Knowledge     `yaml:"knowledge"`
	Ask        Ask           `yaml:"ask"`
	Auth       Auth          `yaml:"auth"`
	Ingest     Ingest        `yaml:"ingest"`
	Clusters   []Cluster     `yaml:"clusters"`
}

// Ingest tunes the ingest job queue; zero values take the defaults.
type Ingest struct {
	Workers         int           `yaml:"workers"`          // jobs worked at once by this process (4)
	JobTimeout      time.Duration `yaml:"job_timeout"`      // a longer job is cancelled (30m)
	RescueAfter     time.Duration `yaml:"rescue_after"`     // a job whose worker died is retried after this (job_timeout + 5m)
	Retention       time.Duration `yaml:"retention"`        // how long records are kept (720h); negative keeps them
	InitialLookback time.Duration `yaml:"initial_lookback"` // a periodic pull's first window (1h)
	Lag             time.Duration `yaml:"lag"`              // periodic pulls stay this far behind now (30s)
}

// Auth configures who may use the API. With no users the hub is open
// (any name logs in without a password) and must listen on loopback.
type Auth struct {
	Users      []User        `yaml:"users"`
	AccessTTL  time.Duration `yaml:"access_ttl"`  // default 1h
	RefreshTTL time.Duration `yaml:"refresh_ttl"` // default 720h
}

// User is one local account; its password comes from env or a file.
type User struct {
	Username    string    `yaml:"username"`
	DisplayName string    `yaml:"display_name"`
	Email       string    `yaml:"email"`
	Roles       []string  `yaml:"roles"`
	Password    SecretRef `yaml:"password"`
}

// IsLoopback reports whether the listen address is a loopback one.
func (c Config) IsLoopback() bool {
	host, _, err := net.SplitHostPort(c.Listen)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// Knowledge selects the knowledge base's embedder and vector store. The
// zero value is the embedded default: the builtin embedder and the index
// in the data dir.
type Knowledge struct {
	Embedder    Embedder    `yaml:"embedder"`
	VectorStore VectorStore `yaml:"vector_store"`
}

// Embedder: "builtin" (default) or "openai", any OpenAI-compatible
// /v1/embeddings endpoint (OpenAI, Ollama, vLLM).
type Embedder struct {
	Kind  string `yaml:"kind"`
	URL   string `yaml:"url"` // API root with version, e.g. http://ollama:11434/v1
	Model string `yaml:"model"`
	// Dimensions of the model's vectors; checked on every answer.
	Dimensions int `yaml:"dimensions"`
	// RequestDimensions sends dimensions to models that can shorten
	// their output (text-embedding-3-*).
	RequestDimensions bool      `yaml:"request_dimensions"`
	APIKey            SecretRef `yaml:"api_key"`
}

// VectorStore: "embedded" (default) or "qdrant" (gRPC, port 6334).
type VectorStore struct {
	Kind       string    `yaml:"kind"`
	Host       string    `yaml:"host"`
	Port       int       `yaml:"port"`
	TLS        bool      `yaml:"tls"`
	Collection string    `yaml:"collection"`
	APIKey     SecretRef `yaml:"api_key"`
}

// Ask tunes how questions are answered; zero values take the defaults.
type Ask struct {
	// MaxRecords bounds the records pulled from each integration for one
	// answer (default 200,000).
	MaxRecords int `yaml:"max_records"`
	// Lookback is the window when a question names no time (default 1h).
	Lookback time.Duration `yaml:"lookback"`
}

// PluginEntry pins a plugin binary outside the plugin dir by checksum.
type PluginEntry struct {
	Name   string `yaml:"name"`
	Path   string `yaml:"path"`
	SHA256 string `yaml:"sha256"`
}

// PluginHost tunes plugin supervision; zero values take the defaults.
type PluginHost struct {
	StartTimeout       time.Duration `yaml:"start_timeout"`
	CallTimeout        time.Duration `yaml:"call_timeout"`
	MaxConcurrentCalls int           `yaml:"max_concurrent_calls"`
	RestartBackoffMin  time.Duration `yaml:"restart_backoff_min"`
	RestartBackoffMax  time.Duration `yaml:"restart_backoff_max"`
	BreakerThreshold   int           `yaml:"breaker_threshold"`
	BreakerWindow      time.Duration `yaml:"breaker_window"`
	BreakerCooldown    time.Duration `yaml:"breaker_cooldown"`
	KillGrace          time.Duration `yaml:"kill_grace"`
	EnvAllowlist       []string      `yaml:"env_allowlist"`
}

// Database selects the relational store. Empty URL = embedded SQLite in
// the data dir. The URL usually comes from FAULTMAVEN_DATABASE_URL.
type Database struct {
	URL string `yaml:"url"`
}

// Log configures the hub's own log.
type Log struct {
	Level  string `yaml:"level"`  // debug, info, warn, error
	Format string `yaml:"format"` // json or text
}

// Cluster is one monitored cluster and the integrations it enabled.
type Cluster struct {
	Name         string        `yaml:"name"`
	Integrations []Integration `yaml:"integrations"`
}

// Integration is one enabled plugin instance.
type Integration struct {
	Name    string               `yaml:"name"`
	Plugin  string               `yaml:"plugin"`
	Config  map[string]any       `yaml:"config"`
	Secrets map[string]SecretRef `yaml:"secrets"`
	// PullEvery, when set, pulls the integration's new logs on this
	// interval (ingest, analysis, findings into the knowledge base).
	PullEvery time.Duration `yaml:"pull_every"`
}

// SecretRef names where a secret config value comes from.
type SecretRef struct {
	Env  string `yaml:"env"`
	File string `yaml:"file"`
}

// Default returns the embedded-defaults configuration.
func Default() Config {
	return Config{
		Listen:    "127.0.0.1:8080",
		DataDir:   "./data",
		PluginDir: "./bin/plugins",
		Log:       Log{Level: "info", Format: "text"},
	}
}

// Load reads path (if non-empty) over the defaults, then applies
// FAULTMAVEN_* overrides from environ, then validates.
func Load(path string, environ []string) (Config, error) {
	cfg := Default()
	if path != "" {
		data, err := os.ReadFile(path)
		if err != nil {
			return Config{}, fmt.Errorf("config: %w", err)
		}
		dec := yaml.NewDecoder(strings.NewReader(string(data)))
		dec.KnownFields(true)
		if err := dec.Decode(&cfg); err != nil && !errors.Is(err, io.EOF) {
			return Config{}, fmt.Errorf("config: %s: %w", path, err)
		}
	}
	if err := applyEnv(&cfg, environ); err != nil {
		return Config{}, err
	}
	if err := cfg.Validate(); err != nil {
		return Config{}, err
	}
	return cfg, nil
}

var nameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,62}$`)

// Validate reports every problem with the configuration at once.
func (c Config) Validate() error {
	var errs []error
	if c.Listen == "" {
		errs = append(errs, errors.New("listen: must not be empty"))
	}
	if c.DataDir == "" {
		errs = append(errs, errors.New("data_dir: must not be empty"))
	}
	for i, p := range c.Plugins {
		if p.Name == "" || p.Path == "" {
			errs = append(errs, fmt.Errorf("plugins[%d]: name and path are required", i))
		}
		if len(p.SHA256) != 64 {
			errs = append(errs, fmt.Errorf("plugins[%d] (%s): sha256 must be 64 hex characters", i, p.Name))
		}
	}
	errs = append(errs, c.Knowledge.validate()...)
	errs = append(errs, c.Auth.validate(c.IsLoopback())...)
	if i := c.Ingest; i.Workers < 0 || i.JobTimeout < 0 || i.RescueAfter < 0 || i.InitialLookback < 0 || i.Lag < 0 {
		errs = append(errs, errors.New("ingest: workers, job_timeout, rescue_after, initial_lookback and lag must not be negative"))
	}
	if c.Ask.MaxRecords < 0 || c.Ask.Lookback < 0 {
		errs = append(errs, errors.New("ask: max_records and lookback must not be negative"))
	}
	seenCluster := map[string]bool{}
	for i, cl := range c.Clusters {
		if !nameRE.MatchString(cl.Name) {
			errs = append(errs, fmt.Errorf("clusters[%d].name %q: use lower-case letters, digits, - and _", i, cl.Name))
		}
		if seenCluster[cl.Name] {
			errs = append(errs, fmt.Errorf("clusters[%d].name %q: duplicate", i, cl.Name))
		}
		seenCluster[cl.Name] = true
		seen := map[string]bool{}
		for j, in := range cl.Integrations {
			at := fmt.Sprintf("clusters[%s].integrations[%d]", cl.Name, j)
			if !nameRE.MatchString(in.Name) {
				errs = append(errs, fmt.Errorf("%s.name %q: use lower-case letters, digits, - and _", at, in.Name))
			}
			if seen[in.Name] {
				errs = append(errs, fmt.Errorf("%s.name %q: duplicate in cluster", at, in.Name))
			}
			seen[in.Name] = true
			if in.Plugin == "" {
				errs = append(errs, fmt.Errorf("%s.plugin: required", at))
			}
			if in.PullEvery != 0 && in.PullEvery < 10*time.Second {
				errs = append(errs, fmt.Errorf("%s.pull_every %s: at least 10s, or 0 for no periodic pull", at, in.PullEvery))
			}
			for k, ref := range in.Secrets {
				if (ref.Env == "") == (ref.File == "") {
					errs = append(errs, fmt.Errorf("%s.secrets.%s: give exactly one of env or file", at, k))
				}
				if _, clash := in.Config[k]; clash {
					errs = append(errs, fmt.Errorf("%s.secrets.%s: also set in config; secrets belong only under secrets", at, k))
				}
			}
		}
	}
	return errors.Join(errs...)
}

func (a Auth) validate(loopback bool) []error {
	var errs []error
	if len(a.Users) == 0 && !loopback {
		errs = append(errs, errors.New("auth.users: required when listen is not a loopback address (without users anyone could log in)"))
	}
	if a.AccessTTL != 0 && a.AccessTTL <= 5*time.Minute {
		errs = append(errs, errors.New("auth.access_ttl: must be over 5m (clients refresh when less than 5 minutes remain)"))
	}
	if a.RefreshTTL < 0 {
		errs = append(errs, errors.New("auth.refresh_ttl: must not be negative"))
	}
	seen := map[string]bool{}
	for i, u := range a.Users {
		at := fmt.Sprintf("auth.users[%d]", i)
		if u.Username == "" {
			errs = append(errs, fmt.Errorf("%s.username: required", at))
		}
		if seen[u.Username] {
			errs = append(errs, fmt.Errorf("%s.username %q: duplicate", at, u.Username))
		}
		seen[u.Username] = true
		if (u.Password.Env == "") == (u.Password.File == "") {
			errs = append(errs, fmt.Errorf("%s.password: give exactly one of env or file", at))
		}
	}
	return errs
}

func (k Knowledge) validate() []error {
	var errs []error
	ref := func(at string, r SecretRef) {
		if r.Env != "" && r.File != "" {
			errs = append(errs, fmt.Errorf("%s: give at most one of env or file", at))
		}
	}
	switch e := k.Embedder; e.Kind {
	case "", "builtin":
	case "openai":
		if e.URL == "" || e.Model == "" || e.Dimensions <= 0 {
			errs = append(errs, errors.New("knowledge.embedder: openai needs url, model and dimensions"))
		}
		ref("knowledge.embedder.api_key", e.APIKey)
	default:
		errs = append(errs, fmt.Errorf("knowledge.embedder.kind %q: want builtin or openai", e.Kind))
	}
	switch v := k.VectorStore; v.Kind {
	case "", "embedded":
	case "qdrant":
		if v.Host == "" {
			errs = append(errs, errors.New("knowledge.vector_store: qdrant needs host"))
		}
		if v.Port < 0 || v.Port > 65535 {
			errs = append(errs, fmt.Errorf("knowledge.vector_store.port %d: not a port", v.Port))
		}
		ref("knowledge.vector_store.api_key", v.APIKey)
	default:
		errs = append(errs, fmt.Errorf("knowledge.vector_store.kind %q: want embedded or qdrant", v.Kind))
	}
	return errs
}

// Resolve returns the secret the reference names: "" for an empty
// reference. Errors name the reference, never the value.
func (r SecretRef) Resolve(getenv func(string) string) (string, error) {
	switch {
	case r.Env != "":
		v := getenv(r.Env)
		if v == "" {
			return "", fmt.Errorf("environment variable %s is not set", r.Env)
		}
		return v, nil
	case r.File != "":
		b, err := os.ReadFile(r.File)
		if err != nil {
			return "", fmt.Errorf("reading %s: %w", r.File, errors.Unwrap(err))
		}
		return strings.TrimRight(string(b), "\r\n"), nil
	}
	return "", nil
}

// InstanceID is the plugin instance id of an integration: "cluster/name".
func InstanceID(cluster, integration string) string { return cluster + "/" + integration }

// ResolvedConfig returns the integration's config as JSON with its secrets
// filled in from the environment or files. The result holds secrets: hand
// it to the plugin and nowhere else. Errors name the reference, never the
// value.
func (in Integration) ResolvedConfig(getenv func(string) string) (json.RawMessage, error) {
	merged := make(map[string]any, len(in.Config)+len(in.Secrets))
	for k, v := range in.Config {
		merged[k] = v
	}
	for k, ref := range in.Secrets {
		val, err := ref.Resolve(getenv)
		if err != nil {
			return nil, fmt.Errorf("integration %s: secret %q: %w", in.Name, k, err)
		}
		merged[k] = val
	}
	return json.Marshal(normalize(merged))
}

// ConfigJSON returns the integration's config (without secrets) as JSON,
// e.g. to record it in the store.
func (in Integration) ConfigJSON() ([]byte, error) {
	m := make(map[string]any, len(in.Config))
	for k, v := range in.Config {
		m[k] = v
	}
	return json.Marshal(normalize(m))
}

// normalize converts yaml's map[any]any (nested) into JSON-encodable maps.
func normalize(v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			x[k] = normalize(e)
		}
		return x
	case map[any]any:
		m := make(map[string]any, len(x))
		for k, e := range x {
			m[fmt.Sprint(k)] = normalize(e)
		}
		return m
	case []any:
		for i, e := range x {
			x[i] = normalize(e)
		}
		return x
	}
	return v
}

// applyEnv sets every field whose FAULTMAVEN_<PATH> variable is present.
// Scalars parse as their type; lists, maps and structs parse as YAML.
func applyEnv(cfg *Config, environ []string) error {
	env := map[string]string{}
	for _, kv := range environ {
		if k, v, ok := strings.Cut(kv, "="); ok && strings.HasPrefix(k, "FAULTMAVEN_") {
			env[k] = v
		}
	}
	return walkEnv(reflect.ValueOf(cfg).Elem(), "FAULTMAVEN", env)
}

func walkEnv(v reflect.Value, prefix string, env map[string]string) error {
	t := v.Type()
	for i := 0; i < t.NumField(); i++ {
		tag := strings.Split(t.Field(i).Tag.Get("yaml"), ",")[0]
		if tag == "" || tag == "-" {
			continue
		}
		name := prefix + "_" + strings.ToUpper(tag)
		f := v.Field(i)
		raw, set := env[name]
		if f.Kind() == reflect.Struct && f.Type() != reflect.TypeFor[time.Duration]() {
			if set {
				if err := yaml.Unmarshal([]byte(raw), f.Addr().Interface()); err != nil {
					return fmt.Errorf("config: %s: %w", name, err)
				}
			}
			if err := walkEnv(f, name, env); err != nil {
				return err
			}
			continue
		}
		if !set {
			continue
		}
		if err := setScalar(f, raw); err != nil {
			return fmt.Errorf("config: %s=%q: %w", name, raw, err)
		}
	}
	return nil
}

func setScalar(f reflect.Value, raw string) error {
	switch {
	case f.Type() == reflect.TypeFor[time.Duration]():
		d, err := time.ParseDuration(raw)
		if err != nil {
			return err
		}
		f.SetInt(int64(d))
	case f.Kind() == reflect.String:
		f.SetString(raw)
	case f.Kind() == reflect.Int:
		n, err := strconv.Atoi(raw)
		if err != nil {
			return err
		}
		f.SetInt(int64(n))
	case f.Kind() == reflect.Bool:
		b, err := strconv.ParseBool(raw)
		if err != nil {
			return err
		}
		f.SetBool(b)
	default: // slices, maps: YAML (JSON is YAML)
		ptr := reflect.New(f.Type())
		if err := yaml.Unmarshal([]byte(raw), ptr.Interface()); err != nil {
			return err
		}
		f.Set(ptr.Elem())
	}
	return nil
}

// otherEnv are FAULTMAVEN_* variables read outside the config: the store's
// key, the plugin handshake cookie.
var otherEnv = map[string]bool{
	"FAULTMAVEN_ENCRYPTION_KEY": true, "FAULTMAVEN_ENCRYPTION_KEY_FILE": true, "FAULTMAVEN_PLUGIN_MAGIC_COOKIE": true,
}

// UnknownEnv returns the FAULTMAVEN_* variables in environ that set no
// config key and that nothing else reads: most likely typos
// (FAULTMAVEN_DATABSE_URL), which would otherwise be ignored without a
// word. FAULTMAVEN_TEST_* (test knobs) are not reported.
func UnknownEnv(environ []string) []string {
	known := map[string]bool{}
	var walk func(t reflect.Type, prefix string)
	walk = func(t reflect.Type, prefix string) {
		for i := 0; i < t.NumField(); i++ {
			tag := strings.Split(t.Field(i).Tag.Get("yaml"), ",")[0]
			if tag == "" || tag == "-" {
				continue
			}
			name := prefix + "_" + strings.ToUpper(tag)
			known[name] = true
			if ft := t.Field(i).Type; ft.Kind() == reflect.Struct && ft != reflect.TypeFor[time.Duration]() {
				walk(ft, name)
			}
		}
	}
	walk(reflect.TypeFor[Config](), "FAULTMAVEN")
	var out []string
	for _, kv := range environ {
		k, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(k, "FAULTMAVEN_") && !known[k] && !otherEnv[k] && !strings.HasPrefix(k, "FAULTMAVEN_TEST_") {
			out = append(out, k)
		}
	}
	slices.Sort(out)
	return out
}
