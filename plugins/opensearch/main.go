// Command faultmaven-plugin-opensearch is the FaultMaven adapter plugin for
// OpenSearch; the hub launches it. The adapter lives in opensearchadapter.
package main

import (
	"github.com/faultmaven/faultmaven/plugins/opensearch/opensearchadapter"
	"github.com/faultmaven/faultmaven/sdk"
)

func main() { sdk.Serve(opensearchadapter.New()) }
