package otelauth_test

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/jwtkit/auth"
	"github.com/jwtkit/auth/account"
	"github.com/jwtkit/auth/authstore"
	"github.com/jwtkit/auth/memstore"
	"github.com/jwtkit/auth/otelauth"
	"github.com/jwtkit/auth/password"
)

// The one account of the tests, and what a client sends.
const (
	testUser      = "user-7f3a"
	testEmail     = "ada.lovelace@example.com"
	testPassword  = "correct horse battery staple"
	wrongPassword = "wrong horse battery staple"
	testAgent     = "TestAgent/1.0 (otelauth)"
	testAddress   = "192.0.2.77"
)

var testClient = auth.Client{UserAgent: testAgent, Address: testAddress}

// clock is a settable clock shared by the Auth and the memory store.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func newClock() *clock { return &clock{now: time.Date(2030, 6, 15, 10, 30, 0, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// users is a CredentialStore of one account.
type users struct{ hash []byte }

// The other logins of users: an account that may not sign in yet, and
// one whose lookup fails with a message that quotes the login.
const (
	unverifiedEmail = "grace.hopper@example.com"
	brokenEmail     = "broken.lookup@example.com"
)

func (u *users) Credentials(_ context.Context, login string) (auth.Credentials, error) {
	switch login {
	case testEmail:
		return auth.Credentials{UserID: testUser, Hash: u.hash, Claims: auth.Claims{Role: "user", Email: testEmail}}, nil
	case unverifiedEmail:
		return auth.Credentials{UserID: "user-unverified", Hash: u.hash, Refusal: account.ErrEmailNotVerified}, nil
	case brokenEmail:
		return auth.Credentials{}, fmt.Errorf("users: lookup of %q: connection reset", login)
	}
	return auth.Credentials{}, auth.ErrUserNotFound
}

func (u *users) SetPasswordHash(context.Context, string, []byte) error { return nil }

func loadClaims(_ context.Context, userID string) (auth.Claims, error) {
	if userID != testUser {
		return auth.Claims{}, auth.ErrUserNotFound
	}
	return auth.Claims{Role: "user", Email: testEmail}, nil
}

// env is a real Auth with its telemetry on in-memory exporters.
type env struct {
	t      *testing.T
	a      *auth.Auth
	tel    *otelauth.Telemetry
	reader *sdkmetric.ManualReader
	spans  *tracetest.SpanRecorder
	clock  *clock
	store  *memstore.Store
	faulty *faultyStore
	// secrets are the strings that no attribute may hold: every token
	// handed out, the password, the login name and their derivatives.
	mu      sync.Mutex
	secrets []string
}

// newEnv builds the Auth, with the store, the revocation store and the
// throttle (3 attempts a minute) wrapped, and the observer and events.
func newEnv(t *testing.T, opts ...otelauth.Option) *env {
	t.Helper()
	e := &env{t: t, reader: sdkmetric.NewManualReader(), spans: tracetest.NewSpanRecorder(), clock: newClock()}
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(e.reader))
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(e.spans))
	t.Cleanup(func() {
		_ = mp.Shutdown(context.Background())
		_ = tp.Shutdown(context.Background())
	})
	tel, err := otelauth.New(append([]otelauth.Option{otelauth.WithMeterProvider(mp), otelauth.WithTracerProvider(tp)}, opts...)...)
	if err != nil {
		t.Fatalf("otelauth.New = %v", err)
	}
	e.tel = tel
	e.store, err = memstore.New(memstore.WithClock(e.clock.Now))
	if err != nil {
		t.Fatal(err)
	}
	e.faulty = &faultyStore{Store: e.store}
	th, err := memstore.NewThrottle(authstore.Rate{Limit: 3, Window: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	hasher, err := password.NewBcrypt(password.WithCost(password.MinCost))
	if err != nil {
		t.Fatal(err)
	}
	hash, err := hasher.Hash(context.Background(), testPassword)
	if err != nil {
		t.Fatal(err)
	}
	key, err := auth.GenerateKey(nil, auth.HS256)
	if err != nil {
		t.Fatal(err)
	}
	keys, err := auth.NewKeySet(key)
	if err != nil {
		t.Fatal(err)
	}
	e.a, err = auth.New(
		auth.WithKeys(keys),
		auth.WithIssuer("https://id.example.com"),
		auth.WithAudience("api"),
		auth.WithClock(e.clock.Now),
		auth.WithPasswords(hasher),
		auth.WithCredentials(&users{hash: hash}),
		auth.WithClaimsLoader(loadClaims),
		auth.WithRefreshStore(tel.WrapRefreshStore(e.faulty)),
		auth.WithRevocation(tel.WrapRevocationStore(e.store)),
		auth.WithLoginThrottle(tel.WrapThrottle(th)),
		auth.WithObserver(tel.Observer()),
		auth.WithEvents(tel.Events()),
	)
	if err != nil {
		t.Fatalf("auth.New = %v", err)
	}
	e.secret(testPassword, wrongPassword, testEmail, unverifiedEmail, brokenEmail, strings.ToUpper(testEmail), testAgent, testAddress)
	digest := sha256.Sum256([]byte(testEmail))
	e.secret(hex.EncodeToString(digest[:16]), hex.EncodeToString(hash), string(hash))
	return e
}

// faultyStore is the memory store whose Lookup fails once down is set.
type faultyStore struct {
	*memstore.Store
	down atomic.Bool
}

// downError is the failure of a faultyStore; its message quotes the user
// id, as real stores' messages may.
type downError struct{}

func (downError) Error() string { return "store down while looking up a token of " + testUser }

func (f *faultyStore) Lookup(ctx context.Context, route string, h authstore.TokenHash) (authstore.RefreshRecord, authstore.Session, bool, error) {
	if f.down.Load() {
		return authstore.RefreshRecord{}, authstore.Session{}, false, fmt.Errorf("faulty: %w", downError{})
	}
	return f.Store.Lookup(ctx, route, h)
}

// secret adds strings that must appear in no attribute, event or status.
func (e *env) secret(s ...string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.secrets = append(e.secrets, s...)
}

// tokens records every token of ts (and the hash the store keeps) as a
// secret.
func (e *env) tokens(ts *auth.Tokens) {
	if ts == nil {
		return
	}
	e.secret(ts.Access.Token, ts.RefreshToken, ts.DeviceToken)
	for _, s := range []string{ts.Access.Token, ts.RefreshToken, ts.DeviceToken} {
		if s == "" {
			continue
		}
		h := authstore.HashToken(s)
		e.secret(hex.EncodeToString(h[:]), base64.RawURLEncoding.EncodeToString(h[:]), string(h[:]))
		if i := strings.LastIndexByte(s, '.'); i > 0 {
			e.secret(s[i+1:]) // a JWT's signature alone
		}
	}
}

func (e *env) login(pw string) (*auth.Tokens, error) {
	e.t.Helper()
	ts, err := e.a.Login(context.Background(), testEmail, pw, testClient)
	e.tokens(ts)
	return ts, err
}

func (e *env) refresh(token string) (*auth.Tokens, error) {
	e.t.Helper()
	ts, err := e.a.Refresh(context.Background(), token, testClient)
	e.tokens(ts)
	return ts, err
}

// metrics collects the reader: each counter's value and each histogram's
// count, by metric name and encoded attribute set ("" for none).
func (e *env) metrics() (sums map[string]map[string]int64, counts map[string]map[string]uint64, all []attribute.Set) {
	e.t.Helper()
	var rm metricdata.ResourceMetrics
	if err := e.reader.Collect(context.Background(), &rm); err != nil {
		e.t.Fatalf("Collect = %v", err)
	}
	sums, counts = map[string]map[string]int64{}, map[string]map[string]uint64{}
	for _, sm := range rm.ScopeMetrics {
		if sm.Scope.Name != otelauth.ScopeName {
			e.t.Errorf("scope %q; want %q", sm.Scope.Name, otelauth.ScopeName)
		}
		for _, m := range sm.Metrics {
			switch d := m.Data.(type) {
			case metricdata.Sum[int64]:
				if !d.IsMonotonic {
					e.t.Errorf("%s is not monotonic", m.Name)
				}
				sums[m.Name] = map[string]int64{}
				for _, dp := range d.DataPoints {
					sums[m.Name][encode(dp.Attributes)] += dp.Value
					all = append(all, dp.Attributes)
				}
			case metricdata.Histogram[float64]:
				if m.Unit != "s" {
					e.t.Errorf("%s unit %q; want s", m.Name, m.Unit)
				}
				counts[m.Name] = map[string]uint64{}
				for _, dp := range d.DataPoints {
					counts[m.Name][encode(dp.Attributes)] += dp.Count
					all = append(all, dp.Attributes)
				}
			default:
				e.t.Errorf("%s: unexpected data %T", m.Name, m.Data)
			}
		}
	}
	return sums, counts, all
}

func encode(s attribute.Set) string { return s.Encoded(attribute.DefaultEncoder()) }

// wantSums checks the values of one counter, by attribute set.
func wantSums(t *testing.T, sums map[string]map[string]int64, name string, want map[string]int64) {
	t.Helper()
	got := sums[name]
	if len(want) == 0 && len(got) == 0 {
		return
	}
	if fmt.Sprint(sorted(got)) != fmt.Sprint(sorted(want)) {
		t.Errorf("%s = %v; want %v", name, sorted(got), sorted(want))
	}
}

func sorted[V any](m map[string]V) []string {
	var out []string
	for k, v := range m {
		out = append(out, fmt.Sprintf("%s:%v", k, v))
	}
	sort.Strings(out)
	return out
}

// ended returns the ended spans.
func (e *env) ended() []sdktrace.ReadOnlySpan { return e.spans.Ended() }

// named returns the ended spans called name.
func named(spans []sdktrace.ReadOnlySpan, name string) []sdktrace.ReadOnlySpan {
	var out []sdktrace.ReadOnlySpan
	for _, s := range spans {
		if s.Name() == name {
			out = append(out, s)
		}
	}
	return out
}

// children returns the names of the ended spans whose parent is p, in the
// order they ended.
func children(spans []sdktrace.ReadOnlySpan, p sdktrace.ReadOnlySpan) []string {
	var out []string
	for _, s := range spans {
		if s.Parent().SpanID() == p.SpanContext().SpanID() && s.Parent().IsValid() {
			if s.SpanContext().TraceID() != p.SpanContext().TraceID() {
				continue
			}
			out = append(out, s.Name())
		}
	}
	return out
}

// attr returns the value of key on s, and whether s has it.
func attr(s sdktrace.ReadOnlySpan, key attribute.Key) (attribute.Value, bool) {
	for _, kv := range s.Attributes() {
		if kv.Key == key {
			return kv.Value, true
		}
	}
	return attribute.Value{}, false
}

// spanStrings returns every string a span carries: its name, attributes,
// events and their attributes, status description and links.
func spanStrings(s sdktrace.ReadOnlySpan) []string {
	out := []string{s.Name(), s.Status().Description}
	kvs := func(attrs []attribute.KeyValue) {
		for _, kv := range attrs {
			out = append(out, string(kv.Key), kv.Value.String())
		}
	}
	kvs(s.Attributes())
	for _, ev := range s.Events() {
		out = append(out, ev.Name)
		kvs(ev.Attributes)
	}
	for _, l := range s.Links() {
		kvs(l.Attributes)
	}
	kvs(s.Resource().Attributes())
	return out
}

// checkNoSecrets fails for any secret in any attribute of a span or a
// metric data point collected so far.
func (e *env) checkNoSecrets() {
	e.t.Helper()
	_, _, sets := e.metrics()
	var all []string
	for _, s := range sets {
		for _, kv := range s.ToSlice() {
			all = append(all, string(kv.Key), kv.Value.String())
		}
	}
	for _, s := range e.ended() {
		all = append(all, spanStrings(s)...)
	}
	if len(all) == 0 {
		e.t.Fatal("no telemetry to check")
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, v := range all {
		for _, secret := range e.secrets {
			if secret != "" && strings.Contains(v, secret) {
				e.t.Errorf("telemetry string %q holds the secret %q", v, secret)
			}
		}
	}
}
