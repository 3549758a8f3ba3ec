package herald

import (
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// runtimeSamples are the runtime and process metrics operators look for.
var runtimeSamples = []string{"go_goroutines", "go_memstats_alloc_bytes", "go_memstats_heap_inuse_bytes",
	"process_resident_memory_bytes", "process_open_fds"}

// metricsPage fetches a metrics page.
func metricsPage(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("%s: %d %s", url, resp.StatusCode, b)
	}
	return string(b)
}

// hasSample reports whether a metrics page has a sample of metric.
func hasSample(page, metric string) bool {
	return slices.ContainsFunc(strings.Split(page, "\n"), func(line string) bool {
		return strings.HasPrefix(line, metric+" ") || strings.HasPrefix(line, metric+"{")
	})
}

func TestMetricsHaveTheRuntimeAndTheProcess(t *testing.T) {
	s := startNode(t, testConfig())
	page := metricsPage(t, s.srv.URL+"/metrics")
	for _, m := range append(runtimeSamples, "herald_connections") {
		if !hasSample(page, m) {
			t.Errorf("/metrics lacks %s", m)
		}
	}
	dialWS(t, s.wsURL(""), nil).ok(map[string]any{"op": "ping"}) // one more descriptor open
	if fds := s.metric(t, "process_open_fds"); fds < 1 {
		t.Errorf("process_open_fds = %v with a connection open", fds)
	}
	if rss := s.metric(t, "process_resident_memory_bytes"); rss < 1<<20 {
		t.Errorf("process_resident_memory_bytes = %v", rss)
	}
	// A second node in the process has its own registry and its own copy.
	other := startNode(t, testConfig())
	if page := metricsPage(t, other.srv.URL+"/metrics"); !hasSample(page, "go_goroutines") {
		t.Error("a second node's /metrics lacks go_goroutines")
	}
}

// An embedding program's registry may hold the runtime collectors
// already, the default registry from the start: the node uses the
// registry's own, and leaves them there when it shuts down.
func TestRuntimeMetricsInARegistryThatHasThem(t *testing.T) {
	custom := prometheus.NewRegistry()
	custom.MustRegister(collectors.NewGoCollector(collectors.WithGoCollectorRuntimeMetrics(collectors.MetricsGC)))
	defaultRegistry, ok := prometheus.DefaultRegisterer.(*prometheus.Registry)
	if !ok {
		t.Fatal("the default registerer is not a *prometheus.Registry")
	}
	for name, reg := range map[string]*prometheus.Registry{"default": defaultRegistry, "custom": custom} {
		t.Run(name, func(t *testing.T) {
			n, err := New(testConfig(), WithRegistry(reg), WithLogger(slog.New(slog.DiscardHandler)))
			if err != nil {
				t.Fatalf("New with a registry that has runtime collectors: %v", err)
			}
			srv := httptest.NewServer(promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
			defer srv.Close()
			page := metricsPage(t, srv.URL)
			for _, m := range []string{"go_goroutines", "process_open_fds", "herald_connections"} {
				if !hasSample(page, m) {
					t.Errorf("registry lacks %s", m)
				}
			}
			if err := n.Shutdown(t.Context()); err != nil {
				t.Fatal(err)
			}
			page = metricsPage(t, srv.URL)
			if !hasSample(page, "go_goroutines") || hasSample(page, "herald_connections") {
				t.Error("after Shutdown the registry should keep its Go collector and lose herald's metrics")
			}
		})
	}
}

// A node that put the runtime collectors in its registry takes them out
// with its own metrics, so the next node on that registry gets them.
func TestRuntimeMetricsFollowTheNodeOnASharedRegistry(t *testing.T) {
	reg := prometheus.NewRegistry()
	for i := range 2 {
		n, err := New(testConfig(), WithRegistry(reg), WithLogger(slog.New(slog.DiscardHandler)))
		if err != nil {
			t.Fatalf("node %d: %v", i, err)
		}
		srv := httptest.NewServer(promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
		if page := metricsPage(t, srv.URL); !hasSample(page, "go_goroutines") || !hasSample(page, "process_open_fds") {
			t.Errorf("node %d: the registry lacks the runtime metrics", i)
		}
		srv.Close()
		if err := n.Shutdown(t.Context()); err != nil {
			t.Fatal(err)
		}
	}
}

// A close code a client picks is counted under "other"; the codes
// herald knows keep their own label.
func TestDisconnectCodesAreBounded(t *testing.T) {
	s := startNode(t, testConfig())
	known := map[int]bool{1000: true, 1001: true, 1013: true, 4001: true, 4003: true, 4004: true, 4005: true, 4006: true}
	var random []int
	for len(random) < 3 {
		if code := 3000 + rand.IntN(2000); !known[code] && !slices.Contains(random, code) {
			random = append(random, code)
		}
	}
	for _, code := range append([]int{1000}, random...) {
		c := dialWS(t, s.wsURL(""), nil)
		c.ok(map[string]any{"op": "ping"})
		msg := websocket.FormatCloseMessage(code, "bye")
		if err := c.conn.WriteControl(websocket.CloseMessage, msg, time.Now().Add(time.Second)); err != nil {
			t.Fatal(err)
		}
	}
	waitUntil(t, "the random codes counted as other", func() bool {
		return s.metric(t, `herald_disconnects_total{code="other"}`) == float64(len(random))
	})
	if got := s.metric(t, `herald_disconnects_total{code="1000"}`); got != 1 {
		t.Errorf(`herald_disconnects_total{code="1000"} = %v, want 1`, got)
	}
	page := metricsPage(t, s.srv.URL+"/metrics")
	for _, code := range random {
		if strings.Contains(page, fmt.Sprintf(`herald_disconnects_total{code="%d"}`, code)) {
			t.Errorf("code %d has a label of its own", code)
		}
	}
}
