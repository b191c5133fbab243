package datadogadapter_test

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
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
	e := newEnv(t, 0)
	var configs []json.RawMessage
	for _, extra := range []map[string]any{
		nil,
		{"site": nil, "base_url": nil},
		{"site": "us5.datadoghq.com"},
		{"site": "datadog.com"},
		{"api_key": nil},
		{"app_key": ""},
		{"page_size": 1001},
		{"page_size": 0.5},
		{"storage_tier": "flex"},
		{"storage_tier": "cold"},
		{"base_url": "localhost"},
		{"region": "eu"},
	} {
		configs = append(configs, e.config(t, extra))
	}
	checkSchemaAgrees(t, e.ad.Metadata().ConfigSchema, func(c json.RawMessage) error { return e.ad.Validate(t.Context(), c) }, configs)
}
