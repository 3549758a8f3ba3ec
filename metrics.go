package herald

import (
	"strconv"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the node's Prometheus collectors; every name starts with
// herald_.
type metrics struct {
	connectionsAccepted *prometheus.CounterVec
	connectionsRejected *prometheus.CounterVec
	disconnects         *prometheus.CounterVec
	commands            *prometheus.CounterVec
	commandErrors       *prometheus.CounterVec
	publications        *prometheus.CounterVec
	pushes              prometheus.Counter
	rateLimited         prometheus.Counter
	originRejected      prometheus.Counter
	apiRequests         *prometheus.CounterVec
	sioDisconnects      *prometheus.CounterVec
}

func newMetrics(n *Node, reg prometheus.Registerer) *metrics {
	m := &metrics{
		connectionsAccepted: counterVec("connections_accepted_total", "Connections accepted, by transport.", "transport"),
		connectionsRejected: counterVec("connections_rejected_total", "Connections refused, by reason.", "reason"),
		disconnects:         counterVec("disconnects_total", "Connections ended, by close code.", "code"),
		commands:            counterVec("commands_total", "Client commands handled, by operation.", "op"),
		commandErrors:       counterVec("command_errors_total", "Client commands answered with an error, by code.", "code"),
		publications:        counterVec("publications_total", "Publications accepted, by source (api, client, go).", "source"),
		pushes:              counter("pushes_total", "Pushes to users."),
		rateLimited:         counter("rate_limited_total", "Client commands refused by the rate limit."),
		originRejected:      counter("origin_rejected_total", "WebSocket upgrades refused for their Origin."),
		apiRequests:         counterVec("api_requests_total", "HTTP server API requests, by endpoint and status.", "endpoint", "status"),
		sioDisconnects:      counterVec("socketio_disconnects_total", "Socket.IO sockets disconnected, by reason.", "reason"),
	}
	st := n.engine.Stats()
	reg.MustRegister(
		m.connectionsAccepted, m.connectionsRejected, m.disconnects, m.commands, m.commandErrors,
		m.publications, m.pushes, m.rateLimited, m.originRejected, m.apiRequests, m.sioDisconnects,
		gaugeFunc("connections", "Open connections.", func() float64 { return float64(n.conns.Load()) }),
		gaugeFunc("users", "Distinct users connected.", func() float64 { return float64(n.hub.NumUsers()) }),
		gaugeFunc("channels", "Channels with subscribers on this node.", func() float64 { return float64(n.hub.NumChannels()) }),
		counterFunc("messages_delivered_total", "Messages queued to subscribers by fan-out.", func() float64 { return float64(n.hub.Delivered()) }),
		counterFunc("slow_consumers_total", "Connections closed 1013 because their outbound queue was full.", func() float64 { return float64(st.SlowConsumers.Load()) }),
		counterFunc("heartbeat_timeouts_total", "Connections dropped for not answering pings.", func() float64 { return float64(st.HeartbeatTimeouts.Load()) }),
		counterFunc("protocol_errors_total", "Connections closed for bad frames, bad UTF-8 or oversized messages.", func() float64 { return float64(st.ProtocolErrors.Load()) }),
	)
	return m
}

func counter(name, help string) prometheus.Counter {
	return prometheus.NewCounter(prometheus.CounterOpts{Namespace: "herald", Name: name, Help: help})
}

func counterVec(name, help string, labels ...string) *prometheus.CounterVec {
	return prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "herald", Name: name, Help: help}, labels)
}

func gaugeFunc(name, help string, f func() float64) prometheus.GaugeFunc {
	return prometheus.NewGaugeFunc(prometheus.GaugeOpts{Namespace: "herald", Name: name, Help: help}, f)
}

func counterFunc(name, help string, f func() float64) prometheus.CounterFunc {
	return prometheus.NewCounterFunc(prometheus.CounterOpts{Namespace: "herald", Name: name, Help: help}, f)
}

func codeLabel(code int) string { return strconv.Itoa(code) }
