package sdk

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/faultmaven/faultmaven/sdk/internal/pluginpb"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// This file maps SDK types to the wire (protocol v1) and back.

func nsOf(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

func timeOf(ns int64) time.Time {
	if ns == 0 {
		return time.Time{}
	}
	return time.Unix(0, ns).UTC()
}

func queryToPB(instance string, q LogQuery, maxRecords int, maxBytes int64) *pluginpb.SearchLogsRequest {
	return &pluginpb.SearchLogsRequest{
		InstanceId: instance,
		StartNs:    nsOf(q.Start),
		EndNs:      nsOf(q.End),
		Query:      q.Query,
		Filters: &pluginpb.LogFilters{
			Services:    q.Filters.Services,
			MinSeverity: pluginpb.Severity(q.Filters.MinSeverity),
			Contains:    q.Filters.Contains,
		},
		Limit:           int64(q.Limit),
		MaxBatchRecords: int32(maxRecords),
		MaxBatchBytes:   maxBytes,
	}
}

func queryFromPB(p *pluginpb.SearchLogsRequest) LogQuery {
	q := LogQuery{
		Start: timeOf(p.GetStartNs()),
		End:   timeOf(p.GetEndNs()),
		Query: p.GetQuery(),
		Limit: int(p.GetLimit()),
	}
	if f := p.GetFilters(); f != nil {
		q.Filters = LogFilters{Services: f.GetServices(), MinSeverity: Severity(f.GetMinSeverity()), Contains: f.GetContains()}
	}
	return q
}

func fieldsToPB(fs []FieldError) []*pluginpb.FieldError {
	out := make([]*pluginpb.FieldError, len(fs))
	for i, f := range fs {
		out[i] = &pluginpb.FieldError{Field: f.Field, Message: f.Message}
	}
	return out
}

func fieldsFromPB(fs []*pluginpb.FieldError) []FieldError {
	out := make([]FieldError, len(fs))
	for i, f := range fs {
		out[i] = FieldError{Field: f.GetField(), Message: f.GetMessage()}
	}
	return out
}

var grpcCodeOf = map[Code]codes.Code{
	CodeInternal:    codes.Internal,
	CodeAuth:        codes.Unauthenticated,
	CodeBadConfig:   codes.InvalidArgument,
	CodeBadQuery:    codes.InvalidArgument,
	CodeNotFound:    codes.NotFound,
	CodeRateLimited: codes.ResourceExhausted,
	CodeUnavailable: codes.Unavailable,
}

// errorToStatus turns an adapter's error into a gRPC status carrying an
// ErrorDetail, so the code survives the process boundary.
func errorToStatus(err error) error {
	if err == nil {
		return nil
	}
	switch {
	case errors.Is(err, context.Canceled):
		return status.Error(codes.Canceled, err.Error())
	case errors.Is(err, context.DeadlineExceeded):
		return status.Error(codes.DeadlineExceeded, err.Error())
	}
	detail := &pluginpb.ErrorDetail{Code: pluginpb.ErrorCode(CodeInternal)}
	var e *Error
	var ce *ConfigError
	switch {
	case errors.As(err, &ce):
		detail.Code = pluginpb.ErrorCode_ERROR_CODE_BAD_CONFIG
		detail.FieldErrors = fieldsToPB(ce.Fields)
	case errors.As(err, &e):
		detail.Code = codeToPB(e.Code)
		detail.RetryAfterMs = e.RetryAfter.Milliseconds()
	}
	st := status.New(grpcCodeOf[codeFromPB(detail.Code)], err.Error())
	if withDetail, derr := st.WithDetails(detail); derr == nil {
		st = withDetail
	}
	return st.Err()
}

func codeToPB(c Code) pluginpb.ErrorCode {
	switch c {
	case CodeAuth:
		return pluginpb.ErrorCode_ERROR_CODE_AUTH
	case CodeBadConfig:
		return pluginpb.ErrorCode_ERROR_CODE_BAD_CONFIG
	case CodeBadQuery:
		return pluginpb.ErrorCode_ERROR_CODE_BAD_QUERY
	case CodeNotFound:
		return pluginpb.ErrorCode_ERROR_CODE_NOT_FOUND
	case CodeRateLimited:
		return pluginpb.ErrorCode_ERROR_CODE_RATE_LIMITED
	case CodeUnavailable:
		return pluginpb.ErrorCode_ERROR_CODE_UNAVAILABLE
	}
	return pluginpb.ErrorCode_ERROR_CODE_INTERNAL
}

func codeFromPB(c pluginpb.ErrorCode) Code {
	switch c {
	case pluginpb.ErrorCode_ERROR_CODE_AUTH:
		return CodeAuth
	case pluginpb.ErrorCode_ERROR_CODE_BAD_CONFIG:
		return CodeBadConfig
	case pluginpb.ErrorCode_ERROR_CODE_BAD_QUERY:
		return CodeBadQuery
	case pluginpb.ErrorCode_ERROR_CODE_NOT_FOUND:
		return CodeNotFound
	case pluginpb.ErrorCode_ERROR_CODE_RATE_LIMITED:
		return CodeRateLimited
	case pluginpb.ErrorCode_ERROR_CODE_UNAVAILABLE:
		return CodeUnavailable
	}
	return CodeInternal
}

// ErrUnsupported is returned by a Client call whose service the plugin does
// not provide (gRPC Unimplemented).
var ErrUnsupported = errors.New("sdk: capability not supported by plugin")

// errorFromStatus turns a failed call's status back into SDK errors:
// *ConfigError, *Error, ErrUnsupported or a context error.
func errorFromStatus(ctx context.Context, err error) error {
	if err == nil {
		return nil
	}
	st, ok := status.FromError(err)
	if !ok {
		return err
	}
	for _, d := range st.Details() {
		detail, ok := d.(*pluginpb.ErrorDetail)
		if !ok {
			continue
		}
		code := codeFromPB(detail.GetCode())
		if code == CodeBadConfig && len(detail.GetFieldErrors()) > 0 {
			return &ConfigError{Fields: fieldsFromPB(detail.GetFieldErrors())}
		}
		retry := time.Duration(detail.GetRetryAfterMs()) * time.Millisecond
		msg := stripCodePrefix(st.Message(), code)
		if retry > 0 {
			// Error() appends the retry-after again; keep it once.
			msg = strings.TrimSuffix(msg, fmt.Sprintf(" (retry after %s)", retry))
		}
		return &Error{Code: code, Message: msg, RetryAfter: retry}
	}
	switch st.Code() {
	case codes.Unimplemented:
		return ErrUnsupported
	case codes.Canceled:
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return &Error{Code: CodeUnavailable, Message: "call cancelled by plugin: " + st.Message()}
	case codes.DeadlineExceeded:
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return &Error{Code: CodeUnavailable, Message: "plugin deadline exceeded: " + st.Message()}
	case codes.Unavailable:
		// No detail: the transport failed, most often because the plugin
		// process died mid-call. Retryable once the host restarts it.
		return &Error{Code: CodeUnavailable, Message: "plugin connection lost: " + st.Message(), Err: ErrPluginGone}
	case codes.Unauthenticated, codes.PermissionDenied:
		return &Error{Code: CodeAuth, Message: st.Message()}
	case codes.InvalidArgument:
		return &Error{Code: CodeBadQuery, Message: st.Message()}
	case codes.NotFound:
		return &Error{Code: CodeNotFound, Message: st.Message()}
	case codes.ResourceExhausted:
		return &Error{Code: CodeRateLimited, Message: st.Message()}
	}
	return &Error{Code: CodeInternal, Message: st.Message()}
}

// ErrPluginGone marks an error caused by losing the plugin process.
var ErrPluginGone = errors.New("sdk: plugin process gone")

// stripCodePrefix avoids "auth: auth: ..." once the message is wrapped again.
func stripCodePrefix(msg string, c Code) string {
	p := c.String() + ": "
	if len(msg) >= len(p) && msg[:len(p)] == p {
		return msg[len(p):]
	}
	return msg
}
