// Package testmetrics reads a node's /metrics for tests.
package testmetrics

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
)

// Sample returns the value of one sample (a name with its labels, as
// /metrics spells it) from the metrics page at url; 0 when absent.
func Sample(t testing.TB, url, sample string) float64 {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	for _, line := range strings.Split(string(body), "\n") {
		// The value is after the last space: label values may hold spaces.
		if i := strings.LastIndexByte(line, ' '); i > 0 && line[:i] == sample {
			value := line[i+1:]
			var v float64
			fmt.Sscan(value, &v)
			return v
		}
	}
	return 0
}
