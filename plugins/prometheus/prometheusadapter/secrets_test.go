package prometheusadapter_test

import (
	"encoding/base64"
	"strings"
	"testing"
	"time"

	"github.com/faultmaven/faultmaven/plugins/internal/adaptertest"
	"github.com/faultmaven/faultmaven/sdk"
)

// TestSecretsNeverLeak drives the adapter through health checks, queries,
// retries and failures with a bearer token and with basic auth, capturing
// its logs (debug level) and every error and health text, and checks
// neither the token, the password nor the basic-auth header value appears.
func TestSecretsNeverLeak(t *testing.T) {
	env := promServer(t)
	px := newProxy(t, env.URL, proxyToken)
	const password = "b4sic-Passw0rd-secret"
	secrets := []string{proxyToken, password, base64.StdEncoding.EncodeToString([]byte("sre:" + password))}

	var logs adaptertest.SyncBuffer
	a := newAdapter(&logs)
	ctx := t.Context()
	var texts []string
	note := func(err error) {
		if err != nil {
			texts = append(texts, err.Error())
		}
	}
	run := func(inst string) {
		rep, err := a.Health(ctx, inst)
		note(err)
		texts = append(texts, rep.Message)
		for k, v := range rep.Details {
			texts = append(texts, k+"="+v)
		}
		_, err = a.QueryMetrics(ctx, inst, sdk.MetricQuery{Query: "up", Start: env.Started, End: time.Now()})
		note(err)
		_, err = a.QueryMetrics(ctx, inst, sdk.MetricQuery{Query: "rate(" + proxyToken + "[", Start: env.Started, End: time.Now()})
		note(err)
	}
	note(a.Configure(ctx, "token", rawConfig(t, map[string]any{"url": px.srv.URL, "bearer_token": proxyToken})))
	note(a.Configure(ctx, "wrong", rawConfig(t, map[string]any{"url": px.srv.URL, "bearer_token": proxyToken + "-old"})))
	note(a.Configure(ctx, "basic", rawConfig(t, map[string]any{"url": px.srv.URL, "username": "sre", "password": password})))
	for _, f := range []fault{{}, {kind: faultStatus, status: 500}, {kind: faultRateLimit, retryAfter: "0"}, {kind: faultCutOff}, {kind: faultMalformed}} {
		px.set(f)
		for _, inst := range []string{"token", "wrong", "basic"} {
			run(inst)
		}
	}
	px.set(fault{})
	for _, bad := range []string{
		`{"url":"https://sre:` + password + `@prom.example.com"}`,
		`{"url":"https://prom.example.com","bearer_token":"` + proxyToken + `","password":"` + password + `"}`,
		`{"url":"ftp://` + proxyToken + `"}`,
	} {
		err := a.Validate(ctx, []byte(bad))
		if err == nil {
			t.Fatalf("Validate accepted %s", bad)
		}
		note(err)
	}
	if !strings.Contains(logs.String(), "retrying") || len(texts) < 10 {
		t.Fatalf("the scenario did not exercise failures; logs:\n%s", logs.String())
	}
	all := logs.String() + "\n" + strings.Join(texts, "\n")
	for _, sec := range secrets {
		if strings.Contains(all, sec) {
			t.Errorf("secret %q… leaked:\n%s", sec[:4], all)
		}
	}
}
