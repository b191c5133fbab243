package header_test

import (
	"fmt"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/faultmaven/faultmaven/core/loganalysis/header"
	"github.com/faultmaven/faultmaven/sdk"
)

func TestParseTimestamp(t *testing.T) {
	utc := func(y int, mo time.Month, d, h, mi, s, ns int) time.Time {
		return time.Date(y, mo, d, h, mi, s, ns, time.UTC)
	}
	tests := []struct {
		name, in string
		n        int
		want     time.Time
		sev      sdk.Severity
	}{
		{"rfc3339", "2024-03-01T12:34:56.789Z rest", 24, utc(2024, 3, 1, 12, 34, 56, 789000000), 0},
		{"iso space comma", "2015-10-18 18:01:47,978 INFO", 23, utc(2015, 10, 18, 18, 1, 47, 978000000), 0},
		{"offset", "2024-03-01T12:34:56+02:00 x", 25, time.Date(2024, 3, 1, 12, 34, 56, 0, time.FixedZone("", 7200)), 0},
		{"slashes yy", "17/06/09 20:10:40 INFO", 17, utc(2017, 6, 9, 20, 10, 40, 0), 0},
		{"yyMMdd HHmmss", "081109 203615 148 INFO", 13, utc(2008, 11, 9, 20, 36, 15, 0), 0},
		{"dotted clock", "2005-06-03-15.42.50.675872 R02", 26, utc(2005, 6, 3, 15, 42, 50, 675872000), 0},
		{"compact date", "20171223-22:15:29:606|Step", 21, utc(2017, 12, 23, 22, 15, 29, 606000000), 0},
		{"one digit seconds", "20171223-22:16:0:119|x", 20, utc(2017, 12, 23, 22, 16, 0, 119000000), 0},
		{"syslog", "Jun  9 06:07:04 host sshd[1]: x", 15, utc(0, 6, 9, 6, 7, 4, 0), 0},
		{"apache error", "[Thu Jun 09 06:07:04 2005] [notice] x", 26, utc(2005, 6, 9, 6, 7, 4, 0), 0},
		{"apache access", "[10/Oct/2000:13:55:36 -0700] GET", 28, time.Date(2000, 10, 10, 13, 55, 36, 0, time.FixedZone("", -7*3600)), 0},
		{"epoch seconds", "1117838570 2005.06.03", 10, time.Unix(1117838570, 0).UTC(), 0},
		{"epoch millis", "1514038530000 x", 13, time.UnixMilli(1514038530000).UTC(), 0},
		{"klog", "I0102 15:04:05.123456 1 main.go:1] hi", 21, utc(0, 1, 2, 15, 4, 5, 123456000), sdk.SeverityInfo},
		{"date only", "2005.06.03 R02", 10, utc(2005, 6, 3, 0, 0, 0, 0), 0},
		{"us date", "03/15/2024 10:00:00 x", 19, utc(2024, 3, 15, 10, 0, 0, 0), 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n, got, sev, ok := header.ParseTimestamp(tt.in)
			if !ok {
				t.Fatalf("ParseTimestamp(%q) failed", tt.in)
			}
			if n != tt.n || !got.Equal(tt.want) || sev != tt.sev {
				t.Errorf("ParseTimestamp(%q) = %d, %v, %v; want %d, %v, %v", tt.in, n, got, sev, tt.n, tt.want, tt.sev)
			}
		})
	}
	for _, bad := range []string{"", "hello", "12345", "123456789012", "2024-13-01", "99:99:99", "1.2.3", "INFO"} {
		t.Run("reject "+bad, func(t *testing.T) {
			if n, got, _, ok := header.ParseTimestamp(bad); ok {
				t.Errorf("ParseTimestamp(%q) = %d, %v; want no timestamp", bad, n, got)
			}
		})
	}
}

func TestDetector(t *testing.T) {
	tests := []struct {
		name      string
		lines     []string
		check     string // the line to check (parsed after learning from lines)
		content   string
		sev       sdk.Severity
		component string
	}{
		{
			name:    "log4j",
			lines:   []string{"2024-01-02 03:04:05,678 INFO [main] com.acme.Server: started on port 8080", "2024-01-02 03:04:06,001 WARN [pool-1] com.acme.Pool: slow acquire 250ms"},
			check:   "2024-01-02 03:04:07,002 ERROR [pool-2] com.acme.Pool: acquire failed after 3 tries",
			content: "acquire failed after 3 tries", sev: sdk.SeverityError, component: "com.acme.Pool",
		},
		{
			name:    "python logging",
			lines:   []string{"2024-01-02 03:04:05,678 - INFO - app.db - connected", "2024-01-02 03:04:05,900 - WARNING - app.db - retrying"},
			check:   "2024-01-02 03:04:06,000 - ERROR - app.db - connection refused",
			content: "connection refused", sev: sdk.SeverityError, component: "app.db",
		},
		{
			name:    "syslog",
			lines:   []string{"Jun  9 06:07:04 web1 sshd[123]: Accepted publickey for bob", "Jun  9 06:07:05 web1 cron[99]: job done"},
			check:   "Jun  9 06:07:06 web1 sshd[124]: Failed password for root",
			content: "Failed password for root", component: "sshd[124]",
		},
		{
			name:    "android logcat",
			lines:   []string{"03-17 16:13:38.811  1702  2395 D WindowManager: printFreezingDisplayLogsopening app wtoken", "03-17 16:13:38.819  1702  8671 D PowerManagerService: acquire lock=233570404"},
			check:   "03-17 16:13:38.839  1702  2395 E WindowManager: failed to resume",
			content: "failed to resume", sev: sdk.SeverityError, component: "WindowManager",
		},
		{
			name:    "apache error",
			lines:   []string{"[Sun Dec 04 04:47:44 2005] [notice] workerEnv.init() ok /etc/httpd/conf/workers2.properties", "[Sun Dec 04 04:47:44 2005] [error] mod_jk child workerEnv in error state 6"},
			check:   "[Sun Dec 04 04:51:08 2005] [error] mod_jk child workerEnv in error state 7",
			content: "mod_jk child workerEnv in error state 7", sev: sdk.SeverityError,
		},
		{
			name:    "syslog with host",
			lines:   []string{"Dec 10 06:55:46 LabSZ sshd[24200]: reverse mapping checking getaddrinfo", "Dec 10 06:55:46 LabSZ sshd[24200]: Invalid user webmaster from 173.234.31.186"},
			check:   "Dec 10 07:02:47 LabSZ sshd[24203]: Connection closed by 212.47.254.145 [preauth]",
			content: "Connection closed by 212.47.254.145 [preauth]", component: "sshd[24203]",
		},
		{
			name:    "thunderbird",
			lines:   []string{"1131566461 2005.11.09 dn228 Nov 9 12:01:01 dn228/dn228 crond(pam_unix)[2915]: session closed for user root", "1131566461 2005.11.09 dn228 Nov 9 12:01:01 dn228/dn228 crond[2916]: (root) CMD (run-parts /etc/cron.hourly)"},
			check:   "1131566462 2005.11.09 tbird-admin1 Nov 9 12:01:02 local@tbird-admin1 postfix/postdrop[10896]: warning: unable to look up public/pickup",
			content: "warning: unable to look up public/pickup", component: "postfix/postdrop[10896]",
		},
		{
			name:    "windows cbs",
			lines:   []string{"2016-09-28 04:30:30, Info                  CBS    Loaded Servicing Stack v6.1.7601.23505", "2016-09-28 04:30:31, Info                  CSI    00000001@2016/9/27:20:30:31.455 WcpInitialize"},
			check:   "2016-09-28 04:30:31, Error                 CBS    Failed to get session",
			content: "Failed to get session", sev: sdk.SeverityError,
		},
		{
			name:    "proxifier",
			lines:   []string{"[10.30 16:49:06] chrome.exe - proxy.cse.cuhk.edu.hk:5070 open through proxy proxy.cse.cuhk.edu.hk:5070 HTTPS", "[10.30 16:49:07] chrome.exe - proxy.cse.cuhk.edu.hk:5070 close, 0 bytes sent"},
			check:   "[10.30 16:49:08] chrome.exe - proxy.cse.cuhk.edu.hk:5070 open through proxy proxy.cse.cuhk.edu.hk:5070 HTTPS",
			content: "proxy.cse.cuhk.edu.hk:5070 open through proxy proxy.cse.cuhk.edu.hk:5070 HTTPS", component: "chrome.exe",
		},
		{
			name:    "klog",
			lines:   []string{"I0102 15:04:05.123456    1234 main.go:42] starting", "W0102 15:04:06.000001    1234 pool.go:7] slow"},
			check:   "E0102 15:04:07.000001    1234 pool.go:9] failed to dial",
			content: "failed to dial", sev: sdk.SeverityError, component: "pool.go:9",
		},
		{
			name:    "pipes",
			lines:   []string{"20171223-22:15:29:606|Step_LSC|30002312|onStandStepChanged 3579", "20171223-22:15:29:615|Step_LSC|30002312|onExtend:1514038530000 14 0 4"},
			check:   "20171223-22:15:29:633|Step_Report|30002312|onReceive action: SCREEN_ON",
			content: "onReceive action: SCREEN_ON",
		},
		{
			name:    "json",
			lines:   []string{`{"ts":"2024-01-02T03:04:05Z","level":"info","msg":"hello","service":"api"}`},
			check:   `{"ts":"2024-01-02T03:04:05Z","level":"error","msg":"db down","service":"api"}`,
			content: "db down", sev: sdk.SeverityError, component: "api",
		},
		{
			name:    "logfmt",
			lines:   []string{`time=2024-01-02T03:04:05Z level=info msg="hello world" svc=api`},
			check:   `time=2024-01-02T03:04:05Z level=warn msg="disk 91% full"`,
			content: "disk 91% full", sev: sdk.SeverityWarn,
		},
		{
			name:    "no header",
			lines:   []string{"just some text", "more text here"},
			check:   "an error happened",
			content: "an error happened",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := header.NewDetector()
			d.Learn(append(append([]string(nil), tt.lines...), tt.check))
			p := d.Parse(tt.check)
			if p.Content != tt.content || p.Severity != tt.sev || p.Component != tt.component {
				t.Errorf("Parse(%q) = content %q sev %v component %q; want %q %v %q (layout %s)",
					tt.check, p.Content, p.Severity, p.Component, tt.content, tt.sev, tt.component, d.Layout())
			}
		})
	}
}

func TestFormat(t *testing.T) {
	f, err := header.CompileFormat(`<Date> <Time> <Level> \[<Process>\] <Component>: <Content>`)
	if err != nil {
		t.Fatal(err)
	}
	p, ok := f.Parse("2015-10-18 18:01:47,978 INFO [main] org.x.MRAppMaster: Created MRAppMaster for application appattempt_1")
	if !ok || p.Content != "Created MRAppMaster for application appattempt_1" || p.Severity != sdk.SeverityInfo || p.Component != "org.x.MRAppMaster" {
		t.Errorf("Parse = %+v, %v", p, ok)
	}
	if p.Timestamp.Year() != 2015 {
		t.Errorf("timestamp %v, want 2015", p.Timestamp)
	}
	if _, ok := f.Parse("not a match"); ok {
		t.Error("Parse of a non-matching line reported ok")
	}
	if _, err := header.CompileFormat("<Date> <Level>"); err == nil {
		t.Error("CompileFormat without <Content> succeeded")
	}
	if _, err := header.CompileFormat("<Date> (<Content>"); err == nil {
		t.Error("CompileFormat with a bad regexp succeeded")
	}
}

// FuzzDetector: whatever the input, Parse does not panic, and for plain
// lines the content is a suffix of the line.
func FuzzDetector(f *testing.F) {
	for _, s := range []string{
		"2015-10-18 18:01:47,978 INFO [main] org.x.Y: hello 1",
		"081109 203615 148 INFO dfs.DataNode$PacketResponder: PacketResponder 1",
		"[Thu Jun 09 06:07:04 2005] [notice] x", `{"msg":"x","level":"error"}`, "level=info msg=x",
		"I0102 15:04:05.123456 1 main.go:1] hi", "[", "{", "a=b", "2024-", "\x00\xff",
	} {
		f.Add(s, s)
	}
	f.Fuzz(func(t *testing.T, sample, line string) {
		d := header.NewDetector()
		d.Learn(strings.Split(sample, "\n"))
		p := d.Parse(line)
		if p.HeaderLen > len(line) || p.HeaderLen < 0 {
			t.Fatalf("HeaderLen %d out of range for %q", p.HeaderLen, line)
		}
		if p.HeaderLen > 0 && !strings.HasSuffix(line, p.Content) {
			t.Fatalf("content %q is not a suffix of %q", p.Content, line)
		}
		if utf8.ValidString(line) && !utf8.ValidString(p.Content) {
			t.Fatalf("content %q of valid line is not valid UTF-8", p.Content)
		}
		header.ParseTimestamp(line)
	})
}

func TestDetectorLearnsLaterFormats(t *testing.T) {
	d := header.NewDetector()
	var first []string
	for i := 0; i < 100; i++ {
		first = append(first, fmt.Sprintf("081109 2036%02d %d INFO dfs.DataNode: served block %d", i%60, 100+i, i))
	}
	d.Learn(first)
	var p header.Parsed
	for i := 0; i < 100; i++ {
		p = d.Parse(fmt.Sprintf("2015-07-29 17:41:%02d,747 - WARN  [QuorumPeer[myid=1]/0:0:0:0:0:0:0:0:2181:FastLeaderElection@774] - Notification time out: %d", i%60, i))
	}
	if p.Content != "Notification time out: 99" || p.Severity != sdk.SeverityWarn {
		t.Errorf("after 100 lines of a second format: %+v (layouts %s)", p, d.Layout())
	}
	if p := d.Parse("081109 203615 148 INFO dfs.DataNode: served block 7"); p.Content != "served block 7" {
		t.Errorf("first format lost: %+v", p)
	}
}
