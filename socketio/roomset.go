package socketio

import "slices"

// roomSet is the rooms a socket joined. Most sockets are in a handful, so
// a short list serves them with no map (a map costs a socket ~200 bytes
// for its first room); past smallRoomSet rooms an index keeps lookups
// constant-time for the few sockets in many.
type roomSet struct {
	list  []string
	index map[string]struct{}
}

const smallRoomSet = 8

func (r *roomSet) has(room string) bool {
	if r.index != nil {
		_, ok := r.index[room]
		return ok
	}
	for _, x := range r.list {
		if x == room {
			return true
		}
	}
	return false
}

// add adds room and reports whether it was new.
func (r *roomSet) add(room string) bool {
	if r.has(room) {
		return false
	}
	r.list = append(r.list, room)
	if r.index != nil {
		r.index[room] = struct{}{}
	} else if len(r.list) > smallRoomSet {
		r.index = make(map[string]struct{}, len(r.list))
		for _, x := range r.list {
			r.index[x] = struct{}{}
		}
	}
	return true
}

// remove removes room and reports whether it was there.
func (r *roomSet) remove(room string) bool {
	if !r.has(room) {
		return false
	}
	for i, x := range r.list {
		if x == room {
			r.list = slices.Delete(r.list, i, i+1)
			break
		}
	}
	if r.index != nil {
		delete(r.index, room)
	}
	if len(r.list) == 0 {
		*r = roomSet{}
	}
	return true
}

func (r *roomSet) len() int { return len(r.list) }

// all returns a copy of the rooms, in the order joined.
func (r *roomSet) all() []string { return append([]string(nil), r.list...) }
