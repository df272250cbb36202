package client

import (
	"context"
	"io"
	"net/http"
	"testing"
)

// BenchmarkRequest compares GET /api/auth/me of the reference server sent
// through the client's RoundTripper (via=client) with the same request sent
// by a bare http.Client that sets a fixed bearer header (via=bare), on one
// server and one connection pool. Compare with benchstat -col /via.
func BenchmarkRequest(b *testing.B) {
	ts := newTestServer(b)
	c := newClient(b, ts)
	signUp(b, c)
	tok, err := c.Token(context.Background())
	if err != nil {
		b.Fatal(err)
	}
	base := ts.Client().Transport
	url := ts.URL + "/api/auth/me"

	run := func(b *testing.B, hc *http.Client, header string) {
		b.ReportAllocs()
		for b.Loop() {
			req, err := http.NewRequest(http.MethodGet, url, nil)
			if err != nil {
				b.Fatal(err)
			}
			if header != "" {
				req.Header.Set("Authorization", header)
			}
			resp, err := hc.Do(req)
			if err != nil {
				b.Fatal(err)
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				b.Fatalf("GET /api/auth/me = %d; want 200", resp.StatusCode)
			}
		}
	}
	b.Run("via=bare", func(b *testing.B) {
		run(b, &http.Client{Transport: base}, "Bearer "+tok.AccessToken)
	})
	b.Run("via=client", func(b *testing.B) {
		run(b, &http.Client{Transport: c.Transport(base)}, "")
	})
}

// BenchmarkToken measures Token while the access token is fresh: no lock,
// one allocation (the *Token returned).
func BenchmarkToken(b *testing.B) {
	ts := newTestServer(b)
	c := newClient(b, ts)
	signUp(b, c)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.Token(ctx); err != nil {
			b.Fatal(err)
		}
	}
}
