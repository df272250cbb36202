package otelauth

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"

	"github.com/jwtkit/auth"
	"github.com/jwtkit/auth/audit"
)

// ScopeName is the instrumentation scope of the meter and the tracer.
const ScopeName = "github.com/jwtkit/auth/otelauth"

// The names of the metrics (see the package doc for their attributes).
const (
	MetricLogins        = "auth.logins"
	MetricRefreshes     = "auth.refreshes"
	MetricVerifications = "auth.verifications"
	MetricRevocations   = "auth.revocations"
	MetricKeyRotations  = "auth.key.rotations"
	MetricEvents        = "auth.events"
	MetricDuration      = "auth.operation.duration"
)

// The attribute keys, on metrics and spans. enduser.id, session.id and
// error.type are those of the OpenTelemetry semantic conventions.
const (
	// KeyOp is the operation of [MetricDuration]: "verify", "login" or
	// "refresh".
	KeyOp = attribute.Key("auth.op")
	// KeyOutcome is the outcome of a login, refresh or verification, on
	// its counter and its span.
	KeyOutcome = attribute.Key("auth.outcome")
	// KeyKind is the kind of a revocation: "session", "user" or
	// "access_token".
	KeyKind = attribute.Key("auth.revocation.kind")
	// KeyEvent is the audit event kind ([audit.Kind]) of [MetricEvents].
	KeyEvent = attribute.Key("auth.event")
	// KeyReason is an event's [audit.Event] Reason, on span events only.
	KeyReason = attribute.Key("auth.reason")
	// KeyKeyID is a signing key's id (kid), public in every token header:
	// on the span events auth.key_created and auth.key_activated (package
	// keyrotation, [Telemetry.KeyRotated]) and on key store spans.
	KeyKeyID = attribute.Key("auth.key.id")
	// KeyErrorType is the class of a failure: the stable code of
	// [auth.ErrorCode] on login, refresh and verify spans, the Go type of
	// the innermost error on store spans.
	KeyErrorType = attribute.Key("error.type")
	// KeyUserID and KeySessionID identify the user and the session, on
	// spans only, and only with [WithUserIDs].
	KeyUserID    = attribute.Key("enduser.id")
	KeySessionID = attribute.Key("session.id")
)

// Telemetry turns what an [auth.Auth] reports into OpenTelemetry metrics
// and spans: [Telemetry.Observer] measures and traces each Verify, Login and
// Refresh, [Telemetry.Events] counts the security events, and the Wrap
// methods trace the store calls. It is safe for concurrent use. Make one
// per process with [New] and share it between Auth instances and the
// account manager.
type Telemetry struct {
	tracer        trace.Tracer
	userIDs       bool
	traceVerify   bool
	errorMessages bool

	duration     metric.Float64Histogram
	events       metric.Int64Counter
	revocations  metric.Int64Counter
	keyRotations metric.Int64Counter

	verify, login, refresh *opMetrics
	otherOps               sync.Map // op name -> *opMetrics, for an op of a later core

	kinds map[audit.Kind]*kindMetrics

	calls sync.Pool // *call
}

// Option configures a [Telemetry] in [New].
type Option func(*config) error

type config struct {
	meters        metric.MeterProvider
	tracers       trace.TracerProvider
	userIDs       bool
	traceVerify   bool
	errorMessages bool
}

// WithMeterProvider sets where the metrics go. Default the global
// provider ([otel.GetMeterProvider]) at the time of [New].
func WithMeterProvider(mp metric.MeterProvider) Option {
	return func(c *config) error {
		if mp == nil {
			return errors.New("otelauth: WithMeterProvider: nil provider")
		}
		c.meters = mp
		return nil
	}
}

// WithTracerProvider sets where the spans go. Default the global provider
// ([otel.GetTracerProvider]) at the time of [New].
func WithTracerProvider(tp trace.TracerProvider) Option {
	return func(c *config) error {
		if tp == nil {
			return errors.New("otelauth: WithTracerProvider: nil provider")
		}
		c.tracers = tp
		return nil
	}
}

// WithUserIDs puts the user id (enduser.id) and the session id
// (session.id) on spans: on the login and refresh spans, their events,
// and the store spans whose call names a user or a session. Off by
// default, since a trace backend is rarely meant to hold personal data;
// metrics never carry them, whatever the option.
func WithUserIDs() Option {
	return func(c *config) error { c.userIDs = true; return nil }
}

// WithVerifySpans traces every [auth.Auth.Verify] too (span "auth.verify",
// with its revocation check as a child when the checker is wrapped by
// [Telemetry.WrapRevocationStore] or [Telemetry.WrapRevocationChecker]).
// Off by default: Verify runs on every request, and its metrics are cheap
// where a span is not.
func WithVerifySpans() Option {
	return func(c *config) error { c.traceVerify = true; return nil }
}

// WithErrorMessages records the message of a failed store call on its
// span (an exception event and the status description). Off by default:
// the stores' messages may quote user and session ids (never a token or
// a password, for the stores of this repository, but a store of the
// application's may say anything); without it a store span holds the
// error's Go type (error.type) and an error status only. The login,
// refresh and verify spans never hold a message, only the stable code,
// since their errors may quote the application's own credential store.
func WithErrorMessages() Option {
	return func(c *config) error { c.errorMessages = true; return nil }
}

// durationBuckets are the bucket boundaries, in seconds, of
// [MetricDuration]: from 100µs (a verification) to 10s (a login stuck on a
// store).
var durationBuckets = []float64{
	0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
	0.1, 0.25, 0.5, 1, 2.5, 5, 10,
}

// New returns a Telemetry that creates its instruments on the meter
// provider and its spans on the tracer provider of opts.
func New(opts ...Option) (*Telemetry, error) {
	var c config
	for i, opt := range opts {
		if opt == nil {
			return nil, fmt.Errorf("otelauth: option %d is nil", i)
		}
		if err := opt(&c); err != nil {
			return nil, err
		}
	}
	if c.meters == nil {
		c.meters = otel.GetMeterProvider()
	}
	if c.tracers == nil {
		c.tracers = otel.GetTracerProvider()
	}
	meter := c.meters.Meter(ScopeName)
	t := &Telemetry{
		tracer:        c.tracers.Tracer(ScopeName),
		userIDs:       c.userIDs,
		traceVerify:   c.traceVerify,
		errorMessages: c.errorMessages,
	}
	var errs []error
	counter := func(name, unit, desc string) metric.Int64Counter {
		ctr, err := meter.Int64Counter(name, metric.WithUnit(unit), metric.WithDescription(desc))
		errs = append(errs, err)
		return ctr
	}
	logins := counter(MetricLogins, "{attempt}", "Sign-in attempts (Auth.Login), by outcome.")
	refreshes := counter(MetricRefreshes, "{refresh}", "Refresh-token presentations (Auth.Refresh), by outcome.")
	t.revocations = counter(MetricRevocations, "{revocation}", "Revocations, by kind: session, user (every session) or access_token.")
	t.keyRotations = counter(MetricKeyRotations, "{rotation}", "Signing-key rotations: this instance started signing with another key (audit event key_activated, Telemetry.KeyRotated).")
	t.events = counter(MetricEvents, "{event}", "Security events (package audit), by kind.")
	t.verify = newOpMetrics("verify", nil, verifyOutcomes, classifyVerify)
	t.verify.observed = true
	_, err := meter.Int64ObservableCounter(MetricVerifications,
		metric.WithUnit("{verification}"),
		metric.WithDescription("Access-token verifications (Auth.Verify), by outcome: ok or the error code."),
		metric.WithInt64Callback(t.verify.report))
	errs = append(errs, err)
	t.duration, err = meter.Float64Histogram(MetricDuration,
		metric.WithUnit("s"),
		metric.WithDescription("Duration of Auth.Verify, Auth.Login and Auth.Refresh, by op."),
		metric.WithExplicitBucketBoundaries(durationBuckets...))
	errs = append(errs, err)
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("otelauth: instruments: %w", err)
	}
	t.login = newOpMetrics("login", logins, loginOutcomes, classifyLogin)
	t.refresh = newOpMetrics("refresh", refreshes, refreshOutcomes, classifyRefresh)
	t.kinds = newKindMetrics()
	t.calls.New = func() any {
		c := &call{t: t}
		c.end = c.finish
		return c
	}
	return t, nil
}

// Observer returns the function to give [auth.WithObserver]. For each
// operation it records the outcome on the operation's counter and the
// duration on [MetricDuration], and, for "login" and "refresh" (and
// "verify" with [WithVerifySpans]), runs the operation in a span
// ("auth.login", "auth.refresh", "auth.verify") whose context the store
// calls of the operation get, so that the spans of wrapped stores nest in
// it. A verification without a span allocates nothing. The end function
// it returns must be called once (as package auth does): it is recycled
// for a later operation.
func (t *Telemetry) Observer() func(ctx context.Context, op string) (context.Context, func(error)) {
	return t.observe
}

func (t *Telemetry) observe(ctx context.Context, op string) (context.Context, func(error)) {
	var m *opMetrics
	traced := true
	switch op {
	case "verify":
		m, traced = t.verify, t.traceVerify
	case "login":
		m = t.login
	case "refresh":
		m = t.refresh
	default:
		m = t.otherOp(op)
	}
	c := t.calls.Get().(*call)
	c.m = m
	if traced {
		ctx, c.span = t.tracer.Start(ctx, m.spanName)
		if t.userIDs {
			ctx = context.WithValue(ctx, spanKey{}, c.span)
		}
	}
	c.ctx = ctx
	c.start = monotonic()
	return ctx, c.end
}

// spanKey is the context key under which, with [WithUserIDs], an
// operation keeps its span, so that its events can name the user on it
// (and on no span of the application's).
type spanKey struct{}

// call is one observed operation. Calls are pooled, with end bound once
// to finish, so that observing a verification allocates nothing.
type call struct {
	t     *Telemetry
	m     *opMetrics
	ctx   context.Context
	span  trace.Span    // nil when not traced
	start time.Duration // monotonic()
	end   func(error)
}

// epoch is the origin of monotonic.
var epoch = time.Now()

// monotonic returns the monotonic clock: time.Since of a time with a
// monotonic reading reads that clock alone, where time.Now reads the wall
// clock too.
func monotonic() time.Duration { return time.Since(epoch) }

func (c *call) finish(err error) {
	elapsed := (monotonic() - c.start).Seconds()
	m := c.m
	if m == nil {
		return // called again: auth calls it once, as it must be
	}
	o := m.classify(m, err)
	m.count(c.ctx, o)
	c.t.duration.Record(c.ctx, elapsed, m.record...)
	if s := c.span; s != nil {
		s.SetAttributes(o.attr)
		if err != nil {
			code := auth.ErrorCode(err)
			s.SetAttributes(KeyErrorType.String(code))
			if auth.ErrorStatus(err) >= 500 {
				s.SetStatus(codes.Error, code)
			}
		}
		s.End()
	}
	*c = call{t: c.t, end: c.end}
	c.t.calls.Put(c)
}

// Events returns the function to give [auth.WithEvents] (and
// account.WithEvents, which reports the account events). It counts every
// event on [MetricEvents] by kind and the revocations on
// [MetricRevocations], and adds the event ("auth." + kind, with its reason)
// to the span of the context, when it is recording: the login or refresh
// span, for the events of those. Sign-ins and refreshes are counted by the
// [Telemetry.Observer], which sees their failures too.
//
// An application with an event handler of its own calls both:
//
//	events := tel.Events()
//	auth.WithEvents(func(ctx context.Context, ev audit.Event) {
//		myAuditLog(ctx, ev)
//		events(ctx, ev)
//	})
func (t *Telemetry) Events() func(context.Context, audit.Event) {
	return t.event
}

func (t *Telemetry) event(ctx context.Context, ev audit.Event) {
	k := t.kinds[ev.Kind]
	if k == nil {
		k = unknownKind(ev.Kind)
	}
	t.events.Add(ctx, 1, k.add...)
	if k.revocation != nil {
		t.revocations.Add(ctx, 1, k.revocation...)
	}
	if k.rotation {
		t.keyRotations.Add(ctx, 1)
	}
	span := trace.SpanFromContext(ctx)
	if !span.IsRecording() {
		return
	}
	attrs := make([]attribute.KeyValue, 0, 3)
	if ev.Reason != "" {
		attrs = append(attrs, k.reason.String(ev.Reason))
	}
	if t.userIDs {
		ids := userAttrs(ev.UserID, ev.SessionID)
		attrs = append(attrs, ids...)
		if own, ok := ctx.Value(spanKey{}).(trace.Span); ok && len(ids) > 0 && own.SpanContext().Equal(span.SpanContext()) {
			span.SetAttributes(ids...)
		}
	}
	span.AddEvent(k.spanEvent, trace.WithAttributes(attrs...))
}

// KeyRotated reports that the signing key kid started signing, as the
// event audit.KeyActivated does: it counts on [MetricKeyRotations]
// (without attributes) and on [MetricEvents], and, when the context's span
// is recording, adds the span event "auth.key_activated" with the kid
// (auth.key.id: a kid is public, in every token's header).
//
// Package keyrotation reports its rotations itself, through
// keyrotation.WithEvents(tel.Events()): call KeyRotated where the
// application installs a new signing key by hand:
//
//	keys, err := auth.NewKeySet(next, current) // next signs, current verifies
//	// ... swap keys in
//	tel.KeyRotated(ctx, next.ID())
func (t *Telemetry) KeyRotated(ctx context.Context, kid string) {
	t.event(ctx, audit.Event{Kind: audit.KeyActivated, Reason: kid})
}

// userAttrs returns the attributes of a user and a session, each when
// known.
func userAttrs(userID, sessionID string) []attribute.KeyValue {
	var attrs []attribute.KeyValue
	if userID != "" {
		attrs = append(attrs, KeyUserID.String(userID))
	}
	if sessionID != "" {
		attrs = append(attrs, KeySessionID.String(sessionID))
	}
	return attrs
}
