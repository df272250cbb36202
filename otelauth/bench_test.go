package otelauth_test

import (
	"context"
	"testing"

	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/trace/noop"

	"github.com/jwtkit/auth"
	"github.com/jwtkit/auth/memstore"
	"github.com/jwtkit/auth/otelauth"
)

// verifyPair returns two Auths that verify the same tokens, plain and with
// telemetry (metrics on the SDK meter provider with a manual reader, verify
// spans off, the revocation store wrapped), and a token of theirs.
func verifyPair(tb testing.TB) (plain, withOtel *auth.Auth, token string) {
	tb.Helper()
	key, err := auth.NewHMACKey(auth.HS256, []byte("a benchmark secret of 32+ bytes!"))
	if err != nil {
		tb.Fatal(err)
	}
	keys, err := auth.NewKeySet(key)
	if err != nil {
		tb.Fatal(err)
	}
	newAuth := func(opts ...auth.Option) *auth.Auth {
		a, err := auth.New(append([]auth.Option{auth.WithKeys(keys), auth.WithIssuer("https://id.example.com"), auth.WithAudience("api")}, opts...)...)
		if err != nil {
			tb.Fatal(err)
		}
		return a
	}
	store := func() *memstore.Store {
		s, err := memstore.New()
		if err != nil {
			tb.Fatal(err)
		}
		return s
	}
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(sdkmetric.NewManualReader()))
	tb.Cleanup(func() { _ = mp.Shutdown(context.Background()) })
	tel, err := otelauth.New(otelauth.WithMeterProvider(mp), otelauth.WithTracerProvider(noop.NewTracerProvider()))
	if err != nil {
		tb.Fatal(err)
	}
	plain = newAuth(auth.WithRevocation(store()))
	withOtel = newAuth(auth.WithRevocation(tel.WrapRevocationStore(store())),
		auth.WithObserver(tel.Observer()), auth.WithEvents(tel.Events()))
	at, err := plain.Issue(context.Background(), auth.Claims{Subject: "user-1", Role: "user"})
	if err != nil {
		tb.Fatal(err)
	}
	return plain, withOtel, at.Token
}

// BenchmarkVerify measures Auth.Verify of a valid HS256 token without
// telemetry (plain) and with it (otel), in one run; benchstat compares
// them side by side:
//
//	go test -run '^$' -bench Verify -benchmem -count 10 ./otelauth/ > bench.txt
//	benchstat -row .name -col .fullname bench.txt
func BenchmarkVerify(b *testing.B) {
	plain, withOtel, token := verifyPair(b)
	ctx := context.Background()
	for _, bc := range []struct {
		name string
		a    *auth.Auth
	}{{"plain", plain}, {"otel", withOtel}} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := bc.a.Verify(ctx, token); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
