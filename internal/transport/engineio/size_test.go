package engineio

import (
	"testing"
	"unsafe"
)

// A server holds one Session per client: the budget keeps it in its Go
// size class (docs/architecture.md, memory per connection).
func TestSessionStaysInItsSizeClass(t *testing.T) {
	if unsafe.Sizeof(uintptr(0)) != 8 {
		t.Skip("budgets are for 64-bit platforms")
	}
	if got := unsafe.Sizeof(Session{}); got > 192 {
		t.Errorf("Session is %d bytes, budget 192", got)
	}
}
