package herald

import (
	"context"
	"encoding/json"
	"sync"
	"testing"
)

// TestChurnNeverCutsABystander: while a channel is published to flat out,
// clients keep connecting, reading a little and hanging up without
// reading the rest (so the server's writes meet reset sockets). No
// connection may be cut that its client did not cut: each gets its reply
// and the next 100 publications.
func TestChurnNeverCutsABystander(t *testing.T) {
	clients, rounds, reads := 100, 40, 100
	if raceDetector {
		clients, rounds = 40, 20
	}
	s := startNode(t, resumeConfig())
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		for {
			select {
			case <-stop:
				return
			default:
			}
			_, _ = s.node.Publish(context.Background(), "feed:churn", json.RawMessage("1"))
		}
	}()
	var wg sync.WaitGroup
	for range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for round := range rounds {
				if err := readThenHangUp(s.wsURL(""), reads); err != nil {
					t.Errorf("round %d: %v", round, err)
					return
				}
			}
		}()
	}
	wg.Wait()
}

func readThenHangUp(url string, reads int) error {
	c, err := dialLean(url)
	if err != nil {
		return err
	}
	defer c.close()
	if _, err := c.subscribe("feed:churn", &resumePos{}); err != nil {
		return err
	}
	for range reads {
		if _, err := c.next(); err != nil {
			return err
		}
	}
	return nil
}
