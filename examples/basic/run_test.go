package main

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"
)

// TestRun starts the program as main does, on a free port: it serves, caps
// the request header size, and stops when its context ends.
func TestRun(t *testing.T) {
	t.Parallel()
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer pr.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	env := map[string]string{"ADDR": "127.0.0.1:0", "AUTH_COOKIE_SECURE": "false"}
	errc := make(chan error, 1)
	go func() {
		errc <- run(ctx, envFrom(env), pw)
		pw.Close()
	}()

	var base string
	lines := bufio.NewScanner(pr)
	for lines.Scan() {
		if _, addr, ok := strings.Cut(lines.Text(), "basic: listening on "); ok {
			base = addr
			break
		}
	}
	if base == "" {
		t.Fatalf("run(%v) wrote no listening line; returned %v", env, <-errc)
	}
	go func() { _, _ = io.Copy(io.Discard, pr) }()

	get := func(header ...string) int {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, base+"/healthz", nil)
		for i := 0; i+1 < len(header); i += 2 {
			req.Header.Set(header[i], header[i+1])
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if got := get(); got != http.StatusOK {
		t.Errorf("GET /healthz = %d; want 200", got)
	}
	if got := get("X-Padding", strings.Repeat("x", 64<<10)); got != http.StatusRequestHeaderFieldsTooLarge {
		t.Errorf("GET /healthz with a 64 KiB header = %d; want 431", got)
	}

	cancel()
	select {
	case err := <-errc:
		if err != nil {
			t.Errorf("run after its context ended = %v; want nil", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("run did not return after its context ended")
	}
}

// TestRunBadConfig checks that bad configuration stops the start with one
// line naming the variable, before anything listens.
func TestRunBadConfig(t *testing.T) {
	t.Parallel()
	env := map[string]string{"ADDR": "127.0.0.1:0", "AUTH_ACCESS_TTL": "forever"}
	err := run(context.Background(), envFrom(env), os.Stderr)
	if err == nil || !strings.HasPrefix(err.Error(), "AUTH_ACCESS_TTL") || strings.Contains(err.Error(), "\n") {
		t.Errorf("run(%v) = %v; want one line naming AUTH_ACCESS_TTL", env, err)
	}
}
