package scenariodata

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// Backends named in sources.yaml.
const (
	BackendSplunk     = "splunk"
	BackendDatadog    = "datadog"
	BackendOpenSearch = "opensearch"
)

// Layouts with a special meaning in timestamp_layout.
const (
	LayoutUnixFloat = "unix_float" // epoch seconds, optional fraction
	LayoutUnixMS    = "unix_ms"    // epoch milliseconds
)

// Scenario is one scenario folder.
type Scenario struct {
	ID         string
	Dir        string // the folder Load read
	Start, End time.Time
	Sources    []Source
	Metrics    []Series // from metrics.json; empty when the file is absent
}

// Series is one metric series of metrics.json.
type Series struct {
	Name   string
	Labels map[string]string
	Unit   string
	Points []Point
}

// Point is one sample of a Series.
type Point struct {
	Time  time.Time
	Value float64
}

// Source is one log file and where a backend holds it.
type Source struct {
	File            string // relative to the scenario folder, e.g. "logs/orders-api.log"
	Service         string
	Backend         string // BackendSplunk, BackendDatadog or BackendOpenSearch
	Format          string
	Multiline       bool
	EventStartRegex string
	TimestampRegex  string
	TimestampLayout string

	Splunk     *SplunkTarget     // set when Backend is splunk
	Datadog    *DatadogTarget    // set when Backend is datadog
	OpenSearch *OpenSearchTarget // set when Backend is opensearch

	Events []Event // in file order
}

// SplunkTarget names where Splunk holds a source.
type SplunkTarget struct {
	Index      string `yaml:"index"`
	Sourcetype string `yaml:"sourcetype"`
	Source     string `yaml:"source"`
	Host       string `yaml:"host"`
}

// DatadogTarget names where Datadog holds a source.
type DatadogTarget struct {
	Service string   `yaml:"service"`
	Source  string   `yaml:"source"`
	Tags    []string `yaml:"tags"`
}

// OpenSearchTarget names where OpenSearch holds a source.
type OpenSearchTarget struct {
	Index          string `yaml:"index"`
	ServiceField   string `yaml:"service_field"`
	ServiceValue   string `yaml:"service_value"`
	MessageField   string `yaml:"message_field"`
	TimestampField string `yaml:"timestamp_field"`
}

// Event is one log event: a line, or several joined lines.
type Event struct {
	Time time.Time // UTC
	Raw  string    // the event's text, lines joined with "\n"
	Line int       // 1-based line of the event's first line in the file
}

// Lines returns how many file lines the event spans.
func (e Event) Lines() int { return strings.Count(e.Raw, "\n") + 1 }

// BySource returns the sources held by backend, in sources.yaml order.
func (s *Scenario) BySource(backend string) []Source {
	var out []Source
	for _, src := range s.Sources {
		if src.Backend == backend {
			out = append(out, src)
		}
	}
	return out
}

type window struct {
	Start string `yaml:"start"`
	End   string `yaml:"end"`
}

type sourcesFile struct {
	Scenario   string `yaml:"scenario"`
	TimeWindow window `yaml:"time_window"`
	Sources    []struct {
		File            string            `yaml:"file"`
		Service         string            `yaml:"service"`
		Backend         string            `yaml:"backend"`
		Format          string            `yaml:"format"`
		Multiline       bool              `yaml:"multiline"`
		EventStartRegex string            `yaml:"event_start_regex"`
		TimestampRegex  string            `yaml:"timestamp_regex"`
		TimestampLayout string            `yaml:"timestamp_layout"`
		Splunk          *SplunkTarget     `yaml:"splunk"`
		Datadog         *DatadogTarget    `yaml:"datadog"`
		OpenSearch      *OpenSearchTarget `yaml:"opensearch"`
	} `yaml:"sources"`
}

// Load reads the scenario folder dir: its sources.yaml and every log file
// it names. The time window comes from sources.yaml (scenario.yaml is not
// needed).
func Load(dir string) (*Scenario, error) {
	raw, err := os.ReadFile(filepath.Join(dir, "sources.yaml"))
	if err != nil {
		return nil, fmt.Errorf("scenariodata: %w", err)
	}
	var sf sourcesFile
	if err := yaml.Unmarshal(raw, &sf); err != nil {
		return nil, fmt.Errorf("scenariodata: %s: %w", filepath.Join(dir, "sources.yaml"), err)
	}
	sc := &Scenario{ID: sf.Scenario, Dir: dir}
	if sc.ID == "" {
		sc.ID = filepath.Base(dir)
	}
	if sc.Start, err = time.Parse(time.RFC3339, sf.TimeWindow.Start); err != nil {
		return nil, fmt.Errorf("scenariodata: %s: time_window.start: %w", sc.ID, err)
	}
	if sc.End, err = time.Parse(time.RFC3339, sf.TimeWindow.End); err != nil {
		return nil, fmt.Errorf("scenariodata: %s: time_window.end: %w", sc.ID, err)
	}
	sc.Start, sc.End = sc.Start.UTC(), sc.End.UTC()
	if len(sf.Sources) == 0 {
		return nil, fmt.Errorf("scenariodata: %s: sources.yaml lists no source", sc.ID)
	}
	for _, s := range sf.Sources {
		src := Source{
			File: s.File, Service: s.Service, Backend: s.Backend, Format: s.Format,
			Multiline: s.Multiline, EventStartRegex: s.EventStartRegex,
			TimestampRegex: s.TimestampRegex, TimestampLayout: s.TimestampLayout,
			Splunk: s.Splunk, Datadog: s.Datadog, OpenSearch: s.OpenSearch,
		}
		if src.File == "" {
			return nil, fmt.Errorf("scenariodata: %s: a source has no file", sc.ID)
		}
		p := TimestampParser{Layout: src.TimestampLayout, Year: sc.Start.Year()}
		src.Events, err = readEvents(filepath.Join(dir, filepath.FromSlash(src.File)), src.EventStartRegex, src.TimestampRegex, p)
		if err != nil {
			return nil, fmt.Errorf("scenariodata: %s: %w", sc.ID, err)
		}
		sc.Sources = append(sc.Sources, src)
	}
	if sc.Metrics, err = loadMetrics(filepath.Join(dir, "metrics.json")); err != nil {
		return nil, fmt.Errorf("scenariodata: %s: %w", sc.ID, err)
	}
	return sc, nil
}

func loadMetrics(path string) ([]Series, error) {
	raw, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var mf struct {
		Series []struct {
			Name   string            `json:"name"`
			Labels map[string]string `json:"labels"`
			Unit   string            `json:"unit"`
			Points [][2]float64      `json:"points"`
		} `json:"series"`
	}
	if err := json.Unmarshal(raw, &mf); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	out := make([]Series, len(mf.Series))
	for i, s := range mf.Series {
		if s.Name == "" {
			return nil, fmt.Errorf("%s: series %d has no name", path, i)
		}
		out[i] = Series{Name: s.Name, Labels: s.Labels, Unit: s.Unit, Points: make([]Point, len(s.Points))}
		for j, p := range s.Points {
			sec, frac := math.Modf(p[0])
			out[i].Points[j] = Point{Time: time.Unix(int64(sec), int64(math.Round(frac*1e3))*1e6).UTC(), Value: p[1]}
		}
	}
	return out, nil
}

func readEvents(path, startExpr, tsExpr string, p TimestampParser) ([]Event, error) {
	start, err := regexp.Compile(startExpr)
	if err != nil {
		return nil, fmt.Errorf("%s: event_start_regex: %w", path, err)
	}
	tsRe, err := regexp.Compile(tsExpr)
	if err != nil {
		return nil, fmt.Errorf("%s: timestamp_regex: %w", path, err)
	}
	if tsRe.NumSubexp() < 1 {
		return nil, fmt.Errorf("%s: timestamp_regex %q has no capture group", path, tsExpr)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()

	var (
		events []Event
		cur    *bytes.Buffer
		curAt  int
	)
	flush := func() error {
		if cur == nil {
			return nil
		}
		text := strings.TrimRight(cur.String(), "\n")
		m := tsRe.FindStringSubmatch(text)
		if m == nil {
			return fmt.Errorf("%s:%d: timestamp_regex finds no timestamp", path, curAt)
		}
		t, err := p.Parse(m[1])
		if err != nil {
			return fmt.Errorf("%s:%d: %w", path, curAt, err)
		}
		events = append(events, Event{Time: t, Raw: text, Line: curAt})
		cur = nil
		return nil
	}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64*1024), 16*1024*1024)
	pendingBlank := 0
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSuffix(sc.Text(), "\r")
		if line == "" {
			// Blank lines inside an event belong to it; trailing ones
			// at the end of the file are dropped.
			pendingBlank++
			continue
		}
		if cur == nil || start.MatchString(line) {
			if err := flush(); err != nil {
				return nil, err
			}
			cur, curAt, pendingBlank = new(bytes.Buffer), n, 0
			cur.WriteString(line)
			continue
		}
		for ; pendingBlank > 0; pendingBlank-- {
			cur.WriteByte('\n')
		}
		cur.WriteByte('\n')
		cur.WriteString(line)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if err := flush(); err != nil {
		return nil, err
	}
	return events, nil
}

// TimestampParser parses timestamps written with one timestamp_layout.
type TimestampParser struct {
	Layout string // a Go layout, LayoutUnixFloat or LayoutUnixMS
	Year   int    // used when Layout has no year
}

// ErrNoLayout is returned when a source names no timestamp_layout.
var ErrNoLayout = errors.New("scenariodata: no timestamp_layout")

// Parse parses s; the result is in UTC.
func (p TimestampParser) Parse(s string) (time.Time, error) {
	switch p.Layout {
	case "":
		return time.Time{}, ErrNoLayout
	case LayoutUnixFloat:
		f, err := strconv.ParseFloat(s, 64)
		if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
			return time.Time{}, fmt.Errorf("timestamp %q is not epoch seconds", s)
		}
		sec, frac := math.Modf(f)
		// Round to the microsecond: float64 cannot carry nanoseconds of
		// a current epoch exactly, and the corpus writes at most micros.
		ns := int64(math.Round(frac*1e6)) * 1000
		return time.Unix(int64(sec), ns).UTC(), nil
	case LayoutUnixMS:
		ms, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return time.Time{}, fmt.Errorf("timestamp %q is not epoch milliseconds", s)
		}
		return time.UnixMilli(ms).UTC(), nil
	}
	t, err := time.Parse(p.Layout, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("timestamp %q: %w", s, err)
	}
	if t.Year() == 0 { // a layout without a year
		t = t.AddDate(p.Year, 0, 0)
	}
	return t.UTC(), nil
}
