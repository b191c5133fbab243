package agent

import (
	"strings"
	"testing"
)

func TestRedact(t *testing.T) {
	tests := []struct {
		in, secret string
	}{
		{`GET /x Authorization: Bearer abcdefghijklmnop123`, "abcdefghijklmnop123"},
		{`connecting with password=hunter2hunter2 to db`, "hunter2hunter2"},
		{`{"api_key":"sk-live-123456789"}`, "sk-live-123456789"},
		{`token: eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U`, "dozjgNryP4J3jVmNHl0w5N"},
		{`using key AKIAIOSFODNN7EXAMPLE for s3`, "AKIAIOSFODNN7EXAMPLE"},
		{`dial postgres://orders:s3cr3tpw@db:5432/orders`, "s3cr3tpw"},
		{`client_secret = 'abc.def-ghi'`, "abc.def-ghi"},
	}
	for _, tt := range tests {
		got := Redact(tt.in)
		if strings.Contains(got, tt.secret) {
			t.Errorf("Redact(%q) = %q: secret kept", tt.in, got)
		}
		if !strings.Contains(got, "REDACTED") {
			t.Errorf("Redact(%q) = %q: no redaction marker", tt.in, got)
		}
	}
	plain := "HikariPool-1 - Connection is not available, request timed out after 30000ms"
	if got := Redact(plain); got != plain {
		t.Errorf("Redact changed a line without secrets: %q", got)
	}
}
