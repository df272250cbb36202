package main

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"golang.org/x/time/rate"
)

func TestConfigFromEnvDefaults(t *testing.T) {
	t.Parallel()
	cfg, err := configFromEnv(func(string) string { return "" })
	if err != nil {
		t.Fatalf("configFromEnv(empty) = %v; want nil", err)
	}
	// The defaults put the gateway in front of examples/microservices.
	if got, want := cfg.Upstream.String(), "http://127.0.0.1:8082"; got != want {
		t.Errorf("Upstream = %s; want %s", got, want)
	}
	if got, want := cfg.JWKSURL, "http://127.0.0.1:8081/.well-known/jwks.json"; got != want {
		t.Errorf("JWKSURL = %s; want %s", got, want)
	}
	if cfg.Issuer != "http://127.0.0.1:8081" || cfg.Audience != "api" {
		t.Errorf("Issuer, Audience = %q, %q; want http://127.0.0.1:8081, api", cfg.Issuer, cfg.Audience)
	}
	if cfg.Rate != 10 || cfg.Burst != 20 || cfg.MaxSubjects != 10000 {
		t.Errorf("Rate, Burst, MaxSubjects = %v, %d, %d; want 10, 20, 10000", cfg.Rate, cfg.Burst, cfg.MaxSubjects)
	}
	if _, err := newGateway(cfg); err != nil {
		t.Errorf("newGateway(defaults) = %v; want nil", err)
	}
}

func TestConfigFromEnvRefuses(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, value string
	}{
		{"UPSTREAM_URL", "http://[::1"},
		{"GATEWAY_RATE", "10"},
		{"GATEWAY_RATE", "0/s"},
		{"GATEWAY_RATE", "ten/s"},
		{"GATEWAY_RATE", "10/0s"},
		{"GATEWAY_RATE", "10/fortnight"},
		{"GATEWAY_BURST", "0"},
		{"GATEWAY_BURST", "many"},
		{"GATEWAY_MAX_SUBJECTS", "-1"},
	}
	for _, tt := range tests {
		_, err := configFromEnv(func(k string) string { return map[string]string{tt.name: tt.value}[k] })
		if err == nil || !strings.Contains(err.Error(), tt.name) {
			t.Errorf("configFromEnv(%s=%s) = %v; want an error naming %s", tt.name, tt.value, err, tt.name)
		}
	}
}

func TestParseRate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want rate.Limit
	}{
		{"10/s", 10},
		{"10/1s", 10},
		{"600/1m", 10},
		{"1/2s", 0.5},
		{"3600/h", 1},
		{"5/500ms", 10},
	}
	for _, tt := range tests {
		if got, err := parseRate(tt.in); err != nil || got != tt.want {
			t.Errorf("parseRate(%q) = %v, %v; want %v, nil", tt.in, got, err, tt.want)
		}
	}
}

// TestRun starts the program on a free loopback port in front of a
// recorder, sends one request through it and stops it.
func TestRun(t *testing.T) {
	t.Parallel()
	is := startIssuer(t, time.Now)
	up := startRecorder(t)
	env := map[string]string{
		"GATEWAY_ADDR":  "127.0.0.1:0",
		"UPSTREAM_URL":  up.srv.URL,
		"JWKS_URL":      is.jwksURL,
		"AUTH_ISSUER":   testIssuer,
		"AUTH_AUDIENCE": testAudience,
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out syncBuffer
	errc := make(chan error, 1)
	go func() { errc <- run(ctx, func(k string) string { return env[k] }, &out) }()
	const started = "gateway: on http://"
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(out.String(), started) {
		if time.Now().After(deadline) {
			t.Fatalf("no start line within 10s; output:\n%s", out.String())
		}
		time.Sleep(5 * time.Millisecond)
	}
	line := out.String()
	addr := strings.TrimSuffix(strings.Fields(line[strings.Index(line, started)+len(started):])[0], ",")

	tok := is.token(t, "ada", "user")
	req, err := http.NewRequest(http.MethodGet, "http://"+addr+"/api/hello?access_token=secret", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+tok)
	client := &http.Client{Transport: &http.Transport{}}
	defer client.CloseIdleConnections()
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || string(b) != "upstream" {
		t.Errorf("GET through run = %d %s; want 200 upstream", resp.StatusCode, b)
	}
	if got := up.requests(); len(got) != 1 || got[0].Header.Get("X-Auth-Subject") != "ada" {
		t.Errorf("upstream got %+v; want one request for ada", got)
	}

	cancel()
	select {
	case err := <-errc:
		if err != nil {
			t.Errorf("run after cancel = %v; want nil", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("run did not return after its context ended")
	}
	if logs := out.String(); strings.Contains(logs, tok) || strings.Contains(logs, "secret") {
		t.Errorf("the logs hold the token or the query:\n%s", logs)
	}
}

func TestRunRefusesBadConfig(t *testing.T) {
	t.Parallel()
	tests := []struct {
		env  map[string]string
		want string
	}{
		{map[string]string{"UPSTREAM_URL": "unix:///run/api.sock"}, "UPSTREAM_URL"},
		{map[string]string{"JWKS_URL": "file:///etc/jwks.json"}, "JWKS_URL"},
		{map[string]string{"GATEWAY_RATE": "fast"}, "GATEWAY_RATE"},
		{map[string]string{"GATEWAY_ADDR": "256.0.0.1:0"}, "256.0.0.1"},
	}
	for _, tt := range tests {
		err := run(context.Background(), func(k string) string { return tt.env[k] }, io.Discard)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("run(%v) = %v; want an error about %s", tt.env, err, tt.want)
		}
	}
}
