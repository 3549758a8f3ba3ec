package core

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/heraldhq/herald/internal/testmetrics"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Labels take only values herald knows: anything else shares one.
func TestDisconnectLabelsAreBounded(t *testing.T) {
	m := NewMetrics()
	reg := prometheus.NewRegistry()
	reg.MustRegister(m.Collectors()...)
	srv := httptest.NewServer(promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	defer srv.Close()
	for _, code := range []int{1000, 4003, 3999, 4321, 65535, -1} {
		m.Disconnected(code)
	}
	for _, reason := range []string{"transport close", "client namespace disconnect", "some text a client sent"} {
		m.SocketIODisconnected(reason)
	}
	for sample, want := range map[string]float64{
		`herald_disconnects_total{code="1000"}`:                                   1,
		`herald_disconnects_total{code="4003"}`:                                   1,
		`herald_disconnects_total{code="other"}`:                                  4,
		`herald_socketio_disconnects_total{reason="transport close"}`:             1,
		`herald_socketio_disconnects_total{reason="client namespace disconnect"}`: 1,
		`herald_socketio_disconnects_total{reason="other"}`:                       1,
	} {
		if got := testmetrics.Sample(t, srv.URL, sample); got != want {
			t.Errorf("%s = %v, want %v", sample, got, want)
		}
	}
	resp, err := http.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	page, _ := io.ReadAll(resp.Body)
	if n := strings.Count(string(page), "\nherald_disconnects_total{"); n != 3 {
		t.Errorf("herald_disconnects_total has %d label values, want 3:\n%s", n, page)
	}
}
