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

// TestLoginFloodKeepsBearerRoutesFast floods the server with failed logins
// at the default bcrypt cost while timing a route that only verifies a
// token: the cap on concurrent bcrypt work must keep that route fast.
//
// It is not parallel: it measures latency and needs the machine to itself.
func TestLoginFloodKeepsBearerRoutesFast(t *testing.T) {
	const (
		logins  = 30
		samples = 50
	)
	ts := startServer(t, map[string]string{"AUTH_LOGIN_LIMIT": "1000/1m"}, password.DefaultCost)
	c := ts.client(t)
	// The first failed login makes the hash unknown emails are compared
	// with, so that the flood runs in its steady state; it overlaps with
	// the registration.
	var warm sync.WaitGroup
	warm.Go(func() {
		r, err := c.send(context.Background(), http.MethodPost, "/api/auth/login", credentials("nobody@example.com", "wrong password"))
		if err != nil {
			t.Error(err)
			return
		}
		wantError(t, r, http.StatusUnauthorized, "INVALID_CREDENTIALS")
	})
	tok := c.register("ada@example.com").access
	warm.Wait()

	timeMe := func() []time.Duration {
		var d []time.Duration
		for range samples {
			r := c.get("/api/auth/me", bearer(tok)...)
			if r.status != http.StatusOK {
				t.Fatalf("%v; want 200", r)
			}
			d = append(d, r.elapsed)
		}
		return d
	}
	calm := p95(timeMe())

	// Every login of the flood is written to the server before the timing
	// starts. Waiting for all of them to finish would take logins times the
	// bcrypt cost (one computation at a time on a two-core machine, slower
	// still under -race), so once the timing is done the rest are cancelled:
	// the server drops those waiting for a bcrypt slot.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	flood := ts.client(t)
	var (
		written, done sync.WaitGroup
		finished      atomic.Int32
		mu            sync.Mutex
		statuses      = map[int]int{}
	)
	for i := range logins {
		written.Add(1)
		var once sync.Once
		trace := &httptrace.ClientTrace{WroteRequest: func(httptrace.WroteRequestInfo) { once.Do(written.Done) }}
		body := credentials(fmt.Sprintf("flood%d@example.com", i), "wrong password")
		done.Go(func() {
			defer once.Do(written.Done)
			r, err := flood.send(httptrace.WithClientTrace(ctx, trace), http.MethodPost, "/api/auth/login", body)
			if err != nil {
				return // cancelled
			}
			finished.Add(1)
			mu.Lock()
			statuses[r.status]++
			mu.Unlock()
		})
	}
	written.Wait()
	during := p95(timeMe())
	finishedDuring := finished.Load()
	cancel()
	done.Wait()

	bound := max(100*time.Millisecond, 20*calm)
	t.Logf("GET /api/auth/me p95: %v quiet, %v during %d failed logins at bcrypt cost %d (%d finished meanwhile); bound %v",
		calm, during, logins, password.DefaultCost, finishedDuring, bound)
	if finishedDuring >= logins {
		t.Errorf("all %d logins finished before the timing ended; want the flood to outlast it", logins)
	}
	if during > bound {
		t.Errorf("GET /api/auth/me p95 during a login flood = %v; want at most %v (quiet: %v)", during, bound, calm)
	}
	for status, n := range statuses {
		if status != http.StatusUnauthorized {
			t.Errorf("%d flood logins answered %d; want 401", n, status)
		}
	}
}
