package loganalysis_test

import (
	"context"
	"fmt"
	"strings"

	"github.com/faultmaven/faultmaven/core/loganalysis"
	"github.com/faultmaven/faultmaven/sdk"
)

func ExampleAnalyzer() {
	a, err := loganalysis.New(loganalysis.Options{})
	if err != nil {
		panic(err)
	}
	key := loganalysis.StreamKey{Cluster: "prod", Source: "api"}
	for _, line := range []string{
		"2024-05-01 10:00:00,000 INFO [main] api.Server: GET /health 200 in 3ms",
		"2024-05-01 10:00:01,000 ERROR [pool-1] api.Db: connection to 10.0.0.7:5432 refused",
		"2024-05-01 10:00:02,000 ERROR [pool-2] api.Db: connection to 10.0.0.9:5432 refused",
	} {
		o := a.Observe(key, sdk.Record{Body: line})
		fmt.Println(o.Severity, o.Template, o.Params)
	}
	// Output:
	// info GET /health <*> in <*> [200 3ms]
	// error connection to <*>:<*> refused [10.0.0.7 5432]
	// error connection to <*>:<*> refused [10.0.0.9 5432]
}

func ExampleParser() {
	p, err := loganalysis.NewParser(loganalysis.ParseOptions{})
	if err != nil {
		panic(err)
	}
	in := `081109 203615 148 INFO dfs.DataNode$PacketResponder: PacketResponder 1 for block blk_38865049064139660 terminating
081109 203807 222 INFO dfs.DataNode$PacketResponder: PacketResponder 0 for block blk_-6952295868487656571 terminating
`
	var ids []int
	err = p.Run(context.Background(), strings.NewReader(in), func(r loganalysis.ParsedRecord) error {
		ids = append(ids, r.ClusterID)
		return nil
	})
	if err != nil {
		panic(err)
	}
	for _, id := range ids {
		t := p.Template(id)
		fmt.Println(loganalysis.TemplateID(t), t)
	}
	// Output:
	// tc56b31d06bb8 PacketResponder <*> for block <*> terminating
	// tc56b31d06bb8 PacketResponder <*> for block <*> terminating
}
