package filesadapter

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/faultmaven/faultmaven/sdk"
)

// configSchema is the JSON Schema (draft 2020-12) of an instance config,
// served in Metadata. It is kept in a file of its own so that it reads as
// the documentation of the config; TestSchemaAgreesWithValidate keeps it
// and [parseConfig] in step.
//
//go:embed config.schema.json
var configSchema []byte

// Bounds of max_line_bytes. The upper bound is the SDK's own limit on a
// record body: a longer line could not cross the plugin boundary whole
// anyway. The lower bound keeps a typo (max_line_bytes: 1) from turning
// every record into a useless stub.
const (
	minLineBytes     = 256
	defaultLineBytes = sdk.MaxBodyBytes
	maxLineBytes     = sdk.MaxBodyBytes
)

// config is one instance's validated configuration.
type config struct {
	Paths        []string
	Service      string         // "" = derive from the file name
	MaxLineBytes int            // always set after parseConfig
	Location     *time.Location // zone of timestamps without an offset
	Multiline    bool           // join continuation lines (multiline.go)
}

// knownFields lists the config keys; anything else is rejected by name,
// because a misspelt optional key ("max_line_byte") would otherwise be
// ignored silently and the operator would never learn why it had no effect.
var knownFields = []string{"paths", "service", "max_line_bytes", "timezone", "multiline"}

// parseConfig decodes and validates raw, reporting every problem it finds
// as a field error of an [sdk.ConfigError] rather than stopping at the
// first, so the operator can fix a config in one go.
func parseConfig(raw json.RawMessage) (*config, error) {
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(raw, &fields); err != nil || fields == nil {
		if err == nil {
			err = fmt.Errorf("got null")
		}
		return nil, sdk.FieldErrorf("config", "must be a JSON object: %v", err)
	}
	cerr := &sdk.ConfigError{}
	for _, k := range sortedKeys(fields) {
		if !slices.Contains(knownFields, k) {
			cerr.Add(k, "unknown field (known fields: %s)", strings.Join(knownFields, ", "))
		}
	}

	c := &config{MaxLineBytes: defaultLineBytes, Location: time.Local, Multiline: true}

	// paths: required, non-empty, every entry usable.
	if p, ok := fields["paths"]; !ok || isNull(p) {
		cerr.Add("paths", "required: list the files, directories or glob patterns to read")
	} else if err := json.Unmarshal(p, &c.Paths); err != nil {
		cerr.Add("paths", "must be an array of strings")
	} else if len(c.Paths) == 0 {
		cerr.Add("paths", "must not be empty")
	} else {
		for i, path := range c.Paths {
			if msg := checkPath(path); msg != "" {
				cerr.Add(fmt.Sprintf("paths[%d]", i), "%s", msg)
			}
		}
	}

	if s, ok := fields["service"]; ok && !isNull(s) {
		if err := json.Unmarshal(s, &c.Service); err != nil {
			cerr.Add("service", "must be a string")
		} else if c.Service = strings.TrimSpace(c.Service); c.Service == "" {
			cerr.Add("service", "must not be blank; leave it out to name services after their files")
		}
	}

	if m, ok := fields["max_line_bytes"]; ok && !isNull(m) {
		if err := json.Unmarshal(m, &c.MaxLineBytes); err != nil {
			cerr.Add("max_line_bytes", "must be an integer")
		} else if c.MaxLineBytes < minLineBytes || c.MaxLineBytes > maxLineBytes {
			cerr.Add("max_line_bytes", "%d is out of range [%d, %d]", c.MaxLineBytes, minLineBytes, maxLineBytes)
		}
	}

	if z, ok := fields["timezone"]; ok && !isNull(z) {
		var name string
		if err := json.Unmarshal(z, &name); err != nil {
			cerr.Add("timezone", "must be a string such as \"UTC\" or \"Europe/Paris\"")
		} else if loc, err := time.LoadLocation(name); err != nil || name == "" {
			cerr.Add("timezone", "unknown time zone %q", name)
		} else {
			c.Location = loc
		}
	}

	if m, ok := fields["multiline"]; ok && !isNull(m) {
		if on, ok := parseSwitch(m); ok {
			c.Multiline = on
		} else {
			cerr.Add("multiline", "must be \"on\" or \"off\" (or true or false)")
		}
	}

	if err := cerr.OrNil(); err != nil {
		return nil, err
	}
	return c, nil
}

// checkPath returns what is wrong with one paths entry, or "". Whether the
// path exists is deliberately not checked: logs may appear after the
// instance is configured, and Health is where a missing file is reported.
func checkPath(p string) string {
	switch {
	case strings.TrimSpace(p) == "":
		return "must not be empty"
	case strings.ContainsRune(p, 0):
		return "must not contain a NUL byte"
	case strings.Contains(p, "**"):
		// filepath.Glob would treat ** as *, matching one level only: a
		// pattern that silently matches less than it says is worse than
		// an error.
		return "** (recursive glob) is not supported: list each directory, or use one * per level"
	}
	if hasMeta(p) {
		if _, err := filepath.Match(p, ""); err != nil {
			return fmt.Sprintf("bad glob pattern %q: %v", p, err)
		}
	}
	return ""
}

// parseSwitch reads "on", "off", true or false. Booleans are accepted
// because a YAML 1.1 tool turns an unquoted on/off into one.
func parseSwitch(raw json.RawMessage) (on, ok bool) {
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		return false, false
	}
	switch v {
	case "on", true:
		return true, true
	case "off", false:
		return false, true
	}
	return false, false
}

func isNull(raw json.RawMessage) bool { return bytes.Equal(bytes.TrimSpace(raw), []byte("null")) }

func sortedKeys(m map[string]json.RawMessage) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
