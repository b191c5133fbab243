package prometheusadapter_test

import (
	"bytes"
	"errors"
	"slices"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/faultmaven/faultmaven/sdk"
)

var configCases = []struct {
	name       string
	config     string
	fields     []string // nil = valid
	schemaMiss bool
}{
	{name: "minimal", config: `{"url":"http://localhost:9090"}`},
	{name: "all options", config: `{"url":"https://prom.example.com/prometheus/","bearer_token":"t","request_timeout":"5s","max_retries":0,"max_samples":1000,"insecure_skip_verify":false}`},
	{name: "basic auth", config: `{"url":"http://x","username":"u","password":"p"}`},
	{name: "missing url", config: `{}`, fields: []string{"url"}},
	{name: "bad scheme", config: `{"url":"tcp://x"}`, fields: []string{"url"}},
	{name: "api path", config: `{"url":"http://x/api/v1/"}`, fields: []string{"url"}, schemaMiss: true},
	{name: "credentials in url", config: `{"url":"http://u:p@x"}`, fields: []string{"url"}, schemaMiss: true},
	{name: "user without password", config: `{"url":"http://x","username":"u"}`, fields: []string{"password"}},
	{name: "token and basic", config: `{"url":"http://x","bearer_token":"t","username":"u","password":"p"}`, fields: []string{"bearer_token"}},
	{name: "unknown field", config: `{"url":"http://x","token":"t"}`, fields: []string{"token"}},
	{name: "retries out of range", config: `{"url":"http://x","max_retries":11}`, fields: []string{"max_retries"}},
	{name: "bad timeout", config: `{"url":"http://x","request_timeout":"1 minute"}`, fields: []string{"request_timeout"}, schemaMiss: true},
	{name: "bad ca", config: `{"url":"http://x","ca_pem":"x"}`, fields: []string{"ca_pem"}, schemaMiss: true},
	{name: "null", config: `null`, fields: []string{"config"}},
}

func TestValidate(t *testing.T) {
	a := newAdapter(nil)
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
		})
	}
}

func TestSchemaAgreesWithValidate(t *testing.T) {
	raw := newAdapter(nil).Metadata().ConfigSchema
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
