package sioproto

// IsReservedEvent reports whether name is one of the event names the
// reference refuses from clients because they have a special meaning on
// either side: "connect", "connect_error", "disconnect", "disconnecting",
// "newListener" and "removeListener". Servers should also refuse to emit
// them.
func IsReservedEvent(name string) bool {
	switch name {
	case "connect", "connect_error", "disconnect", "disconnecting", "newListener", "removeListener":
		return true
	}
	return false
}
