package account_test

// The shared fixtures of the tests: the fake clock (package
// internal/testclock), an in-memory Users, a recording Mailer, a one-time
// store that can be made to fail, and env, which wires an *auth.Auth and a
// Manager over them. The examples use the in-memory Users too.

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jwtkit/auth"
	"github.com/jwtkit/auth/account"
	"github.com/jwtkit/auth/audit"
	"github.com/jwtkit/auth/authstore"
	"github.com/jwtkit/auth/internal/testclock"
	"github.com/jwtkit/auth/memstore"
	"github.com/jwtkit/auth/password"
)

// The pages of the links, and the one account most tests use.
const (
	resetPage  = "https://app.example.com/reset-password"
	verifyPage = "https://app.example.com/verify-email"

	adaID       = "u-ada"
	adaEmail    = "ada@example.com"
	adaPassword = "correct horse battery"
	newPassword = "staple battery horse"
)

// testSecret is the HS256 secret of the tests' Auth.
var testSecret = []byte("account-tests-secret-0123456789abcdef")

// errDown is the failure of a store the test broke.
var errDown = errors.New("test: store down")

// memUsers is an in-memory account.Users: accounts by id, found by their
// e-mail address trimmed and lower-cased. With refuseUnverified, the
// credentials of an account whose address is not verified carry
// account.ErrEmailNotVerified as their Refusal. Safe for concurrent use.
type memUsers struct {
	mu               sync.Mutex // guards the fields below
	byID             map[string]*memUser
	refuseUnverified bool
	down             bool // every method fails with errDown
}

type memUser struct {
	email    string
	hash     []byte
	verified bool
}

var _ account.Users = (*memUsers)(nil)

func newUsers() *memUsers { return &memUsers{byID: map[string]*memUser{}} }

func normEmail(s string) string { return strings.ToLower(strings.TrimSpace(s)) }

// add stores the account id with address email and password hash hash.
func (u *memUsers) add(id, email string, hash []byte) {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.byID[id] = &memUser{email: email, hash: hash}
}

// remove deletes the account id.
func (u *memUsers) remove(id string) {
	u.mu.Lock()
	defer u.mu.Unlock()
	delete(u.byID, id)
}

// refuseUnverifiedLogins makes the credentials of an unverified account
// carry account.ErrEmailNotVerified as their Refusal.
func (u *memUsers) refuseUnverifiedLogins() {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.refuseUnverified = true
}

// setDown makes every method fail (down) or work again.
func (u *memUsers) setDown(down bool) {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.down = down
}

// hash returns the stored hash of id.
func (u *memUsers) hash(id string) []byte {
	u.mu.Lock()
	defer u.mu.Unlock()
	if x := u.byID[id]; x != nil {
		return x.hash
	}
	return nil
}

// verified reports whether id has verified its address.
func (u *memUsers) verified(id string) bool {
	u.mu.Lock()
	defer u.mu.Unlock()
	x := u.byID[id]
	return x != nil && x.verified
}

// credsLocked returns the credentials of id; u.mu must be held.
func (u *memUsers) credsLocked(id string, x *memUser) auth.Credentials {
	c := auth.Credentials{UserID: id, Hash: x.hash, Claims: auth.Claims{Role: "user", Email: x.email}}
	if u.refuseUnverified && !x.verified {
		c.Refusal = account.ErrEmailNotVerified
	}
	return c
}

func (u *memUsers) Credentials(_ context.Context, login string) (auth.Credentials, error) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.down {
		return auth.Credentials{}, errDown
	}
	for id, x := range u.byID {
		if normEmail(x.email) == normEmail(login) {
			return u.credsLocked(id, x), nil
		}
	}
	return auth.Credentials{}, auth.ErrUserNotFound
}

func (u *memUsers) CredentialsByID(_ context.Context, id string) (auth.Credentials, error) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.down {
		return auth.Credentials{}, errDown
	}
	x := u.byID[id]
	if x == nil {
		return auth.Credentials{}, auth.ErrUserNotFound
	}
	return u.credsLocked(id, x), nil
}

func (u *memUsers) SetPasswordHash(_ context.Context, id string, hash []byte) error {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.down {
		return errDown
	}
	x := u.byID[id]
	if x == nil {
		return auth.ErrUserNotFound
	}
	x.hash = hash
	return nil
}

func (u *memUsers) SetEmailVerified(_ context.Context, id string) error {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.down {
		return errDown
	}
	x := u.byID[id]
	if x == nil {
		return auth.ErrUserNotFound
	}
	x.verified = true
	return nil
}

// claims is the auth.ClaimsLoader of the accounts.
func (u *memUsers) claims(ctx context.Context, id string) (auth.Claims, error) {
	c, err := u.CredentialsByID(ctx, id)
	return c.Claims, err
}

// recordingMailer is an account.Mailer that keeps every message; with err
// set, it keeps them and fails.
type recordingMailer struct {
	mu   sync.Mutex // guards msgs and err
	msgs []account.Message
	err  error
}

func (r *recordingMailer) Send(_ context.Context, m account.Message) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.msgs = append(r.msgs, m)
	return r.err
}

// failWith makes Send fail with err (nil: succeed).
func (r *recordingMailer) failWith(err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.err = err
}

// sent returns the messages so far.
func (r *recordingMailer) sent() []account.Message {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]account.Message(nil), r.msgs...)
}

// last returns the latest message, failing the test when there is none.
func (r *recordingMailer) last(t testing.TB) account.Message {
	t.Helper()
	msgs := r.sent()
	if len(msgs) == 0 {
		t.Fatal("no message sent; want one")
	}
	return msgs[len(msgs)-1]
}

// faultyOneTime is a one-time store whose every method fails while down
// is set.
type faultyOneTime struct {
	authstore.OneTimeStore
	down atomic.Bool
}

func (f *faultyOneTime) SaveOneTime(ctx context.Context, t authstore.OneTimeToken) error {
	if f.down.Load() {
		return errDown
	}
	return f.OneTimeStore.SaveOneTime(ctx, t)
}

func (f *faultyOneTime) ConsumeOneTime(ctx context.Context, route string, h authstore.TokenHash, purpose string, now time.Time) (authstore.OneTimeToken, bool, error) {
	if f.down.Load() {
		return authstore.OneTimeToken{}, false, errDown
	}
	return f.OneTimeStore.ConsumeOneTime(ctx, route, h, purpose, now)
}

func (f *faultyOneTime) RevokeOneTime(ctx context.Context, userID, purpose string) (int, error) {
	if f.down.Load() {
		return 0, errDown
	}
	return f.OneTimeStore.RevokeOneTime(ctx, userID, purpose)
}

// env is one Auth and its Manager over fresh in-memory stores, with ada's
// account, at testclock.Instant.
type env struct {
	clock  *testclock.Clock
	users  *memUsers
	mail   *recordingMailer
	once   *faultyOneTime
	hasher *password.Bcrypt
	a      *auth.Auth
	m      *account.Manager

	mu     sync.Mutex // guards events
	events []audit.Event
}

// newEnv returns an env whose Manager also has opts (after its own).
func newEnv(t testing.TB, opts ...account.Option) *env {
	t.Helper()
	e := &env{clock: testclock.New(), users: newUsers(), mail: &recordingMailer{}, hasher: newHasher(t)}
	e.users.add(adaID, adaEmail, adaHash())
	sessions := newMemStore(t, e.clock)
	e.once = &faultyOneTime{OneTimeStore: newMemStore(t, e.clock)}
	e.a = newAuth(t, e.clock, sessions,
		auth.WithClaimsLoader(e.users.claims),
		auth.WithCredentials(e.users),
		auth.WithPasswords(e.hasher),
		auth.WithEvents(func(_ context.Context, ev audit.Event) {
			// auth.RevokeUser refuses every access token issued within
			// the microsecond of its cutoff, even one issued after it
			// returned: under a clock that stands still, the new session
			// of ChangePassword too. A real clock has almost always moved
			// on by then; the fake one is moved on here, so that the
			// tests judge the account flows, not that microsecond.
			if ev.Kind == audit.UserRevoked {
				e.clock.Advance(time.Millisecond)
			}
		}))
	base := []account.Option{
		account.WithMailer(e.mail),
		account.WithPasswords(e.hasher),
		account.WithLinks(resetPage, verifyPage),
		account.WithStore(e.once),
		account.WithClock(e.clock.Now),
		account.WithEvents(func(_ context.Context, ev audit.Event) {
			e.mu.Lock()
			e.events = append(e.events, ev)
			e.mu.Unlock()
		}),
	}
	m, err := account.New(e.a, e.users, append(base, opts...)...)
	if err != nil {
		t.Fatalf("account.New = %v", err)
	}
	e.m = m
	return e
}

// adaHash is the bcrypt hash of adaPassword at password.MinCost, made
// once: under the race detector each bcrypt computation takes a while.
var adaHash = sync.OnceValue(func() []byte {
	p, err := password.NewBcrypt(password.WithCost(password.MinCost))
	if err != nil {
		panic(err)
	}
	h, err := p.Hash(context.Background(), adaPassword)
	if err != nil {
		panic(err)
	}
	return h
})

// newHasher returns a bcrypt hasher of the lowest cost allowed, to keep
// the tests quick.
func newHasher(t testing.TB) *password.Bcrypt {
	t.Helper()
	h, err := password.NewBcrypt(password.WithCost(password.MinCost))
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// newMemStore returns an empty in-memory store on clock.
func newMemStore(t testing.TB, clock *testclock.Clock) *memstore.Store {
	t.Helper()
	s, err := memstore.New(memstore.WithClock(clock.Now))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// plainHasher is a password.Hasher without any cost or slot limit: an
// unsalted SHA-256. Under the race detector a bcrypt hash of the lowest
// cost takes over a second, and Reset hashes before it looks at the
// token; the tests of token handling, where the hash is beside the point,
// give the Manager this one. With it, concurrent Resets reach the token
// together rather than one bcrypt slot at a time.
type plainHasher struct{}

const plainPrefix = "sha256$"

func (plainHasher) Matches(hash []byte) bool { return strings.HasPrefix(string(hash), plainPrefix) }

func (plainHasher) Hash(_ context.Context, pw string) ([]byte, error) {
	if err := password.Check(pw); err != nil {
		return nil, err
	}
	sum := sha256.Sum256([]byte(pw))
	return []byte(plainPrefix + hex.EncodeToString(sum[:])), nil
}

func (h plainHasher) Verify(ctx context.Context, hash []byte, pw string) (ok, rehash bool, err error) {
	want, _ := h.Hash(ctx, pw)
	return want != nil && subtle.ConstantTimeCompare(want, hash) == 1, false, nil
}

// newThrottle returns an in-memory throttle of limit attempts per 15
// minutes.
func newThrottle(t testing.TB, limit int) *memstore.Throttle {
	t.Helper()
	th, err := memstore.NewThrottle(authstore.Rate{Limit: limit, Window: 15 * time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	return th
}

// newAuth returns an HS256 Auth on clock whose sessions and revocations
// live in store, with opts after its own.
func newAuth(t testing.TB, clock *testclock.Clock, store *memstore.Store, opts ...auth.Option) *auth.Auth {
	t.Helper()
	key, err := auth.NewHMACKey(auth.HS256, testSecret)
	if err != nil {
		t.Fatal(err)
	}
	ks, err := auth.NewKeySet(key)
	if err != nil {
		t.Fatal(err)
	}
	base := []auth.Option{
		auth.WithKeys(ks), auth.WithIssuer("https://issuer.test"), auth.WithAudience("api"),
		auth.WithClock(clock.Now), auth.WithRefreshStore(store), auth.WithRevocation(store),
	}
	a, err := auth.New(append(base, opts...)...)
	if err != nil {
		t.Fatalf("auth.New = %v", err)
	}
	return a
}

// passwordKept reports whether ada's stored hash is still the one of
// adaPassword: the check, without bcrypt, that a refused flow changed
// nothing.
func (e *env) passwordKept() bool { return bytes.Equal(e.users.hash(adaID), adaHash()) }

// passwordIs reports whether the stored hash of id verifies pw.
func (e *env) passwordIs(t testing.TB, id, pw string) bool {
	t.Helper()
	ok, _, err := e.hasher.Verify(context.Background(), e.users.hash(id), pw)
	if err != nil {
		t.Fatal(err)
	}
	return ok
}

// resetToken asks for a reset link of email and returns the token it
// carries.
func (e *env) resetToken(t testing.TB, email string) string {
	t.Helper()
	n := len(e.mail.sent())
	if err := e.m.Forgot(context.Background(), email, auth.Client{}); err != nil {
		t.Fatalf("Forgot(%q) = %v; want nil", email, err)
	}
	if got := len(e.mail.sent()); got != n+1 {
		t.Fatalf("Forgot(%q) sent %d messages; want 1", email, got-n)
	}
	return e.mail.last(t).Token
}

// verifyToken sends a verification link of ada and returns its token.
func (e *env) verifyToken(t testing.TB) string {
	t.Helper()
	if err := e.m.SendVerification(context.Background(), adaID, adaEmail); err != nil {
		t.Fatalf("SendVerification = %v; want nil", err)
	}
	return e.mail.last(t).Token
}

// startSession starts a session of ada, as a sign-in does.
func (e *env) startSession(t testing.TB) *auth.Tokens {
	t.Helper()
	tok, err := e.a.StartSession(context.Background(), auth.Claims{Subject: adaID, Email: adaEmail}, auth.Client{})
	if err != nil {
		t.Fatalf("StartSession = %v", err)
	}
	return tok
}

// claimsOf verifies the access token of tok and returns its claims.
func (e *env) claimsOf(t testing.TB, tok *auth.Tokens) *auth.Claims {
	t.Helper()
	c, err := e.a.Verify(context.Background(), tok.Access.Token)
	if err != nil {
		t.Fatalf("Verify(access token) = %v; want nil", err)
	}
	return c
}

// countEvents returns how many events of kind the Manager emitted.
func (e *env) countEvents(kind audit.Kind) int {
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

// wantErr fails the test unless errors.Is(err, want).
func wantErr(t *testing.T, call string, err, want error) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Errorf("%s = %v; want %v", call, err, want)
	}
}

// wantThrottled fails the test unless err matches auth.ErrTooManyAttempts
// with a wait, and returns the wait.
func wantThrottled(t *testing.T, call string, err error) time.Duration {
	t.Helper()
	wait := auth.RetryAfter(err)
	if !errors.Is(err, auth.ErrTooManyAttempts) || wait <= 0 {
		t.Fatalf("%s = %v (RetryAfter %v); want ErrTooManyAttempts with a wait", call, err, wait)
	}
	return wait
}

// tokenParam returns the token query parameter of link, failing the test
// when link is not the page page with exactly that one parameter added.
func tokenParam(t testing.TB, link, page string) string {
	t.Helper()
	u, err := url.Parse(link)
	if err != nil {
		t.Fatalf("url.Parse(%q) = %v", link, err)
	}
	q := u.Query()
	tok := q.Get("token")
	u.RawQuery = ""
	if got := u.String(); got != page {
		t.Errorf("link %q opens %q; want %q", link, got, page)
	}
	if len(q) != 1 || len(q["token"]) != 1 {
		t.Errorf("link %q has query %v; want one token parameter", link, q)
	}
	return tok
}
