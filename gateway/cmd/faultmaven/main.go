// Command faultmaven is the FaultMaven hub: `faultmaven serve` runs the
// gateway; the other verbs are the operator's CLI.
package main

import (
	"os"

	"github.com/faultmaven/faultmaven/gateway/internal/cli"
)

func main() { os.Exit(cli.Main(os.Args[1:])) }
