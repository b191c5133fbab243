package opensearchadapter_test

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain checks no test leaves a goroutine behind: the adapter closes
// its opensearch-go clients on Remove and Close, and a search never
// outlives its call.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
