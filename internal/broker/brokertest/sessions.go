package brokertest

import (
	"bytes"
	"sync"
	"testing"
	"time"
)

// testSessions checks a shared backend's Sessions: a record put on one
// node is taken on another once, whole, and is gone once its time is up.
func testSessions(t *testing.T, s Setup) {
	a, b := s.pair(t)
	if a.b.Sessions == nil {
		if s.MultiNode {
			t.Fatal("a backend that crosses processes has no Sessions")
		}
		return // a single node keeps its sessions on disk
	}
	key, data := "k-"+unique(), []byte("\x00saved\xffsocket")
	if err := a.b.Sessions.PutSession(ctx(t), key, data, time.Minute); err != nil {
		t.Fatal(err)
	}
	// Nodes racing for it: exactly one gets it.
	var mu sync.Mutex
	var got [][]byte
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			v, err := b.b.Sessions.TakeSession(ctx(t), key)
			if err != nil {
				t.Error(err)
			}
			if v != nil {
				mu.Lock()
				got = append(got, v)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if len(got) != 1 || !bytes.Equal(got[0], data) {
		t.Fatalf("takers got %q, want one %q", got, data)
	}
	if v, err := a.b.Sessions.TakeSession(ctx(t), "never-"+unique()); v != nil || err != nil {
		t.Fatalf("an unknown key gave %q, %v", v, err)
	}
	// AddSession keeps a record only where there is none.
	added := "added-" + unique()
	if err := a.b.Sessions.AddSession(ctx(t), added, []byte("first"), time.Minute); err != nil {
		t.Fatal(err)
	}
	if err := b.b.Sessions.AddSession(ctx(t), added, []byte("second"), time.Minute); err != nil {
		t.Fatal(err)
	}
	if v, err := b.b.Sessions.TakeSession(ctx(t), added); string(v) != "first" || err != nil {
		t.Fatalf("after two adds the record is %q (%v), want the first", v, err)
	}
	if err := a.b.Sessions.AddSession(ctx(t), added, []byte("again"), time.Minute); err != nil {
		t.Fatal(err)
	}
	if v, err := b.b.Sessions.TakeSession(ctx(t), added); string(v) != "again" || err != nil {
		t.Fatalf("an add after the take kept %q (%v), want it kept", v, err)
	}
	short := "short-" + unique()
	if err := a.b.Sessions.PutSession(ctx(t), short, data, 100*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond)
	if v, err := b.b.Sessions.TakeSession(ctx(t), short); v != nil || err != nil {
		t.Fatalf("an expired record gave %q, %v", v, err)
	}
}
