package agent

import "regexp"

// secretPatterns match credentials that show up in logs: authorization
// headers, key=value pairs whose key names a secret, JWTs, AWS access key
// ids, and passwords in URLs. Evidence quoted in an answer goes through
// Redact so that an answer never repeats a secret a log line leaked.
var secretPatterns = []struct {
	re   *regexp.Regexp
	repl string
}{
	{regexp.MustCompile(`(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]{8,}`), "$1 [REDACTED]"},
	{regexp.MustCompile(`(?i)((?:password|passwd|pwd|secret|token|api[_-]?key|apikey|access[_-]?key|private[_-]?key|client[_-]?secret|authorization|auth)["']?\s*[:=]\s*["']?)[^\s"',;&}]+`), "${1}[REDACTED]"},
	{regexp.MustCompile(`\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}`), "[REDACTED-JWT]"},
	{regexp.MustCompile(`\b(AKIA|ASIA)[A-Z0-9]{16}\b`), "[REDACTED-AWS-KEY]"},
	{regexp.MustCompile(`(://[^/\s:@]+:)[^/\s@]+@`), "${1}[REDACTED]@"},
}

// Redact masks credentials in s.
func Redact(s string) string {
	for _, p := range secretPatterns {
		s = p.re.ReplaceAllString(s, p.repl)
	}
	return s
}
