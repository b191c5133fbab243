package store_test

import (
	"testing"

	"github.com/faultmaven/faultmaven/core/store/storetest"
)

func TestConformance(t *testing.T) {
	for _, b := range storetest.Backends() {
		t.Run(b.Name, func(t *testing.T) { storetest.Run(t, b) })
	}
}
