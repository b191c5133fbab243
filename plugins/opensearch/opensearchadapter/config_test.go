package opensearchadapter_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/faultmaven/faultmaven/sdk"
)

// configCases are checked by Validate and, unless schemaMiss, by the JSON
// Schema served in Metadata, which must agree.
var configCases = []struct {
	name       string
	config     string
	fields     []string // nil = valid
	schemaMiss bool     // a rule the schema cannot express
}{
	{name: "minimal", config: `{"url":"http://localhost:9200","index":"logs-*"}`},
	{name: "basic auth and options", config: `{"url":"https://os.example.com:9200/prefix/","index":"logs-*,app-*","username":"u","password":"p",
		"fields":{"timestamp":"ts","service":"kubernetes.labels.app"},"page_size":5000,"request_timeout":"10s","max_retries":0,"pit_keep_alive":"5m",
		"dashboards_url":"https://dash.example.com","dashboards_index_pattern":"abc","insecure_skip_verify":true}`},
	{name: "aws", config: `{"url":"https://search-x.eu-west-1.es.amazonaws.com","index":"logs","aws":{"region":"eu-west-1","service":"aoss","access_key_id":"AKID","secret_access_key":"s","session_token":"t"}}`},
	{name: "missing url and index", config: `{}`, fields: []string{"url", "index"}},
	{name: "url scheme", config: `{"url":"ftp://x","index":"l"}`, fields: []string{"url"}},
	{name: "url with credentials", config: `{"url":"https://u:p@x","index":"l"}`, fields: []string{"url"}, schemaMiss: true},
	{name: "index upper case", config: `{"url":"http://x","index":"Logs"}`, fields: []string{"index"}, schemaMiss: true},
	{name: "index forbidden character", config: `{"url":"http://x","index":"logs,a b"}`, fields: []string{"index"}, schemaMiss: true},
	{name: "username without password", config: `{"url":"http://x","index":"l","username":"u"}`, fields: []string{"password"}},
	{name: "password without username", config: `{"url":"http://x","index":"l","password":"p"}`, fields: []string{"username"}},
	{name: "aws and basic", config: `{"url":"http://x","index":"l","username":"u","password":"p","aws":{"region":"r","access_key_id":"a","secret_access_key":"s"}}`, fields: []string{"aws"}},
	{name: "aws missing keys", config: `{"url":"http://x","index":"l","aws":{"region":"r"}}`, fields: []string{"aws.access_key_id", "aws.secret_access_key"}},
	{name: "aws bad service", config: `{"url":"http://x","index":"l","aws":{"region":"r","service":"s3","access_key_id":"a","secret_access_key":"s"}}`, fields: []string{"aws.service"}},
	{name: "unknown field", config: `{"url":"http://x","index":"l","pagesize":10}`, fields: []string{"pagesize"}},
	{name: "unknown fields key", config: `{"url":"http://x","index":"l","fields":{"time":"t"}}`, fields: []string{"fields.time"}},
	{name: "page size too big", config: `{"url":"http://x","index":"l","page_size":10001}`, fields: []string{"page_size"}},
	{name: "bad duration", config: `{"url":"http://x","index":"l","request_timeout":"soon"}`, fields: []string{"request_timeout"}, schemaMiss: true},
	{name: "bad ca_pem", config: `{"url":"http://x","index":"l","ca_pem":"not a cert"}`, fields: []string{"ca_pem"}, schemaMiss: true},
	{name: "index pattern without dashboards", config: `{"url":"http://x","index":"l","dashboards_index_pattern":"p"}`, fields: []string{"dashboards_index_pattern"}, schemaMiss: true},
	{name: "not an object", config: `[1]`, fields: []string{"config"}},
}

func TestValidate(t *testing.T) {
	a := newAdapter(t, nil)
	for _, tc := range configCases {
		t.Run(tc.name, func(t *testing.T) {
			err := a.Validate(t.Context(), []byte(tc.config))
			if tc.fields == nil {
				if err != nil {
					t.Fatalf("Validate: %v, want valid", err)
				}
				return
			}
			var ce *sdk.ConfigError
			if !errors.As(err, &ce) {
				t.Fatalf("Validate: %v, want a *sdk.ConfigError", err)
			}
			var got []string
			for _, f := range ce.Fields {
				got = append(got, f.Field)
			}
			for _, want := range tc.fields {
				if !slices.Contains(got, want) {
					t.Errorf("field errors %v lack %q", got, want)
				}
			}
			if err := a.Configure(t.Context(), "x", []byte(tc.config)); sdk.CodeOf(err) != sdk.CodeBadConfig {
				t.Errorf("Configure: %v, want bad_config", err)
			}
		})
	}
}

func TestValidateCAFile(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.pem")
	if err := os.WriteFile(bad, []byte("nope"), 0o600); err != nil {
		t.Fatal(err)
	}
	a := newAdapter(t, nil)
	for _, p := range []string{bad, filepath.Join(dir, "missing.pem")} {
		err := a.Validate(t.Context(), []byte(`{"url":"https://x","index":"l","ca_file":"`+p+`"}`))
		var ce *sdk.ConfigError
		if !errors.As(err, &ce) || ce.Fields[0].Field != "ca_file" {
			t.Errorf("ca_file %s: got %v, want a ca_file field error", p, err)
		}
	}
}

func TestSchemaAgreesWithValidate(t *testing.T) {
	raw := newAdapter(t, nil).Metadata().ConfigSchema
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("schema is not JSON: %v", err)
	}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	if err := c.AddResource("config.schema.json", doc); err != nil {
		t.Fatal(err)
	}
	schema, err := c.Compile("config.schema.json")
	if err != nil {
		t.Fatalf("schema does not compile: %v", err)
	}
	for _, tc := range configCases {
		if tc.schemaMiss {
			continue
		}
		t.Run(tc.name, func(t *testing.T) {
			inst, err := jsonschema.UnmarshalJSON(bytes.NewReader([]byte(tc.config)))
			if err != nil {
				t.Fatal(err)
			}
			err = schema.Validate(inst)
			if valid := tc.fields == nil; valid != (err == nil) {
				t.Errorf("schema on %s: %v; Validate says valid=%v", tc.config, err, valid)
			}
		})
	}
}
