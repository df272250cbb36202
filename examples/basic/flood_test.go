package main

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptrace"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jwtkit/auth/password"
)

// p95 returns the 95th percentile of d.
func p95(d []time.Duration) time.Duration {
	s := slices.Clone(d)
	slices.Sort(s)
	return s[(len(s)*95+99)/100-1]
}

// loginFlood is a flood of failed logins written to the server, each
// waiting for (or holding) a bcrypt slot.
type loginFlood struct {
	cancel   context.CancelFunc
	done     sync.WaitGroup
	finished atomic.Int32
	mu       sync.Mutex  // guards statuses
	statuses map[int]int // status -> logins answered with it
}

// startFlood writes n failed logins for unknown accounts to the server and
// returns once every one of them is written.
func startFlood(tb testing.TB, ts *testServer, n int) *loginFlood {
	tb.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	f := &loginFlood{cancel: cancel, statuses: map[int]int{}}
	c := ts.client(tb)
	var written sync.WaitGroup
	for i := range n {
		written.Add(1)
		var once sync.Once
		trace := &httptrace.ClientTrace{WroteRequest: func(httptrace.WroteRequestInfo) { once.Do(written.Done) }}
		body := credentials(fmt.Sprintf("flood%d@example.com", i), "wrong password")
		f.done.Go(func() {
			defer once.Do(written.Done)
			r, err := c.send(httptrace.WithClientTrace(ctx, trace), http.MethodPost, "/api/auth/login", body)
			if err != nil {
				return // cancelled
			}
			f.finished.Add(1)
			f.mu.Lock()
			f.statuses[r.status]++
			f.mu.Unlock()
		})
	}
	written.Wait()
	return f
}

// stop cancels the logins that have not finished and waits for all.
func (f *loginFlood) stop() {
	f.cancel()
	f.done.Wait()
}

// floodServer starts a server at the default bcrypt cost with a registered
// user, warmed up so that the flood runs in its steady state, and returns
// it with a client and the user's access token.
func floodServer(tb testing.TB) (*testServer, *client, string) {
	ts := startServer(tb, map[string]string{"AUTH_LOGIN_LIMIT": "1000/1m"}, password.DefaultCost)
	c := ts.client(tb)
	// The first failed login makes the hash unknown emails are compared
	// with; it overlaps with the registration.
	var warm sync.WaitGroup
	warm.Go(func() {
		r, err := c.send(context.Background(), http.MethodPost, "/api/auth/login", credentials("nobody@example.com", "wrong password"))
		if err != nil {
			tb.Error(err)
			return
		}
		wantError(tb, r, http.StatusUnauthorized, "INVALID_CREDENTIALS")
	})
	tok := c.register("ada@example.com").access
	warm.Wait()
	return ts, c, tok
}

// TestLoginFloodKeepsBearerRoutesServed floods the server with failed
// logins at the default bcrypt cost: while they queue for the capped bcrypt
// slots, a route that only verifies a token keeps answering, and every
// login of the flood is answered 401 or dropped with its client. How fast
// the route stays is measured by BenchmarkMeDuringLoginFlood, not here: the
// verdict does not depend on the machine's speed.
func TestLoginFloodKeepsBearerRoutesServed(t *testing.T) {
	const (
		logins  = 30
		samples = 50
	)
	ts, c, tok := floodServer(t)
	f := startFlood(t, ts, logins)
	defer f.stop()
	// Every login is written, and bcrypt runs one or two at a time: the
	// flood takes logins times the bcrypt cost, while each sample below
	// needs no bcrypt at all.
	answered := 0
	for range samples {
		if f.finished.Load() >= logins {
			break
		}
		r := c.get("/api/auth/me", bearer(tok)...)
		if r.status != http.StatusOK {
			t.Fatalf("%v during the flood; want 200", r)
		}
		answered++
	}
	finishedDuring := f.finished.Load()
	f.stop()
	t.Logf("%d GET /api/auth/me answered 200 while %d of %d failed logins at bcrypt cost %d finished", answered, finishedDuring, logins, password.DefaultCost)
	if answered == 0 {
		t.Errorf("no GET /api/auth/me answered before the %d logins finished; want the bearer route served during the flood", logins)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	for status, n := range f.statuses {
		if status != http.StatusUnauthorized {
			t.Errorf("%d flood logins answered %d; want 401", n, status)
		}
	}
}

// BenchmarkMeDuringLoginFlood measures GET /api/auth/me while 30 failed
// logins at the default bcrypt cost queue for the bcrypt slots, and reports
// the 95th percentile of the latency as p95-ns (compare BenchmarkMe, the
// same request on a quiet server).
func BenchmarkMeDuringLoginFlood(b *testing.B) {
	ts, c, tok := floodServer(b)
	f := startFlood(b, ts, 30)
	defer f.stop()
	var d []time.Duration
	for b.Loop() {
		r := c.get("/api/auth/me", bearer(tok)...)
		if r.status != http.StatusOK {
			b.Fatalf("%v during the flood; want 200", r)
		}
		d = append(d, r.elapsed)
	}
	b.ReportMetric(float64(p95(d).Nanoseconds()), "p95-ns")
}
