package core

import (
	"strconv"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics are the counters the core and its protocol adapters keep; the
// herald package registers them with the node's gauges. Every name starts
// with herald_.
type Metrics struct {
	ConnectionsAccepted *prometheus.CounterVec
	ConnectionsRejected *prometheus.CounterVec
	Disconnects         *prometheus.CounterVec
	Commands            *prometheus.CounterVec
	CommandErrors       *prometheus.CounterVec
	Publications        *prometheus.CounterVec
	Pushes              prometheus.Counter
	RateLimited         prometheus.Counter
	OriginRejected      prometheus.Counter
	APIRequests         *prometheus.CounterVec
	SocketIODisconnects *prometheus.CounterVec
	Overloaded          *prometheus.CounterVec
	Resumes             *prometheus.CounterVec
	Replayed            prometheus.Counter
	BrokerErrors        *prometheus.CounterVec
	PartialAnswers      prometheus.Counter
	ClusterNodes        prometheus.Gauge
	Forwarded           *prometheus.CounterVec
	Handovers           *prometheus.CounterVec
}

// NewMetrics makes the counters, unregistered.
func NewMetrics() *Metrics {
	return &Metrics{
		ConnectionsAccepted: counterVec("connections_accepted_total", "Connections accepted, by transport.", "transport"),
		ConnectionsRejected: counterVec("connections_rejected_total", "Connections refused, by reason.", "reason"),
		Disconnects:         counterVec("disconnects_total", "Herald-protocol connections ended, by close code.", "code"),
		Commands:            counterVec("commands_total", "Client commands handled, by operation.", "op"),
		CommandErrors:       counterVec("command_errors_total", "Client commands answered with an error, by code.", "code"),
		Publications:        counterVec("publications_total", "Publications accepted, by source (api, client, go).", "source"),
		Pushes:              counter("pushes_total", "Pushes to users."),
		RateLimited:         counter("rate_limited_total", "Client commands and Socket.IO events refused by the rate limit."),
		OriginRejected:      counter("origin_rejected_total", "Connections refused for their Origin."),
		APIRequests:         counterVec("api_requests_total", "HTTP server API requests, by endpoint and status.", "endpoint", "status"),
		SocketIODisconnects: counterVec("socketio_disconnects_total", "Socket.IO sockets disconnected, by reason.", "reason"),
		Overloaded: counterVec("backpressure_refusals_total",
			"Publications and pushes refused (503) or timed out waiting because the fan-out backlog was past limits.max_node_queue_bytes, by source.", "source"),
		Resumes: counterVec("resumes_total",
			"Subscriptions that resumed a stream, by result: recovered (nothing missed is lost) or not_recovered.", "result"),
		Replayed: counter("replayed_publications_total", "Publications replayed to clients resuming a stream."),
		BrokerErrors: counterVec("broker_errors_total",
			"Work the broker refused or could not be reached for (each answered 503), by operation.", "op"),
		PartialAnswers: counter("cluster_partial_answers_total",
			"Questions to every node that some node did not answer within cluster.ask_timeout."),
		ClusterNodes: prometheus.NewGauge(prometheus.GaugeOpts{Namespace: "herald", Name: "cluster_nodes",
			Help: "Live nodes in the registry, this one included, as of the last announcement."}),
		Forwarded: counterVec("forwarded_requests_total",
			"Socket.IO polling requests and upgrades forwarded to the node holding their session, by result: ok, or unreachable (answered 502).", "result"),
		Handovers: counterVec("socketio_handovers_total",
			"Socket.IO CONNECTs recovering a socket this node does not hold, by result: node (another node handed it over), broker (stored by a node that shut down), none (not found, or its node did not answer), refused (found, but its client may not have it back: token expired, out of its window, offset out of reach, or a room without a stream), busy (too many such CONNECTs at once).", "result"),
	}
}

// otherLabel is the label value that counts what a client chose and
// herald does not know: a close code or reason of its own.
const otherLabel = "other"

// closeCodeLabels are the close codes a herald-protocol connection ends
// with that docs/protocol.md lists (what herald sends, and 1000/1001 from
// clients), with 1005 (a client's close frame without a code) and 1006
// (the connection dropped without one). Each keeps its own label; any
// other code is one a client chose, and counts as otherLabel, so clients
// cannot grow the metric without bound.
var closeCodeLabels = func() map[int]string {
	m := map[int]string{}
	for _, code := range []int{1000, 1001, 1002, 1005, 1006, 1007, 1008, 1009, 1011, CloseTryAgainLater,
		CloseUnauthorized, CloseDisconnected, CloseConnectTimeout, CloseRefused, CloseTokenExpired} {
		m[code] = strconv.Itoa(code)
	}
	return m
}()

// socketIOReasons are the Socket.IO disconnect reasons (the reference's);
// anything else counts as otherLabel.
var socketIOReasons = map[string]bool{
	"transport close": true, "transport error": true, "ping timeout": true, "parse error": true,
	"forced close": true, "forced server close": true, "server shutting down": true,
	"server namespace disconnect": true, "client namespace disconnect": true,
}

// Disconnected counts a herald-protocol connection that ended with code.
func (m *Metrics) Disconnected(code int) {
	label, ok := closeCodeLabels[code]
	if !ok {
		label = otherLabel
	}
	m.Disconnects.WithLabelValues(label).Inc()
}

// SocketIODisconnected counts a Socket.IO socket disconnected for reason.
func (m *Metrics) SocketIODisconnected(reason string) {
	if !socketIOReasons[reason] {
		reason = otherLabel
	}
	m.SocketIODisconnects.WithLabelValues(reason).Inc()
}

// Collectors lists every counter, for registering.
func (m *Metrics) Collectors() []prometheus.Collector {
	return []prometheus.Collector{m.ConnectionsAccepted, m.ConnectionsRejected, m.Disconnects, m.Commands,
		m.CommandErrors, m.Publications, m.Pushes, m.RateLimited, m.OriginRejected, m.APIRequests, m.SocketIODisconnects, m.Overloaded,
		m.Resumes, m.Replayed, m.BrokerErrors, m.PartialAnswers, m.ClusterNodes, m.Forwarded, m.Handovers}
}

func counter(name, help string) prometheus.Counter {
	return prometheus.NewCounter(prometheus.CounterOpts{Namespace: "herald", Name: name, Help: help})
}

func counterVec(name, help string, labels ...string) *prometheus.CounterVec {
	return prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "herald", Name: name, Help: help}, labels)
}

// recovery counts a resuming subscribe.
func (m *Metrics) recovery(r Resumed) {
	result := "not_recovered"
	if r.Recovered {
		result = "recovered"
	}
	m.Resumes.WithLabelValues(result).Inc()
	m.Replayed.Add(float64(r.Replayed))
}
