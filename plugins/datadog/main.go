// Command faultmaven-plugin-datadog is the FaultMaven adapter plugin for
// Datadog. The hub launches it; see plugins/datadog/datadogadapter for what
// it does.
package main

import (
	"github.com/faultmaven/faultmaven/plugins/datadog/datadogadapter"
	"github.com/faultmaven/faultmaven/sdk"
)

func main() { sdk.Serve(datadogadapter.New(datadogadapter.Options{})) }
