package herald

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"
)

func TestNodeHistoryPagesWithNext(t *testing.T) {
	s := startNode(t, resumeConfig())
	ctx := context.Background()
	last := publishN(t, s.node, "feed:go", 250)
	var got []int
	opts, pages := HistoryOptions{Limit: 100}, 0
	for {
		res, err := s.node.History(ctx, "feed:go", opts)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		if res.Offset != 250 || res.Epoch != last.Epoch {
			t.Fatalf("page %d: stream at %d %s", pages, res.Offset, res.Epoch)
		}
		for _, p := range res.Publications {
			got = append(got, int(p.Offset))
		}
		if res.Next == nil {
			break
		}
		if pages > 3 {
			t.Fatal("Next does not end the listing")
		}
		opts = *res.Next
	}
	if pages != 3 || fmt.Sprint(got) != span(1, 250) {
		t.Fatalf("%d pages, offsets %v", pages, got)
	}
	all, err := s.node.History(ctx, "feed:go", HistoryOptions{Since: 240})
	if err != nil || len(all.Publications) != 10 || all.Next != nil {
		t.Fatalf("no limit: %d publications, next %v, %v", len(all.Publications), all.Next, err)
	}
	p := all.Publications[0]
	if p.Channel != "feed:go" || p.Offset != 241 || p.Epoch != last.Epoch || string(p.Data) != "240" ||
		p.Info != nil || time.Since(p.Time) > time.Minute || time.Since(p.Time) < 0 {
		t.Fatalf("publication %+v", p)
	}
}

func TestNodeHistoryEpochAndPublisher(t *testing.T) {
	s := startNode(t, resumeConfig())
	ctx := context.Background()
	publishN(t, s.node, "feed:ep", 4)
	res, err := s.node.History(ctx, "feed:ep", HistoryOptions{Since: 3, Epoch: "0ther"})
	if err != nil || len(res.Publications) != 4 {
		t.Fatalf("another epoch: %d publications, %v; want all 4", len(res.Publications), err)
	}
	c := dialWS(t, s.wsURL(""), nil)
	c.ok(map[string]any{"op": "publish", "channel": "feed:ep", "data": map[string]any{"hi": 1}})
	res, err = s.node.History(ctx, "feed:ep", HistoryOptions{Since: 4, Epoch: res.Epoch})
	if err != nil || len(res.Publications) != 1 {
		t.Fatalf("since 4: %+v, %v", res, err)
	}
	if p := res.Publications[0]; p.Info == nil || p.Info.Client == "" || string(p.Data) != `{"hi":1}` {
		t.Fatalf("a client's publication: %+v", p)
	}
}

func TestNodeHistoryRefusals(t *testing.T) {
	s := startNode(t, resumeConfig())
	ctx := context.Background()
	if _, err := s.node.History(ctx, "bare:x", HistoryOptions{}); !errors.Is(err, ErrHistoryOff) {
		t.Fatalf("history off: %v", err)
	}
	if err := s.node.RemoveHistory(ctx, "bare:x"); !errors.Is(err, ErrHistoryOff) {
		t.Fatalf("remove, history off: %v", err)
	}
	if _, err := s.node.History(ctx, "bad name", HistoryOptions{}); !errors.Is(err, ErrBadChannel) {
		t.Fatalf("bad channel: %v", err)
	}
	if err := s.node.RemoveHistory(ctx, ""); !errors.Is(err, ErrBadChannel) {
		t.Fatalf("remove, bad channel: %v", err)
	}
	if _, err := s.node.History(ctx, "feed:x", HistoryOptions{Limit: -1}); err == nil {
		t.Fatal("a negative limit was taken")
	}
}

func TestNodeRemoveHistoryKeepsThePosition(t *testing.T) {
	s := startNode(t, resumeConfig())
	ctx := context.Background()
	last := publishN(t, s.node, "feed:gorm", 5)
	if err := s.node.RemoveHistory(ctx, "feed:gorm"); err != nil {
		t.Fatal(err)
	}
	res, err := s.node.History(ctx, "feed:gorm", HistoryOptions{})
	if err != nil || len(res.Publications) != 0 || res.Offset != 5 || res.Epoch != last.Epoch {
		t.Fatalf("after remove: %+v, %v", res, err)
	}
	c := dialWS(t, s.wsURL(""), nil)
	r := c.ok(map[string]any{"op": "subscribe", "channel": "feed:gorm", "since": since(3, last.Epoch)})
	if r["recovered"] != false || r["offset"] != 5.0 {
		t.Fatalf("resume after remove: %v", r)
	}
	next := publishN(t, s.node, "feed:gorm", 1)
	if next.Offset != 6 || next.Epoch != last.Epoch {
		t.Fatalf("publish after remove: %+v", next)
	}
}
