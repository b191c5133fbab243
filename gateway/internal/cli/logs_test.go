package cli

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const sampleLog = `2024-05-01 10:00:00,000 INFO [main] api.Server: GET /health 200 in 3ms
2024-05-01 10:00:01,000 INFO [main] api.Server: GET /health 200 in 4ms
2024-05-01 10:00:02,000 ERROR [pool-1] api.Db: query failed: connection reset by peer
java.io.IOException: connection reset
	at api.Db.query(Db.java:42)
2024-05-01 10:00:03,000 INFO [main] api.Server: GET /health 200 in 5ms
`

func runLogs(tb testing.TB, stdin string, args ...string) (string, string, error) {
	tb.Helper()
	cmd := newLogsCmd()
	var out, errb bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetErr(&errb)
	cmd.SetIn(strings.NewReader(stdin))
	cmd.SetArgs(args)
	err := cmd.ExecuteContext(tb.Context())
	return out.String(), errb.String(), err
}

func writeSample(tb testing.TB) string {
	tb.Helper()
	p := filepath.Join(tb.TempDir(), "app.log")
	if err := os.WriteFile(p, []byte(sampleLog), 0o644); err != nil {
		tb.Fatal(err)
	}
	return p
}

func TestLogsParseCSV(t *testing.T) {
	out, _, err := runLogs(t, "", "parse", writeSample(t))
	if err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(strings.NewReader(out)).ReadAll()
	if err != nil {
		t.Fatalf("output is not CSV: %v\n%s", err, out)
	}
	// Header + 4 records: the stack trace joins the ERROR record.
	if len(rows) != 5 || strings.Join(rows[0], ",") != "LineId,EventId,EventTemplate" {
		t.Fatalf("rows = %q", rows)
	}
	if rows[1][2] != "GET /health <*> in <*>" || rows[1][1] != rows[4][1] || rows[4][0] != "4" {
		t.Errorf("rows = %q", rows)
	}
	if rows[3][2] != "query failed: connection reset by peer" {
		t.Errorf("error record template %q", rows[3][2])
	}
}

func TestLogsParseStdinJSONMultilineOff(t *testing.T) {
	out, _, err := runLogs(t, sampleLog, "parse", "--multiline=off", "-o", "json", "-")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 6 {
		t.Fatalf("%d JSON rows; want 6 (one per line)", len(lines))
	}
	var row map[string]any
	if err := json.Unmarshal([]byte(lines[2]), &row); err != nil {
		t.Fatal(err)
	}
	if row["severity"] != "error" || row["component"] != "api.Db" || row["timestamp"] != "2024-05-01T10:00:02Z" {
		t.Errorf("row = %v", row)
	}
}

func TestLogsParseFormat(t *testing.T) {
	out, _, err := runLogs(t, "081109 203615 148 INFO dfs.DataNode: PacketResponder 1 for block blk_3886 terminating\n",
		"parse", "--format", "<Date> <Time> <Pid> <Level> <Component>: <Content>", "--mask", `blk_-?\d+`, "-")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, ",PacketResponder <*> for block <*> terminating") {
		t.Errorf("output %q", out)
	}
}

func TestLogsAnalyze(t *testing.T) {
	path := writeSample(t)
	out, _, err := runLogs(t, "", "analyze", path)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"4 records", "TOP FINDINGS", "query failed: connection reset by peer", "TEMPLATES", "ERRORS OVER TIME"} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q:\n%s", want, out)
		}
	}
	out, _, err = runLogs(t, "", "analyze", "-o", "json", path)
	if err != nil {
		t.Fatal(err)
	}
	var rep struct {
		Records  int `json:"records"`
		Findings []struct {
			Kind     string
			Template string
		} `json:"findings"`
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("not JSON: %v", err)
	}
	if rep.Records != 4 || len(rep.Findings) == 0 {
		t.Errorf("report = %+v", rep)
	}
}

func TestLogsBadInput(t *testing.T) {
	tests := [][]string{
		{"parse", "-o", "xml", "-"},
		{"parse", "--multiline", "maybe", "-"},
		{"parse", "--format", "<Date>", "-"},
		{"parse", "--mask", "(", "-"},
		{"parse", filepath.Join(t.TempDir(), "missing.log")},
		{"analyze", "-o", "yaml", "-"},
		{"parse"},
	}
	for _, args := range tests {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			if _, _, err := runLogs(t, "", args...); err == nil {
				t.Errorf("logs %v succeeded", args)
			}
		})
	}
}
