// Package otelauth reports what package github.com/jwtkit/auth does as
// OpenTelemetry metrics and spans, through the core's two hooks,
// auth.WithObserver and auth.WithEvents, and wrappers of its stores. The
// core module has no OpenTelemetry dependency; this module is the only
// one that has.
//
// # Wiring
//
// Make one [Telemetry] per process, then give its hooks and wrapped stores
// to [auth.New]:
//
//	tel, err := otelauth.New(
//		otelauth.WithMeterProvider(meterProvider),   // default otel.GetMeterProvider()
//		otelauth.WithTracerProvider(tracerProvider), // default otel.GetTracerProvider()
//	)
//	if err != nil { ... }
//	a, err := auth.New(
//		auth.WithKeys(keys),
//		auth.WithIssuer("https://id.example.com"),
//		auth.WithAudience("api"),
//		auth.WithCredentials(users),
//		auth.WithClaimsLoader(loadClaims),
//		auth.WithRefreshStore(tel.WrapRefreshStore(store)),
//		auth.WithRevocation(tel.WrapRevocationStore(store)),
//		auth.WithLoginThrottle(tel.WrapThrottle(throttle)),
//		auth.WithObserver(tel.Observer()),
//		auth.WithEvents(tel.Events()),
//	)
//
// An application with an event handler of its own calls both from one
// function (see [Telemetry.Events]). The account manager (package
// github.com/jwtkit/auth/account) takes account.WithEvents(tel.Events()),
// account.WithStore(tel.WrapOneTimeStore(s)) and
// account.WithThrottle(tel.WrapThrottle(th)); the key rotation (package
// github.com/jwtkit/auth/keyrotation) takes
// keyrotation.WithEvents(tel.Events()) and tel.WrapKeyStore(keys). Keys
// rotated by hand are reported with [Telemetry.KeyRotated].
//
// # Metrics
//
// All under the instrumentation scope [ScopeName]:
//
//   - auth.logins {auth.outcome}: each Auth.Login, outcome ok, failed
//     (unknown login or wrong password), throttled, refused (the account
//     may not sign in, EMAIL_NOT_VERIFIED say), invalid, unavailable or
//     error.
//   - auth.refreshes {auth.outcome}: each Auth.Refresh, outcome rotated,
//     reused (an already-rotated token: theft or a replay, the session is
//     revoked), expired, revoked, invalid (malformed or unknown),
//     unavailable or error.
//   - auth.verifications {auth.outcome}: each Auth.Verify, outcome ok or
//     the error code of auth.ErrorCode: TOKEN_EXPIRED, INVALID_TOKEN,
//     TOKEN_REVOKED, NO_TOKEN, UNAVAILABLE, INTERNAL ("other" for a code
//     this version does not know).
//   - auth.revocations {auth.revocation.kind}: session (a logout, a user
//     gone at refresh), user (logout everywhere) and access_token.
//   - auth.events {auth.event}: every security event of package audit by
//     kind, those of package account among them (password_reset_requested,
//     password_reset, password_changed, email_verified) and those of
//     package keyrotation (key_created, key_activated).
//   - auth.key.rotations: each time this instance starts signing with
//     another key: a key_activated event of package keyrotation (its
//     first key at start included) or a [Telemetry.KeyRotated].
//   - auth.operation.duration {auth.op} (histogram, seconds): the duration
//     of each verify, login and refresh, in buckets from 100µs to 10s.
//
// The counters of logins, refreshes and verifications come from the
// observer, which sees every outcome, store failures included; the
// revocations and events come from the event handler. Install both.
//
// Verify runs on every request, so its path is kept cheap: it allocates
// nothing (every attribute set is made once, in [New], and the observer's
// end function is pooled), counts its outcome with an atomic add that an
// observable counter reports at collection, and records one histogram
// measurement. With the SDK meter provider that is a few hundred
// nanoseconds, under a tenth of an HS256 verification; BenchmarkVerify
// measures both in one run:
//
//	go test -run '^$' -bench Verify -benchmem -count 10 ./otelauth/ > bench.txt
//	benchstat -row .name -col .fullname bench.txt   # plain against otel
//
// # Spans
//
// "auth.login" and "auth.refresh" wrap each login and refresh, with
// auth.outcome and, on failure, error.type (the stable code); only a
// failure of the service (UNAVAILABLE, INTERNAL) sets an error status, not
// a refused client. The calls of wrapped stores are child spans
// ("authstore.RefreshStore.Lookup", "authstore.Throttle.Take", ...), and
// the security events of the operation are span events ("auth." + kind,
// with auth.reason). Verify runs on every request, so it has no span
// unless [WithVerifySpans] asks for one ("auth.verify", with the
// revocation check as its child).
//
// # What is never recorded
//
// No attribute, event or status ever holds a token (access, refresh,
// device or one-time), a token hash, a password, a login name or an
// e-mail address, nor a throttle key (a digest of a login name, or a
// client address), nor key material. User and session ids are on spans
// only with [WithUserIDs], and never on metrics. The messages of store
// errors, which may quote user and session ids, are on spans only with
// [WithErrorMessages]; those of login and refresh never are.
package otelauth
