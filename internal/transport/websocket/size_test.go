package websocket

import (
	"testing"
	"unsafe"
)

// A server holds one Conn per client: the budget keeps it in its Go size
// class (docs/architecture.md, memory per connection).
func TestConnStaysInItsSizeClass(t *testing.T) {
	if unsafe.Sizeof(uintptr(0)) != 8 {
		t.Skip("budgets are for 64-bit platforms")
	}
	if got := unsafe.Sizeof(Conn{}); got > 208 {
		t.Errorf("Conn is %d bytes, budget 208", got)
	}
}
