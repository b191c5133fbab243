// Command faultmaven-plugin-prometheus is the FaultMaven adapter plugin for
// Prometheus; the hub launches it. The adapter lives in prometheusadapter.
package main

import (
	"github.com/faultmaven/faultmaven/plugins/prometheus/prometheusadapter"
	"github.com/faultmaven/faultmaven/sdk"
)

func main() { sdk.Serve(prometheusadapter.New()) }
