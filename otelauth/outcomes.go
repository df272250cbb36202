package otelauth

import (
	"context"
	"errors"
	"sync/atomic"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"

	"github.com/jwtkit/auth"
	"github.com/jwtkit/auth/audit"
)

// The outcomes of each operation: the values of [KeyOutcome], the success
// first.
var (
	// verifyOutcomes are "ok" and the codes of [auth.ErrorCode] that a
	// verification can end with; "other" stands for any code of a later
	// core, so that the set stays bounded.
	verifyOutcomes = []string{"ok", "NO_TOKEN", "INVALID_TOKEN", "TOKEN_EXPIRED", "TOKEN_REVOKED", "UNAVAILABLE", "INTERNAL", "other"}
	// loginOutcomes: ok; failed (unknown login or wrong password);
	// throttled; refused (the password matched but the account may not
	// sign in, an unverified e-mail address say); invalid (input the
	// password policy refuses); unavailable (a store failed); error (a
	// configuration error).
	loginOutcomes = []string{"ok", "failed", "throttled", "refused", "invalid", "unavailable", "error"}
	// refreshOutcomes: rotated; reused (an already-rotated token: the
	// session is revoked); expired; revoked (the session was revoked);
	// invalid (malformed or unknown); unavailable; error.
	refreshOutcomes = []string{"rotated", "reused", "expired", "revoked", "invalid", "unavailable", "error"}
	// otherOutcomes are those of an operation of a later core.
	otherOutcomes = []string{"ok", "error"}
)

// outcome is one value of [KeyOutcome] of an operation, with its attribute
// set made once.
type outcome struct {
	add     []metric.AddOption
	observe []metric.ObserveOption
	attr    attribute.KeyValue
	n       atomic.Int64 // the count of an observed operation's outcome
}

// opMetrics is what an operation records: its count by outcome and its op
// attribute on the duration histogram, every attribute set made once so
// that recording a verification allocates nothing.
//
// Logins and refreshes count on a synchronous counter (whose exemplars
// point at their spans). Verifications, on every request, count in an
// atomic integer per outcome that an observable counter reports at each
// collection: an atomic add instead of the SDK's measurement path, which
// costs more than the rest of the observer. Both export the same
// monotonic sum.
type opMetrics struct {
	spanName string
	counter  metric.Int64Counter // nil when observed, and for an operation of a later core
	observed bool                // counted in outcome.n
	record   []metric.RecordOption
	outcomes map[string]*outcome
	first    *outcome   // the success: "ok" or "rotated"
	order    []*outcome // outcomes in the order of their names
	classify func(m *opMetrics, err error) *outcome
}

func newOpMetrics(op string, counter metric.Int64Counter, outcomes []string, classify func(*opMetrics, error) *outcome) *opMetrics {
	m := &opMetrics{
		spanName: "auth." + op,
		counter:  counter,
		record:   []metric.RecordOption{metric.WithAttributeSet(attribute.NewSet(KeyOp.String(op)))},
		outcomes: make(map[string]*outcome, len(outcomes)),
		classify: classify,
	}
	for _, name := range outcomes {
		kv := KeyOutcome.String(name)
		set := metric.WithAttributeSet(attribute.NewSet(kv))
		o := &outcome{add: []metric.AddOption{set}, observe: []metric.ObserveOption{set}, attr: kv}
		m.outcomes[name] = o
		m.order = append(m.order, o)
	}
	m.first = m.order[0]
	return m
}

// count counts one operation that ended with o.
func (m *opMetrics) count(ctx context.Context, o *outcome) {
	switch {
	case m.observed:
		o.n.Add(1)
	case m.counter != nil:
		m.counter.Add(ctx, 1, o.add...)
	}
}

// report is the callback of an observed operation's counter: the count of
// each outcome that has happened.
func (m *opMetrics) report(_ context.Context, obs metric.Int64Observer) error {
	for _, o := range m.order {
		if n := o.n.Load(); n > 0 {
			obs.Observe(n, o.observe...)
		}
	}
	return nil
}

// otherOp returns the metrics of an operation that this module does not
// know (one of a later core): its duration and span only.
func (t *Telemetry) otherOp(op string) *opMetrics {
	if m, ok := t.otherOps.Load(op); ok {
		return m.(*opMetrics)
	}
	m, _ := t.otherOps.LoadOrStore(op, newOpMetrics(op, nil, otherOutcomes, classifyOther))
	return m.(*opMetrics)
}

func classifyVerify(m *opMetrics, err error) *outcome {
	if err == nil {
		return m.first
	}
	if o := m.outcomes[auth.ErrorCode(err)]; o != nil {
		return o
	}
	return m.outcomes["other"]
}

func classifyLogin(m *opMetrics, err error) *outcome {
	if err == nil {
		return m.outcomes["ok"]
	}
	var name string
	switch code := auth.ErrorCode(err); {
	case code == "INVALID_CREDENTIALS":
		name = "failed"
	case code == "TOO_MANY_ATTEMPTS":
		name = "throttled"
	case code == "INVALID_INPUT":
		name = "invalid"
	case code == "UNAVAILABLE":
		name = "unavailable"
	case code != "INTERNAL" && auth.ErrorStatus(err) < 500:
		name = "refused" // an account refusal with a code of its own
	default:
		name = "error"
	}
	return m.outcomes[name]
}

func classifyRefresh(m *opMetrics, err error) *outcome {
	name := "error"
	switch {
	case err == nil:
		name = "rotated"
	case errors.Is(err, auth.ErrRefreshTokenReused):
		name = "reused"
	case errors.Is(err, auth.ErrRefreshTokenExpired):
		name = "expired"
	case errors.Is(err, auth.ErrRefreshTokenRevoked):
		name = "revoked"
	case errors.Is(err, auth.ErrInvalidRefreshToken):
		name = "invalid"
	case errors.Is(err, auth.ErrUnavailable):
		name = "unavailable"
	}
	return m.outcomes[name]
}

func classifyOther(m *opMetrics, err error) *outcome {
	if err == nil {
		return m.outcomes["ok"]
	}
	return m.outcomes["error"]
}

// kindMetrics is what an audit event kind records, its attribute sets
// made once.
type kindMetrics struct {
	add        []metric.AddOption // auth.event on MetricEvents
	revocation []metric.AddOption // auth.revocation.kind on MetricRevocations; nil for other kinds
	rotation   bool               // counts on MetricKeyRotations
	reason     attribute.Key      // the span event's attribute for the event's Reason
	spanEvent  string
}

// revocationKinds are the events that count as revocations, and their
// kind.
var revocationKinds = map[audit.Kind]string{
	audit.SessionRevoked:     "session",
	audit.UserRevoked:        "user",
	audit.AccessTokenRevoked: "access_token",
}

// knownKinds are the kinds of package audit.
var knownKinds = []audit.Kind{
	audit.SessionStarted, audit.Rotated, audit.ReuseDetected,
	audit.SessionRevoked, audit.UserRevoked, audit.AccessTokenRevoked,
	audit.LoginSucceeded, audit.LoginFailed, audit.LoginThrottled,
	audit.ResetRequested, audit.PasswordReset, audit.PasswordChanged,
	audit.EmailVerified, audit.KeyCreated, audit.KeyActivated,
}

func newKindMetrics() map[audit.Kind]*kindMetrics {
	m := make(map[audit.Kind]*kindMetrics, len(knownKinds))
	for _, k := range knownKinds {
		m[k] = unknownKind(k)
	}
	return m
}

// unknownKind returns the metrics of kind, made anew: for the known kinds
// once, in [New], and at each event of a kind of a later core.
func unknownKind(kind audit.Kind) *kindMetrics {
	k := &kindMetrics{
		add:       []metric.AddOption{metric.WithAttributeSet(attribute.NewSet(KeyEvent.String(string(kind))))},
		rotation:  kind == audit.KeyActivated,
		reason:    KeyReason,
		spanEvent: "auth." + string(kind),
	}
	if kind == audit.KeyCreated || kind == audit.KeyActivated {
		k.reason = KeyKeyID // their Reason is the kid
	}
	if rk, ok := revocationKinds[kind]; ok {
		k.revocation = []metric.AddOption{metric.WithAttributeSet(attribute.NewSet(KeyKind.String(rk)))}
	}
	return k
}
