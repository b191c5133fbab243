package opensearchadapter_test

import (
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/faultmaven/faultmaven/plugins/opensearch/opensearchstandin"
	"github.com/faultmaven/faultmaven/sdk"
)

// TestSecretsNeverLeak drives the adapter through configuration, health,
// searches with retries and failures, and validation errors, capturing its
// log output (at debug level) and every error and health message, and
// checks no password, AWS secret key or session token appears in them,
// not even base64-encoded as in an Authorization header. One failure
// echoes the password in the backend's error body, as a misbehaving proxy
// might: the adapter must redact it.
func TestSecretsNeverLeak(t *testing.T) {
	const (
		awsSecret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
		awsToken  = "FQoGZXIvYXdzEXAMPLETOKENxyz"
	)
	secrets := []string{testPassword, awsSecret, awsToken,
		base64.StdEncoding.EncodeToString([]byte(testUser + ":" + testPassword))}

	var logs logBuffer
	a := newAdapter(t, &logs)
	ctx := t.Context()
	s, srv := startStandin(t, 50, opensearchstandin.Options{})
	var texts []string
	note := func(err error) {
		if err != nil {
			texts = append(texts, err.Error())
		}
	}
	search := func(inst string) {
		note(a.SearchLogs(ctx, inst, sdk.LogQuery{Start: t0, End: t0.Add(time.Hour)}, &collector{}))
	}
	health := func(inst string) {
		rep, err := a.Health(ctx, inst)
		note(err)
		texts = append(texts, rep.Message)
		for k, v := range rep.Details {
			texts = append(texts, k+"="+v)
		}
	}

	note(a.Configure(ctx, "good", cfg(t, srv.URL, nil)))
	health("good")
	search("good")
	for _, f := range []opensearchstandin.Fault{
		{Kind: opensearchstandin.FaultStatus, Status: 500, Reason: "internal error for user " + testUser + " with password " + testPassword},
		{Kind: opensearchstandin.FaultRateLimit, RetryAfter: "0", Reason: "throttled " + testPassword},
		{Kind: opensearchstandin.FaultCutOff},
		{Kind: opensearchstandin.FaultShardFailure, Reason: "shard failed near " + testPassword},
		{Kind: opensearchstandin.FaultMalformed},
	} {
		s.SetFault(f)
		search("good")
		health("good")
	}
	s.SetFault(opensearchstandin.Fault{})

	// Wrong password: 401 paths.
	note(a.Configure(ctx, "wrong", cfg(t, srv.URL, map[string]any{"password": testPassword + "-old"})))
	health("wrong")
	search("wrong")

	// AWS keys against a basic-auth cluster: 401 too, signed requests.
	note(a.Configure(ctx, "aws", cfg(t, srv.URL, map[string]any{"username": nil, "password": nil,
		"aws": map[string]any{"region": "us-east-1", "access_key_id": "AKIDEXAMPLE", "secret_access_key": awsSecret, "session_token": awsToken}})))
	health("aws")
	search("aws")

	// Validation errors around the secrets.
	for _, bad := range []map[string]any{
		{"url": "https://" + testUser + ":" + testPassword + "@search.example.com", "index": "logs"},
		{"url": "https://search.example.com", "index": "logs", "password": testPassword},
		{"url": "https://search.example.com", "index": "logs", "username": "u", "password": testPassword,
			"aws": map[string]any{"region": "x", "access_key_id": "a", "secret_access_key": awsSecret, "session_token": awsToken, "extra": awsSecret}},
		{"url": "ftp://" + testPassword, "index": "logs"},
	} {
		raw, _ := json.Marshal(bad)
		err := a.Validate(ctx, raw)
		if err == nil {
			t.Fatalf("Validate(%v) accepted a bad config", bad)
		}
		note(err)
	}

	if len(texts) < 10 || !strings.Contains(logs.String(), "retrying") {
		t.Fatalf("the scenario did not exercise failures: %d texts, logs:\n%s", len(texts), logs.String())
	}
	all := logs.String() + "\n" + strings.Join(texts, "\n")
	for _, sec := range secrets {
		if strings.Contains(all, sec) {
			t.Errorf("secret %q leaked:\n%s", sec[:4]+"…", all)
		}
	}
}
