package memstore

import (
	"container/heap"
	"context"
	"errors"
	"time"

	"github.com/jwtkit/auth/authstore"
)

// maxOneTimePerUser caps the unconsumed one-time tokens a [Store] keeps
// per user and purpose; saving one more drops the one that expires first.
// A user asking for a reset link every few seconds cannot grow the store.
const maxOneTimePerUser = 16

// oneTimePurgeBatch is how many expired one-time tokens each SaveOneTime
// deletes on the side, at most.
const oneTimePurgeBatch = 4

// oneTimes is the one-time token part of a [Store].
type oneTimes struct {
	// tokens holds every stored record by hash; byUser the hashes of each
	// user's records by purpose. A user without records has no entry.
	tokens map[authstore.TokenHash]*memOneTime
	byUser map[oneTimeKey]map[authstore.TokenHash]struct{}
	expiry expiryHeap[authstore.TokenHash]
}

type oneTimeKey struct{ user, purpose string }

type memOneTime struct {
	rec    authstore.OneTimeToken
	route  string
	expiry *expiryItem[authstore.TokenHash]
}

var errIncompleteOneTime = errors.New("memstore: one-time token without a user or a purpose")

// SaveOneTime implements [authstore.OneTimeStore]. Past 16 unconsumed
// tokens of one user and purpose, it drops the one that expires first; it
// also deletes a few expired tokens on the side.
func (s *Store) SaveOneTime(ctx context.Context, t authstore.OneTimeToken) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if t.UserID == "" || t.Purpose == "" {
		return errIncompleteOneTime
	}
	if t.Hash == (authstore.TokenHash{}) {
		return errZeroHash
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	o := &s.once
	if _, ok := o.tokens[t.Hash]; ok {
		return errDuplicateHash
	}
	if o.tokens == nil {
		o.tokens = make(map[authstore.TokenHash]*memOneTime)
		o.byUser = make(map[oneTimeKey]map[authstore.TokenHash]struct{})
	}
	k := oneTimeKey{t.UserID, t.Purpose}
	if len(o.byUser[k]) >= maxOneTimePerUser {
		var first *memOneTime
		for h := range o.byUser[k] {
			if x := o.tokens[h]; first == nil || x.rec.ExpiresAt.Before(first.rec.ExpiresAt) {
				first = x
			}
		}
		o.remove(first)
	}
	x := &memOneTime{rec: t, route: authstore.RouteFor(t.UserID), expiry: &expiryItem[authstore.TokenHash]{key: t.Hash, at: t.ExpiresAt}}
	o.tokens[t.Hash] = x
	if o.byUser[k] == nil {
		o.byUser[k] = make(map[authstore.TokenHash]struct{})
	}
	o.byUser[k][t.Hash] = struct{}{}
	heap.Push(&o.expiry, x.expiry)
	o.purge(s.now(), oneTimePurgeBatch)
	return nil
}

// ConsumeOneTime implements [authstore.OneTimeStore].
func (s *Store) ConsumeOneTime(ctx context.Context, route string, h authstore.TokenHash, purpose string, now time.Time) (authstore.OneTimeToken, bool, error) {
	if err := ctx.Err(); err != nil {
		return authstore.OneTimeToken{}, false, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	x := s.once.tokens[h]
	if x == nil || x.route != route || x.rec.Purpose != purpose || !now.Before(x.rec.ExpiresAt) {
		return authstore.OneTimeToken{}, false, nil
	}
	s.once.remove(x)
	return x.rec, true, nil
}

// RevokeOneTime implements [authstore.OneTimeStore].
func (s *Store) RevokeOneTime(ctx context.Context, userID, purpose string) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	o := &s.once
	set := o.byUser[oneTimeKey{userID, purpose}]
	n := len(set)
	for h := range set {
		o.remove(o.tokens[h])
	}
	return n, nil
}

// remove deletes x from every index.
func (o *oneTimes) remove(x *memOneTime) {
	delete(o.tokens, x.rec.Hash)
	k := oneTimeKey{x.rec.UserID, x.rec.Purpose}
	delete(o.byUser[k], x.rec.Hash)
	if len(o.byUser[k]) == 0 {
		delete(o.byUser, k)
	}
	if x.expiry.index >= 0 {
		heap.Remove(&o.expiry, x.expiry.index)
	}
}

// purge deletes at most limit records expired at now, first to expire
// first, and returns how many it deleted.
func (o *oneTimes) purge(now time.Time, limit int) int {
	n := 0
	for n < limit && len(o.expiry) > 0 && !o.expiry[0].at.After(now) {
		o.remove(o.tokens[o.expiry[0].key])
		n++
	}
	return n
}

var _ authstore.OneTimeStore = (*Store)(nil)
