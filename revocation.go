package auth

import (
	"context"
	"sync"
	"time"
)

// RevocationChecker decides whether a token that is otherwise valid has been
// revoked: a denied jti, or a per-user cutoff ("every token issued to this
// user before now is invalid"). The verifier consults it on every request,
// after the signature and the claims have been checked.
//
// Revoked returns true when the token must be refused, and a non-nil error
// only when it cannot tell (a store is unreachable). The verifier then
// fails closed: the request is refused with [ErrUnavailable] (HTTP 503),
// never let through and never reported as a bad token. A cutoff must compare
// against [Claims.IssuedAt], which has microsecond precision for tokens the
// library issued, so a token issued in the same second just after the
// cutoff stays valid. Revoked must be safe for concurrent use and fast: it
// runs on every authenticated request.
type RevocationChecker interface {
	Revoked(ctx context.Context, c *Claims) (bool, error)
}

// RevocationFunc adapts a function to [RevocationChecker].
type RevocationFunc func(ctx context.Context, c *Claims) (bool, error)

// Revoked calls f(ctx, c).
func (f RevocationFunc) Revoked(ctx context.Context, c *Claims) (bool, error) { return f(ctx, c) }

// RevocationStore is a [RevocationChecker] that also records revocations of
// access tokens. Logout denies one token's jti; logout everywhere sets a
// per-user cutoff. Instances that share a store see a revocation at once.
//
// Every method must be safe for concurrent use; errors are for system
// failures only. Both kinds of entry are keyed by user, so a store
// partitioned by [RouteFor](userID) answers Revoked from one partition, in
// one round trip.
type RevocationStore interface {
	RevocationChecker

	// DenyToken makes Revoked report true for the token with id jti issued
	// to userID. The entry may be dropped once exp plus [MaxLeeway] has
	// passed (no verifier accepts the token by then).
	DenyToken(ctx context.Context, userID, jti string, exp time.Time) error

	// CutOff makes Revoked report true for every token of userID whose
	// IssuedAt is before at. A cutoff never moves back: a call with an
	// earlier time than the current cutoff changes nothing. The entry may be
	// dropped once at is older than [MaxAccessTTL] plus [MaxLeeway].
	CutOff(ctx context.Context, userID string, at time.Time) error
}

// MemoryRevocationStore is the in-memory [RevocationStore], the default.
// It serves one process only: instances behind a load balancer need a shared
// store. Entries are dropped once they can no longer matter (denied tokens
// after their exp, cutoffs after [MaxAccessTTL], each plus [MaxLeeway]), so
// memory stays bounded by the revocations of the last day.
type MemoryRevocationStore struct {
	now func() time.Time

	mu        sync.RWMutex            // guards the fields below
	denied    map[deniedKey]time.Time // -> exp
	cutoffs   map[string]time.Time    // userID -> cutoff
	nextSweep time.Time
}

// NewMemoryRevocationStore returns an empty store that drops stale entries
// according to now (time.Now when nil).
func NewMemoryRevocationStore(now func() time.Time) *MemoryRevocationStore {
	if now == nil {
		now = time.Now
	}
	return &MemoryRevocationStore{now: now, denied: map[deniedKey]time.Time{}, cutoffs: map[string]time.Time{}}
}

var _ RevocationStore = (*MemoryRevocationStore)(nil)

// sweepEvery bounds how often writes scan for stale entries.
const sweepEvery = time.Minute

// deniedKey keys a denied access token; a struct, so a lookup allocates
// nothing.
type deniedKey struct{ user, jti string }

// Revoked implements [RevocationChecker].
func (m *MemoryRevocationStore) Revoked(ctx context.Context, c *Claims) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	m.mu.RLock()
	defer m.mu.RUnlock()
	if len(m.cutoffs) > 0 {
		if cut, ok := m.cutoffs[c.Subject]; ok && c.IssuedAt.Before(cut) {
			return true, nil
		}
	}
	if len(m.denied) > 0 {
		if _, ok := m.denied[deniedKey{c.Subject, c.ID}]; ok {
			return true, nil
		}
	}
	return false, nil
}

// DenyToken implements [RevocationStore].
func (m *MemoryRevocationStore) DenyToken(ctx context.Context, userID, jti string, exp time.Time) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.sweepLocked()
	m.denied[deniedKey{userID, jti}] = exp
	return nil
}

// CutOff implements [RevocationStore].
func (m *MemoryRevocationStore) CutOff(ctx context.Context, userID string, at time.Time) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.sweepLocked()
	if cur, ok := m.cutoffs[userID]; !ok || at.After(cur) {
		m.cutoffs[userID] = at
	}
	return nil
}

// sweepLocked drops stale entries, at most once per sweepEvery; m.mu must
// be held for writing.
func (m *MemoryRevocationStore) sweepLocked() {
	now := m.now()
	if now.Before(m.nextSweep) {
		return
	}
	m.nextSweep = now.Add(sweepEvery)
	for k, exp := range m.denied {
		if !now.Before(exp.Add(MaxLeeway)) {
			delete(m.denied, k)
		}
	}
	for u, at := range m.cutoffs {
		if now.Sub(at) > MaxAccessTTL+MaxLeeway {
			delete(m.cutoffs, u)
		}
	}
}
