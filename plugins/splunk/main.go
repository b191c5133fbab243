// Command faultmaven-plugin-splunk is the FaultMaven adapter plugin for
// Splunk Enterprise and Splunk Cloud. The hub launches it; see
// plugins/splunk/splunkadapter for what it does.
package main

import (
	"github.com/faultmaven/faultmaven/plugins/splunk/splunkadapter"
	"github.com/faultmaven/faultmaven/sdk"
)

func main() { sdk.Serve(splunkadapter.New(splunkadapter.Options{})) }
