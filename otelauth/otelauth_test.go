package otelauth_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"go.opentelemetry.io/otel/codes"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/jwtkit/auth"
	"github.com/jwtkit/auth/account"
	"github.com/jwtkit/auth/audit"
	"github.com/jwtkit/auth/keyrotation"
	"github.com/jwtkit/auth/memstore"
	"github.com/jwtkit/auth/otelauth"
	"github.com/jwtkit/auth/password"
)

// TestTelemetry drives a real Auth through each outcome and checks every
// counter, the histogram, the spans and their nesting, and that no
// telemetry holds a secret.
func TestTelemetry(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newEnv(t)

	// Sign-ins: one success, three wrong passwords (the throttle allows
	// three a minute), then a throttled attempt.
	first, err := e.login(testPassword)
	if err != nil {
		t.Fatalf("Login = %v", err)
	}
	for i := 0; i < 3; i++ {
		if _, err := e.login(wrongPassword); !errors.Is(err, auth.ErrInvalidCredentials) {
			t.Fatalf("Login with a wrong password = %v; want ErrInvalidCredentials", err)
		}
	}
	if _, err := e.login(wrongPassword); !errors.Is(err, auth.ErrTooManyAttempts) {
		t.Fatalf("fourth Login = %v; want ErrTooManyAttempts", err)
	}

	// Verifications: ok, garbage, no token.
	if _, err := e.a.Verify(ctx, first.Access.Token); err != nil {
		t.Fatalf("Verify = %v", err)
	}
	if _, err := e.a.Verify(ctx, "not-a-token"); !errors.Is(err, auth.ErrTokenMalformed) {
		t.Fatalf("Verify(garbage) = %v; want ErrTokenMalformed", err)
	}
	if _, err := e.a.Verify(ctx, ""); !errors.Is(err, auth.ErrNoToken) {
		t.Fatalf("Verify(\"\") = %v; want ErrNoToken", err)
	}

	// Refreshes: rotated, then the first token again (reuse: the session
	// is revoked), then its successor (revoked), then garbage.
	next, err := e.refresh(first.RefreshToken)
	if err != nil {
		t.Fatalf("Refresh = %v", err)
	}
	if _, err := e.refresh(first.RefreshToken); !errors.Is(err, auth.ErrRefreshTokenReused) {
		t.Fatalf("Refresh(rotated token) = %v; want ErrRefreshTokenReused", err)
	}
	if _, err := e.refresh(next.RefreshToken); !errors.Is(err, auth.ErrRefreshTokenRevoked) {
		t.Fatalf("Refresh(token of a revoked session) = %v; want ErrRefreshTokenRevoked", err)
	}
	if _, err := e.refresh("garbage"); !errors.Is(err, auth.ErrRefreshTokenUnknown) {
		t.Fatalf("Refresh(garbage) = %v; want ErrRefreshTokenUnknown", err)
	}

	// The reuse revoked the session's access tokens; past their lifetime
	// they are expired.
	if _, err := e.a.Verify(ctx, next.Access.Token); !errors.Is(err, auth.ErrTokenRevoked) {
		t.Fatalf("Verify(token of a revoked session) = %v; want ErrTokenRevoked", err)
	}
	e.clock.Advance(time.Hour)
	if _, err := e.a.Verify(ctx, first.Access.Token); !errors.Is(err, auth.ErrTokenExpired) {
		t.Fatalf("Verify(expired) = %v; want ErrTokenExpired", err)
	}

	// Revocations: a logout, an access token, every session of the user.
	s2, err := e.login(testPassword)
	if err != nil {
		t.Fatalf("second Login = %v", err)
	}
	claims, err := e.a.Verify(ctx, s2.Access.Token)
	if err != nil {
		t.Fatalf("Verify = %v", err)
	}
	if err := e.a.RevokeRefreshToken(ctx, s2.RefreshToken); err != nil {
		t.Fatalf("RevokeRefreshToken = %v", err)
	}
	if err := e.a.RevokeAccessToken(ctx, claims); err != nil {
		t.Fatalf("RevokeAccessToken = %v", err)
	}
	if err := e.a.RevokeUser(ctx, testUser); err != nil {
		t.Fatalf("RevokeUser = %v", err)
	}
	e.tel.KeyRotated(ctx, "kid-2")

	sums, counts, _ := e.metrics()
	wantSums(t, sums, otelauth.MetricLogins, map[string]int64{
		"auth.outcome=ok": 2, "auth.outcome=failed": 3, "auth.outcome=throttled": 1,
	})
	wantSums(t, sums, otelauth.MetricRefreshes, map[string]int64{
		"auth.outcome=rotated": 1, "auth.outcome=reused": 1, "auth.outcome=revoked": 1, "auth.outcome=invalid": 1,
	})
	wantSums(t, sums, otelauth.MetricVerifications, map[string]int64{
		"auth.outcome=ok": 2, "auth.outcome=INVALID_TOKEN": 1, "auth.outcome=NO_TOKEN": 1,
		"auth.outcome=TOKEN_REVOKED": 1, "auth.outcome=TOKEN_EXPIRED": 1,
	})
	wantSums(t, sums, otelauth.MetricRevocations, map[string]int64{
		"auth.revocation.kind=session": 1, "auth.revocation.kind=access_token": 1, "auth.revocation.kind=user": 1,
	})
	wantSums(t, sums, otelauth.MetricKeyRotations, map[string]int64{"": 1})
	wantSums(t, sums, otelauth.MetricEvents, map[string]int64{
		"auth.event=login_succeeded":        2,
		"auth.event=session_started":        2,
		"auth.event=login_failed":           3,
		"auth.event=login_throttled":        1,
		"auth.event=refresh_rotated":        1,
		"auth.event=refresh_reuse_detected": 1,
		"auth.event=session_revoked":        1,
		"auth.event=access_token_revoked":   1,
		"auth.event=user_revoked":           1,
		"auth.event=key_activated":          1,
	})
	if got, want := sorted(counts[otelauth.MetricDuration]), sorted(map[string]uint64{
		"auth.op=login": 6, "auth.op=refresh": 4, "auth.op=verify": 6,
	}); !slices.Equal(got, want) {
		t.Errorf("%s counts = %v; want %v", otelauth.MetricDuration, got, want)
	}

	spans := e.ended()
	if n := len(named(spans, "auth.verify")); n != 0 {
		t.Errorf("%d auth.verify spans without WithVerifySpans; want 0", n)
	}
	if n := len(named(spans, "authstore.RevocationChecker.Revoked")); n != 0 {
		t.Errorf("%d Revoked spans without WithVerifySpans; want 0", n)
	}
	logins := named(spans, "auth.login")
	if len(logins) != 6 {
		t.Fatalf("%d auth.login spans; want 6", len(logins))
	}
	wantOutcome(t, logins[0], "ok", "", codes.Unset)
	wantOutcome(t, logins[1], "failed", "INVALID_CREDENTIALS", codes.Unset)
	wantOutcome(t, logins[4], "throttled", "TOO_MANY_ATTEMPTS", codes.Unset)
	if got, want := children(spans, logins[0]), []string{
		"authstore.Throttle.Take", "authstore.Throttle.Take", "authstore.Throttle.Reset", "authstore.Throttle.Refund", "authstore.RefreshStore.CreateSession",
	}; !slices.Equal(got, want) {
		t.Errorf("children of the first auth.login = %v; want %v", got, want)
	}
	if got, want := eventNames(logins[0]), []string{"auth.session_started", "auth.login_succeeded"}; !slices.Equal(got, want) {
		t.Errorf("events of the first auth.login = %v; want %v", got, want)
	}
	if got, want := children(spans, logins[1]), []string{
		"authstore.Throttle.Take", "authstore.Throttle.Take",
	}; !slices.Equal(got, want) {
		t.Errorf("children of a failed auth.login = %v; want %v", got, want)
	}
	refreshes := named(spans, "auth.refresh")
	if len(refreshes) != 4 {
		t.Fatalf("%d auth.refresh spans; want 4", len(refreshes))
	}
	wantOutcome(t, refreshes[0], "rotated", "", codes.Unset)
	wantOutcome(t, refreshes[1], "reused", "INVALID_REFRESH_TOKEN", codes.Unset)
	if got, want := children(spans, refreshes[0]), []string{
		"authstore.RefreshStore.Lookup", "authstore.RefreshStore.Rotate",
	}; !slices.Equal(got, want) {
		t.Errorf("children of auth.refresh = %v; want %v", got, want)
	}
	if got, want := children(spans, refreshes[1]), []string{
		"authstore.RefreshStore.Lookup", "authstore.RefreshStore.RevokeSession", "authstore.RevocationStore.Deny",
	}; !slices.Equal(got, want) {
		t.Errorf("children of the reused auth.refresh = %v; want %v", got, want)
	}
	if got, want := eventNames(refreshes[1]), []string{"auth.refresh_reuse_detected"}; !slices.Equal(got, want) {
		t.Errorf("events of the reused auth.refresh = %v; want %v", got, want)
	}
	// A store call outside an operation is a root span of its own.
	if s := named(spans, "authstore.RefreshStore.RevokeUser"); len(s) != 1 || s[0].Parent().IsValid() {
		t.Errorf("RevokeUser spans %v; want one root span", s)
	}
	for _, s := range spans {
		if _, ok := attr(s, otelauth.KeyUserID); ok {
			t.Errorf("span %s has %s without WithUserIDs", s.Name(), otelauth.KeyUserID)
		}
		if _, ok := attr(s, otelauth.KeySessionID); ok {
			t.Errorf("span %s has %s without WithUserIDs", s.Name(), otelauth.KeySessionID)
		}
	}
	e.checkNoSecrets()
}

func wantOutcome(t *testing.T, s sdktrace.ReadOnlySpan, outcome, errType string, status codes.Code) {
	t.Helper()
	if v, _ := attr(s, otelauth.KeyOutcome); v.AsString() != outcome {
		t.Errorf("%s outcome %q; want %q", s.Name(), v.AsString(), outcome)
	}
	if v, _ := attr(s, otelauth.KeyErrorType); v.AsString() != errType {
		t.Errorf("%s error.type %q; want %q", s.Name(), v.AsString(), errType)
	}
	if s.Status().Code != status {
		t.Errorf("%s status %v; want %v", s.Name(), s.Status().Code, status)
	}
}

func eventNames(s sdktrace.ReadOnlySpan) []string {
	var out []string
	for _, ev := range s.Events() {
		out = append(out, ev.Name)
	}
	return out
}

// TestLoginOutcomes: a refused account, a password the policy refuses and
// a failing credential store each have their outcome; the store's
// message, which quotes the login, is on no span.
func TestLoginOutcomes(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newEnv(t, otelauth.WithErrorMessages())
	if _, err := e.a.Login(ctx, unverifiedEmail, testPassword, testClient); !errors.Is(err, account.ErrEmailNotVerified) {
		t.Fatalf("Login(unverified) = %v; want ErrEmailNotVerified", err)
	}
	// Input the password policy refuses, as the core reports it.
	_, done := e.tel.Observer()(ctx, "login")
	done(fmt.Errorf("%w: %w", auth.ErrInvalidInput, password.ErrInvalid))
	if _, err := e.a.Login(ctx, brokenEmail, testPassword, testClient); !errors.Is(err, auth.ErrUnavailable) {
		t.Fatalf("Login(broken lookup) = %v; want ErrUnavailable", err)
	}
	sums, _, _ := e.metrics()
	wantSums(t, sums, otelauth.MetricLogins, map[string]int64{
		"auth.outcome=refused": 1, "auth.outcome=invalid": 1, "auth.outcome=unavailable": 1,
	})
	logins := named(e.ended(), "auth.login")
	if len(logins) != 3 {
		t.Fatalf("%d auth.login spans; want 3", len(logins))
	}
	wantOutcome(t, logins[0], "refused", "EMAIL_NOT_VERIFIED", codes.Unset)
	wantOutcome(t, logins[1], "invalid", "INVALID_INPUT", codes.Unset)
	wantOutcome(t, logins[2], "unavailable", "UNAVAILABLE", codes.Error)
	e.checkNoSecrets()
}

// TestRefreshExpired: a refresh token past its lifetime counts as
// expired.
func TestRefreshExpired(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ts, err := e.login(testPassword)
	if err != nil {
		t.Fatalf("Login = %v", err)
	}
	e.clock.Advance(8 * 24 * time.Hour)
	if _, err := e.refresh(ts.RefreshToken); !errors.Is(err, auth.ErrRefreshTokenExpired) {
		t.Fatalf("Refresh(8 days later) = %v; want ErrRefreshTokenExpired", err)
	}
	sums, _, _ := e.metrics()
	wantSums(t, sums, otelauth.MetricRefreshes, map[string]int64{"auth.outcome=expired": 1})
	wantOutcome(t, named(e.ended(), "auth.refresh")[0], "expired", "INVALID_REFRESH_TOKEN", codes.Unset)
	e.checkNoSecrets()
}

// TestUserIDs: with WithUserIDs the login and refresh spans, their events
// and the store spans name the user and the session; still no secret.
func TestUserIDs(t *testing.T) {
	t.Parallel()
	e := newEnv(t, otelauth.WithUserIDs())
	ts, err := e.login(testPassword)
	if err != nil {
		t.Fatalf("Login = %v", err)
	}
	if _, err := e.refresh(ts.RefreshToken); err != nil {
		t.Fatalf("Refresh = %v", err)
	}
	if _, err := e.login(wrongPassword); err == nil {
		t.Fatal("Login with a wrong password succeeded")
	}
	spans := e.ended()
	for _, name := range []string{"auth.login", "auth.refresh", "authstore.RefreshStore.CreateSession", "authstore.RefreshStore.Lookup", "authstore.RefreshStore.Rotate"} {
		s := named(spans, name)
		if len(s) == 0 {
			t.Errorf("no %s span", name)
			continue
		}
		if v, _ := attr(s[0], otelauth.KeyUserID); v.AsString() != testUser {
			t.Errorf("%s %s = %q; want %q", name, otelauth.KeyUserID, v.AsString(), testUser)
		}
		if v, _ := attr(s[0], otelauth.KeySessionID); v.AsString() != ts.SessionID {
			t.Errorf("%s %s = %q; want %q", name, otelauth.KeySessionID, v.AsString(), ts.SessionID)
		}
	}
	// A failed login of a known account names the user, not a session.
	failed := named(spans, "auth.login")[1]
	if v, _ := attr(failed, otelauth.KeyUserID); v.AsString() != testUser {
		t.Errorf("failed auth.login %s = %q; want %q", otelauth.KeyUserID, v.AsString(), testUser)
	}
	if _, ok := attr(failed, otelauth.KeySessionID); ok {
		t.Errorf("failed auth.login has %s", otelauth.KeySessionID)
	}
	for _, name := range []string{"authstore.Throttle.Take", "authstore.Throttle.Check"} {
		for _, s := range named(spans, name) {
			if _, ok := attr(s, otelauth.KeyUserID); ok {
				t.Errorf("%s has %s", name, otelauth.KeyUserID)
			}
		}
	}
	e.checkNoSecrets()
}

// TestUserIDsNotOnForeignSpans: the events of a call outside an operation
// (a logout inside the application's own span) become events of that
// span, but WithUserIDs sets no attribute on a span of the application's.
func TestUserIDsNotOnForeignSpans(t *testing.T) {
	t.Parallel()
	e := newEnv(t, otelauth.WithUserIDs())
	ts, err := e.login(testPassword)
	if err != nil {
		t.Fatalf("Login = %v", err)
	}
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(e.spans))
	ctx, span := tp.Tracer("app").Start(context.Background(), "app.logout")
	if err := e.a.RevokeRefreshToken(ctx, ts.RefreshToken); err != nil {
		t.Fatalf("RevokeRefreshToken = %v", err)
	}
	span.End()
	app := named(e.ended(), "app.logout")[0]
	if _, ok := attr(app, otelauth.KeyUserID); ok {
		t.Errorf("the application's span got %s", otelauth.KeyUserID)
	}
	if got := eventNames(app); !slices.Equal(got, []string{"auth.session_revoked"}) {
		t.Errorf("events of the application's span = %v; want [auth.session_revoked]", got)
	}
	if got := children(e.ended(), app); !slices.Contains(got, "authstore.RefreshStore.RevokeSession") {
		t.Errorf("children of the application's span = %v; want RevokeSession among them", got)
	}
	ev := app.Events()[0]
	var reason string
	for _, kv := range ev.Attributes {
		if kv.Key == otelauth.KeyReason {
			reason = kv.Value.AsString()
		}
	}
	if reason != "logout" {
		t.Errorf("session_revoked event reason %q; want logout", reason)
	}
}

// TestVerifySpans: WithVerifySpans traces each verification, with the
// revocation check as its child.
func TestVerifySpans(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newEnv(t, otelauth.WithVerifySpans())
	ts, err := e.login(testPassword)
	if err != nil {
		t.Fatalf("Login = %v", err)
	}
	if _, err := e.a.Verify(ctx, ts.Access.Token); err != nil {
		t.Fatalf("Verify = %v", err)
	}
	e.clock.Advance(time.Hour)
	if _, err := e.a.Verify(ctx, ts.Access.Token); !errors.Is(err, auth.ErrTokenExpired) {
		t.Fatalf("Verify(expired) = %v; want ErrTokenExpired", err)
	}
	spans := e.ended()
	verifies := named(spans, "auth.verify")
	if len(verifies) != 2 {
		t.Fatalf("%d auth.verify spans; want 2", len(verifies))
	}
	wantOutcome(t, verifies[0], "ok", "", codes.Unset)
	wantOutcome(t, verifies[1], "TOKEN_EXPIRED", "TOKEN_EXPIRED", codes.Unset)
	if got := children(spans, verifies[0]); !slices.Equal(got, []string{"authstore.RevocationChecker.Revoked"}) {
		t.Errorf("children of auth.verify = %v; want [authstore.RevocationChecker.Revoked]", got)
	}
	if got := children(spans, verifies[1]); len(got) != 0 {
		t.Errorf("children of an expired auth.verify = %v; want none (refused before the check)", got)
	}
	e.checkNoSecrets()
}

// TestUnavailable: a store failure is an error on the store span and on
// the operation's span, with the stable code only; the store's message
// only with WithErrorMessages.
func TestUnavailable(t *testing.T) {
	t.Parallel()
	for _, messages := range []bool{false, true} {
		var opts []otelauth.Option
		if messages {
			opts = append(opts, otelauth.WithErrorMessages())
		}
		e := newEnv(t, opts...)
		ts, err := e.login(testPassword)
		if err != nil {
			t.Fatalf("Login = %v", err)
		}
		e.faulty.down.Store(true)
		if _, err := e.refresh(ts.RefreshToken); !errors.Is(err, auth.ErrUnavailable) {
			t.Fatalf("Refresh with the store closed = %v; want ErrUnavailable", err)
		}
		sums, _, _ := e.metrics()
		wantSums(t, sums, otelauth.MetricRefreshes, map[string]int64{"auth.outcome=unavailable": 1})
		spans := e.ended()
		r := named(spans, "auth.refresh")[0]
		wantOutcome(t, r, "unavailable", "UNAVAILABLE", codes.Error)
		if d := r.Status().Description; d != "UNAVAILABLE" {
			t.Errorf("auth.refresh status description %q; want the code alone", d)
		}
		if len(r.Events()) != 0 {
			t.Errorf("auth.refresh events %v; want none", eventNames(r))
		}
		l := named(spans, "authstore.RefreshStore.Lookup")[0]
		if l.Status().Code != codes.Error {
			t.Errorf("Lookup status %v; want Error", l.Status().Code)
		}
		if v, _ := attr(l, otelauth.KeyErrorType); v.AsString() != "otelauth_test.downError" {
			t.Errorf("Lookup error.type %q; want otelauth_test.downError", v.AsString())
		}
		// The message quotes the user id: only WithErrorMessages records it.
		var quoted bool
		for _, s := range spans {
			quoted = quoted || slices.ContainsFunc(spanStrings(s), func(v string) bool { return strings.Contains(v, testUser) })
		}
		if quoted != messages {
			t.Errorf("WithErrorMessages %v: the store's message recorded: %v", messages, quoted)
		}
		var exceptions int
		for _, ev := range l.Events() {
			if ev.Name == "exception" {
				exceptions++
			}
		}
		if messages != (exceptions == 1) {
			t.Errorf("WithErrorMessages %v: Lookup has %d exception events", messages, exceptions)
		}
		e.checkNoSecrets()
	}
}

// TestObserverOtherOp: an operation this version does not know (one of a
// later core) gets a span and its duration, by op.
func TestObserverOtherOp(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx, done := e.tel.Observer()(context.Background(), "introspect")
	if !trace.SpanFromContext(ctx).IsRecording() {
		t.Error("the op's context has no recording span")
	}
	done(errors.New("boom"))
	_, counts, _ := e.metrics()
	if got := counts[otelauth.MetricDuration]["auth.op=introspect"]; got != 1 {
		t.Errorf("introspect duration count %d; want 1", got)
	}
	s := named(e.ended(), "auth.introspect")
	if len(s) != 1 {
		t.Fatalf("%d auth.introspect spans; want 1", len(s))
	}
	wantOutcome(t, s[0], "error", "INTERNAL", codes.Error)
}

// TestEventsAlone: the event handler works without the observer, as
// account.WithEvents uses it, and counts kinds of a later core too.
func TestEventsAlone(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ev := e.tel.Events()
	ctx := context.Background()
	for _, k := range []audit.Kind{audit.ResetRequested, audit.PasswordReset, audit.PasswordChanged, audit.EmailVerified, audit.EmailVerified, "future_kind"} {
		ev(ctx, audit.Event{Kind: k, UserID: testUser})
	}
	sums, _, _ := e.metrics()
	wantSums(t, sums, otelauth.MetricEvents, map[string]int64{
		"auth.event=password_reset_requested": 1, "auth.event=password_reset": 1,
		"auth.event=password_changed": 1, "auth.event=email_verified": 2, "auth.event=future_kind": 1,
	})
	wantSums(t, sums, otelauth.MetricRevocations, nil)
}

// TestKeyRotated: a counter without attributes, the key_activated event,
// and a span event with the kid on a recording span.
func TestKeyRotated(t *testing.T) {
	t.Parallel()
	reader := sdkmetric.NewManualReader()
	spans := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(spans))
	tel, err := otelauth.New(
		otelauth.WithMeterProvider(sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))),
		otelauth.WithTracerProvider(tp))
	if err != nil {
		t.Fatal(err)
	}
	ctx, span := tp.Tracer("app").Start(context.Background(), "rotate")
	tel.KeyRotated(ctx, "kid-9")
	tel.KeyRotated(context.Background(), "kid-10")
	span.End()
	e := &env{t: t, reader: reader}
	sums, _, _ := e.metrics()
	wantSums(t, sums, otelauth.MetricKeyRotations, map[string]int64{"": 2})
	wantSums(t, sums, otelauth.MetricEvents, map[string]int64{"auth.event=key_activated": 2})
	evs := spans.Ended()[0].Events()
	if len(evs) != 1 || evs[0].Name != "auth.key_activated" || len(evs[0].Attributes) != 1 ||
		evs[0].Attributes[0].Key != otelauth.KeyKeyID || evs[0].Attributes[0].Value.AsString() != "kid-9" {
		t.Errorf("span events %+v; want one auth.key_activated with auth.key.id=kid-9", evs)
	}
}

// TestKeyRotation: the rotations of package keyrotation, through its
// event hook and a wrapped key store, count as KeyRotated does; no
// attribute holds the sealed keys or the key-encryption key.
func TestKeyRotation(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	kek := []byte("a key-encryption key of 32 bytes")
	store := e.tel.WrapKeyStore(&memstore.Keys{})
	policy := keyrotation.Policy{Algorithm: auth.HS256, Every: 24 * time.Hour, Publish: time.Hour, Retain: 2 * time.Hour}
	r, err := keyrotation.New(ctx, store, kek, policy, keyrotation.WithClock(e.clock.Now), keyrotation.WithEvents(e.tel.Events()))
	if err != nil {
		t.Fatalf("keyrotation.New = %v", err)
	}
	first := r.KeySet().SigningKey().ID()
	e.clock.Advance(23*time.Hour + time.Minute) // the next key is due within Publish: made
	if err := r.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(time.Hour) // and signs
	if err := r.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	if r.KeySet().SigningKey().ID() == first {
		t.Fatal("the signing key did not change")
	}
	sums, _, _ := e.metrics()
	wantSums(t, sums, otelauth.MetricKeyRotations, map[string]int64{"": 2})
	wantSums(t, sums, otelauth.MetricEvents, map[string]int64{"auth.event=key_created": 2, "auth.event=key_activated": 2})
	spans := e.ended()
	if n := len(named(spans, "authstore.KeyStore.AddKey")); n != 2 {
		t.Errorf("%d AddKey spans; want 2", n)
	}
	add := named(spans, "authstore.KeyStore.AddKey")[1]
	if v, _ := attr(add, otelauth.KeyKeyID); v.AsString() != r.KeySet().SigningKey().ID() {
		t.Errorf("AddKey auth.key.id %q; want %q", v.AsString(), r.KeySet().SigningKey().ID())
	}
	e.secret(string(kek))
	e.checkNoSecrets()
}

func TestNewOptions(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name string
		opts []otelauth.Option
	}{
		{"nil option", []otelauth.Option{nil}},
		{"nil meter provider", []otelauth.Option{otelauth.WithMeterProvider(nil)}},
		{"nil tracer provider", []otelauth.Option{otelauth.WithTracerProvider(nil)}},
	} {
		if tel, err := otelauth.New(tt.opts...); err == nil || tel != nil {
			t.Errorf("New(%s) = %v, %v; want an error", tt.name, tel, err)
		}
	}
	// The defaults are the global providers, no-ops until set.
	tel, err := otelauth.New()
	if err != nil {
		t.Fatalf("New() = %v", err)
	}
	ctx, done := tel.Observer()(context.Background(), "login")
	done(nil)
	tel.Events()(ctx, audit.Event{Kind: audit.LoginSucceeded})
	tel.KeyRotated(ctx, "k")
}

// TestConcurrent: the pooled end functions of concurrent operations keep
// to their own operation.
func TestConcurrent(t *testing.T) {
	t.Parallel()
	e := newEnv(t, otelauth.WithVerifySpans(), otelauth.WithUserIDs())
	ts, err := e.login(testPassword)
	if err != nil {
		t.Fatalf("Login = %v", err)
	}
	const workers, each = 8, 100
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := range each {
				tok := ts.Access.Token
				if (w+i)%2 == 1 {
					tok = "garbage"
				}
				_, _ = e.a.Verify(context.Background(), tok)
			}
		})
	}
	wg.Wait()
	sums, counts, _ := e.metrics()
	wantSums(t, sums, otelauth.MetricVerifications, map[string]int64{
		"auth.outcome=ok": workers * each / 2, "auth.outcome=INVALID_TOKEN": workers * each / 2,
	})
	if got := counts[otelauth.MetricDuration]["auth.op=verify"]; got != workers*each {
		t.Errorf("verify duration count %d; want %d", got, workers*each)
	}
	spans := e.ended()
	for _, s := range named(spans, "auth.verify") {
		v, _ := attr(s, otelauth.KeyOutcome)
		kids := children(spans, s)
		if (v.AsString() == "ok") != (len(kids) == 1) {
			t.Fatalf("auth.verify outcome %s with children %v", v.AsString(), kids)
		}
	}
}
