package main

import (
	"bufio"
	"context"
	"io"
	"maps"
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
// line that begins with the variable, before anything listens: values the
// program refuses, and values out of the ranges of the library's
// constructors.
func TestRunBadConfig(t *testing.T) {
	t.Parallel()
	tests := []struct {
		env  map[string]string
		want string
	}{
		{map[string]string{"AUTH_ACCESS_TTL": "forever"}, "AUTH_ACCESS_TTL"},
		{map[string]string{"AUTH_ACCESS_TTL": "25h"}, "AUTH_ACCESS_TTL"},
		{map[string]string{"AUTH_REFRESH_TTL": "721h"}, "AUTH_REFRESH_TTL"},
		{map[string]string{"AUTH_REUSE_GRACE": "6m"}, "AUTH_REUSE_GRACE"},
		{map[string]string{"AUTH_BCRYPT_COST": "9"}, "AUTH_BCRYPT_COST"},
		{map[string]string{"AUTH_ALG": "RS512"}, "AUTH_ALG"},
		{map[string]string{"AUTH_RESET_TTL": "later"}, "AUTH_RESET_TTL"},
		{map[string]string{"AUTH_RESET_TTL": "48h"}, "AUTH_RESET_TTL"},
		{map[string]string{"AUTH_REQUIRE_VERIFIED_EMAIL": "please"}, "AUTH_REQUIRE_VERIFIED_EMAIL"},
		{map[string]string{"AUTH_DEV_MAILBOX": "sure", "AUTH_COOKIE_SECURE": "false"}, "AUTH_DEV_MAILBOX"},
		{map[string]string{"AUTH_DEV_MAILBOX": "true"}, "AUTH_DEV_MAILBOX"},
		{map[string]string{"AUTH_DEV_MAILBOX": "true", "AUTH_COOKIE_SECURE": "true"}, "AUTH_DEV_MAILBOX"},
	}
	for _, tt := range tests {
		env := map[string]string{"ADDR": "127.0.0.1:0"}
		maps.Copy(env, tt.env)
		var out strings.Builder
		err := run(context.Background(), envFrom(env), &out)
		if err == nil || !strings.HasPrefix(err.Error(), tt.want+":") || strings.Contains(err.Error(), "\n") {
			t.Errorf("run(%v) = %v; want one line beginning with %s", env, err, tt.want)
		}
		if strings.Contains(out.String(), "listening") {
			t.Errorf("run(%v) wrote %q; want it to stop before listening", env, out.String())
		}
	}
}
