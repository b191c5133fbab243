package opensearchadapter_test

import (
	"encoding/pem"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/faultmaven/faultmaven/plugins/opensearch/opensearchstandin"
	"github.com/faultmaven/faultmaven/sdk"
)

// TestTLSCA serves the stand-in over TLS with a self-signed certificate:
// trusted through ca_pem or ca_file the search works; untrusted it fails
// with a message that says what to set.
func TestTLSCA(t *testing.T) {
	s := opensearchstandin.New(opensearchstandin.Options{Username: testUser, Password: testPassword})
	seed(t, s, 10)
	srv := httptest.NewTLSServer(s)
	t.Cleanup(srv.Close)
	caPEM := string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}))
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(caFile, []byte(caPEM), 0o600); err != nil {
		t.Fatal(err)
	}
	a := newAdapter(t, nil)
	ctx := t.Context()
	for _, tc := range []struct {
		name  string
		extra map[string]any
		ok    bool
	}{
		{name: "ca_pem", extra: map[string]any{"ca_pem": caPEM}, ok: true},
		{name: "ca_file", extra: map[string]any{"ca_file": caFile}, ok: true},
		{name: "untrusted", extra: map[string]any{"max_retries": 0}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := a.Configure(ctx, "tls", cfg(t, srv.URL, tc.extra)); err != nil {
				t.Fatal(err)
			}
			w := &collector{}
			err := a.SearchLogs(ctx, "tls", sdk.LogQuery{}, w)
			if tc.ok {
				if err != nil || len(w.recs) != 10 {
					t.Fatalf("%d records, %v; want 10", len(w.recs), err)
				}
				return
			}
			if sdk.CodeOf(err) != sdk.CodeUnavailable || !strings.Contains(err.Error(), "ca_pem") {
				t.Fatalf("got %v, want unavailable naming ca_pem", err)
			}
		})
	}
}
