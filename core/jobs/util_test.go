package jobs_test

import (
	"bytes"
	"io"
	"log/slog"
	"os"
)

// quietLogger logs warnings and errors only: River is chatty at info.
func quietLogger() *slog.Logger {
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
}

func bytesReader(b []byte) io.Reader { return bytes.NewReader(b) }
