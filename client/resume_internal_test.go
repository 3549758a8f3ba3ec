package client

import "testing"

// A real server never sends a publication twice nor skips one; these
// check that the client would still deliver each once and report holes.
func TestStreamAccept(t *testing.T) {
	at := func(off uint64, epoch string) Position { return Position{Offset: off, Epoch: epoch} }
	type step struct {
		p       Position
		deliver bool
		reason  string // of the gap reported; "" for none
	}
	for _, tc := range []struct {
		name  string
		s     stream
		steps []step
	}{
		{"in order", stream{pos: at(2, "e")}, []step{{at(3, "e"), true, ""}, {at(4, "e"), true, ""}}},
		{"duplicates dropped", stream{pos: at(2, "e")}, []step{
			{at(2, "e"), false, ""}, {at(1, "e"), false, ""}, {at(3, "e"), true, ""}, {at(3, "e"), false, ""}}},
		{"gap reported once", stream{pos: at(2, "e")}, []step{
			{at(5, "e"), true, "offsets 3 to 4 missed"}, {at(6, "e"), true, ""}}},
		{"epoch changed", stream{pos: at(2, "e")}, []step{
			{at(1, "f"), true, "epoch changed"}, {at(2, "f"), true, ""}}},
		{"first epoch adopted", stream{}, []step{{at(1, "e"), true, ""}, {at(1, "e"), false, ""}}},
		{"holes in a partial replay are reported already", stream{pos: at(1, "e"), settle: 9}, []step{
			{at(4, "e"), true, ""}, {at(9, "e"), true, ""}, {at(11, "e"), true, "offset 10 missed"}}},
		{"no offset, nothing tracked", stream{pos: at(2, "e")}, []step{{at(0, ""), true, ""}, {at(3, "e"), true, ""}}},
	} {
		s := tc.s
		for i, st := range tc.steps {
			deliver, gap := s.accept(st.p)
			reason := ""
			if gap != nil {
				reason = gap.Reason
				if !gap.Gap || gap.Recovered || gap.To != st.p {
					t.Errorf("%s, step %d: gap %+v", tc.name, i, gap)
				}
			}
			if deliver != st.deliver || reason != st.reason {
				t.Errorf("%s, step %d (%+v): deliver %v, gap %q; want %v, %q", tc.name, i, st.p, deliver, reason, st.deliver, st.reason)
			}
		}
	}
}
