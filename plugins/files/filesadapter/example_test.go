package filesadapter_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/faultmaven/faultmaven/plugins/files/filesadapter"
	"github.com/faultmaven/faultmaven/sdk"
)

// printer is a RecordWriter that prints each record. In a plugin, the SDK
// supplies the writer and batches the records for the host.
type printer struct{}

func (printer) Write(r sdk.Record) error {
	fmt.Printf("%s %-5s %s line=%s: %s\n", r.Timestamp.Format(time.TimeOnly), r.Severity, r.Service, r.Attributes["line"], r.Body)
	return nil
}

// Configure an instance over a log file and search a time window with a
// regular expression. The "Caused by:" line has no timestamp of its own:
// it is joined to the ERROR record it continues, which keeps its first
// line's timestamp and severity.
func Example() {
	dir, err := os.MkdirTemp("", "filesadapter-example")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "checkout.log")
	err = os.WriteFile(path, []byte(`2026-11-24 14:05:58.120 INFO  [exec-1] OrderController - order 88213 placed
2026-11-24 14:06:31.007 ERROR [exec-4] OrderController - checkout failed: could not obtain JDBC connection
Caused by: java.sql.SQLTransientConnectionException: HikariPool-1 - Connection is not available
2026-11-24 14:07:02.530 WARN  [exec-2] PoolMonitor - HikariPool-1 - pool stats (active=20, idle=0, waiting=31)
`), 0o644)
	if err != nil {
		panic(err)
	}

	ctx := context.Background()
	a := filesadapter.New(filesadapter.Options{})
	cfg, _ := json.Marshal(map[string]any{"paths": []string{path}, "timezone": "UTC"})
	if err := a.Configure(ctx, "local", cfg); err != nil {
		panic(err)
	}
	err = a.SearchLogs(ctx, "local", sdk.LogQuery{
		Start: time.Date(2026, 11, 24, 14, 6, 0, 0, time.UTC),
		End:   time.Date(2026, 11, 24, 14, 10, 0, 0, time.UTC),
		Query: "/(?i)hikari|jdbc/",
	}, printer{})
	if err != nil {
		panic(err)
	}
	// Output:
	// 14:06:31 error checkout line=2: 2026-11-24 14:06:31.007 ERROR [exec-4] OrderController - checkout failed: could not obtain JDBC connection
	// Caused by: java.sql.SQLTransientConnectionException: HikariPool-1 - Connection is not available
	// 14:07:02 warn  checkout line=4: 2026-11-24 14:07:02.530 WARN  [exec-2] PoolMonitor - HikariPool-1 - pool stats (active=20, idle=0, waiting=31)
}
