package main

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestMetrics: GET /metrics, on the metrics listener and not on the API,
// serves the telemetry of package otelauth in the Prometheus text format.
func TestMetrics(t *testing.T) {
	t.Parallel()
	c := newCluster(t, clusterOpts{redis: true})
	register(t, c, 0, "metrics@example.com")
	login(t, c, 0, "metrics@example.com", "correct horse")
	login(t, c, 0, "metrics@example.com", "wrong horse")
	metrics := httptest.NewServer(c.insts[0].metrics)
	t.Cleanup(metrics.Close)
	if r := call(t, "GET", c.url(0, "/metrics"), "", nil); r.status != http.StatusNotFound {
		t.Errorf("GET /metrics on the API = %d; want 404 (metrics are served at METRICS_ADDR only)", r.status)
	}
	res, err := http.Get(metrics.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("GET /metrics = %d", res.StatusCode)
	}
	text := string(body)
	for _, want := range []string{
		`auth_logins_total{auth_outcome="ok"`,
		`auth_logins_total{auth_outcome="failed"`,
		`auth_events_total{auth_event="session_started"`,
		`auth_operation_duration_seconds_bucket{auth_op="login"`,
	} {
		if !strings.Contains(text, want) {
			t.Errorf("/metrics has no %s", want)
		}
	}
	if strings.Contains(text, "metrics@example.com") {
		t.Error("/metrics holds the e-mail address")
	}
	t.Log(grep(text, "auth_"))
}

func grep(text, prefix string) string {
	var out []string
	for _, l := range strings.Split(text, "\n") {
		if strings.HasPrefix(l, prefix) && !strings.Contains(l, "_bucket") {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
