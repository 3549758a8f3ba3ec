package herald

import (
	"errors"
	"fmt"

	"github.com/heraldhq/herald/internal/core"
	"github.com/heraldhq/herald/internal/sioboot"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// registerMetrics puts the core's counters, the node's gauges and the
// transports' failure counters in the node's registry. A registry that
// already holds herald's metrics (another node's) is an error, and what
// was registered before it is taken back out.
func (n *Node) registerMetrics(m *core.Metrics, undo *unwind) error {
	cs := append(m.Collectors(), n.gauges()...)
	cs = append(cs, &transportCollector{n})
	cs = append(cs, n.httpCollectors()...)
	for _, c := range cs {
		if err := n.registry.Register(c); err != nil {
			n.unregisterMetrics()
			return fmt.Errorf("herald: registering metrics (does the registry already hold another node's?): %w", err)
		}
		n.registered = append(n.registered, c)
	}
	n.registerRuntimeMetrics()
	undo.add(n.unregisterMetrics)
	return nil
}

// registerRuntimeMetrics adds the Go runtime's and the process's
// collectors (go_goroutines, go_memstats_*, process_resident_memory_bytes,
// process_open_fds, …) beside herald's. They describe the whole process,
// not the node, so a registry may already hold them (an embedding
// program's registry, or the default one, which has them from the start):
// then the registry's own are left to serve, and the node does not fail.
func (n *Node) registerRuntimeMetrics() {
	for _, c := range []prometheus.Collector{
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	} {
		if err := n.registry.Register(c); err != nil {
			if _, already := errors.AsType[prometheus.AlreadyRegisteredError](err); !already {
				n.log.Warn("metrics: the registry holds other Go or process collectors; leaving them to serve", "err", err)
			}
			continue
		}
		n.registered = append(n.registered, c)
	}
}

// unregisterMetrics takes the node's metrics out of its registry.
func (n *Node) unregisterMetrics() {
	for _, c := range n.registered {
		n.registry.Unregister(c)
	}
	n.registered = nil
}

func (n *Node) gauges() []prometheus.Collector {
	return []prometheus.Collector{
		gaugeFunc("connections", "Open connections.", func() float64 { return float64(n.core.Connections()) }),
		gaugeFunc("users", "Distinct users connected.", func() float64 { return float64(n.core.NumUsers()) }),
		gaugeFunc("channels", "Channels with subscribers on this node.", func() float64 { return float64(n.core.Hub().NumChannels()) }),
		counterFunc("messages_delivered_total", "Messages queued to subscribers by fan-out.", func() float64 { return float64(n.core.Hub().Delivered()) }),
		gaugeFunc("fanout_backlog_bytes", "Bytes owed to connections: queued or unsent, plus publications waiting for fan-out (bounded by limits.max_node_queue_bytes).",
			func() float64 { return float64(n.core.Backlog()) }),
	}
}

func gaugeFunc(name, help string, f func() float64) prometheus.GaugeFunc {
	return prometheus.NewGaugeFunc(prometheus.GaugeOpts{Namespace: "herald", Name: name, Help: help}, f)
}

func counterFunc(name, help string, f func() float64) prometheus.CounterFunc {
	return prometheus.NewCounterFunc(prometheus.CounterOpts{Namespace: "herald", Name: name, Help: help}, f)
}

// Transport labels of the failure counters.
const (
	transportHerald          = "websocket"
	transportSocketIOWS      = "socketio_websocket"
	transportSocketIOPolling = "socketio_polling"
)

var (
	slowConsumersDesc = prometheus.NewDesc("herald_slow_consumers_total",
		"Connections closed because their outbound queue was full (herald: close 1013), by transport.", []string{"transport"}, nil)
	heartbeatTimeoutsDesc = prometheus.NewDesc("herald_heartbeat_timeouts_total",
		"Connections dropped for not answering pings (WebSocket or Engine.IO), by transport.", []string{"transport"}, nil)
	protocolErrorsDesc = prometheus.NewDesc("herald_protocol_errors_total",
		"Connections closed for what the client sent: bad frames or packets, bad UTF-8, oversized messages, by transport.", []string{"transport"}, nil)
)

// transportCollector reports each transport's failures, read from the
// transports' own counters when scraped.
type transportCollector struct{ n *Node }

func (c *transportCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- slowConsumersDesc
	ch <- heartbeatTimeoutsDesc
	ch <- protocolErrorsDesc
}

func (c *transportCollector) Collect(ch chan<- prometheus.Metric) {
	st := c.n.engine.Stats()
	c.emit(ch, transportHerald, sioboot.TransportStats{SlowConsumers: st.SlowConsumers.Load(),
		HeartbeatTimeouts: st.HeartbeatTimeouts.Load(), ProtocolErrors: st.ProtocolErrors.Load()})
	if h := c.n.sioHost; h != nil {
		ws, polling := h.Stats()
		c.emit(ch, transportSocketIOWS, ws)
		c.emit(ch, transportSocketIOPolling, polling)
	}
}

func (c *transportCollector) emit(ch chan<- prometheus.Metric, transport string, s sioboot.TransportStats) {
	ch <- prometheus.MustNewConstMetric(slowConsumersDesc, prometheus.CounterValue, float64(s.SlowConsumers), transport)
	ch <- prometheus.MustNewConstMetric(heartbeatTimeoutsDesc, prometheus.CounterValue, float64(s.HeartbeatTimeouts), transport)
	ch <- prometheus.MustNewConstMetric(protocolErrorsDesc, prometheus.CounterValue, float64(s.ProtocolErrors), transport)
}
