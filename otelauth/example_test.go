package otelauth_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"sort"
	"strings"
	"time"

	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/jwtkit/auth"
	"github.com/jwtkit/auth/audit"
	"github.com/jwtkit/auth/authstore"
	"github.com/jwtkit/auth/memstore"
	"github.com/jwtkit/auth/otelauth"
	"github.com/jwtkit/auth/password"
)

// exampleUsers is the application's account store: one account.
type exampleUsers struct{ hash []byte }

func (u exampleUsers) Credentials(_ context.Context, login string) (auth.Credentials, error) {
	if login != "ada@example.com" {
		return auth.Credentials{}, auth.ErrUserNotFound
	}
	return auth.Credentials{UserID: "user-1", Hash: u.hash}, nil
}

func (exampleUsers) SetPasswordHash(context.Context, string, []byte) error { return nil }

// printMetrics prints each counter's data points and each histogram's
// count, sorted.
func printMetrics(reader *sdkmetric.ManualReader) {
	var rm metricdata.ResourceMetrics
	if err := reader.Collect(context.Background(), &rm); err != nil {
		log.Fatal(err)
	}
	var lines []string
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			switch d := m.Data.(type) {
			case metricdata.Sum[int64]:
				for _, dp := range d.DataPoints {
					lines = append(lines, fmt.Sprintf("%s{%s} %d", m.Name, dp.Attributes.Encoded(attribute.DefaultEncoder()), dp.Value))
				}
			case metricdata.Histogram[float64]:
				for _, dp := range d.DataPoints {
					lines = append(lines, fmt.Sprintf("%s{%s} count %d", m.Name, dp.Attributes.Encoded(attribute.DefaultEncoder()), dp.Count))
				}
			}
		}
	}
	sort.Strings(lines)
	fmt.Println(strings.Join(lines, "\n"))
}

// printTree prints the ended spans as a tree, children in the order they
// ended.
func printTree(spans []sdktrace.ReadOnlySpan) {
	var walk func(parent sdktrace.ReadOnlySpan, depth int)
	walk = func(parent sdktrace.ReadOnlySpan, depth int) {
		for _, s := range spans {
			if (parent == nil && !s.Parent().IsValid()) || (parent != nil && s.Parent().SpanID() == parent.SpanContext().SpanID()) {
				fmt.Printf("%s%s\n", strings.Repeat("  ", depth), s.Name())
				walk(s, depth+1)
			}
		}
	}
	walk(nil, 0)
}

// Example wires the telemetry into an Auth: the observer and the event
// handler, and the stores wrapped so that their calls nest in the login
// and refresh spans. The metrics and spans go to in-memory exporters
// here; a real program gives the SDK providers of its exporters
// (OTLP, Prometheus), or sets the global ones and passes no option.
func Example() {
	ctx := context.Background()
	reader := sdkmetric.NewManualReader()
	meters := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	spans := tracetest.NewSpanRecorder()
	tracers := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(spans))

	tel, err := otelauth.New(otelauth.WithMeterProvider(meters), otelauth.WithTracerProvider(tracers))
	if err != nil {
		log.Fatal(err)
	}

	key, _ := auth.NewHMACKey(auth.HS256, []byte("an example secret of 32+ bytes!!"))
	keys, _ := auth.NewKeySet(key)
	store, _ := memstore.New()
	throttle, _ := memstore.NewThrottle(authstore.Rate{Limit: 5, Window: 15 * time.Minute})
	hasher, _ := password.NewBcrypt(password.WithCost(password.MinCost))
	hash, _ := hasher.Hash(ctx, "correct horse battery staple")
	a, err := auth.New(
		auth.WithKeys(keys),
		auth.WithIssuer("https://id.example.com"),
		auth.WithAudience("api"),
		auth.WithPasswords(hasher),
		auth.WithCredentials(exampleUsers{hash: hash}),
		auth.WithClaimsLoader(func(context.Context, string) (auth.Claims, error) { return auth.Claims{}, nil }),
		auth.WithRefreshStore(tel.WrapRefreshStore(store)),
		auth.WithRevocation(tel.WrapRevocationStore(store)),
		auth.WithLoginThrottle(tel.WrapThrottle(throttle)),
		auth.WithObserver(tel.Observer()),
		auth.WithEvents(tel.Events()),
	)
	if err != nil {
		log.Fatal(err)
	}

	client := auth.Client{Address: "192.0.2.1"}
	if _, err := a.Login(ctx, "ada@example.com", "wrong password", client); !errors.Is(err, auth.ErrInvalidCredentials) {
		log.Fatal(err)
	}
	ts, err := a.Login(ctx, "ada@example.com", "correct horse battery staple", client)
	if err != nil {
		log.Fatal(err)
	}
	if _, err := a.Verify(ctx, ts.Access.Token); err != nil {
		log.Fatal(err)
	}
	if _, err := a.Refresh(ctx, ts.RefreshToken, client); err != nil {
		log.Fatal(err)
	}
	if _, err := a.Refresh(ctx, ts.RefreshToken, client); !errors.Is(err, auth.ErrRefreshTokenReused) {
		log.Fatal(err)
	}

	printMetrics(reader)
	fmt.Println()
	printTree(spans.Ended())
	// Output:
	// auth.events{auth.event=login_failed} 1
	// auth.events{auth.event=login_succeeded} 1
	// auth.events{auth.event=refresh_reuse_detected} 1
	// auth.events{auth.event=refresh_rotated} 1
	// auth.events{auth.event=session_started} 1
	// auth.logins{auth.outcome=failed} 1
	// auth.logins{auth.outcome=ok} 1
	// auth.operation.duration{auth.op=login} count 2
	// auth.operation.duration{auth.op=refresh} count 2
	// auth.operation.duration{auth.op=verify} count 1
	// auth.refreshes{auth.outcome=reused} 1
	// auth.refreshes{auth.outcome=rotated} 1
	// auth.verifications{auth.outcome=ok} 1
	//
	// auth.login
	//   authstore.Throttle.Take
	//   authstore.Throttle.Take
	// auth.login
	//   authstore.Throttle.Take
	//   authstore.Throttle.Take
	//   authstore.Throttle.Reset
	//   authstore.Throttle.Refund
	//   authstore.RefreshStore.CreateSession
	// auth.refresh
	//   authstore.RefreshStore.Lookup
	//   authstore.RefreshStore.Rotate
	// auth.refresh
	//   authstore.RefreshStore.Lookup
	//   authstore.RefreshStore.RevokeSession
	//   authstore.RevocationStore.Deny
}

// ExampleTelemetry_Events shows the event handler beside an application's
// own: auth.WithEvents takes one function, so the application calls both.
// The same function counts the events of package account
// (account.WithEvents).
func ExampleTelemetry_Events() {
	reader := sdkmetric.NewManualReader()
	tel, _ := otelauth.New(otelauth.WithMeterProvider(sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))))
	events := tel.Events()
	handler := func(ctx context.Context, ev audit.Event) {
		fmt.Println("audit log:", ev.Kind, ev.UserID)
		events(ctx, ev)
	}
	_ = auth.WithEvents(handler)

	// What an Auth and an account manager would report:
	ctx := context.Background()
	handler(ctx, audit.Event{Kind: audit.UserRevoked, UserID: "user-1", Reason: "2 sessions"})
	handler(ctx, audit.Event{Kind: audit.PasswordChanged, UserID: "user-1"})
	printMetrics(reader)
	// Output:
	// audit log: user_revoked user-1
	// audit log: password_changed user-1
	// auth.events{auth.event=password_changed} 1
	// auth.events{auth.event=user_revoked} 1
	// auth.revocations{auth.revocation.kind=user} 1
}

// ExampleTelemetry_KeyRotated reports a key rotation where the
// application installs a new signing key, the old one kept to verify.
func ExampleTelemetry_KeyRotated() {
	reader := sdkmetric.NewManualReader()
	tel, _ := otelauth.New(otelauth.WithMeterProvider(sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))))

	current, _ := auth.NewHMACKey(auth.HS256, []byte("the current secret, of 32+ bytes"))
	next, _ := auth.NewHMACKey(auth.HS256, []byte("the next secret, also of 32 bytes"))
	keys, _ := auth.NewKeySet(next, current) // next signs, current still verifies
	_ = keys                                 // ... install keys
	tel.KeyRotated(context.Background(), next.ID())

	printMetrics(reader)
	// Output:
	// auth.events{auth.event=key_activated} 1
	// auth.key.rotations{} 1
}
