package sdk

import "sync"

// Instances is the table of an adapter's configured instances, keyed by
// instance name: one plugin process serves many clusters, and the host may
// configure one instance while another is being searched. T is whatever
// the adapter keeps per instance (its parsed config, a client).
//
// The zero value is an empty table ready to use. It is safe for concurrent
// use and must not be copied after first use. Put and Remove hand back the
// value they displaced, so the adapter can release it (close idle
// connections) outside the table's lock.
type Instances[T any] struct {
	mu sync.RWMutex
	m  map[string]T
}

// Get returns the named instance, or an [*Error] with CodeNotFound, which
// is what the host expects of a call naming an unknown instance.
func (in *Instances[T]) Get(name string) (T, error) {
	in.mu.RLock()
	v, ok := in.m[name]
	in.mu.RUnlock()
	if !ok {
		var zero T
		return zero, Errorf(CodeNotFound, "unknown instance %q", name)
	}
	return v, nil
}

// Put sets the named instance, returning the value it replaced, if any.
func (in *Instances[T]) Put(name string, v T) (old T, replaced bool) {
	in.mu.Lock()
	defer in.mu.Unlock()
	if in.m == nil {
		in.m = make(map[string]T)
	}
	old, replaced = in.m[name]
	in.m[name] = v
	return old, replaced
}

// Remove forgets the named instance, returning its value, if it had one.
// Removing an unknown instance is not an error, as [Adapter.Remove] asks.
func (in *Instances[T]) Remove(name string) (old T, removed bool) {
	in.mu.Lock()
	defer in.mu.Unlock()
	old, removed = in.m[name]
	delete(in.m, name)
	return old, removed
}

// RemoveAll empties the table and returns what it held, in no particular
// order; an adapter's Close releases them.
func (in *Instances[T]) RemoveAll() []T {
	in.mu.Lock()
	m := in.m
	in.m = nil
	in.mu.Unlock()
	all := make([]T, 0, len(m))
	for _, v := range m {
		all = append(all, v)
	}
	return all
}

// Len returns the number of instances.
func (in *Instances[T]) Len() int {
	in.mu.RLock()
	defer in.mu.RUnlock()
	return len(in.m)
}
