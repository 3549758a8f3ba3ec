package hub

// subscribers is a channel's subscriber set: a slice for fast fan-out and
// an index for O(1) removal.
type subscribers struct {
	list  []Subscriber
	index map[Subscriber]int
}

func newSubscribers() *subscribers {
	return &subscribers{index: make(map[Subscriber]int)}
}

func (s *subscribers) len() int { return len(s.list) }

func (s *subscribers) add(sub Subscriber) {
	if _, ok := s.index[sub]; ok {
		return
	}
	s.index[sub] = len(s.list)
	s.list = append(s.list, sub)
}

func (s *subscribers) remove(sub Subscriber) bool {
	i, ok := s.index[sub]
	if !ok {
		return false
	}
	last := len(s.list) - 1
	s.list[i] = s.list[last]
	s.index[s.list[i]] = i
	s.list[last] = nil
	s.list = s.list[:last]
	delete(s.index, sub)
	return true
}
