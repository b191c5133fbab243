package sdk

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Code classifies an error so the host can act on it.
type Code int

// Error codes of protocol v1.
const (
	CodeInternal    Code = iota // a bug or an unexpected condition
	CodeAuth                    // credentials missing, wrong or without permission
	CodeBadConfig               // the instance config is invalid
	CodeBadQuery                // the query is invalid for the backend
	CodeNotFound                // unknown instance, index, metric...
	CodeRateLimited             // the backend asked us to slow down; see RetryAfter
	CodeUnavailable             // the backend (or the plugin) is down or timed out; retryable
)

var codeNames = map[Code]string{
	CodeInternal:    "internal",
	CodeAuth:        "auth",
	CodeBadConfig:   "bad_config",
	CodeBadQuery:    "bad_query",
	CodeNotFound:    "not_found",
	CodeRateLimited: "rate_limited",
	CodeUnavailable: "unavailable",
}

func (c Code) String() string {
	if s, ok := codeNames[c]; ok {
		return s
	}
	return fmt.Sprintf("code(%d)", int(c))
}

// Retryable reports whether a call that failed with this code may succeed if
// tried again later.
func (c Code) Retryable() bool { return c == CodeRateLimited || c == CodeUnavailable }

// Error is an error with a code the host can act on.
type Error struct {
	Code       Code
	Message    string
	RetryAfter time.Duration // for CodeRateLimited: what the backend asked for
	Err        error         // the cause, if any; its text is included in Error()
}

// Errorf returns an *Error with a formatted message. A %w verb wraps the cause.
func Errorf(code Code, format string, args ...any) *Error {
	err := fmt.Errorf(format, args...)
	return &Error{Code: code, Message: err.Error(), Err: errors.Unwrap(err)}
}

// RateLimited returns a CodeRateLimited error carrying the backend's retry-after.
func RateLimited(retryAfter time.Duration, format string, args ...any) *Error {
	e := Errorf(CodeRateLimited, format, args...)
	e.RetryAfter = retryAfter
	return e
}

func (e *Error) Error() string {
	if e.RetryAfter > 0 {
		return fmt.Sprintf("%s: %s (retry after %s)", e.Code, e.Message, e.RetryAfter)
	}
	return fmt.Sprintf("%s: %s", e.Code, e.Message)
}

func (e *Error) Unwrap() error { return e.Err }

// CodeOf returns the code of the first *Error or *ConfigError in err's
// chain, CodeUnavailable for a context deadline, and CodeInternal otherwise.
func CodeOf(err error) Code {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	var ce *ConfigError
	if errors.As(err, &ce) {
		return CodeBadConfig
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return CodeUnavailable
	}
	return CodeInternal
}

// FieldError is a problem with one field of an instance config.
type FieldError struct {
	Field   string // path of the field, e.g. "paths" or "tls.ca_file"
	Message string
}

// ConfigError reports every problem found in an instance config.
type ConfigError struct {
	Fields []FieldError
}

// FieldErrorf returns a ConfigError with one field problem.
func FieldErrorf(field, format string, args ...any) *ConfigError {
	return &ConfigError{Fields: []FieldError{{Field: field, Message: fmt.Sprintf(format, args...)}}}
}

// Add records another field problem.
func (e *ConfigError) Add(field, format string, args ...any) {
	e.Fields = append(e.Fields, FieldError{Field: field, Message: fmt.Sprintf(format, args...)})
}

// OrNil returns e if it holds any problem, else nil; handy at the end of a
// validation function.
func (e *ConfigError) OrNil() error {
	if e == nil || len(e.Fields) == 0 {
		return nil
	}
	return e
}

func (e *ConfigError) Error() string {
	parts := make([]string, len(e.Fields))
	for i, f := range e.Fields {
		parts[i] = f.Field + ": " + f.Message
	}
	return "bad_config: " + strings.Join(parts, "; ")
}

// ErrLimitReached is returned by RecordWriter.Write once the query's limit
// has been written; the adapter stops and returns nil.
var ErrLimitReached = errors.New("sdk: record limit reached")
