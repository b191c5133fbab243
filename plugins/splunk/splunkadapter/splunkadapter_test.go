package splunkadapter_test

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/faultmaven/faultmaven/plugins/internal/adaptertest"
	"github.com/faultmaven/faultmaven/plugins/splunk/splunkadapter"
	"github.com/faultmaven/faultmaven/plugins/splunk/splunkstandin"
	"github.com/faultmaven/faultmaven/sdk"
	"github.com/faultmaven/faultmaven/sdk/plugintest"
)

func TestConformance(t *testing.T) {
	e := newEnv(t, splunkstandin.Options{}, 300)
	plugintest.Run(t, plugintest.Suite{
		New: func() sdk.Adapter {
			return splunkadapter.New(splunkadapter.Options{Logger: slog.New(slog.DiscardHandler)})
		},
		Binary:     plugintest.BuildPlugin(t, ".."),
		GoodConfig: e.config(t, nil),
		BadConfigs: []plugintest.BadConfig{
			{Name: "no url", Config: e.config(t, map[string]any{"url": nil}), Field: "url"},
			{Name: "no credentials", Config: e.config(t, map[string]any{"token": nil}), Field: "token"},
			{Name: "unknown field", Config: e.config(t, map[string]any{"colour": "blue"}), Field: "colour"},
		},
		UnhealthyConfig: e.config(t, map[string]any{"token": "wrong-token"}),
		LogQuery:        sdk.LogQuery{Start: t0, End: t0.Add(40 * time.Minute)},
		MinRecords:      200,
	})
}

func TestValidate(t *testing.T) {
	e := newEnv(t, splunkstandin.Options{}, 0)
	cases := []struct {
		name  string
		extra map[string]any
		field string // "" = valid
	}{
		{"token", nil, ""},
		{"password", map[string]any{"token": nil, "username": "u", "password": "p"}, ""},
		{"both auth kinds", map[string]any{"username": "u", "password": "p"}, "token"},
		{"username without password", map[string]any{"token": nil, "username": "u"}, "password"},
		{"password without username", map[string]any{"token": nil, "password": "p"}, "username"},
		{"ftp url", map[string]any{"url": "ftp://x:8089"}, "url"},
		{"credentials in url", map[string]any{"url": "https://u:p@x:8089"}, "url"},
		{"missing ca file", map[string]any{"ca_file": "/nonexistent/ca.pem"}, "ca_file"},
		{"bad index", map[string]any{"indexes": []string{"main", "a b|delete"}}, "indexes[1]"},
		{"bad service field", map[string]any{"service_field": "x\" | delete"}, "service_field"},
		{"negative retries", map[string]any{"max_retries": -1}, "max_retries"},
		{"huge timeout", map[string]any{"timeout_seconds": 1e6}, "timeout_seconds"},
		{"wrong type", map[string]any{"insecure_skip_verify": "yes"}, "insecure_skip_verify"},
		{"bad web url", map[string]any{"web_url": "splunk"}, "web_url"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := e.ad.Validate(t.Context(), e.config(t, c.extra))
			if c.field == "" {
				if err != nil {
					t.Fatalf("Validate: %v, want nil", err)
				}
				return
			}
			var ce *sdk.ConfigError
			if !errors.As(err, &ce) {
				t.Fatalf("Validate: %v, want a *sdk.ConfigError", err)
			}
			for _, f := range ce.Fields {
				if f.Field == c.field {
					return
				}
			}
			t.Fatalf("Validate: %v, want a problem with %q", err, c.field)
		})
	}
	if err := e.ad.Validate(t.Context(), json.RawMessage(`[1,2]`)); sdk.CodeOf(err) != sdk.CodeBadConfig {
		t.Fatalf("Validate(array) = %v, want bad_config", err)
	}
}

func TestRecordMapping(t *testing.T) {
	e := newEnv(t, splunkstandin.Options{}, 30)
	e.configure(t, "a", map[string]any{"service_field": "sourcetype"})
	recs, err := search(t.Context(), e.ad, "a", sdk.LogQuery{Start: t0, End: t0.Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 30 {
		t.Fatalf("got %d records, want 30", len(recs))
	}
	// Splunk streams event searches newest first.
	r := recs[len(recs)-1]
	if !r.Timestamp.Equal(t0) || r.Host != "web-0" || r.Service != "app:log" || r.Severity != sdk.SeverityInfo {
		t.Fatalf("record = %+v", r)
	}
	if r.Attributes["request_id"] != "r-0000" || r.Attributes["index"] != "prod_web" || r.Attributes["_raw"] != "" {
		t.Fatalf("attributes = %v", r.Attributes)
	}
	if r.Source.NativeID == "" || !strings.HasPrefix(r.Source.Link, "https://splunk.example.com:8000/app/search/search?") ||
		!strings.Contains(r.Source.Link, "_cd") {
		t.Fatalf("source = %+v", r.Source)
	}
	if recs[len(recs)-4].Severity != sdk.SeverityError {
		t.Fatalf("record 3 severity = %s (%q), want error", recs[len(recs)-4].Severity, recs[len(recs)-4].Body)
	}
}

func TestSessionLoginIsRenewed(t *testing.T) {
	e := newEnv(t, splunkstandin.Options{}, 10)
	e.configure(t, "a", map[string]any{"token": nil, "username": testUser, "password": testPassword})
	q := sdk.LogQuery{Start: t0, End: t0.Add(time.Hour)}
	if recs, err := search(t.Context(), e.ad, "a", q); err != nil || len(recs) != 10 {
		t.Fatalf("search = %d records, %v", len(recs), err)
	}
	if _, err := search(t.Context(), e.ad, "a", q); err != nil {
		t.Fatal(err)
	}
	if got := e.srv.Logins(); got != 1 {
		t.Fatalf("logins = %d, want 1 (the session key is reused)", got)
	}
	e.srv.ExpireSessions()
	if recs, err := search(t.Context(), e.ad, "a", q); err != nil || len(recs) != 10 {
		t.Fatalf("search after expiry = %d records, %v", len(recs), err)
	}
	if got := e.srv.Logins(); got != 2 {
		t.Fatalf("logins = %d, want 2 (one re-login after the 401)", got)
	}
}

func TestV1FallbackOn404(t *testing.T) {
	e := newEnv(t, splunkstandin.Options{NoV2: true}, 10)
	e.configure(t, "a", nil)
	recs, err := search(t.Context(), e.ad, "a", sdk.LogQuery{Start: t0, End: t0.Add(time.Hour)})
	if err != nil || len(recs) != 10 {
		t.Fatalf("search = %d records, %v", len(recs), err)
	}
	if e.srv.Requests("/services/search/v2/jobs/export") != 1 || e.srv.Requests("/services/search/jobs/export") != 1 {
		t.Fatalf("v2 %d, v1 %d requests; want 1 each", e.srv.Requests("/services/search/v2/jobs/export"), e.srv.Requests("/services/search/jobs/export"))
	}
}

func TestQuoteLiteral(t *testing.T) {
	cases := map[string]string{
		`web-1`:                      `"web-1"`,
		`a"b`:                        `"a\"b"`,
		`a\b`:                        `"a\\b"`,
		`x" | delete`:                `"x\" * delete"`,
		`[search index=_audit]`:      `"*search index=_audit*"`,
		"`macro`":                    `"*macro*"`,
		"line\nbreak":                `"line*break"`,
		`\" | outputlookup evil.csv`: `"\\\" * outputlookup evil.csv"`,
	}
	for in, want := range cases {
		if got := splunkadapter.QuoteLiteral(in); got != want {
			t.Errorf("QuoteLiteral(%q) = %s, want %s", in, got, want)
		}
	}
	if got := splunkadapter.Epoch(time.Date(2024, 1, 15, 10, 30, 0, 250e6, time.UTC)); got != "1705314600.250000" {
		t.Errorf("Epoch = %s", got)
	}
}

// TestFilterValuesCannotInjectSPL sends hostile filter values and checks
// that the stand-in only ever ran "search" commands and that the values
// matched as literals.
func TestFilterValuesCannotInjectSPL(t *testing.T) {
	e := newEnv(t, splunkstandin.Options{}, 30)
	e.srv.Add(splunkstandin.Event{Time: t0.Add(time.Second), Raw: `ERROR payload x" | delete and \" | outputlookup evil.csv`, Host: `evil" | delete`, Index: "prod_web"})
	e.configure(t, "a", nil)
	hostile := []sdk.LogFilters{
		{Services: []string{`evil" | delete`}},
		{Contains: `x" | delete`},
		{Contains: `\" | outputlookup evil.csv`},
		{Contains: "[| makeresults | eval x=1]"},
		{Contains: "`comment(\"x\")`"},
		{Services: []string{`web-0") OR (host="*`}},
	}
	for _, f := range hostile {
		recs, err := search(t.Context(), e.ad, "a", sdk.LogQuery{Start: t0, End: t0.Add(time.Hour), Filters: f})
		if err != nil {
			t.Fatalf("filters %+v: %v", f, err)
		}
		for _, r := range recs {
			if !f.Match(&r) {
				t.Fatalf("filters %+v returned a non-matching record %q", f, r.Body)
			}
		}
		if f.Contains == "" && len(f.Services) == 1 && f.Services[0] == `evil" | delete` && len(recs) != 1 {
			t.Fatalf("service filter matched %d records, want the 1 literal match", len(recs))
		}
		if len(f.Services) == 1 && strings.HasPrefix(f.Services[0], "web-0") && len(recs) != 0 {
			t.Fatalf("breaking out of the quotes matched %d records", len(recs))
		}
	}
	for _, c := range e.srv.Commands() {
		if c != "search" {
			t.Fatalf("the stand-in parsed a %q command: a filter value injected SPL (searches: %q)", c, e.srv.Searches())
		}
	}
}

func TestSPLPassthrough(t *testing.T) {
	e := newEnv(t, splunkstandin.Options{}, 30)
	e.configure(t, "a", nil)
	cases := []struct {
		query string
		want  int
		code  sdk.Code
	}{
		{`index=prod_web host=web-1`, 10, 0},
		{`search index=prod_web (host=web-1 OR host=web-2) NOT ERROR`, 16, 0},
		{`search index=prod_web | stats count by host`, 0, sdk.CodeBadQuery},
		{`search index=prod_web "unterminated`, 0, sdk.CodeBadQuery},
	}
	for _, c := range cases {
		t.Run(c.query, func(t *testing.T) {
			recs, err := search(t.Context(), e.ad, "a", sdk.LogQuery{Start: t0, End: t0.Add(time.Hour), Query: c.query})
			if c.code != 0 {
				if sdk.CodeOf(err) != c.code {
					t.Fatalf("got %v, want code %s", err, c.code)
				}
				return
			}
			if err != nil || len(recs) != c.want {
				t.Fatalf("got %d records, %v; want %d", len(recs), err, c.want)
			}
		})
	}
}

func TestTLS(t *testing.T) {
	e := newEnv(t, splunkstandin.Options{}, 5)
	e.configure(t, "noca", map[string]any{"ca_file": nil})
	_, err := search(t.Context(), e.ad, "noca", sdk.LogQuery{})
	if sdk.CodeOf(err) != sdk.CodeUnavailable || !strings.Contains(err.Error(), "certificate") {
		t.Fatalf("without the CA: %v, want unavailable naming the certificate", err)
	}
	e.configure(t, "insecure", map[string]any{"ca_file": nil, "insecure_skip_verify": true})
	if recs, err := search(t.Context(), e.ad, "insecure", sdk.LogQuery{}); err != nil || len(recs) != 5 {
		t.Fatalf("insecure_skip_verify: %d records, %v", len(recs), err)
	}
}

func TestFailures(t *testing.T) {
	q := sdk.LogQuery{Start: t0, End: t0.Add(time.Hour)}
	cases := []struct {
		name      string
		fault     splunkstandin.Fault
		extra     map[string]any
		timeout   time.Duration
		code      sdk.Code // 0 with wantRecs: success
		wantRecs  int
		wantWaits []time.Duration // exact: Retry-After waits
		backoffs  int             // waits that are the retry policy's jittered backoff
		check     func(t *testing.T, err error, e *env)
	}{
		{name: "bad token", extra: map[string]any{"token": "nope"}, code: sdk.CodeAuth},
		{name: "bad password", extra: map[string]any{"token": nil, "username": testUser, "password": "nope"}, code: sdk.CodeAuth},
		{name: "429 beyond the retry wait", fault: splunkstandin.Fault{RateLimit: 1, RetryAfter: 120 * time.Second}, code: sdk.CodeRateLimited,
			check: func(t *testing.T, err error, _ *env) {
				var se *sdk.Error
				if !errors.As(err, &se) || se.RetryAfter != 120*time.Second {
					t.Fatalf("retry-after = %v, want 120s", err)
				}
			}},
		{name: "429 retried after retry-after", fault: splunkstandin.Fault{RateLimit: 2, RetryAfter: 2 * time.Second}, wantRecs: 60,
			wantWaits: []time.Duration{2 * time.Second, 2 * time.Second}},
		{name: "429 until retries run out", fault: splunkstandin.Fault{RateLimit: 10, RetryAfter: time.Second}, code: sdk.CodeRateLimited,
			wantWaits: []time.Duration{time.Second, time.Second, time.Second}},
		{name: "429 with no retry wait allowed", fault: splunkstandin.Fault{RateLimit: 1, RetryAfter: time.Second}, extra: map[string]any{"max_retry_wait_seconds": 0},
			code: sdk.CodeRateLimited, wantWaits: []time.Duration{}},
		{name: "5xx burst recovered", fault: splunkstandin.Fault{Unavailable: 2}, wantRecs: 60, backoffs: 2},
		{name: "5xx burst too long", fault: splunkstandin.Fault{Unavailable: 10}, code: sdk.CodeUnavailable,
			check: func(t *testing.T, err error, e *env) {
				if n := e.srv.Requests("/services/search/v2/jobs/export"); n != 4 {
					t.Fatalf("%d export requests, want 4 (1 + max_retries 3)", n)
				}
				if !strings.Contains(err.Error(), "concurrent historical searches") {
					t.Fatalf("error %v does not carry Splunk's message", err)
				}
			}},
		{name: "cut off mid-stream", fault: splunkstandin.Fault{CutAfter: 20}, code: sdk.CodeUnavailable},
		{name: "fatal inside 200", fault: splunkstandin.Fault{FatalAfter: 5}, code: sdk.CodeUnavailable},
		{name: "search error inside 200", fault: splunkstandin.Fault{FatalAfter: 1, FatalText: "Error in 'lookup' command: Could not find all of the specified lookup fields."}, code: sdk.CodeBadQuery},
		{name: "malformed line", fault: splunkstandin.Fault{Malformed: true}, code: sdk.CodeUnavailable},
		{name: "slow past the deadline", fault: splunkstandin.Fault{Delay: 10 * time.Second}, timeout: 200 * time.Millisecond, code: sdk.CodeUnavailable},
		{name: "slow past the response timeout", fault: splunkstandin.Fault{Delay: 10 * time.Second}, extra: map[string]any{"timeout_seconds": 0.2, "max_retries": 1}, code: sdk.CodeUnavailable},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := newEnv(t, splunkstandin.Options{}, 60)
			e.configure(t, "a", c.extra)
			e.srv.SetFault(c.fault)
			ctx := t.Context()
			if c.timeout > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, c.timeout)
				defer cancel()
			}
			recs, err := search(ctx, e.ad, "a", q)
			if c.code == 0 {
				if err != nil || len(recs) != c.wantRecs {
					t.Fatalf("got %d records, %v; want %d", len(recs), err, c.wantRecs)
				}
			} else if got := sdk.CodeOf(err); got != c.code {
				t.Fatalf("got %v (code %s), want code %s", err, got, c.code)
			}
			if c.wantWaits != nil {
				got := e.sleeps.Waits()
				if len(got) != len(c.wantWaits) {
					t.Fatalf("waits = %v, want %v", got, c.wantWaits)
				}
				for i := range got {
					if got[i] != c.wantWaits[i] {
						t.Fatalf("waits = %v, want %v", got, c.wantWaits)
					}
				}
			}
			if c.backoffs > 0 {
				adaptertest.CheckBackoffs(t, e.sleeps.Waits(), c.backoffs)
			}
			if c.check != nil {
				c.check(t, err, e)
			}
			if err != nil && (strings.Contains(err.Error(), testToken) || strings.Contains(err.Error(), testPassword)) {
				t.Fatalf("error leaks a secret: %v", err)
			}
		})
	}
}

func TestHealth(t *testing.T) {
	e := newEnv(t, splunkstandin.Options{}, 0)
	e.configure(t, "good", nil)
	e.configure(t, "badpw", map[string]any{"token": nil, "username": testUser, "password": "wrong"})
	rep, err := e.ad.Health(t.Context(), "good")
	if err != nil || rep.Status != sdk.HealthOK || rep.Details["version"] != "9.1.2" {
		t.Fatalf("Health(good) = %+v, %v", rep, err)
	}
	rep, err = e.ad.Health(t.Context(), "badpw")
	if err != nil || rep.Status != sdk.HealthDown || rep.Details["code"] != "auth" {
		t.Fatalf("Health(bad password) = %+v, %v", rep, err)
	}
	if _, err := e.ad.Health(t.Context(), "nope"); sdk.CodeOf(err) != sdk.CodeNotFound {
		t.Fatalf("Health(unknown) = %v, want not_found", err)
	}
}

// TestSecretsStayOut drives every path that logs or fails with secrets in
// the config and checks the captured log and the errors.
func TestSecretsStayOut(t *testing.T) {
	e := newEnv(t, splunkstandin.Options{}, 20)
	var errs []string
	note := func(err error) {
		if err != nil {
			errs = append(errs, err.Error())
		}
	}
	e.configure(t, "tok", nil)
	e.configure(t, "pw", map[string]any{"token": nil, "username": testUser, "password": testPassword})
	note(e.ad.Configure(t.Context(), "badtok", e.config(t, map[string]any{"token": testToken + "x"})))
	note(e.ad.Configure(t.Context(), "badpw", e.config(t, map[string]any{"token": nil, "username": testUser, "password": testPassword + "x"})))
	note(e.ad.Validate(t.Context(), e.config(t, map[string]any{"username": testUser, "password": testPassword})))
	note(e.ad.Validate(t.Context(), e.config(t, map[string]any{"token": 12})))
	q := sdk.LogQuery{Start: t0, End: t0.Add(time.Hour)}
	for _, inst := range []string{"tok", "pw", "badtok", "badpw"} {
		_, err := search(t.Context(), e.ad, inst, q)
		note(err)
		rep, err := e.ad.Health(t.Context(), inst)
		note(err)
		errs = append(errs, rep.Message)
	}
	e.srv.ExpireSessions()
	e.srv.SetFault(splunkstandin.Fault{Unavailable: 1})
	_, err := search(t.Context(), e.ad, "pw", q)
	note(err)
	e.srv.SetFault(splunkstandin.Fault{CutAfter: 3})
	_, err = search(t.Context(), e.ad, "pw", q)
	note(err)
	if len(errs) < 5 {
		t.Fatalf("only %d errors collected; the test exercises nothing", len(errs))
	}
	logs := e.logs.String()
	if logs == "" {
		t.Fatal("no log output captured")
	}
	for _, secret := range []string{testToken, testPassword, "SECRET"} {
		if strings.Contains(logs, secret) {
			t.Fatalf("log output holds a secret:\n%s", logs)
		}
		for _, m := range errs {
			if strings.Contains(m, secret) {
				t.Fatalf("error holds a secret: %s", m)
			}
		}
	}
}
