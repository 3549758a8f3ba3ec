//go:build loadtest

package bench

import (
	"context"
	"fmt"
	"testing"
	"time"
)

// TestSoakEndToEnd runs a short soak of the built binary: a few hundred
// connections of both protocols for 30s with heavy churn, publishes and
// pushes, and checks that it passes with every figure present.
func TestSoakEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a server and workers for 40s")
	}
	bin := buildHerald(t)
	exported := goroutinesExported(t, bin)
	var r SoakReport
	runBenchCLI(t, bin, &r, "soak", "--conns", "300", "--procs", "2", "--duration", "30s", "--interval", "5s",
		"--warmup", "10s", "--churn", "30", "--channels", "20", "--rate", "40", "--users", "100", "--push-rate", "20",
		"--sio", "30", "--max-rss-growth", "100", "--json")
	if len(r.Failures) != 0 {
		t.Fatalf("failures: %q", r.Failures)
	}
	s, a := r.Summary, r.Account
	if s.Lost != 0 || s.Expected < 10000 || s.Received != s.Expected {
		t.Errorf("deliveries: %+v", s)
	}
	// 30% of 300 a minute for 30s is 45; the first second has none.
	if a.Churned < 35 || a.Lives != 300+a.Churned || a.ServerClosed != 0 || a.DialFailed != 0 {
		t.Errorf("churn: %+v", a)
	}
	for name, c := range map[string]soakCounts{"publications": a.Pub, "pushes": a.Push, "herald": a.Herald, "socketio": a.SocketIO} {
		if c.Expected == 0 || c.Missing() != 0 || c.Duplicates != 0 || c.Foreign != 0 || c.Extra != 0 {
			t.Errorf("%s: %+v", name, c)
		}
	}
	// 40/s and 20/s for 30s, paced on a ticker: a tick either side of the end.
	if r.Load.Published < 1190 || r.Load.Published > 1210 || r.Load.Pushed < 590 || r.Load.Pushed > 610 || r.Load.Refused+r.Load.Failed != 0 {
		t.Errorf("load: %+v", r.Load)
	}
	checkSoakSamples(t, r, exported)
}

func checkSoakSamples(t *testing.T, r SoakReport, goroutines bool) {
	t.Helper()
	if n := len(r.Samples); n < 8 || !r.Samples[n-1].Final {
		t.Fatalf("%d samples, the last final: want 0s, 5s … 30s and the final one", n)
	}
	for _, s := range r.Samples {
		if s.RSSKB <= 0 || s.FDs < 300/2 || s.Threads <= 0 || s.ServerConns < 250 || s.Live < 250 || (goroutines && s.Goroutines <= 0) {
			t.Errorf("sample %+v", s)
		}
	}
	s := r.Summary
	if s.Samples < 5 || s.RSSBaselineKB <= 0 || s.RSSEndKB <= 0 || s.RSSMaxKB < s.RSSEndKB || s.FDsMin <= 0 || s.FDsMax < s.FDsMin {
		t.Errorf("summary: %+v", s)
	}
	if goroutines && (s.GoroutinesMin <= 0 || s.GoroutinesMax < s.GoroutinesMin) {
		t.Errorf("goroutines: %d – %d", s.GoroutinesMin, s.GoroutinesMax)
	}
}

// goroutinesExported says whether the server's /metrics has go_goroutines,
// which the soak then must report.
func goroutinesExported(t *testing.T, bin string) bool {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	srv, err := startServer(ctx, bin, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer srv.stop()
	n := srv.goroutines(ctx)
	if n < 0 {
		t.Log("the server exports no go_goroutines; the soak reports them as n/a")
	}
	return n >= 0
}

// TestSoakWorkerFindsLoss runs a soak worker in this process against a
// real server: after real publishes and pushes its account is clean, and
// a message the table says was accepted but that never was sent counts
// as lost on every connection it was owed to.
func TestSoakWorkerFindsLoss(t *testing.T) {
	bin := buildHerald(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	srv, err := startServer(ctx, bin, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { srv.stop(); checkNoLeftovers(t, bin) }()
	t.Setenv(soakTokenSecretEnv, srv.tokenSecret)

	const conns, channels, users = 40, 4, 10
	next, stdin, done := runInProcess(t, ctx, runSoakWorker, "--url", srv.wsURL, "--sio-url", sioURL(srv.httpURL),
		"--conns", fmt.Sprint(conns), "--channels", fmt.Sprint(channels), "--users", fmt.Sprint(users),
		"--sio-percent", "50", "--local-ip", "127.0.0.2", "--deadline", "1m")
	if m := next("ready"); m.Connected != conns || m.Failed != 0 {
		t.Fatalf("ready: %+v", m)
	}
	load := &soakLoad{httpURL: srv.httpURL, apiKey: srv.apiKey, rate: 40, pushRate: 20, channels: channels, users: users, size: 64, conc: 2}
	loadCtx, stop := context.WithTimeout(ctx, 2*time.Second)
	load.run(loadCtx)
	stop()
	if st := load.snapshot(); st.Published < 60 || st.Pushed < 30 || st.Refused+st.Failed != 0 {
		t.Fatalf("load: %+v", st)
	}
	ask := func(line string) soakAccount {
		t.Helper()
		if line != "" {
			fmt.Fprintln(stdin, line)
		}
		fmt.Fprintln(stdin, "final")
		m := next("result")
		if m.Soak == nil {
			t.Fatalf("result without an account: %+v", m)
		}
		return *m.Soak
	}
	var a soakAccount
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		a = ask(load.takeTable(time.Now().Add(time.Hour)))
		if a.Total().Missing() == 0 || time.Now().After(deadline) {
			break
		}
	}
	if a.Pub.Expected == 0 || a.Push.Expected == 0 || a.Herald.Expected == 0 || a.SocketIO.Expected == 0 ||
		a.Total().Missing() != 0 || a.Total().Duplicates != 0 || a.Total().Extra != 0 || a.Live != conns {
		t.Fatalf("account after real traffic: %+v", a)
	}

	// Seq 1000 of channel 0 and of user 0's pushes, "accepted" now: every
	// open connection of that channel, and of that user, owes it.
	now := time.Now().UnixNano()
	lost := ask(fmt.Sprintf(`table {"e":[[%d,0,1000,%d],[%d,0,1000,%d]]}`, kindPub, now, kindPush, now))
	var onChannel, ofUser int64
	for slot := range conns {
		ch, u, _ := soakAssign(slot, channels, users, 50)
		if ch == 0 {
			onChannel++
		}
		if u == 0 {
			ofUser++
		}
	}
	if lost.Pub.Missing() != onChannel || lost.Push.Missing() != ofUser || onChannel == 0 {
		t.Errorf("missing %d publications and %d pushes; want %d and %d", lost.Pub.Missing(), lost.Push.Missing(), onChannel, ofUser)
	}
	stdin.Close()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-ctx.Done():
		t.Fatal("the soak worker did not exit when its stdin closed")
	}
}
