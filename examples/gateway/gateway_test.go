package main

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/time/rate"

	"github.com/jwtkit/auth"
)

// spoofed are identity headers a client might send, in odd spellings and
// more than once. Their values hold a space, which no token holds.
var spoofed = http.Header{
	"x-AUTH-subject":   {"spoofed admin"},
	"X-AUTH-SUBJECT":   {"spoofed root", "spoofed admin"},
	"X-Auth-Roles":     {"spoofed admin", "spoofed admin"},
	"x-auth-roles":     {"spoofed admin"},
	"X_Auth_Subject":   {"spoofed admin"},
	"X-Auth-Scope":     {"spoofed admin:all"},
	"X-Auth-Email":     {"spoofed admin@example.com"},
	"X-Auth-Whatever":  {"spoofed admin"},
	"X-Forwarded-User": {"spoofed admin"},
	"x-remote-user":    {"spoofed admin"},
	"X-Remote-Group":   {"spoofed admin"},
	"Remote-User":      {"spoofed admin"},
	"X-Webauth-User":   {"spoofed admin"},
	"X-Amzn-Oidc-Data": {"spoofed admin"},
	// Asks a proxy to drop the gateway's own header as hop-by-hop.
	"Connection": {"X-Auth-Subject, X-Auth-Roles"},
}

// spoofedValues returns the header values of got that came from spoofed.
func spoofedValues(got http.Header) []string {
	var bad []string
	for name, vals := range got {
		for _, v := range vals {
			if strings.Contains(v, "spoofed") {
				bad = append(bad, name+": "+v)
			}
		}
	}
	return bad
}

func TestSpoofedIdentityNeverReachesUpstream(t *testing.T) {
	t.Parallel()
	s := startGateway(t, nil)
	ada := s.issuer.token(t, "ada", "user")

	// Without a token: refused, nothing reaches the upstream.
	resp, body := s.get(t, "/api/hello", "", spoofed)
	if resp.StatusCode != http.StatusUnauthorized || errorCode(body) != "NO_TOKEN" {
		t.Errorf("spoofed headers without a token = %d %s; want 401 NO_TOKEN", resp.StatusCode, body)
	}
	if n := len(s.upstream.requests()); n != 0 {
		t.Fatalf("upstream got %d requests without a token; want 0", n)
	}

	// With a valid token: the request goes through with the token's
	// identity only.
	resp, body = s.get(t, "/api/hello", ada, spoofed)
	if resp.StatusCode != http.StatusOK || body != "upstream" {
		t.Fatalf("spoofed headers with a valid token = %d %s; want 200 upstream", resp.StatusCode, body)
	}
	got := s.upstream.requests()
	if len(got) != 1 {
		t.Fatalf("upstream got %d requests; want 1", len(got))
	}
	h := got[0].Header
	if bad := spoofedValues(h); len(bad) > 0 {
		t.Errorf("upstream got spoofed headers %q; want none", bad)
	}
	for name, want := range map[string][]string{
		"X-Auth-Subject": {"ada"},
		"X-Auth-Roles":   {"user"},
		"X-Auth-Scope":   nil,
		"X-Auth-Email":   nil,
	} {
		if !slices.Equal(h[name], want) {
			t.Errorf("upstream header %s = %q; want %q", name, h[name], want)
		}
	}
	for name := range h {
		if n := strings.ToLower(name); n != "x-auth-subject" && n != "x-auth-roles" && isIdentityHeader(n) {
			t.Errorf("upstream got identity header %s = %q; want it deleted", name, h[name])
		}
	}
}

// The same through a raw request, so that the header names go over the
// wire exactly as spelled.
func TestSpoofedIdentityRaw(t *testing.T) {
	t.Parallel()
	s := startGateway(t, nil)
	ada := s.issuer.token(t, "ada", "user")
	head := "GET /api/hello HTTP/1.1\r\nHost: gateway.example\r\nAuthorization: Bearer " + ada + "\r\n" +
		"x-auth-SUBJECT: spoofed admin\r\nX-AUTH-ROLES: spoofed admin\r\nx-auth-roles: spoofed admin\r\n" +
		"X_AUTH_SUBJECT: spoofed admin\r\nx-forwarded-user: spoofed admin\r\nREMOTE-USER: spoofed admin\r\n" +
		"Connection: close\r\n\r\n"
	resp, body := s.raw(t, head)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("raw request = %d %s; want 200", resp.StatusCode, body)
	}
	got := s.upstream.requests()
	if len(got) != 1 {
		t.Fatalf("upstream got %d requests; want 1", len(got))
	}
	if bad := spoofedValues(got[0].Header); len(bad) > 0 {
		t.Errorf("upstream got spoofed headers %q; want none", bad)
	}
	if v := got[0].Header["X-Auth-Subject"]; !slices.Equal(v, []string{"ada"}) {
		t.Errorf("upstream X-Auth-Subject = %q; want [ada]", v)
	}
}

func TestRefusedRequestsNeverReachUpstream(t *testing.T) {
	t.Parallel()
	s := startGateway(t, nil)
	ada := s.issuer.token(t, "ada", "user")
	other := startIssuer(t, s.clock.Now) // same iss, another key
	past := func() time.Time { return s.clock.Now().Add(-time.Hour) }
	tests := []struct {
		name, authorization, code string
	}{
		{"no token", "", "NO_TOKEN"},
		{"basic credentials", "Basic YWRhOnNlY3JldA==", "NO_TOKEN"},
		{"empty bearer", "Bearer ", "INVALID_TOKEN"},
		{"garbage", "Bearer not.a.token", "INVALID_TOKEN"},
		{"bad signature", "Bearer " + ada[:len(ada)-4] + "AAAA", "INVALID_TOKEN"},
		{"another key", "Bearer " + other.token(t, "ada", "admin"), "INVALID_TOKEN"},
		{"wrong audience", "Bearer " + issue(t, s.issuer.signerFor(t, "other-api", s.clock.Now), auth.Claims{Subject: "ada"}), "INVALID_TOKEN"},
		{"expired", "Bearer " + issue(t, s.issuer.signerFor(t, testAudience, past), auth.Claims{Subject: "ada"}), "TOKEN_EXPIRED"},
		{"control character in subject", "Bearer " + s.issuer.token(t, "ada\r\nX-Auth-Roles: admin", ""), "INVALID_TOKEN"},
		{"comma in role", "Bearer " + s.issuer.token(t, "ada", "user,admin"), "INVALID_TOKEN"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := http.Header{}
			if tt.authorization != "" {
				h.Set("Authorization", tt.authorization)
			}
			resp, body := s.get(t, "/api/hello", "", h)
			if resp.StatusCode != http.StatusUnauthorized || errorCode(body) != tt.code {
				t.Errorf("GET with %s = %d %s; want 401 %s", tt.name, resp.StatusCode, body, tt.code)
			}
			if resp.Header.Get("WWW-Authenticate") == "" {
				t.Errorf("GET with %s: no WWW-Authenticate header", tt.name)
			}
			if strings.Contains(body, "ada") {
				t.Errorf("GET with %s: body %s echoes the token's claims", tt.name, body)
			}
		})
	}
	if n := len(s.upstream.requests()); n != 0 {
		t.Errorf("upstream got %d requests; want 0", n)
	}
}

func TestVerifiedIdentityReachesUpstream(t *testing.T) {
	t.Parallel()
	s := startGateway(t, nil)
	tok := issue(t, s.issuer.signer, auth.Claims{Subject: "ada", Role: "admin", Scope: "posts:read posts:write", Email: "ada@example.com"})
	resp, body := s.get(t, "/api/hello?page=2", tok, nil)
	if resp.StatusCode != http.StatusOK || body != "upstream" {
		t.Fatalf("GET /api/hello = %d %s; want 200 upstream", resp.StatusCode, body)
	}
	got := s.upstream.requests()
	if len(got) != 1 {
		t.Fatalf("upstream got %d requests; want 1", len(got))
	}
	r := got[0]
	for name, want := range map[string]string{
		"X-Auth-Subject":    "ada",
		"X-Auth-Roles":      "admin",
		"X-Auth-Scope":      "posts:read posts:write",
		"X-Auth-Email":      "ada@example.com",
		"Authorization":     "Bearer " + tok, // forwarded: see main.go
		"X-Forwarded-Host":  strings.TrimPrefix(s.url, "http://"),
		"X-Forwarded-Proto": "http",
		"X-Forwarded-For":   "127.0.0.1",
	} {
		if v := r.Header.Values(name); !slices.Equal(v, []string{want}) {
			t.Errorf("upstream header %s = %q; want [%q]", name, v, want)
		}
	}
	if want := upstreamPrefix + "/api/hello?page=2"; r.RequestURI != want {
		t.Errorf("upstream request URI = %q; want %q", r.RequestURI, want)
	}
	if r.Host != s.upstream.host() {
		t.Errorf("upstream Host = %q; want its own, %q", r.Host, s.upstream.host())
	}
}

func TestRateLimitPerSubject(t *testing.T) {
	t.Parallel()
	// Two requests at once, then one every 2 seconds.
	s := startGateway(t, func(c *config) { c.Rate, c.Burst = rate.Limit(0.5), 2 })
	ada, bob := s.issuer.token(t, "ada", "user"), s.issuer.token(t, "bob", "user")
	want := func(token string, status int, retryAfter string, upstream int) {
		t.Helper()
		resp, body := s.get(t, "/api/hello", token, nil)
		if resp.StatusCode != status || resp.Header.Get("Retry-After") != retryAfter {
			t.Errorf("GET = %d (Retry-After %q) %s; want %d (Retry-After %q)",
				resp.StatusCode, resp.Header.Get("Retry-After"), body, status, retryAfter)
		}
		if status == http.StatusTooManyRequests && errorCode(body) != "TOO_MANY_ATTEMPTS" {
			t.Errorf("GET = %s; want the code TOO_MANY_ATTEMPTS", body)
		}
		if n := len(s.upstream.requests()); n != upstream {
			t.Errorf("upstream got %d requests; want %d", n, upstream)
		}
	}
	want(ada, 200, "", 1)
	want(ada, 200, "", 2)
	want(ada, 429, "2", 2) // past the burst: refused before the upstream
	want(ada, 429, "2", 2) // a refusal takes nothing from the budget
	want(bob, 200, "", 3)  // another subject has a budget of its own
	want(bob, 200, "", 4)
	want(bob, 429, "2", 4)
	s.clock.Advance(time.Second)
	want(ada, 429, "1", 4)
	s.clock.Advance(time.Second)
	want(ada, 200, "", 5)
	want(ada, 429, "2", 5)
}

func TestUpstreamIsFixed(t *testing.T) {
	t.Parallel()
	s := startGateway(t, nil)
	decoy := startRecorder(t)
	tok := s.issuer.token(t, "ada", "user")
	d := decoy.host()
	tests := []struct {
		name, target, host, extra string
		wantURI                   string
	}{
		{"Host header", "/x", d, "", upstreamPrefix + "/x"},
		{"absolute URI", "http://" + d + "/x?q=1", d, "", upstreamPrefix + "/x?q=1"},
		{"absolute https URI", "https://" + d + "/x", d, "", upstreamPrefix + "/x"},
		{"absolute URI, another Host", "http://" + d + "/x", "example.com", "", upstreamPrefix + "/x"},
		{"scheme-relative path", "//" + d + "/x", d, "", upstreamPrefix + "//" + d + "/x"},
		{"forwarding headers", "/x", d, "X-Forwarded-Host: " + d + "\r\nForwarded: host=" + d + "\r\n", upstreamPrefix + "/x"},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			head := fmt.Sprintf("GET %s HTTP/1.1\r\nHost: %s\r\nAuthorization: Bearer %s\r\n%sConnection: close\r\n\r\n",
				tt.target, tt.host, tok, tt.extra)
			resp, body := s.raw(t, head)
			if resp.StatusCode != http.StatusOK || body != "upstream" {
				t.Fatalf("GET %s (Host %s) = %d %s; want 200 upstream", tt.target, tt.host, resp.StatusCode, body)
			}
			got := s.upstream.requests()
			if len(got) != i+1 {
				t.Fatalf("upstream got %d requests; want %d", len(got), i+1)
			}
			r := got[i]
			if r.RequestURI != tt.wantURI || r.Host != s.upstream.host() {
				t.Errorf("upstream got %s (Host %s); want %s (Host %s)", r.RequestURI, r.Host, tt.wantURI, s.upstream.host())
			}
			if v := r.Header.Get("Forwarded"); v != "" {
				t.Errorf("upstream got Forwarded: %s; want it deleted", v)
			}
		})
	}
	if n := len(decoy.requests()); n != 0 {
		t.Errorf("the other host got %d requests; want 0", n)
	}
}

func TestSubjectTableBounded(t *testing.T) {
	t.Parallel()
	const max = 4
	s := startGateway(t, func(c *config) { c.MaxSubjects = max })
	for i := range 3 * max {
		sub := fmt.Sprintf("user-%d", i)
		if resp, body := s.get(t, "/", s.issuer.token(t, sub, ""), nil); resp.StatusCode != http.StatusOK {
			t.Fatalf("GET as %s = %d %s; want 200", sub, resp.StatusCode, body)
		}
		if n := s.gw.limiter.Len(); n > max {
			t.Fatalf("after %d subjects the limiter holds %d; want at most %d", i+1, n, max)
		}
	}
	if n := s.gw.limiter.Len(); n != max {
		t.Errorf("limiter holds %d subjects; want %d", n, max)
	}
}

func TestUpstreamDown(t *testing.T) {
	t.Parallel()
	s := startGateway(t, nil)
	tok := s.issuer.token(t, "ada", "user")
	s.upstream.srv.Close()
	resp, body := s.get(t, "/api/hello", tok, nil)
	if resp.StatusCode != http.StatusBadGateway || errorCode(body) != "BAD_GATEWAY" {
		t.Errorf("GET with the upstream down = %d %s; want 502 BAD_GATEWAY", resp.StatusCode, body)
	}
}

func TestJWKSDown(t *testing.T) {
	t.Parallel()
	s := startGateway(t, func(c *config) { c.JWKSURL = "http://127.0.0.1:1/.well-known/jwks.json" })
	resp, body := s.get(t, "/api/hello", s.issuer.token(t, "ada", "user"), nil)
	if resp.StatusCode != http.StatusServiceUnavailable || errorCode(body) != "UNAVAILABLE" || resp.Header.Get("Retry-After") == "" {
		t.Errorf("GET with the JWK Set unreachable = %d %s; want 503 UNAVAILABLE with Retry-After", resp.StatusCode, body)
	}
	if n := len(s.upstream.requests()); n != 0 {
		t.Errorf("upstream got %d requests; want 0", n)
	}
}

func TestNewGatewayConfig(t *testing.T) {
	t.Parallel()
	good := func() config {
		u, _ := url.Parse("http://127.0.0.1:8082")
		return config{Upstream: u, JWKSURL: "http://127.0.0.1:8081/.well-known/jwks.json", Issuer: "i", Audience: "a",
			Rate: 10, Burst: 20, MaxSubjects: 100}
	}
	if _, err := newGateway(good()); err != nil {
		t.Fatalf("newGateway(good) = %v; want nil", err)
	}
	upstream := func(raw string) func(*config) {
		return func(c *config) { c.Upstream, _ = url.Parse(raw) }
	}
	tests := []struct {
		name string
		edit func(*config)
		want string
	}{
		{"no upstream", func(c *config) { c.Upstream = nil }, "UPSTREAM_URL"},
		{"upstream not http", upstream("ftp://127.0.0.1/"), "UPSTREAM_URL"},
		{"upstream without host", upstream("http:///x"), "UPSTREAM_URL"},
		{"upstream with query", upstream("http://127.0.0.1/?to=elsewhere"), "UPSTREAM_URL"},
		{"upstream with user", upstream("http://u:p@127.0.0.1/"), "UPSTREAM_URL"},
		{"relative JWKS URL", func(c *config) { c.JWKSURL = "/jwks.json" }, "JWKS_URL"},
		{"no issuer", func(c *config) { c.Issuer = "" }, "issuer"},
		{"zero rate", func(c *config) { c.Rate = 0 }, "GATEWAY_RATE"},
		{"infinite rate", func(c *config) { c.Rate = rate.Inf }, "GATEWAY_RATE"},
		{"zero burst", func(c *config) { c.Burst = 0 }, "GATEWAY_BURST"},
		{"zero subjects", func(c *config) { c.MaxSubjects = 0 }, "GATEWAY_MAX_SUBJECTS"},
	}
	for _, tt := range tests {
		cfg := good()
		tt.edit(&cfg)
		_, err := newGateway(cfg)
		if err == nil || !strings.Contains(strings.ToLower(err.Error()), strings.ToLower(tt.want)) {
			t.Errorf("newGateway(%s) = %v; want an error about %s", tt.name, err, tt.want)
		}
		if err != nil && strings.Contains(err.Error(), "u:p@") {
			t.Errorf("newGateway(%s) = %v; want the password redacted", tt.name, err)
		}
	}
}
