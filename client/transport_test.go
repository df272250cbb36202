package client

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/jwtkit/auth"
)

// TestTransportReplay: a request the server refuses with TOKEN_EXPIRED is
// sent again after one refresh only when its body can be sent again.
func TestTransportReplay(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		body func() io.Reader
		// wantStatus is the status the caller sees; wantCalls the requests
		// to the route, wantRefreshes the refresh requests.
		wantStatus    int
		wantCalls     int64
		wantRefreshes int64
	}{
		{"no body", func() io.Reader { return nil }, http.StatusOK, 2, 1},
		{"body with GetBody", func() io.Reader { return strings.NewReader(`{}`) }, http.StatusOK, 2, 1},
		{"body without GetBody", func() io.Reader { return io.NopCloser(strings.NewReader(`{}`)) }, http.StatusUnauthorized, 1, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ts := newTestServer(t, withExpiredLogins())
			c := newClient(t, ts, WithRefreshMargin(0))
			signUp(t, c)
			ctx := context.Background()
			req, err := http.NewRequestWithContext(ctx, http.MethodPost, ts.URL+"/api/auth/logout-all", tt.body())
			if err != nil {
				t.Fatal(err)
			}
			resp, err := api(c, ts).Do(req)
			if err != nil {
				t.Fatalf("POST /api/auth/logout-all = %v; want an answer", err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tt.wantStatus {
				t.Errorf("POST /api/auth/logout-all = %d %s; want %d", resp.StatusCode, b, tt.wantStatus)
			}
			if tt.wantStatus == http.StatusUnauthorized {
				// Returned as it is: status, headers and the whole body.
				if !strings.Contains(string(b), `"code":"TOKEN_EXPIRED"`) || !strings.Contains(resp.Header.Get("WWW-Authenticate"), "invalid_token") {
					t.Errorf("401 answer = %q, WWW-Authenticate %q; want the server's TOKEN_EXPIRED answer", b, resp.Header.Get("WWW-Authenticate"))
				}
			}
			if got := ts.bearerCalls.Load(); got != tt.wantCalls {
				t.Errorf("POST /api/auth/logout-all requests = %d; want %d", got, tt.wantCalls)
			}
			if got := ts.refreshes.Load(); got != tt.wantRefreshes {
				t.Errorf("refresh requests = %d; want %d", got, tt.wantRefreshes)
			}
			if tt.wantRefreshes == 0 {
				// The refused token is dropped: the next request refreshes
				// first, and goes through.
				status, err := get(ctx, api(c, ts), ts.URL+"/api/auth/me")
				if err != nil || status != http.StatusOK {
					t.Errorf("GET /api/auth/me after = %d, %v; want 200", status, err)
				}
				if got := ts.refreshes.Load(); got != 1 {
					t.Errorf("refresh requests after = %d; want 1", got)
				}
			}
		})
	}
}

// TestTransportOrigin: the access token goes to the server's origin only.
func TestTransportOrigin(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	c := newClient(t, ts)
	signUp(t, c)
	seen := make(chan string, 1)
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen <- r.Header.Get("Authorization")
	}))
	t.Cleanup(other.Close)
	hc := &http.Client{Transport: c.Transport(nil)}
	status, err := get(context.Background(), hc, other.URL+"/")
	if err != nil || status != http.StatusOK {
		t.Fatalf("GET %s = %d, %v; want 200", other.URL, status, err)
	}
	if got := <-seen; got != "" {
		t.Errorf("Authorization sent to another origin = %q; want none", got)
	}

	tests := []struct {
		url  string
		want bool
	}{
		{"http://127.0.0.1:8080/x", true},
		{"HTTP://127.0.0.1:8080/y?z", true},
		{"https://127.0.0.1:8080/", false},
		{"http://127.0.0.1:8081/", false},
		{"http://127.0.0.2:8080/", false},
		{"http://127.0.0.1/", false},
		{"http://example.com/", false},
	}
	o := mustOrigin(t, "http://127.0.0.1:8080/base")
	for _, tt := range tests {
		u := mustURL(t, tt.url)
		if got := o.of(u); got != tt.want {
			t.Errorf("origin(http://127.0.0.1:8080).of(%q) = %v; want %v", tt.url, got, tt.want)
		}
	}
	if o := mustOrigin(t, "https://Example.COM"); !o.of(mustURL(t, "https://example.com:443/")) || o.of(mustURL(t, "https://example.com:8443/")) {
		t.Errorf("origin(https://Example.COM) does not take the default port 443 for its own")
	}
}

// TestTransportSignedOut: without a session RoundTrip sends nothing and
// returns an error matching ErrSignedOut through the *url.Error.
func TestTransportSignedOut(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	c := newClient(t, ts)
	_, err := get(context.Background(), api(c, ts), ts.URL+"/api/auth/me")
	if !errors.Is(err, ErrSignedOut) {
		t.Errorf("GET /api/auth/me (signed out) = %v; want ErrSignedOut", err)
	}
	if got := ts.bearerCalls.Load() + ts.refreshes.Load(); got != 0 {
		t.Errorf("requests sent = %d; want 0", got)
	}
}

// TestTransportKeepsRequest: RoundTrip never modifies the caller's
// request, and other 401s are returned as they are.
func TestTransportKeepsRequest(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, withWrap(func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/api/posts" {
				auth.WriteError(w, r, auth.ErrTokenRevoked)
				return
			}
			h.ServeHTTP(w, r)
		})
	}))
	c := newClient(t, ts)
	signUp(t, c)
	req, _ := http.NewRequest(http.MethodGet, ts.URL+"/api/posts", nil)
	req.Header.Set("X-Trace", "1")
	resp, err := api(c, ts).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(string(b), "TOKEN_REVOKED") {
		t.Errorf("GET /api/posts = %d %s; want the 401 TOKEN_REVOKED as it is", resp.StatusCode, b)
	}
	if got := ts.refreshes.Load(); got != 0 {
		t.Errorf("refresh requests = %d; want 0 for a 401 that is not TOKEN_EXPIRED", got)
	}
	if len(req.Header) != 1 || req.Header.Get("Authorization") != "" {
		t.Errorf("request header after RoundTrip = %v; want it unchanged", req.Header)
	}
}
