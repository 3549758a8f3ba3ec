package socketio

import (
	"testing"
	"unsafe"
)

// A server holds one Socket and one conn per client: these budgets keep
// them in their Go size classes (docs/architecture.md, memory per
// connection). Growing past one costs every connection the next class.
func TestPerClientStructsStayInTheirSizeClasses(t *testing.T) {
	if unsafe.Sizeof(uintptr(0)) != 8 {
		t.Skip("budgets are for 64-bit platforms")
	}
	if got := unsafe.Sizeof(Socket{}); got > 384 {
		t.Errorf("Socket is %d bytes, budget 384", got)
	}
	if got := unsafe.Sizeof(conn{}); got > 96 {
		t.Errorf("conn is %d bytes, budget 96", got)
	}
}
