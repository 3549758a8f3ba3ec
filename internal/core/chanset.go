package core

import "slices"

// chanSet is the channels a client is subscribed to, sorted. It is
// replaced, never changed, so fan-out reads it without a lock while
// subscribing (under the client's lock) makes a new one. Most clients are
// in a handful of channels: a short sorted list serves them with no map.
type chanSet []string

func (s chanSet) has(ch string) bool {
	_, ok := slices.BinarySearch(s, ch)
	return ok
}

// with returns the set with ch added.
func (s chanSet) with(ch string) chanSet {
	i, ok := slices.BinarySearch(s, ch)
	if ok {
		return s
	}
	return slices.Insert(slices.Clip(s), i, ch)
}

// without returns the set with ch removed.
func (s chanSet) without(ch string) chanSet {
	i, ok := slices.BinarySearch(s, ch)
	if !ok {
		return s
	}
	out := slices.Delete(slices.Clone(s), i, i+1)
	if len(out) == 0 {
		return nil
	}
	return out
}
