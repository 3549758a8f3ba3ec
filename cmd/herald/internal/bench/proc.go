package bench

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// userHZ is the unit of utime and stime in /proc/PID/stat; Linux exports
// 100 to user space whatever the kernel's own tick.
const userHZ = 100

// Mem is a process's memory from /proc/PID/status and smaps_rollup, in
// kilobytes; zero where the kernel did not say.
type Mem struct {
	RSSKB     int64 `json:"rss_kb"`     // VmRSS
	AnonKB    int64 `json:"anon_kb"`    // RssAnon
	PSSKB     int64 `json:"pss_kb"`     // smaps_rollup Pss
	PrivateKB int64 `json:"private_kb"` // smaps_rollup Private_Clean+Private_Dirty
	Threads   int64 `json:"threads"`    // OS threads
	VmHWMKB   int64 `json:"vm_hwm_kb"`  // peak RSS
	At        int64 `json:"at_unix_ms"` // when it was read
	FDs       int   `json:"fds,omitempty"`
}

// ReadMem reads pid's memory figures.
func ReadMem(pid int) (Mem, error) {
	var m Mem
	st, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return m, err
	}
	m.At = time.Now().UnixMilli()
	fields := kvKB(st)
	m.RSSKB, m.AnonKB, m.Threads, m.VmHWMKB = fields["VmRSS"], fields["RssAnon"], fields["Threads"], fields["VmHWM"]
	if roll, err := os.ReadFile(fmt.Sprintf("/proc/%d/smaps_rollup", pid)); err == nil {
		f := kvKB(roll)
		m.PSSKB = f["Pss"]
		m.PrivateKB = f["Private_Clean"] + f["Private_Dirty"]
	}
	if ents, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid)); err == nil {
		m.FDs = len(ents)
	}
	return m, nil
}

// kvKB parses "Key:   123 kB" lines into numbers (units dropped).
func kvKB(b []byte) map[string]int64 {
	out := map[string]int64{}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		f := strings.Fields(v)
		if len(f) == 0 {
			continue
		}
		if n, err := strconv.ParseInt(f[0], 10, 64); err == nil {
			out[k] = n
		}
	}
	return out
}

// CPUTime is the CPU a process has used, user plus system.
type CPUTime struct {
	User, System time.Duration
	At           time.Time
}

// Total is user plus system time.
func (c CPUTime) Total() time.Duration { return c.User + c.System }

// ReadCPU reads pid's CPU time from /proc/PID/stat.
func ReadCPU(pid int) (CPUTime, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return CPUTime{}, err
	}
	return parseStat(b, time.Now())
}

func parseStat(b []byte, at time.Time) (CPUTime, error) {
	// The command name (field 2) is in parentheses and may hold spaces.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return CPUTime{}, fmt.Errorf("malformed /proc stat")
	}
	f := strings.Fields(string(b[i+1:]))
	// f[0] is field 3 (state); utime and stime are fields 14 and 15.
	if len(f) < 13 {
		return CPUTime{}, fmt.Errorf("malformed /proc stat")
	}
	ut, err1 := strconv.ParseInt(f[11], 10, 64)
	st, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return CPUTime{}, fmt.Errorf("malformed /proc stat")
	}
	tick := time.Second / userHZ
	return CPUTime{User: time.Duration(ut) * tick, System: time.Duration(st) * tick, At: at}, nil
}

// CPUPercent is the share of one core used between two readings (200%
// is both cores of a 2-core machine).
func CPUPercent(a, b CPUTime) float64 {
	wall := b.At.Sub(a.At)
	if wall <= 0 {
		return 0
	}
	return 100 * float64(b.Total()-a.Total()) / float64(wall)
}

// SockStat is the kernel's TCP socket accounting from /proc/net/sockstat.
type SockStat struct {
	TCPInUse int64 `json:"tcp_inuse"`
	TCPAlloc int64 `json:"tcp_alloc"`
	TCPMemKB int64 `json:"tcp_mem_kb"` // buffer memory of all TCP sockets (both ends of loopback)
}

// ReadSockStat reads /proc/net/sockstat.
func ReadSockStat() (SockStat, error) {
	b, err := os.ReadFile("/proc/net/sockstat")
	if err != nil {
		return SockStat{}, err
	}
	var s SockStat
	for _, line := range strings.Split(string(b), "\n") {
		if !strings.HasPrefix(line, "TCP:") {
			continue
		}
		f := strings.Fields(line[4:])
		for i := 0; i+1 < len(f); i += 2 {
			n, _ := strconv.ParseInt(f[i+1], 10, 64)
			switch f[i] {
			case "inuse":
				s.TCPInUse = n
			case "alloc":
				s.TCPAlloc = n
			case "mem":
				s.TCPMemKB = n * int64(os.Getpagesize()) / 1024
			}
		}
	}
	return s, nil
}

// SlabKB returns the kernel's unreclaimable slab memory (SUnreclaim in
// /proc/meminfo), where socket structures live, in kilobytes.
func SlabKB() int64 {
	b, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		return 0
	}
	return kvKB(b)["SUnreclaim"]
}

// MachineCPU is the whole machine's CPU time from /proc/stat.
type MachineCPU struct {
	Busy, SoftIRQ time.Duration // busy includes softirq and irq
	At            time.Time
}

// ReadMachineCPU reads the first line of /proc/stat.
func ReadMachineCPU() (MachineCPU, error) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return MachineCPU{}, err
	}
	return parseMachineStat(b, time.Now())
}

func parseMachineStat(b []byte, at time.Time) (MachineCPU, error) {
	line, _, _ := bytes.Cut(b, []byte("\n"))
	f := strings.Fields(string(line))
	if len(f) < 8 || f[0] != "cpu" {
		return MachineCPU{}, fmt.Errorf("malformed /proc/stat")
	}
	var v [10]int64
	for i := 1; i < len(f) && i <= 10; i++ {
		v[i-1], _ = strconv.ParseInt(f[i], 10, 64)
	}
	// user nice system idle iowait irq softirq steal guest guest_nice;
	// guest time is already in user.
	tick := time.Second / userHZ
	busy := v[0] + v[1] + v[2] + v[5] + v[6] + v[7]
	return MachineCPU{Busy: time.Duration(busy) * tick, SoftIRQ: time.Duration(v[5]+v[6]) * tick, At: at}, nil
}

// Load is how busy the machine was between two readings, in percent of
// one core: all of it; the part in softirq (loopback traffic is received
// there; this kernel charges it to whichever task it interrupted); kernel
// threads (ksoftirqd and friends, mostly doing our network work); and
// user processes that are not ours (other people's work on a shared
// machine, which makes the figures pessimistic).
type Load struct {
	MachinePercent float64 `json:"machine_cpu_percent"`
	SoftIRQPercent float64 `json:"softirq_cpu_percent"`
	KernelPercent  float64 `json:"kernel_threads_cpu_percent"`
	OtherPercent   float64 `json:"other_processes_cpu_percent"`
	// UnattributedPercent is busy time no process still alive at the end
	// accounts for: processes that came and went meanwhile (someone
	// else's tests), and softirq work done while a CPU was otherwise idle.
	UnattributedPercent float64 `json:"unattributed_cpu_percent"`
	OursPercent         float64 `json:"ours_cpu_percent"`
	Cores               int     `json:"cores"`
}

// procTimes is the CPU time of every process, and which are kernel threads.
type procTimes map[int]struct {
	cpu     time.Duration
	kthread bool
}

const pfKthread = 0x00200000 // PF_KTHREAD in /proc/PID/stat flags

func readProcTimes() procTimes {
	out := procTimes{}
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		c, err := parseStat(b, time.Time{})
		if err != nil {
			continue
		}
		kthread := false
		if i := bytes.LastIndexByte(b, ')'); i >= 0 {
			if f := strings.Fields(string(b[i+1:])); len(f) > 6 {
				flags, _ := strconv.ParseUint(f[6], 10, 64)
				kthread = flags&pfKthread != 0
			}
		}
		out[pid] = struct {
			cpu     time.Duration
			kthread bool
		}{c.Total(), kthread}
	}
	return out
}

// loadMeter measures the machine between start and stop.
type loadMeter struct {
	cpu   MachineCPU
	procs procTimes
}

func startLoad() loadMeter {
	m, _ := ReadMachineCPU()
	return loadMeter{cpu: m, procs: readProcTimes()}
}

// stop reports the load since start; ours are the processes of the bench
// (this one, the server it measures, the workers) and are left out of
// the kernel and other figures.
func (l loadMeter) stop(ours []int, cores int) Load {
	m, _ := ReadMachineCPU()
	procs := readProcTimes()
	wall := m.At.Sub(l.cpu.At)
	if wall <= 0 {
		return Load{Cores: cores}
	}
	mine := map[int]bool{}
	for _, pid := range ours {
		mine[pid] = true
	}
	var kernel, other, ourTime time.Duration
	for pid, p := range procs {
		if mine[pid] {
			ourTime += p.cpu - l.procs[pid].cpu
			continue
		}
		d := p.cpu - l.procs[pid].cpu // a process born meanwhile counts from zero
		if p.kthread {
			kernel += d
		} else {
			other += d
		}
	}
	pct := func(d time.Duration) float64 { return 100 * float64(d) / float64(wall) }
	busy := m.Busy - l.cpu.Busy
	return Load{MachinePercent: pct(busy), SoftIRQPercent: pct(m.SoftIRQ - l.cpu.SoftIRQ),
		KernelPercent: pct(kernel), OtherPercent: pct(other), OursPercent: pct(ourTime),
		UnattributedPercent: max(pct(busy-kernel-other-ourTime), 0), Cores: cores}
}

// RunqWait returns how long the threads of pid have waited, runnable, for
// a CPU (the second field of /proc/PID/task/*/schedstat). Threads that
// ended are not counted.
func RunqWait(pid int) time.Duration {
	dir := fmt.Sprintf("/proc/%d/task", pid)
	ents, err := os.ReadDir(dir)
	if err != nil {
		return 0
	}
	var total int64
	for _, e := range ents {
		b, err := os.ReadFile(dir + "/" + e.Name() + "/schedstat")
		if err != nil {
			continue
		}
		if f := strings.Fields(string(b)); len(f) >= 2 {
			n, _ := strconv.ParseInt(f[1], 10, 64)
			total += n
		}
	}
	return time.Duration(total)
}

// runqWaitOf sums RunqWait over several processes.
func runqWaitOf(pids []int) time.Duration {
	var t time.Duration
	for _, pid := range pids {
		t += RunqWait(pid)
	}
	return t
}

// machineCores counts the CPUs in /proc/stat: the machine's, whatever
// this process's affinity (runtime.NumCPU honours taskset).
func machineCores() int {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0
	}
	n := 0
	for _, line := range strings.Split(string(b), "\n") {
		if len(line) > 3 && strings.HasPrefix(line, "cpu") && line[3] >= '0' && line[3] <= '9' {
			n++
		}
	}
	return n
}
