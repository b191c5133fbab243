package header

import (
	"encoding/json"
	"strconv"
	"strings"
	"time"

	"github.com/faultmaven/faultmaven/sdk"
)

// Keys looked up, in order, in JSON and logfmt lines.
var (
	msgKeys   = []string{"msg", "message", "log", "event", "text", "body", "@message"}
	levelKeys = []string{"level", "lvl", "severity", "levelname", "log.level", "loglevel", "@level", "type"}
	// eventTime, lastTimestamp and firstTimestamp are the times of a
	// Kubernetes Event object (kubectl get events -o json); its "type"
	// (Normal, Warning) is its level.
	timeKeys    = []string{"ts", "time", "timestamp", "@timestamp", "t", "datetime", "date", "eventTime", "lastTimestamp", "firstTimestamp"}
	serviceKeys = []string{"service", "service.name", "logger", "logger_name", "component", "app", "name", "caller"}
)

// parseStructured handles JSON-object lines and logfmt lines. It reports
// false for anything else, cheaply.
func parseStructured(line string) (Parsed, bool) {
	if len(line) < 2 {
		return Parsed{}, false
	}
	if line[0] == '{' {
		return parseJSON(line)
	}
	if looksLogfmt(line) {
		return parseLogfmt(line)
	}
	return Parsed{}, false
}

func parseJSON(line string) (Parsed, bool) {
	var m map[string]any
	if err := json.Unmarshal([]byte(line), &m); err != nil {
		return Parsed{}, false
	}
	get := func(keys []string) string {
		for _, k := range keys {
			if v, ok := m[k]; ok {
				switch x := v.(type) {
				case string:
					return x
				case float64:
					return strconv.FormatFloat(x, 'f', -1, 64)
				case map[string]any: // {"log":{"level":"info"}} style
					continue
				}
			}
		}
		return ""
	}
	p := Parsed{HasHeader: true}
	p.Content = strings.TrimRight(get(msgKeys), "\r\n")
	if p.Content == "" {
		p.Content = line
	}
	p.Severity = sdk.ParseSeverity(get(levelKeys))
	p.Component = get(serviceKeys)
	p.Timestamp = parseAnyTime(get(timeKeys))
	return p, true
}

// looksLogfmt: the first token is key=value with a well-known key.
func looksLogfmt(line string) bool {
	eq := strings.IndexByte(line, '=')
	if eq <= 0 || eq > 16 {
		return false
	}
	key := line[:eq]
	for _, group := range [][]string{timeKeys, levelKeys, msgKeys} {
		for _, k := range group {
			if k == key {
				return true
			}
		}
	}
	return false
}

func parseLogfmt(line string) (Parsed, bool) {
	kv := map[string]string{}
	i := 0
	for i < len(line) {
		for i < len(line) && line[i] == ' ' {
			i++
		}
		ks := i
		for i < len(line) && line[i] != '=' && line[i] != ' ' {
			i++
		}
		key := line[ks:i]
		if i >= len(line) || line[i] != '=' {
			continue
		}
		i++
		var val string
		if i < len(line) && line[i] == '"' {
			j := i + 1
			var b strings.Builder
			for j < len(line) && line[j] != '"' {
				if line[j] == '\\' && j+1 < len(line) {
					j++
				}
				b.WriteByte(line[j])
				j++
			}
			val = b.String()
			i = j + 1
		} else {
			vs := i
			for i < len(line) && line[i] != ' ' {
				i++
			}
			val = line[vs:i]
		}
		if key != "" {
			kv[key] = val
		}
	}
	get := func(keys []string) string {
		for _, k := range keys {
			if v, ok := kv[k]; ok {
				return v
			}
		}
		return ""
	}
	p := Parsed{HasHeader: true, Content: get(msgKeys)}
	if p.Content == "" {
		return Parsed{}, false
	}
	p.Severity = sdk.ParseSeverity(get(levelKeys))
	p.Component = get(serviceKeys)
	p.Timestamp = parseAnyTime(get(timeKeys))
	return p, true
}

func parseAnyTime(s string) time.Time {
	if s == "" {
		return time.Time{}
	}
	if n, t, _, ok := ParseTimestamp(s); ok && n == len(s) {
		return t
	}
	if f, err := strconv.ParseFloat(s, 64); err == nil {
		switch {
		case f > 1e17: // nanoseconds
			return time.Unix(0, int64(f)).UTC()
		case f > 1e11: // milliseconds
			return time.UnixMilli(int64(f)).UTC()
		case f > 0:
			sec := int64(f)
			return time.Unix(sec, int64((f-float64(sec))*1e9)).UTC()
		}
	}
	return time.Time{}
}
