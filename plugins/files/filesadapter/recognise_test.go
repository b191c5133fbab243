package filesadapter_test

import (
	"testing"
	"time"

	"github.com/faultmaven/faultmaven/plugins/files/filesadapter"
	"github.com/faultmaven/faultmaven/sdk"
)

func TestParseTimestamp(t *testing.T) {
	paris, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		t.Skipf("no zone database: %v", err)
	}
	mtime := time.Date(2026, 1, 3, 10, 0, 0, 0, time.UTC)
	utc := func(s string) time.Time {
		t.Helper()
		v, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	tests := []struct {
		name string
		line string
		want time.Time // zero: no timestamp
		sev  sdk.Severity
	}{
		{"rfc3339 zulu", "2026-03-05T14:07:09Z GET /", utc("2026-03-05T14:07:09Z"), 0},
		{"rfc3339 nanos offset", "2026-03-05T14:07:09.123456789+02:00 x", utc("2026-03-05T12:07:09.123456789Z"), 0},
		{"space and comma fraction, no zone", "2026-03-05 14:07:09,123 - checkout - ERROR - boom", time.Date(2026, 3, 5, 14, 7, 9, 123e6, paris), 0},
		{"space then numeric zone", "2026-03-05 14:07:09 -0700 msg", utc("2026-03-05T21:07:09Z"), 0},
		{"UTC word", "2026-03-05 14:07:09.25 UTC [main] x", utc("2026-03-05T14:07:09.25Z"), 0},
		{"hours-only zone", "2026-03-05T14:07:09+05 msg", utc("2026-03-05T09:07:09Z"), 0},
		{"nginx slashes", "2026/03/05 14:07:09 [error] 31#31: upstream timed out", time.Date(2026, 3, 5, 14, 7, 9, 0, paris), 0},
		{"after a prefix", "level=info ts=2026-03-05T14:07:09.5Z msg=ok", utc("2026-03-05T14:07:09.5Z"), 0},
		{"bracketed", "[2026-03-05 14:07:09.001] [main] INFO x", time.Date(2026, 3, 5, 14, 7, 9, 1e6, paris), 0},
		{"common log format", `10.0.0.1 - - [05/Mar/2026:14:07:09 +0000] "GET / HTTP/1.1" 200 12`, utc("2026-03-05T14:07:09Z"), 0},
		{"syslog, year of mtime", "Jan  2 23:59:58 web1 sshd[42]: accepted", time.Date(2026, 1, 2, 23, 59, 58, 0, paris), 0},
		{"syslog with priority", "<34>Jan  2 08:00:00 web1 su: failed", time.Date(2026, 1, 2, 8, 0, 0, 0, paris), 0},
		{"syslog after the mtime is last year", "Jan 12 08:00:00 web1 su: failed", time.Date(2025, 1, 12, 8, 0, 0, 0, paris), 0},
		{"syslog in december read in january", "Dec 31 23:00:00 web1 cron: ran", time.Date(2025, 12, 31, 23, 0, 0, 0, paris), 0},
		{"json rfc3339 and level", `{"time":"2026-03-05T14:07:09.250Z","level":"warn","msg":"slow"}`, utc("2026-03-05T14:07:09.25Z"), sdk.SeverityWarn},
		{"json epoch seconds", `{"ts":1772719629.5,"msg":"x"}`, time.Unix(1772719629, 5e8), 0},
		{"json epoch millis", `{"ts":1772719629250,"lvl":"error"}`, time.UnixMilli(1772719629250), sdk.SeverityError},
		{"json epoch string", `{"timestamp":"1772719629"}`, time.Unix(1772719629, 0), 0},
		{"json pino level", `{"time":1772719629000,"level":50,"msg":"db down"}`, time.UnixMilli(1772719629000), sdk.SeverityError},
		{"json nested values skipped", `{"req":{"ts":"nested, not this","a":[1,{"b":"}"}]},"msg":"say \"hi\"","ts":"2026-03-05T14:07:09Z","level":"ERROR"}`, utc("2026-03-05T14:07:09Z"), sdk.SeverityError},
		{"json keys any case, preference order", `{"Time":"2026-03-05T14:07:09Z","TS":"2026-03-05T15:00:00Z"}`, utc("2026-03-05T15:00:00Z"), 0},
		{"json escaped level", `{"time":"2026-03-05T14:07:09Z","level":"\u0077arn"}`, utc("2026-03-05T14:07:09Z"), sdk.SeverityWarn},
		{"json level word outside the table", `{"time":"2026-03-05T14:07:09Z","severity":"Informational"}`, utc("2026-03-05T14:07:09Z"), sdk.SeverityInfo},
		{"json epoch exponent", `{"ts":1.7727196295e9}`, time.Unix(1772719629, 5e8), 0},
		{"json epoch nanoseconds", `{"ts":1772719629000000001}`, time.Unix(1772719629, 1), 0},
		{"json absurd epoch", `{"ts":1e300}`, time.Time{}, 0},
		{"json time not usable", `{"ts":"soon","time":null,"level":40}`, time.Time{}, sdk.SeverityWarn},
		{"json empty object", `{}`, time.Time{}, 0},
		{"kubernetes event", `{"metadata":{"name":"x.1","creationTimestamp":"2026-03-05T14:00:00Z"},"reason":"BackOff","type":"Warning","lastTimestamp":"2026-03-05T14:07:09Z","involvedObject":{"kind":"Pod","name":"x"}}`, utc("2026-03-05T14:07:09Z"), sdk.SeverityWarn},
		{"json without time keeps level", `{"level":"error","msg":"x"}`, time.Time{}, sdk.SeverityError},
		{"stack frame", "\tat com.example.Foo.bar(Foo.java:42)", time.Time{}, 0},
		{"caused by", "Caused by: java.sql.SQLException: pool exhausted", time.Time{}, 0},
		{"invalid month", "2026-13-05T14:07:09Z", time.Time{}, 0},
		{"date without time", "release 2026-03-05 shipped", time.Time{}, 0},
		{"date too far into the line", "a message that goes on and on and on and on and on, quoting, well past the prefix, a date much later: 2026-03-05T14:07:09Z", time.Time{}, 0},
		{"digits glued to the date", "id=12026-03-05T14:07:09Z", time.Time{}, 0},
		{"broken json falls back to text", `{"time": 2026-03-05T14:07:09Z`, utc("2026-03-05T14:07:09Z"), 0},
		{"empty", "", time.Time{}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, sev, ok := filesadapter.ParseTimestamp([]byte(tt.line), paris, mtime)
			if ok != !tt.want.IsZero() || !got.Equal(tt.want) {
				t.Errorf("ParseTimestamp(%q) = %v, %v; want %v", tt.line, got, ok, tt.want)
			}
			if sev != tt.sev {
				t.Errorf("ParseTimestamp(%q) severity = %v, want %v", tt.line, sev, tt.sev)
			}
		})
	}
}

func TestSeverityOf(t *testing.T) {
	tests := []struct {
		line string
		want sdk.Severity
	}{
		{"2026-03-05 14:07:09.123 ERROR [exec-1] c.f.Order - failed", sdk.SeverityError},
		{"2026-03-05 14:07:09.123  WARN 1 --- [main] o.s.Boot : slow", sdk.SeverityWarn},
		{"2026-03-05 14:07:09,123 - payments - CRITICAL - ledger down", sdk.SeverityFatal},
		{"time=2026-03-05T14:07:09Z level=error msg=boom", sdk.SeverityError},
		{`ts=2026-03-05T14:07:09Z lvl="debug" msg=x`, sdk.SeverityDebug},
		{"2026/03/05 14:07:09 [error] 31#31: upstream timed out", sdk.SeverityError},
		{"INFO[0001] logrus style", sdk.SeverityInfo},
		{"ERRO[0042] logrus error", sdk.SeverityError},
		{"could not get info about the error", sdk.SeverityUnspecified},
		{"\tat com.example.ErrorHandler.handle(ErrorHandler.java:12)", sdk.SeverityUnspecified},
		{"nothing to see", sdk.SeverityUnspecified},
		{"", sdk.SeverityUnspecified},
	}
	for _, tt := range tests {
		t.Run(tt.line, func(t *testing.T) {
			if got := filesadapter.SeverityOf([]byte(tt.line)); got != tt.want {
				t.Errorf("SeverityOf(%q) = %v, want %v", tt.line, got, tt.want)
			}
		})
	}
}

func TestServiceName(t *testing.T) {
	tests := map[string]string{
		"/var/log/checkout.log":         "checkout",
		"logs/checkout.log.1.gz":        "checkout",
		"payments.jsonl":                "payments",
		"/var/log/syslog":               "syslog",
		"api.v2.log":                    "api.v2",
		"edge-nginx-error.log.2":        "edge-nginx-error",
		"/var/log/app/worker.out":       "worker",
		"/srv/.hidden.log":              ".hidden",
		"app-2026-03-05.log":            "app-2026-03-05",
		"/tmp/report.TXT":               "report",
		"/var/log/kern.log.20260305.gz": "kern",
	}
	for path, want := range tests {
		t.Run(path, func(t *testing.T) {
			if got := filesadapter.ServiceName(path); got != want {
				t.Errorf("ServiceName(%q) = %q, want %q", path, got, want)
			}
		})
	}
}

func TestMatch(t *testing.T) {
	tests := []struct {
		query, line string
		want        bool
	}{
		{"", "anything", true},
		{"  ", "anything", true},
		{"timeout", "upstream TIMED OUT", false},
		{"timed out", "upstream TIMED OUT", true},
		{"HikariPool", "hikaripool-1 - connection is not available", true},
		{"pool", "po ol", false},
		{"ol", "pool", true},
		{"pool!", "pool", false},
		{"é", "café", true},
		{"CAFÉ", "un café noir", true},
		{"/timed? out/", "upstream timed out", true},
		{"/^ERROR/", "2026 ERROR x", false},
		{"/(?i)hikari.*timed out/", "HikariPool-1 - request timed out after 30000ms", true},
		{"/", "a/b", true},
	}
	for _, tt := range tests {
		t.Run(tt.query+" in "+tt.line, func(t *testing.T) {
			got, err := filesadapter.Match(tt.query, tt.line)
			if err != nil {
				t.Fatalf("Match(%q): %v", tt.query, err)
			}
			if got != tt.want {
				t.Errorf("Match(%q, %q) = %v, want %v", tt.query, tt.line, got, tt.want)
			}
		})
	}
	_, err := filesadapter.Match("/(unclosed/", "x")
	if sdk.CodeOf(err) != sdk.CodeBadQuery {
		t.Errorf("Match(bad regex): got %v, want code bad_query", err)
	}
}
