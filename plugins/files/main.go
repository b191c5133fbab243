// Command faultmaven-plugin-files is the FaultMaven adapter plugin for
// local log files. The hub launches it; run by hand it explains that and
// exits. The adapter itself is package filesadapter.
package main

import (
	// The config's "timezone" names an IANA zone. Go reads the system's
	// zone database first; this embedded copy is the fallback for minimal
	// containers that ship none, where the plugin would otherwise refuse
	// a valid config.
	_ "time/tzdata"

	"github.com/faultmaven/faultmaven/plugins/files/filesadapter"
	"github.com/faultmaven/faultmaven/sdk"
)

func main() { sdk.Serve(filesadapter.New(filesadapter.DefaultOptions())) }
