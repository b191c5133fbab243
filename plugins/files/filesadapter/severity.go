package filesadapter

import "github.com/faultmaven/faultmaven/sdk"

// severityWindow bounds how far into a line a level word is looked for:
// levels sit in the prefix (after the timestamp, maybe a thread name), and
// looking further would find "ERROR" quoted inside message bodies.
const severityWindow = 160

// levelWords maps the level spellings seen in the prefix of common log
// formats (log4j/logback, Python logging, Go slog and logrus, syslog
// names, nginx) to severities. Read-only after init.
var levelWords = map[string]sdk.Severity{
	"TRACE": sdk.SeverityTrace, "TRC": sdk.SeverityTrace,
	"DEBUG": sdk.SeverityDebug, "DBG": sdk.SeverityDebug, "DEBU": sdk.SeverityDebug,
	"INFO": sdk.SeverityInfo, "INF": sdk.SeverityInfo, "NOTICE": sdk.SeverityInfo,
	"WARN": sdk.SeverityWarn, "WARNING": sdk.SeverityWarn, "WRN": sdk.SeverityWarn,
	"ERROR": sdk.SeverityError, "ERR": sdk.SeverityError, "ERRO": sdk.SeverityError,
	"SEVERE": sdk.SeverityError,
	"FATAL":  sdk.SeverityFatal, "FATA": sdk.SeverityFatal, "CRIT": sdk.SeverityFatal,
	"CRITICAL": sdk.SeverityFatal, "PANIC": sdk.SeverityFatal, "ALERT": sdk.SeverityFatal,
	"EMERG": sdk.SeverityFatal, "EMERGENCY": sdk.SeverityFatal,
}

// severityOf finds the level word in the prefix of a text line. A word
// counts when it is written in capitals (" ERROR ", "[WARN]"), or in any
// case when it is the value of a key ("level=error", `lvl="warn"`) or
// stands alone in brackets ("[error]", as nginx writes it). Lower-case
// words elsewhere are ignored: "could not get info" is not an info line.
func severityOf(line []byte) sdk.Severity {
	end := min(len(line), severityWindow)
	var word [9]byte // longest level word: EMERGENCY
	for i := 0; i < end; {
		if !isLetter(line[i]) {
			i++
			continue
		}
		j := i
		upper := true
		for j < len(line) && isLetter(line[j]) {
			upper = upper && line[j] <= 'Z'
			j++
		}
		if n := j - i; n >= 3 && n <= len(word) && (upper || keyed(line, i, j)) {
			for k := range n {
				word[k] = line[i+k] &^ 0x20 // ASCII upper case
			}
			if sev, ok := levelWords[string(word[:n])]; ok {
				return sev
			}
		}
		i = j
	}
	return sdk.SeverityUnspecified
}

// keyed reports whether line[i:j] is a key's value (=word, ="word") or a
// bracketed word ([word]).
func keyed(line []byte, i, j int) bool {
	if i > 0 && line[i-1] == '"' {
		i--
	}
	if i > 0 && line[i-1] == '=' {
		return true
	}
	return i > 0 && line[i-1] == '[' && j < len(line) && line[j] == ']'
}

func isLetter(c byte) bool { return c|0x20 >= 'a' && c|0x20 <= 'z' }
