package store

import (
	"testing"
	"time"
)

func TestBudgetWaitsForRoom(t *testing.T) {
	b := newBudget(10)
	b.take(8)
	took := make(chan struct{})
	go func() {
		b.take(5)
		close(took)
	}()
	select {
	case <-took:
		t.Fatal("took 5 bytes with 2 left")
	case <-time.After(50 * time.Millisecond):
	}
	b.give(8)
	<-took
	b.give(5)
	b.take(100) // larger than the budget, but alone
	b.give(100)
}
