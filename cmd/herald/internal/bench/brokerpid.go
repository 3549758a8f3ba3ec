package bench

import (
	"bufio"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// The broker of a cluster run is a server the bench did not start (the
// machine's Redis or NATS), but the nodes' load lands on it: its CPU is
// part of what a cluster costs. brokerPID finds the process listening on
// the broker's port through /proc, so that the run can measure it; 0
// when it cannot be found (another user's process, or not on this
// machine's loopback).

// brokerPort is the TCP port of the broker's first server.
func brokerPort(broker string) int {
	switch broker {
	case "redis":
		return 6379
	case "nats":
		return 4222
	}
	first, _, _ := strings.Cut(broker, ",")
	u, err := url.Parse(first)
	if err != nil {
		return 0
	}
	if p, err := strconv.Atoi(u.Port()); err == nil {
		return p
	}
	if u.Scheme == "nats" {
		return 4222
	}
	return 6379
}

// brokerPID is the process listening on 127.0.0.1 (or any address) at
// the broker's port; 0 if none is found.
func brokerPID(broker string) int {
	port := brokerPort(broker)
	if port == 0 {
		return 0
	}
	inode := listeningInode(port)
	if inode == "" {
		return 0
	}
	return pidWithSocket(inode)
}

// listeningInode finds the socket inode of a TCP listener on port in
// /proc/net/tcp (IPv4).
func listeningInode(port int) string {
	f, err := os.Open("/proc/net/tcp")
	if err != nil {
		return ""
	}
	defer f.Close()
	suffix := fmt.Sprintf(":%04X", port)
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fs := strings.Fields(sc.Text())
		// local_address, st (0A is LISTEN), ..., inode is the tenth field.
		if len(fs) > 9 && strings.HasSuffix(fs[1], suffix) && fs[3] == "0A" {
			return fs[9]
		}
	}
	return ""
}

// pidWithSocket finds the process holding socket inode.
func pidWithSocket(inode string) int {
	want := "socket:[" + inode + "]"
	procs, _ := filepath.Glob("/proc/[0-9]*")
	for _, dir := range procs {
		fds, _ := filepath.Glob(dir + "/fd/*")
		for _, fd := range fds {
			if l, err := os.Readlink(fd); err == nil && l == want {
				pid, _ := strconv.Atoi(filepath.Base(dir))
				return pid
			}
		}
	}
	return 0
}
