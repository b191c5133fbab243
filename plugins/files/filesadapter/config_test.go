package filesadapter_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"slices"
	"testing"

	"github.com/faultmaven/faultmaven/plugins/files/filesadapter"
	"github.com/faultmaven/faultmaven/sdk"
	"github.com/santhosh-tekuri/jsonschema/v6"
)

// configCases are shared by the Validate and schema tests, so that the
// JSON Schema served in Metadata cannot drift from what Validate accepts.
var configCases = []struct {
	name   string
	config string
	fields []string // field errors expected; nil = valid
	// schemaMiss: the schema and Validate disagree on purpose: a rule only
	// Validate can check (glob syntax, the zone database, blank strings),
	// or Validate's leniency towards null (what YAML's "service:" gives).
	schemaMiss bool
}{
	{name: "minimal", config: `{"paths": ["/var/log/app.log"]}`},
	{name: "everything", config: `{"paths": ["./logs", "/var/log/*.log"], "service": "checkout", "max_line_bytes": 4096, "timezone": "Europe/Paris", "multiline": "on"}`},
	{name: "relative path", config: `{"paths": ["logs/app.log"]}`},
	{name: "explicit nulls for optional fields", config: `{"paths": ["a"], "service": null, "max_line_bytes": null}`, schemaMiss: true},
	{name: "bounds are inclusive", config: `{"paths": ["a"], "max_line_bytes": 256}`},
	{name: "missing paths", config: `{}`, fields: []string{"paths"}},
	{name: "empty paths", config: `{"paths": []}`, fields: []string{"paths"}},
	{name: "paths not a list", config: `{"paths": "/var/log"}`, fields: []string{"paths"}},
	{name: "empty entry", config: `{"paths": ["a", ""]}`, fields: []string{"paths[1]"}},
	{name: "bad glob", config: `{"paths": ["/var/log/[.log"]}`, fields: []string{"paths[0]"}, schemaMiss: true},
	{name: "recursive glob", config: `{"paths": ["/var/log/**/*.log"]}`, fields: []string{"paths[0]"}, schemaMiss: true},
	{name: "unknown field", config: `{"paths": ["a"], "max_line_byte": 10}`, fields: []string{"max_line_byte"}},
	{name: "max_line_bytes too small", config: `{"paths": ["a"], "max_line_bytes": 10}`, fields: []string{"max_line_bytes"}},
	{name: "max_line_bytes too large", config: `{"paths": ["a"], "max_line_bytes": 1048577}`, fields: []string{"max_line_bytes"}},
	{name: "max_line_bytes not an integer", config: `{"paths": ["a"], "max_line_bytes": 1.5}`, fields: []string{"max_line_bytes"}},
	{name: "blank service", config: `{"paths": ["a"], "service": " "}`, fields: []string{"service"}, schemaMiss: true},
	{name: "unknown zone", config: `{"paths": ["a"], "timezone": "Mars/Olympus_Mons"}`, fields: []string{"timezone"}, schemaMiss: true},
	{name: "multiline on and off", config: `{"paths": ["a"], "multiline": "off"}`},
	{name: "multiline as a boolean", config: `{"paths": ["a"], "multiline": false}`},
	{name: "multiline misspelt", config: `{"paths": ["a"], "multiline": "of"}`, fields: []string{"multiline"}},
	{name: "multiline not a switch", config: `{"paths": ["a"], "multiline": 1}`, fields: []string{"multiline"}},
	{name: "every problem at once", config: `{"paths": [], "service": 3, "colour": "red"}`, fields: []string{"colour", "paths", "service"}},
	{name: "not an object", config: `["a"]`, fields: []string{"config"}},
	{name: "null", config: `null`, fields: []string{"config"}},
}

func TestValidate(t *testing.T) {
	a := filesadapter.New(filesadapter.Options{})
	for _, tt := range configCases {
		t.Run(tt.name, func(t *testing.T) {
			err := a.Validate(t.Context(), json.RawMessage(tt.config))
			if tt.fields == nil {
				if err != nil {
					t.Fatalf("Validate(%s): %v, want nil", tt.config, err)
				}
				return
			}
			var ce *sdk.ConfigError
			if !errors.As(err, &ce) {
				t.Fatalf("Validate(%s): %v, want a *sdk.ConfigError", tt.config, err)
			}
			var got []string
			for _, f := range ce.Fields {
				got = append(got, f.Field)
				if f.Message == "" {
					t.Errorf("field %q has no message", f.Field)
				}
			}
			if !slices.Equal(got, tt.fields) {
				t.Errorf("Validate(%s): fields %v, want %v (%v)", tt.config, got, tt.fields, err)
			}
			// Configure must refuse the same config with the same error.
			if err := a.Configure(t.Context(), "x", json.RawMessage(tt.config)); sdk.CodeOf(err) != sdk.CodeBadConfig {
				t.Errorf("Configure(%s): %v, want code bad_config", tt.config, err)
			}
		})
	}
}

func TestSchemaAgreesWithValidate(t *testing.T) {
	raw := filesadapter.New(filesadapter.Options{}).Metadata().ConfigSchema
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
	for _, tt := range configCases {
		if tt.schemaMiss {
			continue
		}
		t.Run(tt.name, func(t *testing.T) {
			inst, err := jsonschema.UnmarshalJSON(bytes.NewReader([]byte(tt.config)))
			if err != nil {
				t.Fatal(err)
			}
			err = schema.Validate(inst)
			if valid := tt.fields == nil; valid != (err == nil) {
				t.Errorf("schema on %s: %v; Validate says valid=%v", tt.config, err, valid)
			}
		})
	}
}
