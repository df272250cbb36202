package auth

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/jwtkit/auth/audit"
	"github.com/jwtkit/auth/authstore"
	"github.com/jwtkit/auth/memstore"
)

// faultyStore fails the named methods on demand.
type faultyStore struct {
	authstore.RefreshStore
	mu   sync.Mutex
	fail map[string]bool
}

var errStoreDown = errors.New("store down")

func (f *faultyStore) set(method string, fail bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.fail[method] = fail
}

func (f *faultyStore) down(method string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.fail[method]
}

func (f *faultyStore) CreateSession(ctx context.Context, fam authstore.Session, rec authstore.RefreshRecord) error {
	if f.down("CreateSession") {
		return errStoreDown
	}
	return f.RefreshStore.CreateSession(ctx, fam, rec)
}

func (f *faultyStore) Lookup(ctx context.Context, route string, h authstore.TokenHash) (authstore.RefreshRecord, authstore.Session, bool, error) {
	if f.down("Lookup") {
		return authstore.RefreshRecord{}, authstore.Session{}, false, errStoreDown
	}
	return f.RefreshStore.Lookup(ctx, route, h)
}

func (f *faultyStore) Rotate(ctx context.Context, route string, old, expect authstore.TokenHash, next authstore.RefreshRecord) (bool, error) {
	if f.down("Rotate") {
		return false, errStoreDown
	}
	return f.RefreshStore.Rotate(ctx, route, old, expect, next)
}

func (f *faultyStore) RevokeSession(ctx context.Context, userID, sessionID string, at time.Time) (bool, error) {
	if f.down("RevokeSession") {
		return false, errStoreDown
	}
	return f.RefreshStore.RevokeSession(ctx, userID, sessionID, at)
}

func (f *faultyStore) Sessions(ctx context.Context, userID string, now time.Time) ([]authstore.Session, error) {
	if f.down("Sessions") {
		return nil, errStoreDown
	}
	return f.RefreshStore.Sessions(ctx, userID, now)
}

func (f *faultyStore) RevokeUser(ctx context.Context, userID string, at time.Time) (int, error) {
	if f.down("RevokeUser") {
		return 0, errStoreDown
	}
	return f.RefreshStore.RevokeUser(ctx, userID, at)
}

// rtEnv is an Auth with a controllable clock, a store that fails on demand,
// a role table for the claims loader and a log of events.
type rtEnv struct {
	a       *Auth
	clock   *fakeClock
	store   *faultyStore
	mu      sync.Mutex
	roles   map[string]string // userID -> role; absent: user gone
	events  []audit.Event
	loadErr error
}

func newRTEnv(t *testing.T, opts ...Option) *rtEnv {
	t.Helper()
	e := &rtEnv{
		clock: newFakeClock(),
		store: &faultyStore{RefreshStore: newMemStore(t), fail: map[string]bool{}},
		roles: map[string]string{"alice": "user", "bob": "admin"},
	}
	key, err := NewHMACKey(HS256, []byte("refresh-tests-secret-0123456789abcdef"))
	if err != nil {
		t.Fatal(err)
	}
	ks, _ := NewKeySet(key)
	base := []Option{
		WithKeys(ks), WithIssuer("iss"), WithAudience("aud"),
		WithClock(e.clock.Now),
		WithRefreshStore(e.store),
		WithClaimsLoader(func(_ context.Context, userID string) (Claims, error) {
			e.mu.Lock()
			defer e.mu.Unlock()
			if e.loadErr != nil {
				return Claims{}, e.loadErr
			}
			role, ok := e.roles[userID]
			if !ok {
				return Claims{}, ErrUserNotFound
			}
			return Claims{Role: role}, nil
		}),
		WithEvents(func(_ context.Context, ev audit.Event) {
			e.mu.Lock()
			e.events = append(e.events, ev)
			e.mu.Unlock()
		}),
	}
	if e.a, err = New(append(base, opts...)...); err != nil {
		t.Fatal(err)
	}
	return e
}

func (e *rtEnv) start(t *testing.T, user string) *Tokens {
	t.Helper()
	e.mu.Lock()
	role := e.roles[user]
	e.mu.Unlock()
	s, err := e.a.StartSession(context.Background(), Claims{Subject: user, Role: role}, Client{UserAgent: "test", Address: "127.0.0.1"})
	if err != nil {
		t.Fatalf("StartSession(%s) = %v", user, err)
	}
	return s
}

func (e *rtEnv) refresh(t *testing.T, tok string) *Tokens {
	t.Helper()
	s, err := e.a.Refresh(context.Background(), tok, Client{})
	if err != nil {
		t.Fatalf("Refresh = %v; want a new session", err)
	}
	return s
}

func (e *rtEnv) wantRefreshErr(t *testing.T, tok string, want error) {
	t.Helper()
	s, err := e.a.Refresh(context.Background(), tok, Client{})
	if !errors.Is(err, want) || s != nil {
		t.Fatalf("Refresh = %v, %v; want nil, %v", s, err, want)
	}
}

func (e *rtEnv) countEvents(kind audit.Kind) int {
	e.mu.Lock()
	defer e.mu.Unlock()
	n := 0
	for _, ev := range e.events {
		if ev.Kind == kind {
			n++
		}
	}
	return n
}

func TestRefreshRotates(t *testing.T) {
	t.Parallel()
	e := newRTEnv(t)
	s0 := e.start(t, "alice")
	if len(s0.RefreshToken) != refreshTokenLen || s0.RefreshToken[:authstore.RouteLen] != authstore.RouteFor("alice") {
		t.Fatalf("refresh token %d chars, route %q; want %d chars starting with the user's route", len(s0.RefreshToken), s0.RefreshToken[:authstore.RouteLen], refreshTokenLen)
	}
	e.clock.Advance(time.Minute)
	s1 := e.refresh(t, s0.RefreshToken)
	if s1.SessionID != s0.SessionID || s1.RefreshToken == s0.RefreshToken {
		t.Errorf("rotation: session %s -> %s, token changed %v; want same session, new token", s0.SessionID, s1.SessionID, s1.RefreshToken != s0.RefreshToken)
	}
	c, err := e.a.Verify(context.Background(), s1.Access.Token)
	if err != nil || c.Subject != "alice" || c.Role != "user" {
		t.Errorf("Verify(rotated access token) = %+v, %v; want alice/user", c, err)
	}
	e.clock.Advance(time.Minute)
	s2 := e.refresh(t, s1.RefreshToken)
	if got := e.countEvents(audit.Rotated); got != 2 {
		t.Errorf("rotated events = %d; want 2", got)
	}
	if got := e.countEvents(audit.SessionStarted); got != 1 {
		t.Errorf("session started events = %d; want 1", got)
	}
	_ = s2
}

func TestRefreshReuseRevokesSession(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name  string
		later int // rotations after the stolen one
	}{{"replay of the previous token", 0}, {"replay after later rotations", 3}} {
		t.Run(tt.name, func(t *testing.T) {
			e := newRTEnv(t)
			other := e.start(t, "alice") // another session of the same user survives
			stolen := e.start(t, "alice").RefreshToken
			newest := e.refresh(t, stolen).RefreshToken
			for i := 0; i < tt.later; i++ {
				newest = e.refresh(t, newest).RefreshToken
			}
			e.wantRefreshErr(t, stolen, ErrRefreshTokenReused)
			e.wantRefreshErr(t, newest, ErrRefreshTokenRevoked)
			if got := e.countEvents(audit.ReuseDetected); got != 1 {
				t.Errorf("reuse events = %d; want 1", got)
			}
			e.refresh(t, other.RefreshToken)
		})
	}
}

func TestRefreshGrace(t *testing.T) {
	t.Parallel()
	t.Run("inside the window", func(t *testing.T) {
		e := newRTEnv(t, WithReuseGrace(10*time.Second))
		a := e.start(t, "alice").RefreshToken
		b := e.refresh(t, a).RefreshToken
		e.clock.Advance(5 * time.Second)
		c := e.refresh(t, a) // the other tab
		if c.RefreshToken == b {
			t.Fatal("grace rotation returned the unused successor again")
		}
		// The successor that grace replaced is dead, and presenting it is
		// reuse: a session never has two live tokens.
		e.wantRefreshErr(t, b, ErrRefreshTokenReused)
		e.wantRefreshErr(t, c.RefreshToken, ErrRefreshTokenRevoked)
	})
	t.Run("grace keeps the newest token working", func(t *testing.T) {
		e := newRTEnv(t, WithReuseGrace(10*time.Second))
		a := e.start(t, "alice").RefreshToken
		e.refresh(t, a)
		c := e.refresh(t, a)
		e.refresh(t, c.RefreshToken)
	})
	t.Run("outside the window", func(t *testing.T) {
		e := newRTEnv(t, WithReuseGrace(10*time.Second))
		a := e.start(t, "alice").RefreshToken
		b := e.refresh(t, a).RefreshToken
		e.clock.Advance(11 * time.Second)
		e.wantRefreshErr(t, a, ErrRefreshTokenReused)
		e.wantRefreshErr(t, b, ErrRefreshTokenRevoked)
	})
	t.Run("two generations old", func(t *testing.T) {
		e := newRTEnv(t, WithReuseGrace(10*time.Second))
		a := e.start(t, "alice").RefreshToken
		b := e.refresh(t, a).RefreshToken
		c := e.refresh(t, b).RefreshToken
		e.wantRefreshErr(t, a, ErrRefreshTokenReused)
		e.wantRefreshErr(t, c, ErrRefreshTokenRevoked)
	})
	t.Run("no grace by default", func(t *testing.T) {
		e := newRTEnv(t)
		a := e.start(t, "alice").RefreshToken
		e.refresh(t, a)
		e.wantRefreshErr(t, a, ErrRefreshTokenReused)
	})
}

func TestRefreshLifetimes(t *testing.T) {
	t.Parallel()
	t.Run("token expires unused", func(t *testing.T) {
		e := newRTEnv(t, WithRefreshTTL(time.Hour), WithSessionTTL(3*time.Hour))
		s := e.start(t, "alice")
		if want := e.clock.Now().Add(time.Hour); !s.RefreshExpiresAt.Equal(want) {
			t.Errorf("RefreshExpiresAt = %v; want %v", s.RefreshExpiresAt, want)
		}
		e.clock.Advance(time.Hour)
		e.wantRefreshErr(t, s.RefreshToken, ErrRefreshTokenExpired)
	})
	t.Run("sliding until the session ends", func(t *testing.T) {
		e := newRTEnv(t, WithRefreshTTL(time.Hour), WithSessionTTL(3*time.Hour))
		start := e.clock.Now()
		tok := e.start(t, "alice").RefreshToken
		for i := 0; i < 3; i++ {
			e.clock.Advance(50 * time.Minute)
			s := e.refresh(t, tok)
			if end := start.Add(3 * time.Hour); s.RefreshExpiresAt.After(end) {
				t.Errorf("RefreshExpiresAt = %v; past the session end %v", s.RefreshExpiresAt, end)
			}
			tok = s.RefreshToken
		}
		e.clock.Advance(31 * time.Minute) // 3h01 after sign-in
		e.wantRefreshErr(t, tok, ErrRefreshTokenExpired)
	})
}

func TestRefreshReloadsClaims(t *testing.T) {
	t.Parallel()
	e := newRTEnv(t)
	tok := e.start(t, "alice").RefreshToken
	e.mu.Lock()
	e.roles["alice"] = "admin"
	e.mu.Unlock()
	s := e.refresh(t, tok)
	if s.Access.Claims.Role != "admin" || s.Access.Claims.Subject != "alice" {
		t.Errorf("reloaded claims = %s/%s; want alice/admin", s.Access.Claims.Subject, s.Access.Claims.Role)
	}
	e.mu.Lock()
	delete(e.roles, "alice")
	e.mu.Unlock()
	e.wantRefreshErr(t, s.RefreshToken, ErrRefreshTokenRevoked)
	e.mu.Lock()
	e.roles["alice"] = "user"
	e.mu.Unlock()
	e.wantRefreshErr(t, s.RefreshToken, ErrRefreshTokenRevoked) // the session stays revoked
}

func TestRefreshFailsClosed(t *testing.T) {
	t.Parallel()
	for _, method := range []string{"Lookup", "Rotate", "loader"} {
		t.Run(method, func(t *testing.T) {
			e := newRTEnv(t)
			tok := e.start(t, "alice").RefreshToken
			if method == "loader" {
				e.mu.Lock()
				e.loadErr = errors.New("users table down")
				e.mu.Unlock()
			} else {
				e.store.set(method, true)
			}
			s, err := e.a.Refresh(context.Background(), tok, Client{})
			if !errors.Is(err, ErrUnavailable) || errors.Is(err, ErrInvalidRefreshToken) || s != nil {
				t.Fatalf("Refresh with %s failing = %v, %v; want nil, ErrUnavailable only", method, s, err)
			}
			e.store.set(method, false)
			e.mu.Lock()
			e.loadErr = nil
			e.mu.Unlock()
			// Nothing changed: the same token still rotates, exactly once.
			next := e.refresh(t, tok)
			e.refresh(t, next.RefreshToken)
		})
	}
	t.Run("RevokeSession during reuse", func(t *testing.T) {
		e := newRTEnv(t)
		a := e.start(t, "alice").RefreshToken
		b := e.refresh(t, a).RefreshToken
		e.store.set("RevokeSession", true)
		if _, err := e.a.Refresh(context.Background(), a, Client{}); !errors.Is(err, ErrUnavailable) {
			t.Fatalf("reuse with RevokeSession failing = %v; want ErrUnavailable", err)
		}
		e.store.set("RevokeSession", false)
		e.wantRefreshErr(t, a, ErrRefreshTokenReused)
		e.wantRefreshErr(t, b, ErrRefreshTokenRevoked)
	})
	t.Run("CreateSession", func(t *testing.T) {
		e := newRTEnv(t)
		e.store.set("CreateSession", true)
		s, err := e.a.StartSession(context.Background(), Claims{Subject: "alice"}, Client{})
		if !errors.Is(err, ErrUnavailable) || s != nil {
			t.Fatalf("StartSession with the store down = %v, %v; want nil, ErrUnavailable", s, err)
		}
	})
	t.Run("RevokeUser", func(t *testing.T) {
		e := newRTEnv(t)
		s := e.start(t, "alice")
		e.store.set("RevokeUser", true)
		if err := e.a.RevokeUser(context.Background(), "alice"); !errors.Is(err, ErrUnavailable) {
			t.Fatalf("RevokeUser with the store down = %v; want ErrUnavailable", err)
		}
		e.store.set("RevokeUser", false)
		if err := e.a.RevokeUser(context.Background(), "alice"); err != nil {
			t.Fatalf("RevokeUser retry = %v", err)
		}
		e.wantRefreshErr(t, s.RefreshToken, ErrRefreshTokenRevoked)
	})
}

func TestRefreshMalformed(t *testing.T) {
	t.Parallel()
	e := newRTEnv(t)
	valid := e.start(t, "alice").RefreshToken
	unknown := authstore.RouteFor("alice") + valid[authstore.RouteLen:len(valid)-1] + "A"
	if unknown == valid {
		unknown = authstore.RouteFor("alice") + valid[authstore.RouteLen:len(valid)-1] + "B"
	}
	wrongRoute := authstore.RouteFor("bob") + valid[authstore.RouteLen:]
	for _, tok := range []string{"", "short", valid + "x", valid[:len(valid)-1] + "=", valid[:len(valid)-1] + "+", unknown, wrongRoute} {
		e.wantRefreshErr(t, tok, ErrRefreshTokenUnknown)
	}
}

func TestRefreshNeedsLoader(t *testing.T) {
	t.Parallel()
	key, _ := NewHMACKey(HS256, []byte("refresh-tests-secret-0123456789abcdef"))
	ks, _ := NewKeySet(key)
	a, _ := New(WithKeys(ks), WithIssuer("iss"), WithAudience("aud"))
	s, err := a.StartSession(context.Background(), Claims{Subject: "u"}, Client{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.Refresh(context.Background(), s.RefreshToken, Client{}); !errors.Is(err, ErrConfig) {
		t.Errorf("Refresh without a loader = %v; want ErrConfig", err)
	}
}

func TestLogout(t *testing.T) {
	t.Parallel()
	e := newRTEnv(t)
	ctx := context.Background()
	s := e.start(t, "alice")
	keep := e.start(t, "alice")
	if err := e.a.RevokeRefreshToken(ctx, s.RefreshToken); err != nil {
		t.Fatal(err)
	}
	if err := e.a.RevokeRefreshToken(ctx, s.RefreshToken); err != nil {
		t.Errorf("second logout = %v; want nil (idempotent)", err)
	}
	if err := e.a.RevokeRefreshToken(ctx, "garbage"); err != nil {
		t.Errorf("logout of garbage = %v; want nil", err)
	}
	e.wantRefreshErr(t, s.RefreshToken, ErrRefreshTokenRevoked)
	if err := e.a.RevokeAccessToken(ctx, s.Access.Claims); err != nil {
		t.Fatal(err)
	}
	if _, err := e.a.Verify(ctx, s.Access.Token); !errors.Is(err, ErrTokenRevoked) {
		t.Errorf("Verify(logged-out access token) = %v; want ErrTokenRevoked", err)
	}
	if _, err := e.a.Verify(ctx, keep.Access.Token); err != nil {
		t.Errorf("Verify(other session's access token) = %v; want nil", err)
	}
	e.refresh(t, keep.RefreshToken)
	sessions, err := e.a.Sessions(ctx, "alice")
	if err != nil || len(sessions) != 1 || sessions[0].ID != keep.SessionID || sessions[0].UserAgent != "test" {
		t.Errorf("Sessions = %+v, %v; want only the kept session", sessions, err)
	}
}

func TestRevokeUserCutoff(t *testing.T) {
	t.Parallel()
	e := newRTEnv(t)
	ctx := context.Background()
	// All in one second: issue at .100, revoke at .300, sign in at .600.
	e.clock.Advance(100 * time.Millisecond)
	before := e.start(t, "alice")
	other := e.start(t, "bob")
	e.clock.Advance(200 * time.Millisecond)
	if err := e.a.RevokeUser(ctx, "alice"); err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(300 * time.Millisecond)
	after := e.start(t, "alice")
	if before.Access.Claims.IssuedAt.Unix() != after.Access.Claims.IssuedAt.Unix() {
		t.Fatal("test setup: tokens not in the same second")
	}
	if _, err := e.a.Verify(ctx, before.Access.Token); !errors.Is(err, ErrTokenRevoked) {
		t.Errorf("Verify(token before logout-all) = %v; want ErrTokenRevoked", err)
	}
	if _, err := e.a.Verify(ctx, after.Access.Token); err != nil {
		t.Errorf("Verify(token after logout-all, same second) = %v; want nil", err)
	}
	if _, err := e.a.Verify(ctx, other.Access.Token); err != nil {
		t.Errorf("Verify(another user's token) = %v; want nil", err)
	}
	e.wantRefreshErr(t, before.RefreshToken, ErrRefreshTokenRevoked)
	e.refresh(t, after.RefreshToken)
	e.refresh(t, other.RefreshToken)
	if got := e.countEvents(audit.UserRevoked); got != 1 {
		t.Errorf("user revoked events = %d; want 1", got)
	}
}

func TestRefreshConcurrentExactlyOneWinner(t *testing.T) {
	t.Parallel()
	e := newRTEnv(t)
	tok := e.start(t, "alice").RefreshToken
	const n = 50
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		winners int
		others  []error
	)
	startGate := make(chan struct{})
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-startGate
			_, err := e.a.Refresh(context.Background(), tok, Client{})
			mu.Lock()
			defer mu.Unlock()
			if err == nil {
				winners++
			} else {
				others = append(others, err)
			}
		}()
	}
	close(startGate)
	wg.Wait()
	if winners != 1 {
		t.Fatalf("%d concurrent refreshes: %d winners; want exactly 1", n, winners)
	}
	for _, err := range others {
		if !errors.Is(err, ErrInvalidRefreshToken) {
			t.Errorf("loser error = %v; want an ErrInvalidRefreshToken", err)
		}
	}
}

// purgingRevocations is a revocation store with a Purge method.
type purgingRevocations struct {
	*memstore.Store
	calls int
}

func (p *purgingRevocations) Purge(context.Context, time.Time, int) (int, error) {
	p.calls++
	return 3, nil
}

func TestPurge(t *testing.T) {
	t.Parallel()
	rs := &purgingRevocations{Store: newMemStore(t)}
	e := newRTEnv(t, WithRefreshTTL(time.Hour), WithSessionTTL(2*time.Hour), WithRevocation(rs))
	for i := 0; i < 3; i++ {
		e.start(t, "alice")
	}
	live := e.start(t, "bob")
	e.clock.Advance(3 * time.Hour)
	e.refreshKeepsNothing(t, live.RefreshToken)
	n, err := e.a.Purge(context.Background())
	if err != nil || n < 4+3 || rs.calls != 1 {
		t.Errorf("Purge = %d, %v (revocation store purged %d times); want at least 7 items and one revocation purge", n, err, rs.calls)
	}
	if n, _ := e.a.Purge(context.Background()); n != 3 {
		t.Errorf("second Purge = %d; want only the revocation store's 3", n)
	}
}

func (e *rtEnv) refreshKeepsNothing(t *testing.T, tok string) {
	t.Helper()
	e.wantRefreshErr(t, tok, ErrRefreshTokenExpired)
}

func TestRevocationNeedsStore(t *testing.T) {
	t.Parallel()
	now := mwNow
	a := newMWAuth(t, &now, WithRevocation(revocationFunc(func(context.Context, *Claims) (bool, error) { return false, nil })))
	at, _ := a.Issue(context.Background(), Claims{Subject: "u"})
	if err := a.RevokeAccessToken(context.Background(), at.Claims); !errors.Is(err, ErrConfig) {
		t.Errorf("RevokeAccessToken with a read-only checker = %v; want ErrConfig", err)
	}
	if err := a.RevokeUser(context.Background(), "u"); !errors.Is(err, ErrConfig) {
		t.Errorf("RevokeUser with a read-only checker = %v; want ErrConfig", err)
	}
}

// TestRefreshManyRotationsInOneInstant: a session rotated thousands of times
// while the clock stands still stays bounded in the memory store, which
// drops its oldest spent tokens in rotation order: the first is then
// unknown, while replaying a recent spent token is still caught as reuse.
func TestRefreshManyRotationsInOneInstant(t *testing.T) {
	t.Parallel()
	th, err := memstore.NewThrottle(authstore.Rate{Limit: 10000, Window: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	e := newRTEnv(t, WithRefreshThrottle(th))
	first := e.start(t, "alice").RefreshToken
	tokens := []string{first}
	for range 3000 {
		tokens = append(tokens, e.refresh(t, tokens[len(tokens)-1]).RefreshToken)
	}
	e.wantRefreshErr(t, first, ErrRefreshTokenUnknown)
	e.wantRefreshErr(t, tokens[len(tokens)-2], ErrRefreshTokenReused)
	e.wantRefreshErr(t, tokens[len(tokens)-1], ErrRefreshTokenRevoked) // the session died with the reuse
}

// TestAccessTokensCarryTheirSession: tokens of a session carry its id as
// sid, through every rotation, and revoking the session refuses its access
// tokens at once, and no other session's.
func TestAccessTokensCarryTheirSession(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newRTEnv(t)
	laptop, phone := e.start(t, "alice"), e.start(t, "alice")
	if laptop.Access.Claims.SessionID != laptop.SessionID || laptop.SessionID == "" {
		t.Fatalf("StartSession: sid %q, session %q; want the session's id", laptop.Access.Claims.SessionID, laptop.SessionID)
	}
	next := e.refresh(t, laptop.RefreshToken)
	c, err := e.a.Verify(ctx, next.Access.Token)
	if err != nil || c.SessionID != laptop.SessionID {
		t.Fatalf("Verify(refreshed token) = sid %q, %v; want the session's id %q", c.SessionID, err, laptop.SessionID)
	}
	if err := e.a.RevokeSession(ctx, "alice", laptop.SessionID); err != nil {
		t.Fatal(err)
	}
	for _, tok := range []string{laptop.Access.Token, next.Access.Token} {
		if _, err := e.a.Verify(ctx, tok); !errors.Is(err, ErrTokenRevoked) {
			t.Errorf("Verify(access token of a revoked session) = %v; want ErrTokenRevoked", err)
		}
	}
	if _, err := e.a.Verify(ctx, phone.Access.Token); err != nil {
		t.Errorf("Verify(access token of another session) = %v; want nil", err)
	}
	// A token issued outside any session has no sid and is not affected.
	at, err := e.a.Issue(ctx, Claims{Subject: "alice"})
	if err != nil || at.Claims.SessionID != "" {
		t.Fatalf("Issue = sid %q, %v; want no sid", at.Claims.SessionID, err)
	}
	if _, err := e.a.Verify(ctx, at.Token); err != nil {
		t.Errorf("Verify(token of no session) = %v; want nil", err)
	}
}

// TestReuseRefusesTheSessionsAccessTokens: when a spent refresh token is
// replayed, the access tokens of its session die with it, the thief's and
// the victim's alike.
func TestReuseRefusesTheSessionsAccessTokens(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newRTEnv(t)
	first := e.start(t, "alice")
	second := e.refresh(t, first.RefreshToken)
	e.wantRefreshErr(t, first.RefreshToken, ErrRefreshTokenReused)
	if _, err := e.a.Verify(ctx, second.Access.Token); !errors.Is(err, ErrTokenRevoked) {
		t.Errorf("Verify(access token of a session revoked for reuse) = %v; want ErrTokenRevoked", err)
	}
}

// Refreshes are limited per session: only successful rotations count, and
// past the limit the answer is ErrTooManyAttempts with a wait, which keeps
// the session and its token; other sessions go on.
func TestRefreshThrottle(t *testing.T) {
	t.Parallel()
	th, err := memstore.NewThrottle(authstore.Rate{Limit: 3, Window: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	e := newRTEnv(t, WithRefreshThrottle(th))
	ctx := context.Background()
	s := e.start(t, "alice")
	tok := s.RefreshToken
	// Unknown tokens and a lost race count nothing.
	for i := 0; i < 5; i++ {
		e.wantRefreshErr(t, "bogus-token", ErrRefreshTokenUnknown)
	}
	for i := 0; i < 3; i++ {
		tok = e.refresh(t, tok).RefreshToken
	}
	_, err = e.a.Refresh(ctx, tok, Client{})
	if !errors.Is(err, ErrTooManyAttempts) || RetryAfter(err) <= 0 {
		t.Fatalf("fourth refresh in a minute = %v (retry after %v); want ErrTooManyAttempts with a wait", err, RetryAfter(err))
	}
	other := e.start(t, "alice")
	e.refresh(t, other.RefreshToken)
	// The throttled token is still the session's live one.
	e.clock.Advance(20 * time.Second)
	if _, err := e.a.Refresh(ctx, tok, Client{}); err != nil {
		t.Errorf("refresh once credit returned = %v; want success", err)
	}
	// Through the handler: 429 with Retry-After, the cookie kept.
	tok2 := e.start(t, "bob").RefreshToken
	for j := 0; j < 3; j++ {
		tok2 = e.refresh(t, tok2).RefreshToken
	}
	w := post(mustHandler(t)(e.a.RefreshHandler()), "", withCookie(tok2))
	if w.Code != 429 || w.Header().Get("Retry-After") == "" || w.Header().Get("Set-Cookie") != "" {
		t.Errorf("throttled refresh handler: %d, Retry-After %q, Set-Cookie %q; want 429, a wait, no cookie change", w.Code, w.Header().Get("Retry-After"), w.Header().Get("Set-Cookie"))
	}
}

// Replays of one predecessor inside the grace window are bounded: 32
// concurrent ones get at most WithGraceReplays fresh tokens, and the rest
// count as reuse, which revokes the session.
func TestRefreshGraceReplaysBounded(t *testing.T) {
	t.Parallel()
	th, err := memstore.NewThrottle(authstore.Rate{Limit: 1000, Window: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []int{1, 3} {
		t.Run(fmt.Sprintf("%d replays", n), func(t *testing.T) {
			opts := []Option{WithReuseGrace(10 * time.Second), WithRefreshThrottle(th)}
			if n != DefaultGraceReplays {
				opts = append(opts, WithGraceReplays(n))
			}
			e := newRTEnv(t, opts...)
			pred := e.start(t, "alice").RefreshToken
			e.refresh(t, pred)
			var wg sync.WaitGroup
			var mu sync.Mutex
			fresh, reused := 0, 0
			for range 32 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					_, err := e.a.Refresh(context.Background(), pred, Client{})
					mu.Lock()
					defer mu.Unlock()
					switch {
					case err == nil:
						fresh++
					case errors.Is(err, ErrInvalidRefreshToken):
						reused++
					default:
						t.Errorf("Refresh = %v", err)
					}
				}()
			}
			wg.Wait()
			if fresh > n || fresh+reused != 32 {
				t.Errorf("32 concurrent replays: %d got tokens, %d refused; want at most %d tokens", fresh, reused, n)
			}
		})
	}
	if _, err := New(WithKeys(mustKeySet(t)), WithIssuer("i"), WithAudience("a"), WithGraceReplays(0)); !errors.Is(err, ErrConfig) {
		t.Errorf("WithGraceReplays(0) = %v; want ErrConfig", err)
	}
}

func mustKeySet(t *testing.T) *KeySet {
	t.Helper()
	k, err := NewHMACKey(HS256, []byte("refresh-tests-secret-0123456789abcdef"))
	if err != nil {
		t.Fatal(err)
	}
	ks, err := NewKeySet(k)
	if err != nil {
		t.Fatal(err)
	}
	return ks
}
