package sdk

import (
	"fmt"
	"os"
	"time"

	plugin "github.com/hashicorp/go-plugin"
)

// Serve runs adapter a as a FaultMaven plugin and does not return while the
// host is connected. Call it from main and nothing else:
//
//	func main() { sdk.Serve(files.New()) }
//
// Serve refuses to run when not launched by a host (it prints why on
// stderr and exits 1), and exits when the host process dies, so a crashed
// hub never leaves orphaned plugins behind.
//
// Nothing may write to stdout before Serve: go-plugin reads the handshake
// from it, and the host refuses a plugin whose first line is anything else.
// Log with [Logger], which writes to stderr.
func Serve(a Adapter) {
	if os.Getenv(Handshake.MagicCookieKey) != Handshake.MagicCookieValue {
		fmt.Fprintf(os.Stderr, "%s is a FaultMaven adapter plugin: the hub launches it (see `faultmaven plugins list`); it is not meant to be run by hand\n", os.Args[0])
		os.Exit(1)
	}
	if a == nil {
		fmt.Fprintln(os.Stderr, "sdk.Serve: nil adapter")
		os.Exit(1)
	}
	go watchParent(os.Getppid(), time.Second)
	plugin.Serve(&plugin.ServeConfig{
		HandshakeConfig:  Handshake,
		VersionedPlugins: map[int]plugin.PluginSet{ProtocolVersion: {pluginKey: &grpcPlugin{impl: a}}},
		GRPCServer:       plugin.DefaultGRPCServer,
		Logger:           hclogger(),
	})
	os.Exit(0)
}

// watchParent exits the process once its parent is gone. When the host
// dies the kernel re-parents the plugin (to init or a subreaper), so the
// parent pid changes; polling is the portable way to notice on Linux and
// macOS without cgo.
func watchParent(ppid int, every time.Duration) {
	for {
		time.Sleep(every)
		if os.Getppid() != ppid {
			hclogger().Warn("host process is gone; plugin exiting", "parent_pid", ppid)
			os.Exit(2)
		}
	}
}
