package bench

import (
	"os/exec"
	"syscall"
)

// setChildAttrs makes the kernel kill a child when this process dies, so
// that no server or worker outlives an interrupted bench.
func setChildAttrs(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}

// ipBindAddressNoPort is IP_BIND_ADDRESS_NO_PORT from linux/in.h.
const ipBindAddressNoPort = 24

// dialControl lets a socket bound to a source address get its port at
// connect time, when the whole 4-tuple is known: ports still in TIME_WAIT
// from an earlier run (the worker closes first, so its side keeps them for
// a minute) can then be reused on loopback (tcp_tw_reuse), instead of
// bind() failing with "address already in use".
func dialControl(network, address string, c syscall.RawConn) error {
	var serr error
	if err := c.Control(func(fd uintptr) {
		serr = syscall.SetsockoptInt(int(fd), syscall.IPPROTO_IP, ipBindAddressNoPort, 1)
	}); err != nil {
		return err
	}
	return serr
}
