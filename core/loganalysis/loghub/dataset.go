package loghub

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// Dataset is one Loghub-2k sample with its labels.
type Dataset struct {
	Name     string
	Raw      []byte   // the .log file as shipped
	Content  []string // labelled message per line (V0)
	EventV0  []string // V0 event id per line
	TmplV0   []string // V0 template per line
	TmplV2   []string // V2 template per line
	Label    []string // alert label column per line, when the data has one
	HasLabel bool     // the first token of each line is a label, not log text
}

// Names are the datasets shipped in shared/loghub, in README order.
var Names = []string{"HDFS", "Hadoop", "Spark", "Zookeeper", "BGL", "HPC", "HealthApp", "OpenStack"}

// Protocol holds the benchmark header formats and masks given to Drain in
// the Loghub README; the protocol mode uses them, zero-config does not.
var Protocol = map[string]struct {
	Format string
	Masks  []string
}{
	"HDFS":      {`<Date> <Time> <Pid> <Level> <Component>: <Content>`, []string{`blk_-?\d+`, `(\d+\.){3}\d+(:\d+)?`}},
	"Hadoop":    {`<Date> <Time> <Level> \[<Process>\] <Component>: <Content>`, []string{`(\d+\.){3}\d+`}},
	"Spark":     {`<Date> <Time> <Level> <Component>: <Content>`, []string{`(\d+\.){3}\d+`, `\b[KGTM]?B\b`, `([\w-]+\.){2,}[\w-]+`}},
	"Zookeeper": {`<Date> <Time> - <Level>  \[<Node>:<Component>@<Id>\] - <Content>`, []string{`(/|)(\d+\.){3}\d+(:\d+)?`}},
	"BGL":       {`<Label> <Timestamp> <Date> <Node> <Time> <NodeRepeat> <Type> <Component> <Level> <Content>`, []string{`core\.\d+`}},
	"HPC":       {`<LogId> <Node> <Component> <State> <Time> <Flag> <Content>`, []string{`=\d+`}},
	"HealthApp": {`<Time>\|<Component>\|<Pid>\|<Content>`, nil},
	"OpenStack": {`<Logrecord> <Date> <Time> <Pid> <Level> <Component> \[<ADDR>\] <Content>`, []string{`((\d+\.){3}\d+,?)+`, `/.+?\s`, `\d+`}},
}

// ErrMissing reports that the Loghub folder is absent.
var ErrMissing = errors.New("loghub: data not found")

// Load reads dataset name from dir (e.g. ../shared/loghub).
func Load(dir, name string) (*Dataset, error) {
	base := filepath.Join(dir, name, name+"_2k.log")
	raw, err := os.ReadFile(base)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("%w: %s", ErrMissing, base)
		}
		return nil, fmt.Errorf("loghub: %w", err)
	}
	d := &Dataset{Name: name, Raw: raw}
	v0, hdr, err := readCSV(base + "_structured.csv")
	if err != nil {
		return nil, err
	}
	v2, hdr2, err := readCSV(base + "_structured_v2.csv")
	if err != nil {
		return nil, err
	}
	ci, ei, ti, li := col(hdr, "Content"), col(hdr, "EventId"), col(hdr, "EventTemplate"), col(hdr, "Label")
	t2 := col(hdr2, "EventTemplate")
	if ci < 0 || ei < 0 || ti < 0 || t2 < 0 {
		return nil, fmt.Errorf("loghub: %s: unexpected columns", name)
	}
	d.HasLabel = li == 1
	for _, r := range v0 {
		d.Content = append(d.Content, r[ci])
		d.EventV0 = append(d.EventV0, r[ei])
		d.TmplV0 = append(d.TmplV0, r[ti])
		if li >= 0 {
			d.Label = append(d.Label, r[li])
		}
	}
	for _, r := range v2 {
		d.TmplV2 = append(d.TmplV2, r[t2])
	}
	if len(d.TmplV2) != len(d.TmplV0) {
		return nil, fmt.Errorf("loghub: %s: %d V0 rows but %d V2 rows", name, len(d.TmplV0), len(d.TmplV2))
	}
	if n := bytes.Count(raw, []byte("\n")); n < len(d.TmplV0)-1 {
		return nil, fmt.Errorf("loghub: %s: %d lines but %d labels", name, n, len(d.TmplV0))
	}
	return d, nil
}

func readCSV(path string) ([][]string, []string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, fmt.Errorf("loghub: %w", err)
	}
	defer f.Close()
	r := csv.NewReader(f)
	r.FieldsPerRecord = -1
	hdr, err := r.Read()
	if err != nil {
		return nil, nil, fmt.Errorf("loghub: %s: %w", path, err)
	}
	var rows [][]string
	for {
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, nil, fmt.Errorf("loghub: %s: %w", path, err)
		}
		rows = append(rows, rec)
	}
	return rows, hdr, nil
}

func col(hdr []string, name string) int {
	for i, h := range hdr {
		if h == name {
			return i
		}
	}
	return -1
}
