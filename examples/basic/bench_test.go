package main

import (
	"io"
	"net/http"
	"testing"
)

// BenchmarkMe measures GET /api/auth/me through the whole server over
// loopback with a keep-alive client: HTTP on both ends, token verification,
// the revocation check and the JSON answer. Allocations count both the
// client and the server.
func BenchmarkMe(b *testing.B) {
	ts := newTestServer(b, nil)
	tok := ts.client(b).register("ada@example.com").access
	tr := &http.Transport{MaxIdleConnsPerHost: 1}
	defer tr.CloseIdleConnections()
	hc := &http.Client{Transport: tr}
	req, err := http.NewRequest(http.MethodGet, ts.URL+"/api/auth/me", nil)
	if err != nil {
		b.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+tok)
	b.ReportAllocs()
	for b.Loop() {
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
