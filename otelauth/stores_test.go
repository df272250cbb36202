package otelauth_test

import (
	"context"
	"testing"
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/jwtkit/auth/authstore"
	"github.com/jwtkit/auth/authtest"
	"github.com/jwtkit/auth/memstore"
	"github.com/jwtkit/auth/otelauth"
)

// The wrapped memory stores pass the conformance suites of package
// authtest: a wrapper changes nothing of what a store does.

// tracedTelemetry returns a Telemetry that records every span (verify
// spans, user ids and error messages on, so that every branch runs).
func tracedTelemetry(t *testing.T) (*otelauth.Telemetry, *tracetest.SpanRecorder) {
	t.Helper()
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	tel, err := otelauth.New(otelauth.WithTracerProvider(tp), otelauth.WithVerifySpans(), otelauth.WithUserIDs(), otelauth.WithErrorMessages())
	if err != nil {
		t.Fatal(err)
	}
	return tel, rec
}

func newStore(t *testing.T) *memstore.Store {
	t.Helper()
	s, err := memstore.New()
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestWrappedRefreshStore(t *testing.T) {
	tel, rec := tracedTelemetry(t)
	authtest.TestRefreshStore(t, func(t *testing.T) authstore.RefreshStore { return tel.WrapRefreshStore(newStore(t)) })
	wantSpans(t, rec, "authstore.RefreshStore.CreateSession", "authstore.RefreshStore.Lookup", "authstore.RefreshStore.Rotate",
		"authstore.RefreshStore.RevokeSession", "authstore.RefreshStore.RevokeUser", "authstore.RefreshStore.Sessions", "authstore.RefreshStore.Purge")
}

func TestWrappedRevocationStore(t *testing.T) {
	tel, rec := tracedTelemetry(t)
	authtest.TestRevocationStore(t, func(t *testing.T) authstore.RevocationStore { return tel.WrapRevocationStore(newStore(t)) })
	wantSpans(t, rec, "authstore.RevocationChecker.Revoked", "authstore.RevocationStore.Deny", "authstore.RevocationStore.CutOff", "authstore.RevocationStore.Purge")
}

func TestWrappedThrottle(t *testing.T) {
	tel, rec := tracedTelemetry(t)
	authtest.TestThrottle(t, func(t *testing.T, rate authstore.Rate) authstore.Throttle {
		th, err := memstore.NewThrottle(rate)
		if err != nil {
			t.Fatal(err)
		}
		return tel.WrapThrottle(th)
	})
	wantSpans(t, rec, "authstore.Throttle.Check", "authstore.Throttle.Take", "authstore.Throttle.Fail", "authstore.Throttle.Reset", "authstore.Throttle.Refund")
}

func TestWrappedOneTimeStore(t *testing.T) {
	tel, rec := tracedTelemetry(t)
	authtest.TestOneTimeStore(t, func(t *testing.T) authstore.OneTimeStore { return tel.WrapOneTimeStore(newStore(t)) })
	wantSpans(t, rec, "authstore.OneTimeStore.SaveOneTime", "authstore.OneTimeStore.ConsumeOneTime", "authstore.OneTimeStore.RevokeOneTime")
}

func TestWrappedKeyStore(t *testing.T) {
	tel, rec := tracedTelemetry(t)
	authtest.TestKeyStore(t, func(t *testing.T) authstore.KeyStore { return tel.WrapKeyStore(&memstore.Keys{}) })
	wantSpans(t, rec, "authstore.KeyStore.AddKey", "authstore.KeyStore.Keys", "authstore.KeyStore.DeleteKeys")
	for _, s := range rec.Ended() {
		for _, kv := range s.Attributes() {
			if kv.Key == "authstore.sealed" || len(kv.Value.String()) > 64 {
				t.Errorf("%s attribute %s = %q: key material?", s.Name(), kv.Key, kv.Value.String())
			}
		}
	}
}

func TestWrappedRevocationChecker(t *testing.T) {
	tel, rec := tracedTelemetry(t)
	c := tel.WrapRevocationChecker(newStore(t))
	if _, ok := c.(authstore.RevocationStore); ok {
		t.Error("a wrapped checker passes for a RevocationStore")
	}
	if revoked, err := c.Revoked(context.Background(), "u", "s", "j", time.Time{}); revoked || err != nil {
		t.Errorf("Revoked = %v, %v; want false, nil", revoked, err)
	}
	wantSpans(t, rec, "authstore.RevocationChecker.Revoked")
}

func TestWrapNil(t *testing.T) {
	t.Parallel()
	tel, _ := tracedTelemetry(t)
	if tel.WrapRefreshStore(nil) != nil || tel.WrapRevocationStore(nil) != nil || tel.WrapRevocationChecker(nil) != nil ||
		tel.WrapThrottle(nil) != nil || tel.WrapOneTimeStore(nil) != nil || tel.WrapKeyStore(nil) != nil {
		t.Error("a wrapper of nil is not nil")
	}
}

// wantSpans checks that each name was recorded.
func wantSpans(t *testing.T, rec *tracetest.SpanRecorder, names ...string) {
	t.Helper()
	seen := map[string]bool{}
	for _, s := range rec.Ended() {
		seen[s.Name()] = true
	}
	for _, n := range names {
		if !seen[n] {
			t.Errorf("no %s span", n)
		}
	}
}
