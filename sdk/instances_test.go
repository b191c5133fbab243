package sdk_test

import (
	"fmt"
	"slices"
	"strconv"
	"sync"
	"testing"

	"github.com/faultmaven/faultmaven/sdk"
)

func TestInstances(t *testing.T) {
	var in sdk.Instances[*string] // the zero value is ready
	a, b := "a", "b"

	if _, err := in.Get("prod"); sdk.CodeOf(err) != sdk.CodeNotFound {
		t.Fatalf("Get on an empty table: %v, want code not_found", err)
	}
	if old, removed := in.Remove("prod"); removed || old != nil {
		t.Errorf("Remove on an empty table: %v %v, want nothing removed", old, removed)
	}
	if old, replaced := in.Put("prod", &a); replaced || old != nil {
		t.Errorf("first Put: replaced %v %v, want nothing", old, replaced)
	}
	if got, err := in.Get("prod"); err != nil || got != &a {
		t.Errorf("Get: %v %v, want the value put", got, err)
	}
	if old, replaced := in.Put("prod", &b); !replaced || old != &a {
		t.Errorf("second Put: %v %v, want the first value handed back", old, replaced)
	}
	in.Put("staging", &a)
	if n := in.Len(); n != 2 {
		t.Errorf("Len %d, want 2", n)
	}
	if old, removed := in.Remove("prod"); !removed || old != &b {
		t.Errorf("Remove: %v %v, want the current value handed back", old, removed)
	}
	_, err := in.Get("prod")
	if sdk.CodeOf(err) != sdk.CodeNotFound || err.Error() != `not_found: unknown instance "prod"` {
		t.Errorf("Get after Remove: %v, want not_found naming the instance", err)
	}
	if all := in.RemoveAll(); len(all) != 1 || all[0] != &a || in.Len() != 0 {
		t.Errorf("RemoveAll: %v, then Len %d; want the one value left, then 0", all, in.Len())
	}
	in.Put("again", &a) // usable after RemoveAll
	if in.Len() != 1 {
		t.Errorf("Len after Put following RemoveAll: %d, want 1", in.Len())
	}
}

// TestInstancesConcurrent races Put, Get, Remove and Len; run with -race.
// Every value put is handed back exactly once, by a later Put, a Remove or
// the final RemoveAll, which is what lets adapters close each client once.
func TestInstancesConcurrent(t *testing.T) {
	var in sdk.Instances[int]
	const workers, rounds = 4, 500
	var mu sync.Mutex
	var back []int
	giveBack := func(v int, ok bool) {
		if ok {
			mu.Lock()
			back = append(back, v)
			mu.Unlock()
		}
	}
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := range rounds {
				name := "i" + strconv.Itoa(i%7)
				giveBack(in.Put(name, w*rounds+i))
				if _, err := in.Get(name); err != nil && sdk.CodeOf(err) != sdk.CodeNotFound {
					t.Errorf("Get: %v", err)
				}
				if i%3 == 0 {
					giveBack(in.Remove(name))
				}
				_ = in.Len()
			}
		})
	}
	wg.Wait()
	back = append(back, in.RemoveAll()...)
	slices.Sort(back)
	distinct := len(slices.Compact(slices.Clone(back)))
	if len(back) != workers*rounds || distinct != workers*rounds {
		t.Errorf("%d values handed back (%d distinct), want each of the %d put once", len(back), distinct, workers*rounds)
	}
}

// An adapter keeps its per-instance state in an Instances table and
// releases what Configure replaces.
func ExampleInstances() {
	type client struct{ url string }
	var instances sdk.Instances[*client]

	instances.Put("prod", &client{url: "https://logs.example"})
	if old, replaced := instances.Put("prod", &client{url: "https://logs2.example"}); replaced {
		fmt.Println("closing", old.url)
	}
	c, _ := instances.Get("prod")
	fmt.Println("using", c.url)
	_, err := instances.Get("staging")
	fmt.Println(err, sdk.CodeOf(err) == sdk.CodeNotFound)
	// Output:
	// closing https://logs.example
	// using https://logs2.example
	// not_found: unknown instance "staging" true
}
