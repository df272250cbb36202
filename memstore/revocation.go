package memstore

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jwtkit/auth/authstore"
)

// revocations is the revocation half of a [Store].
type revocations struct {
	// entries is len(denied) + len(cutoffs), written under mu: while it
	// is 0, Revoked answers without taking mu, so that concurrent requests
	// share no lock in the common case of nothing revoked.
	entries atomic.Int64

	mu        sync.RWMutex            // guards the fields below
	denied    map[deniedKey]time.Time // -> until
	cutoffs   map[string]time.Time    // userID -> cutoff
	nextSweep time.Time
}

// count records the number of entries; m.mu must be held for writing.
func (m *revocations) count() { m.entries.Store(int64(len(m.denied) + len(m.cutoffs))) }

func newRevocations() revocations {
	return revocations{denied: map[deniedKey]time.Time{}, cutoffs: map[string]time.Time{}}
}

// sweepEvery bounds how often writes scan for stale entries.
const sweepEvery = time.Minute

// deniedKey keys a denied access token; a struct, so a lookup allocates
// nothing.
type deniedKey struct{ user, id string }

// Revoked implements [authstore.RevocationChecker].
func (s *Store) Revoked(ctx context.Context, userID, sessionID, tokenID string, issuedAt time.Time) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	m := &s.rev
	if m.entries.Load() == 0 {
		return false, nil
	}
	m.mu.RLock()
	defer m.mu.RUnlock()
	if len(m.cutoffs) > 0 {
		if cut, ok := m.cutoffs[userID]; ok && issuedAt.Before(cut) {
			return true, nil
		}
	}
	if len(m.denied) > 0 {
		if _, ok := m.denied[deniedKey{userID, tokenID}]; ok {
			return true, nil
		}
		if _, ok := m.denied[deniedKey{userID, sessionID}]; ok && sessionID != "" {
			return true, nil
		}
	}
	return false, nil
}

// Deny implements [authstore.RevocationStore].
func (s *Store) Deny(ctx context.Context, userID, id string, until time.Time) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if id == "" {
		return errEmptyID
	}
	m := &s.rev
	m.mu.Lock()
	defer m.mu.Unlock()
	m.sweepLocked(s.now(), 0)
	if cur, ok := m.denied[deniedKey{userID, id}]; !ok || until.After(cur) {
		m.denied[deniedKey{userID, id}] = until
	}
	m.count()
	return nil
}

// errEmptyID is the error of Deny without an id.
var errEmptyID = errors.New("memstore: deny: empty id")

// CutOff implements [authstore.RevocationStore].
func (s *Store) CutOff(ctx context.Context, userID string, at time.Time) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	m := &s.rev
	m.mu.Lock()
	defer m.mu.Unlock()
	m.sweepLocked(s.now(), 0)
	if cur, ok := m.cutoffs[userID]; !ok || at.After(cur) {
		m.cutoffs[userID] = at
	}
	m.count()
	return nil
}

// purge drops at most limit revocation entries that can no longer matter
// at now and returns how many it dropped.
func (m *revocations) purge(now time.Time, limit int) int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.sweepLocked(now, limit)
}

// sweepLocked drops stale entries and returns how many it dropped: at most
// limit of them when limit > 0, else all of them but at most once per
// sweepEvery. m.mu must be held for writing.
func (m *revocations) sweepLocked(now time.Time, limit int) int {
	defer m.count()
	if limit <= 0 {
		if now.Before(m.nextSweep) {
			return 0
		}
		m.nextSweep = now.Add(sweepEvery)
	}
	n := 0
	for k, exp := range m.denied {
		if limit > 0 && n >= limit {
			return n
		}
		if !now.Before(exp.Add(authstore.MaxLeeway)) {
			delete(m.denied, k)
			n++
		}
	}
	for u, at := range m.cutoffs {
		if limit > 0 && n >= limit {
			return n
		}
		if now.Sub(at) > authstore.MaxAccessTTL+authstore.MaxLeeway {
			delete(m.cutoffs, u)
			n++
		}
	}
	return n
}
