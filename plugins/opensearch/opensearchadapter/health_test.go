package opensearchadapter_test

import (
	"testing"

	"github.com/faultmaven/faultmaven/plugins/opensearch/opensearchstandin"
	"github.com/faultmaven/faultmaven/sdk"
)

func TestHealth(t *testing.T) {
	tests := []struct {
		name     string
		status   string
		extra    map[string]any
		fault    opensearchstandin.Fault
		want     sdk.HealthStatus
		wantCode string // Details["error_code"] when down because of an error
	}{
		{name: "green", status: "green", want: sdk.HealthOK},
		{name: "yellow", status: "yellow", want: sdk.HealthDegraded},
		{name: "red", status: "red", want: sdk.HealthDown},
		{name: "bad credentials", status: "green", extra: map[string]any{"password": "nope-nope"}, want: sdk.HealthDown, wantCode: "auth"},
		{name: "missing index", status: "green", extra: map[string]any{"index": "absent"}, want: sdk.HealthDown, wantCode: "not_found"},
		{name: "cluster down", status: "green", extra: map[string]any{"max_retries": 0},
			fault: opensearchstandin.Fault{Kind: opensearchstandin.FaultStatus, Status: 503}, want: sdk.HealthDown, wantCode: "unavailable"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, srv := startStandin(t, 5, opensearchstandin.Options{})
			s.SetClusterStatus(tc.status)
			s.SetFault(tc.fault)
			a := newAdapter(t, nil)
			if err := a.Configure(t.Context(), "c", cfg(t, srv.URL, tc.extra)); err != nil {
				t.Fatal(err)
			}
			rep, err := a.Health(t.Context(), "c")
			if err != nil {
				t.Fatalf("Health: %v", err)
			}
			if rep.Status != tc.want {
				t.Fatalf("status %s (%s), want %s", rep.Status, rep.Message, tc.want)
			}
			if tc.want != sdk.HealthOK && rep.Message == "" {
				t.Error("a status other than ok must say why")
			}
			if tc.wantCode != "" && rep.Details["error_code"] != tc.wantCode {
				t.Errorf("error_code %q, want %q", rep.Details["error_code"], tc.wantCode)
			}
			if tc.want == sdk.HealthOK && (rep.Details["version"] != "2.11.0" || rep.Details["documents"] != "5") {
				t.Errorf("details %v: want version 2.11.0 and 5 documents", rep.Details)
			}
		})
	}
	t.Run("unknown instance", func(t *testing.T) {
		_, err := newAdapter(t, nil).Health(t.Context(), "nope")
		if sdk.CodeOf(err) != sdk.CodeNotFound {
			t.Fatalf("got %v, want not_found", err)
		}
	})
}

// TestAWSSigV4 checks requests are signed for the configured key, region
// and service, and that a key the cluster does not know is an auth error.
func TestAWSSigV4(t *testing.T) {
	s := opensearchstandin.New(opensearchstandin.Options{AWSAccessKeyID: "AKIDEXAMPLE", AWSRegion: "eu-west-1"})
	seed(t, s, 20)
	srv := startServer(t, s)
	a := newAdapter(t, nil)
	ctx := t.Context()
	good := cfg(t, srv.URL, map[string]any{"username": nil, "password": nil,
		"aws": map[string]any{"region": "eu-west-1", "access_key_id": "AKIDEXAMPLE", "secret_access_key": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "session_token": "FQoGZXIvYXdzEXAMPLETOKEN"}})
	if err := a.Configure(ctx, "aws", good); err != nil {
		t.Fatal(err)
	}
	w := &collector{}
	if err := a.SearchLogs(ctx, "aws", sdk.LogQuery{}, w); err != nil || len(w.recs) != 20 {
		t.Fatalf("SigV4 search: %d records, %v; want 20", len(w.recs), err)
	}
	bad := cfg(t, srv.URL, map[string]any{"username": nil, "password": nil,
		"aws": map[string]any{"region": "eu-west-1", "access_key_id": "AKIDOTHER", "secret_access_key": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"}})
	if err := a.Configure(ctx, "aws-bad", bad); err != nil {
		t.Fatal(err)
	}
	err := a.SearchLogs(ctx, "aws-bad", sdk.LogQuery{}, &collector{})
	if sdk.CodeOf(err) != sdk.CodeAuth {
		t.Fatalf("unknown key: got %v, want auth", err)
	}
}
