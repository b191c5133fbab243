package sdk

import plugin "github.com/hashicorp/go-plugin"

// ProtocolVersion is the plugin protocol this SDK speaks.
const ProtocolVersion = 1

// Version is the SDK's own version, reported in plugin metadata.
const Version = "1.0.0"

// pluginKey names the one plugin a FaultMaven executable dispenses.
const pluginKey = "adapter"

// Handshake is the go-plugin handshake shared by the hub and every plugin.
// The magic cookie only tells a plugin binary it was launched by a host; it
// is not a security measure (the host verifies the binary's checksum).
var Handshake = plugin.HandshakeConfig{
	ProtocolVersion:  ProtocolVersion,
	MagicCookieKey:   "FAULTMAVEN_PLUGIN_MAGIC_COOKIE",
	MagicCookieValue: "7b2c1b5e-faultmaven-adapter-v1",
}

// PluginMap returns the versioned plugin set a host passes to go-plugin's
// ClientConfig.VersionedPlugins.
func PluginMap() map[int]plugin.PluginSet {
	return map[int]plugin.PluginSet{
		ProtocolVersion: {pluginKey: &grpcPlugin{}},
	}
}

// Dispense returns the typed client of a connected go-plugin client.
func Dispense(rpc plugin.ClientProtocol) (*Client, error) {
	raw, err := rpc.Dispense(pluginKey)
	if err != nil {
		return nil, err
	}
	c, ok := raw.(*Client)
	if !ok {
		return nil, Errorf(CodeInternal, "plugin dispensed %T, want *sdk.Client", raw)
	}
	return c, nil
}
