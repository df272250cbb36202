package client

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/jwtkit/auth"
)

// concurrency is the number of concurrent requests of the tests that
// straddle an expiry.
const concurrency = 200

// TestConcurrentRequestsRefreshOnce sends 200 concurrent requests with an
// access token that has expired, and checks that the server sees exactly
// one refresh and no caller sees a 401. The expiry is made deterministic
// twice over: the access token of the sign-in expired an hour ago by the
// server's clock (the server refuses it with TOKEN_EXPIRED), and the
// refreshed one lives the server's default 15 minutes.
func TestConcurrentRequestsRefreshOnce(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		// clientExpired: the client's clock has passed the expiry too, so
		// every request waits for the refresh before it is sent; else the
		// client believes the token valid and each request learns from a
		// 401 TOKEN_EXPIRED.
		clientExpired bool
		// The server sent between minExpired and maxExpired 401
		// TOKEN_EXPIRED answers: in the second case, every request sent
		// before the refresh ended carried the old token.
		minExpired, maxExpired int64
	}{
		{name: "expired by the client's clock", clientExpired: true, minExpired: 0, maxExpired: 0},
		{name: "expired by the server's verdict", clientExpired: false, minExpired: 1, maxExpired: concurrency},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ts := newTestServer(t, withExpiredLogins())
			clock := newFakeClock()
			c := newClient(t, ts, WithClock(clock.Now), WithRefreshMargin(0))
			signUp(t, c)
			if tt.clientExpired {
				clock.Advance(time.Hour)
			}
			hc := api(c, ts)

			start := make(chan struct{})
			var wg sync.WaitGroup
			statuses := make([]int, concurrency)
			errs := make([]error, concurrency)
			for i := range concurrency {
				wg.Go(func() {
					<-start
					statuses[i], errs[i] = get(context.Background(), hc, ts.URL+"/api/auth/me")
				})
			}
			close(start)
			wg.Wait()

			for i := range concurrency {
				if errs[i] != nil || statuses[i] != http.StatusOK {
					t.Errorf("request %d: GET /api/auth/me = %d, %v; want 200, nil", i, statuses[i], errs[i])
				}
			}
			if got := ts.refreshes.Load(); got != 1 {
				t.Errorf("refresh requests = %d; want 1", got)
			}
			if got := ts.rotations.Load(); got != 1 {
				t.Errorf("refreshes answered 200 = %d; want 1", got)
			}
			if got := ts.expiredAnswers.Load(); got < tt.minExpired || got > tt.maxExpired {
				t.Errorf("401 TOKEN_EXPIRED answers = %d; want %d to %d", got, tt.minExpired, tt.maxExpired)
			}
			t.Logf("%d requests: %d refresh, %d TOKEN_EXPIRED answers", concurrency, ts.refreshes.Load(), ts.expiredAnswers.Load())
		})
	}
}

// TestTokenExpiredRetriedOnce: the client believes its token valid (margin
// 0) but the server answers 401 TOKEN_EXPIRED: one refresh, one retry.
func TestTokenExpiredRetriedOnce(t *testing.T) {
	t.Parallel()
	t.Run("retry succeeds", func(t *testing.T) {
		t.Parallel()
		ts := newTestServer(t, withExpiredLogins())
		c := newClient(t, ts, WithRefreshMargin(0))
		signUp(t, c)
		status, err := get(context.Background(), api(c, ts), ts.URL+"/api/auth/me")
		if err != nil || status != http.StatusOK {
			t.Fatalf("GET /api/auth/me = %d, %v; want 200, nil", status, err)
		}
		if got := ts.refreshes.Load(); got != 1 {
			t.Errorf("refresh requests = %d; want 1", got)
		}
		if got := ts.bearerCalls.Load(); got != 2 {
			t.Errorf("GET /api/auth/me requests = %d; want 2 (the request and its retry)", got)
		}
	})
	t.Run("retry expired too", func(t *testing.T) {
		t.Parallel()
		// The server refuses every token as expired: the retry's 401 is
		// the caller's.
		alwaysExpired := func(h http.Handler) http.Handler {
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Path == "/api/auth/me" {
					auth.WriteError(w, r, auth.ErrTokenExpired)
					return
				}
				h.ServeHTTP(w, r)
			})
		}
		ts := newTestServer(t, withWrap(alwaysExpired))
		c := newClient(t, ts, WithRefreshMargin(0))
		signUp(t, c)
		status, err := get(context.Background(), api(c, ts), ts.URL+"/api/auth/me")
		if err != nil || status != http.StatusUnauthorized {
			t.Fatalf("GET /api/auth/me = %d, %v; want 401, nil", status, err)
		}
		if got := ts.refreshes.Load(); got != 1 {
			t.Errorf("refresh requests = %d; want 1", got)
		}
		if got := ts.bearerCalls.Load(); got != 2 {
			t.Errorf("GET /api/auth/me requests = %d; want 2 (the request and one retry)", got)
		}
	})
}

// TestCancelledWaiterDoesNotCancelRefresh: a caller that gives up while
// the refresh is under way stops waiting; the refresh goes on, and the
// other waiters get its tokens.
func TestCancelledWaiterDoesNotCancelRefresh(t *testing.T) {
	t.Parallel()
	entered := make(chan struct{}, 1)
	release := make(chan struct{})
	ctxErr := make(chan error, 1) // of the refresh request, once released
	ts := newTestServer(t, withBeforeRefresh(func(r *http.Request) {
		entered <- struct{}{}
		<-release
		ctxErr <- r.Context().Err()
	}))
	clock := newFakeClock()
	c := newClient(t, ts, WithClock(clock.Now))
	signUp(t, c)
	before, err := c.Token(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	clock.Advance(time.Hour)

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	type result struct {
		tok *Token
		err error
	}
	cancelled := make(chan result, 1)
	go func() {
		tok, err := c.Token(ctx)
		cancelled <- result{tok, err}
	}()
	<-entered // the refresh request reached the server

	const waiters = 5
	results := make(chan result, waiters)
	for range waiters {
		go func() {
			tok, err := c.Token(context.Background())
			results <- result{tok, err}
		}()
	}
	waitFor(t, "every caller to wait for the refresh", func() bool { return c.joined() == 1+waiters })

	cancel()
	r := <-cancelled
	if !errors.Is(r.err, context.Canceled) || r.tok != nil {
		t.Errorf("Token(cancelled) = %v, %v; want nil, context.Canceled", r.tok, r.err)
	}
	close(release)
	for range waiters {
		r := <-results
		if r.err != nil || r.tok == nil || r.tok.AccessToken == before.AccessToken {
			t.Errorf("Token = %v, %v; want a new token, nil", r.tok, r.err)
		}
	}
	if err := <-ctxErr; err != nil {
		t.Errorf("the refresh request's context ended: %v; want it to run to its end", err)
	}
	if got, want := ts.refreshes.Load(), int64(1); got != want {
		t.Errorf("refresh requests = %d; want %d", got, want)
	}
	if got, want := ts.rotations.Load(), int64(1); got != want {
		t.Errorf("refreshes answered 200 = %d; want %d", got, want)
	}
}

// TestRefreshAhead: within the margin the token in hand is returned at
// once and one refresh runs in the background.
func TestRefreshAhead(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	clock := newFakeClock()
	c := newClient(t, ts, WithClock(clock.Now), WithRefreshMargin(time.Minute))
	signUp(t, c)
	ctx := context.Background()
	first, err := c.Token(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if ts.refreshes.Load() != 0 {
		t.Fatalf("refresh requests = %d; want 0 while the token is fresh", ts.refreshes.Load())
	}
	clock.Advance(first.Expiry.Sub(clock.Now()) - 30*time.Second) // inside the margin
	for range 10 {
		tok, err := c.Token(ctx)
		if err != nil || tok.AccessToken == "" {
			t.Fatalf("Token (within the margin) = %v, %v; want a token", tok, err)
		}
	}
	waitFor(t, "the background refresh", func() bool {
		tok, err := c.Token(ctx)
		return err == nil && tok.AccessToken != first.AccessToken
	})
	if got := ts.refreshes.Load(); got != 1 {
		t.Errorf("refresh requests = %d; want 1", got)
	}
}

// TestRefreshFailureKeepsToken: a 503 or a cut connection on refresh is
// not a sign-out: the stored refresh token is untouched, and once the
// server is back the same token refreshes.
func TestRefreshFailureKeepsToken(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		down   int32
		status int // of the Error, 0 for none
	}{
		{"503", unavailable, http.StatusServiceUnavailable},
		{"connection cut", dropped, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ts := newTestServer(t)
			store := &MemoryStore{}
			clock := newFakeClock()
			c := newClient(t, ts, WithTokenStore(store), WithClock(clock.Now))
			signUp(t, c)
			ctx := context.Background()
			saved, _ := store.Load(ctx)
			clock.Advance(time.Hour)

			ts.down.Store(tt.down)
			for _, call := range []struct {
				name string
				fn   func() error
			}{
				{"Token", func() error { _, err := c.Token(ctx); return err }},
				{"Refresh", func() error { _, err := c.Refresh(ctx); return err }},
				{"GET /api/auth/me", func() error { _, err := get(ctx, api(c, ts), ts.URL+"/api/auth/me"); return err }},
			} {
				err := call.fn()
				if err == nil || errors.Is(err, ErrSignedOut) {
					t.Errorf("%s (server down) = %v; want an error that is not ErrSignedOut", call.name, err)
				}
				var e *Error
				if tt.status != 0 && (!errors.As(err, &e) || e.StatusCode != tt.status || !errors.Is(err, auth.ErrUnavailable) || e.RetryAfter != 5*time.Second) {
					t.Errorf("%s (server down) = %v; want an *Error %d matching auth.ErrUnavailable, RetryAfter 5s", call.name, err, tt.status)
				}
				if got, _ := store.Load(ctx); got != saved {
					t.Errorf("stored refresh token after %s = %q; want %q, untouched", call.name, got, saved)
				}
				if got := c.held(); got != saved {
					t.Errorf("held refresh token after %s = %q; want %q, untouched", call.name, got, saved)
				}
			}

			ts.down.Store(up)
			if _, err := c.Token(ctx); err != nil {
				t.Fatalf("Token (server back) = %v; want nil", err)
			}
			if got, _ := store.Load(ctx); got == saved || got == "" {
				t.Errorf("stored refresh token after the refresh = %q; want a new one", got)
			}
			if got := ts.rotations.Load(); got != 1 {
				t.Errorf("refreshes answered 200 = %d; want 1", got)
			}
		})
	}
}

// TestReplayedRefreshTokenSignsOut: a second client process, built from
// the same stored session, rotates the refresh token; the first then
// presents the spent one, the server takes it for theft and revokes the
// session, and both are signed out, their stored tokens cleared.
func TestReplayedRefreshTokenSignsOut(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	store, err := NewFileStore(t.TempDir() + "/session")
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	a := newClient(t, ts, WithTokenStore(store))
	signUp(t, a)
	spent, _ := store.Load(ctx)

	b := newClient(t, ts, WithTokenStore(store)) // the second process
	if _, err := b.Refresh(ctx); err != nil {
		t.Fatalf("b.Refresh = %v; want nil", err)
	}
	rotated, _ := store.Load(ctx)
	if rotated == spent || rotated == "" {
		t.Fatalf("stored token after b's rotation = %q; want a new one", rotated)
	}

	_, err = a.Refresh(ctx)
	if !errors.Is(err, ErrSignedOut) || !errors.Is(err, auth.ErrInvalidRefreshToken) {
		t.Errorf("a.Refresh (spent token) = %v; want ErrSignedOut and auth.ErrInvalidRefreshToken", err)
	}
	if a.held() != "" || a.cur.Load() != nil {
		t.Errorf("a holds tokens after ErrSignedOut; want none")
	}
	// The store holds b's token, which a never presented: it is b's to lose.
	if got, _ := store.Load(ctx); got != rotated {
		t.Errorf("stored token after a's sign-out = %q; want b's %q", got, rotated)
	}

	_, err = b.Refresh(ctx)
	if !errors.Is(err, ErrSignedOut) {
		t.Errorf("b.Refresh (revoked session) = %v; want ErrSignedOut", err)
	}
	if got, _ := store.Load(ctx); got != "" {
		t.Errorf("stored token after b's sign-out = %q; want none", got)
	}
	for name, c := range map[string]*Client{"a": a, "b": b} {
		if _, err := c.Token(ctx); !errors.Is(err, ErrSignedOut) {
			t.Errorf("%s.Token = %v; want ErrSignedOut", name, err)
		}
	}
	if got := ts.rotations.Load(); got != 1 {
		t.Errorf("refreshes answered 200 = %d; want 1", got)
	}
}

// TestRefreshAheadFailure: a refresh ahead of expiry that fails is not the
// callers' problem while the token is valid, and is not tried again before
// the server's Retry-After.
func TestRefreshAheadFailure(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	clock := newFakeClock()
	c := newClient(t, ts, WithClock(clock.Now), WithRefreshMargin(time.Minute))
	signUp(t, c)
	ctx := context.Background()
	first, err := c.Token(ctx)
	if err != nil {
		t.Fatal(err)
	}
	ts.down.Store(unavailable)
	clock.Advance(first.Expiry.Sub(clock.Now()) - 50*time.Second) // inside the margin
	idle := func() bool {
		c.mu.Lock()
		defer c.mu.Unlock()
		return c.flight == nil
	}
	if tok, err := c.Token(ctx); err != nil || tok.AccessToken != first.AccessToken {
		t.Fatalf("Token (within the margin, server down) = %v, %v; want the token in hand", tok, err)
	}
	waitFor(t, "the failed background refresh", func() bool { return ts.refreshes.Load() == 1 && idle() })
	for range 10 {
		if tok, err := c.Token(ctx); err != nil || tok.AccessToken != first.AccessToken {
			t.Fatalf("Token (after the failure) = %v, %v; want the token in hand", tok, err)
		}
	}
	if got := ts.refreshes.Load(); got != 1 {
		t.Errorf("refresh requests within Retry-After = %d; want 1", got)
	}
	ts.down.Store(up)
	clock.Advance(6 * time.Second) // past Retry-After: 5
	waitFor(t, "the next background refresh", func() bool {
		tok, err := c.Token(ctx)
		return err == nil && tok.AccessToken != first.AccessToken
	})
	if got := ts.refreshes.Load(); got != 2 {
		t.Errorf("refresh requests = %d; want 2", got)
	}
}
