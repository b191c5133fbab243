package splunkadapter_test

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/faultmaven/faultmaven/plugins/splunk/splunkstandin"
)

// checkSchemaAgrees compiles the published config schema and checks that it
// accepts what Validate accepts and rejects what Validate rejects, so the
// hub's schema check and the adapter never disagree.
func checkSchemaAgrees(t *testing.T, schema json.RawMessage, validate func(json.RawMessage) error, configs []json.RawMessage) {
	t.Helper()
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(schema))
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	if err := c.AddResource("config.schema.json", doc); err != nil {
		t.Fatal(err)
	}
	sch, err := c.Compile("config.schema.json")
	if err != nil {
		t.Fatalf("schema does not compile: %v", err)
	}
	for _, cfg := range configs {
		inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(cfg))
		if err != nil {
			t.Fatal(err)
		}
		schemaOK := sch.Validate(inst) == nil
		adapterOK := validate(cfg) == nil
		if schemaOK != adapterOK {
			t.Errorf("config %s: schema accepts=%v, Validate accepts=%v", cfg, schemaOK, adapterOK)
		}
	}
}

func TestSchemaAgreesWithValidate(t *testing.T) {
	e := newEnv(t, splunkstandin.Options{}, 0)
	var configs []json.RawMessage
	for _, extra := range []map[string]any{
		nil,
		{"token": nil, "username": "u", "password": "p"},
		{"username": "u", "password": "p"},
		{"token": nil, "username": "u"},
		{"url": "ftp://x"},
		{"url": nil},
		{"service_field": "a b"},
		{"indexes": []string{"a|b"}},
		{"max_retries": 11},
		{"timeout_seconds": -1},
		{"colour": "blue"},
		{"insecure_skip_verify": "yes"},
	} {
		configs = append(configs, e.config(t, extra))
	}
	checkSchemaAgrees(t, e.ad.Metadata().ConfigSchema, func(c json.RawMessage) error { return e.ad.Validate(t.Context(), c) }, configs)
}
