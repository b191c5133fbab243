package pluginhost_test

import (
	"os"
	"testing"

	"github.com/faultmaven/faultmaven/sdk"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	if os.Getenv(sdk.Handshake.MagicCookieKey) == sdk.Handshake.MagicCookieValue {
		serveFixture()
		os.Exit(0)
	}
	goleak.VerifyTestMain(m)
}
