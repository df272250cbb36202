package memstore

import (
	"cmp"
	"container/heap"
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/jwtkit/auth/authstore"
)

// DefaultMaxSessionsPerUser is the number of sessions a [Store] keeps
// per user unless [WithMaxSessionsPerUser] says otherwise.
const DefaultMaxSessionsPerUser = 100

// How many expired sessions and tokens [Store.CreateSession] and a
// successful [Store.Rotate] delete on the side, at most. Each adds one
// token, and deletes more than one when it can, so the expired items that
// wait for deletion never pile up while the store is in use.
const (
	memoryCreatePurgeBatch = 8
	memoryRotatePurgeBatch = 2
)

// Store is the in-memory [authstore.RefreshStore],
// [authstore.RevocationStore] and [authstore.OneTimeStore], the default of
// package auth. It serves one
// process only: instances behind a load balancer need a shared store, and
// every session is lost at a restart. The zero value is not usable; call
// [New].
//
// Memory stays bounded without help. Each CreateSession and each successful
// Rotate deletes a few expired sessions and tokens (oldest expiry first), a
// session keeps at most 1000 tokens (past that, the oldest used ones go,
// down to the newest 500: far more than the [authstore.MinKeptTokens] used
// tokens that the contract asks for), and
// CreateSession keeps at most [WithMaxSessionsPerUser] sessions per user,
// evicting the user's oldest revoked or expired sessions first, then the
// oldest live ones. Revoked sessions are kept otherwise, so that presenting
// one of their tokens is recognised, until they expire or
// [Store.Purge] deletes them. Running Purge periodically, as
// Auth.Purge does, frees memory sooner. Revocation entries are dropped once
// they can no longer matter (denied tokens after their exp, cutoffs after
// [authstore.MaxAccessTTL], each plus [authstore.MaxLeeway]), so they are
// bounded by the revocations of the last day. One-time tokens are capped at
// 16 per user and purpose, and each save deletes a few expired ones.
//
// No operation walks the whole store: expiries are kept in order, so
// finding expired items costs O(log n) each, and an operation on one user
// reads that user's sessions only. Purge holds the mutex for its own batch
// only, O(limit log n).
type Store struct {
	maxPerUser int              // immutable after New
	now        func() time.Time // immutable after New
	rev        revocations

	mu sync.Mutex // guards every field below
	// tokens holds every stored token by hash.
	tokens map[authstore.TokenHash]*memToken
	// sessions holds every stored session by id.
	sessions map[string]*memSession
	// userSessions holds the ids of each user's sessions; a user with no
	// session has no entry.
	userSessions map[string]map[string]struct{}
	// sessionTokens holds the token hashes of each session; a session with no
	// token left has no entry.
	sessionTokens map[string]map[authstore.TokenHash]struct{}
	// revoked holds the ids of the revoked sessions.
	revoked map[string]struct{}
	// sessionExpiry and tokenExpiry order every session and every token by
	// ExpiresAt, so that purging finds expired items without a scan.
	sessionExpiry expiryHeap[string]
	tokenExpiry   expiryHeap[authstore.TokenHash]
	// seq numbers the tokens in the order they are stored.
	seq uint64
	// once holds the one-time tokens.
	once oneTimes
}

// memSession is a stored session with its routing key and its place in
// sessionExpiry.
type memSession struct {
	sess   authstore.Session
	route  string
	expiry *expiryItem[string]
}

// memToken is a stored token with its place in tokenExpiry.
type memToken struct {
	rec    authstore.RefreshRecord
	expiry *expiryItem[authstore.TokenHash]
	seq    uint64 // order of storing: tokens issued in one instant keep their order
}

var (
	_ authstore.RefreshStore    = (*Store)(nil)
	_ authstore.RevocationStore = (*Store)(nil)
)

// New returns an empty [Store] configured by opts. It returns an error for
// an option out of range.
func New(opts ...Option) (*Store, error) {
	c := defaultConfig()
	if err := c.apply(opts); err != nil {
		return nil, err
	}
	return &Store{
		maxPerUser:    c.maxSessionsPerUser,
		now:           c.now,
		rev:           newRevocations(),
		tokens:        make(map[authstore.TokenHash]*memToken),
		sessions:      make(map[string]*memSession),
		userSessions:  make(map[string]map[string]struct{}),
		sessionTokens: make(map[string]map[authstore.TokenHash]struct{}),
		revoked:       make(map[string]struct{}),
	}, nil
}

// CreateSession stores sess and its first token rec, as [authstore.RefreshStore]
// requires. It returns an error, and stores nothing, when rec does not
// belong to sess or when the session id or the token hash is already stored.
// Taking sess.CreatedAt as the current time, it also deletes a few expired
// sessions and tokens, and keeps the user within the cap of
// [WithMaxSessionsPerUser].
func (s *Store) CreateSession(ctx context.Context, sess authstore.Session, rec authstore.RefreshRecord) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if rec.SessionID != sess.ID || rec.UserID != sess.UserID {
		return fmt.Errorf("memstore: token of session %q and user %q created with session %q of user %q",
			rec.SessionID, rec.UserID, sess.ID, sess.UserID)
	}
	if rec.Hash == (authstore.TokenHash{}) {
		return errZeroHash
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.sessions[sess.ID]; ok {
		return fmt.Errorf("memstore: session %q already exists", sess.ID)
	}
	if _, ok := s.tokens[rec.Hash]; ok {
		return errDuplicateHash
	}
	now := sess.CreatedAt
	s.purgeLocked(now, memoryCreatePurgeBatch, false)
	s.makeRoomLocked(sess.UserID, now)

	f := &memSession{sess: sess, route: authstore.RouteFor(sess.UserID), expiry: &expiryItem[string]{key: sess.ID, at: sess.ExpiresAt}}
	s.sessions[sess.ID] = f
	heap.Push(&s.sessionExpiry, f.expiry)
	addToSet(s.userSessions, sess.UserID, sess.ID)
	if !sess.RevokedAt.IsZero() {
		s.revoked[sess.ID] = struct{}{}
	}
	s.addTokenLocked(rec)
	return nil
}

// Lookup returns the token with hash h and its session, as [authstore.RefreshStore]
// requires: found is false when there is no such token or when route is not
// the routing key of the token's user.
func (s *Store) Lookup(ctx context.Context, route string, h authstore.TokenHash) (rec authstore.RefreshRecord, sess authstore.Session, found bool, err error) {
	if err := ctx.Err(); err != nil {
		return authstore.RefreshRecord{}, authstore.Session{}, false, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	t, f := s.tokenLocked(route, h)
	if t == nil {
		return authstore.RefreshRecord{}, authstore.Session{}, false, nil
	}
	return t.rec, f.sess, true, nil
}

// Rotate replaces old by next in one step, as [authstore.RefreshStore] requires; the
// mutex makes the compare-and-swap atomic. It returns false, changing
// nothing, when old is not stored under route, when its session is revoked,
// when old's Successor is not expect, when expect is zero and old is used
// (superseded), or when expect is not zero and is not a stored, unused token
// of old's session. Once every check has passed, a next that belongs to
// another session or user, or whose hash is zero or already stored, is a
// caller's bug: Rotate returns an error and changes nothing. After a swap,
// taking next.IssuedAt as the current time, it deletes up to two sessions or
// tokens that have expired by then.
func (s *Store) Rotate(ctx context.Context, route string, old, expect authstore.TokenHash, next authstore.RefreshRecord) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	t, f := s.tokenLocked(route, old)
	if t == nil || !f.sess.RevokedAt.IsZero() || t.rec.Successor != expect {
		return false, nil
	}
	var superseded *memToken
	if expect == (authstore.TokenHash{}) {
		if t.rec.Used() {
			return false, nil
		}
	} else {
		superseded = s.tokens[expect]
		if superseded == nil || superseded.rec.Used() || superseded.rec.SessionID != t.rec.SessionID {
			return false, nil
		}
	}
	switch {
	case next.SessionID != t.rec.SessionID || next.UserID != t.rec.UserID:
		return false, fmt.Errorf("memstore: rotation of a token of session %q into a token of session %q and user %q",
			t.rec.SessionID, next.SessionID, next.UserID)
	case next.Hash == (authstore.TokenHash{}):
		return false, errZeroHash
	case s.tokens[next.Hash] != nil:
		return false, errDuplicateHash
	}

	if t.rec.UsedAt.IsZero() {
		t.rec.UsedAt = next.IssuedAt
	}
	t.rec.Successor = next.Hash
	if superseded != nil {
		superseded.rec.UsedAt = next.IssuedAt
		superseded.rec.Successor = authstore.TokenHash{}
	}
	s.addTokenLocked(next)
	f.sess.RefreshedAt = next.IssuedAt
	s.purgeLocked(next.IssuedAt, memoryRotatePurgeBatch, false)
	if len(s.sessionTokens[f.sess.ID]) > maxTokensPerSession {
		s.trimSessionLocked(f.sess.ID)
	}
	return true, nil
}

// maxTokensPerSession bounds the tokens a [Store] keeps per session, so
// that one session refreshing in a loop cannot grow the store without end.
// Past it, the oldest used tokens are dropped down to half of it: presenting
// one of those (hundreds of rotations old) is then refused as unknown,
// rather than recognised as reuse.
const maxTokensPerSession = 1000

// A trimmed session keeps its unused token and maxTokensPerSession/2-1
// used ones; the contract asks for at least [authstore.MinKeptTokens].
const _ = uint(maxTokensPerSession/2 - 1 - authstore.MinKeptTokens)

// trimSessionLocked drops the oldest used tokens of session id down to
// maxTokensPerSession/2 tokens; s.mu must be held.
func (s *Store) trimSessionLocked(id string) {
	var used []*memToken
	for h := range s.sessionTokens[id] {
		if t := s.tokens[h]; t != nil && t.rec.Used() {
			used = append(used, t)
		}
	}
	// Oldest first by the order they were stored: IssuedAt ties when a
	// session rotates more than once in one clock tick, and dropping a
	// newer used token first would let its replay pass for unknown instead
	// of being caught as reuse.
	sort.Slice(used, func(i, j int) bool { return used[i].seq < used[j].seq })
	for _, t := range used[:max(0, len(s.sessionTokens[id])-maxTokensPerSession/2)] {
		s.deleteTokenLocked(t.rec.Hash)
	}
}

// RevokeSession marks the session sessionID of userID revoked at the time at,
// as [authstore.RefreshStore] requires. A session of another user is not found.
func (s *Store) RevokeSession(ctx context.Context, userID, sessionID string, at time.Time) (found bool, err error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	f := s.sessions[sessionID]
	if f == nil || f.sess.UserID != userID {
		return false, nil
	}
	s.revokeLocked(f, at)
	return true, nil
}

// RevokeUser marks every session of userID that is live at the time at
// revoked at that time, as [authstore.RefreshStore] requires, and returns how many it
// revoked.
func (s *Store) RevokeUser(ctx context.Context, userID string, at time.Time) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for id := range s.userSessions[userID] {
		if f := s.sessions[id]; f.sess.Live(at) {
			s.revokeLocked(f, at)
			n++
		}
	}
	return n, nil
}

// Sessions returns the sessions of userID that are live at now, newest
// (latest CreatedAt) first, as [authstore.RefreshStore] requires. Sessions created at
// the same instant come in the order of their ids.
func (s *Store) Sessions(ctx context.Context, userID string, now time.Time) ([]authstore.Session, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.Lock()
	ids := s.userSessions[userID]
	list := make([]authstore.Session, 0, len(ids))
	for id := range ids {
		if f := s.sessions[id]; f.sess.Live(now) {
			list = append(list, f.sess)
		}
	}
	s.mu.Unlock()
	slices.SortFunc(list, func(a, b authstore.Session) int {
		return cmp.Or(b.CreatedAt.Compare(a.CreatedAt), cmp.Compare(a.ID, b.ID))
	})
	return list, nil
}

// Purge deletes at most limit items that can never be honoured again, as
// [authstore.RefreshStore] and [authstore.RevocationStore] require, and
// returns how many it deleted. An item is a session that is revoked or
// expired at now, counted once with all its tokens, a token expired at now
// in a session that stays, or a revocation entry that can no longer matter.
// Expired sessions go first, oldest expiry first, then revoked sessions,
// then expired tokens, then revocation entries.
// A limit below 1 is an error: a caller looping until Purge returns less
// than limit would never stop.
func (s *Store) Purge(ctx context.Context, now time.Time, limit int) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	if limit < 1 {
		return 0, fmt.Errorf("memstore: purge limit %d; want at least 1", limit)
	}
	s.mu.Lock()
	n := s.purgeLocked(now, limit, true)
	if n < limit {
		n += s.once.purge(now, limit-n)
	}
	s.mu.Unlock()
	if n < limit {
		n += s.rev.purge(now, limit-n)
	}
	return n, nil
}

var (
	errZeroHash      = errors.New("memstore: zero token hash")
	errDuplicateHash = errors.New("memstore: token hash already exists")
)

// tokenLocked returns the token h and its session when h is stored under
// route, or nils.
func (s *Store) tokenLocked(route string, h authstore.TokenHash) (*memToken, *memSession) {
	t := s.tokens[h]
	if t == nil {
		return nil, nil
	}
	f := s.sessions[t.rec.SessionID]
	if f == nil || f.route != route {
		return nil, nil
	}
	return t, f
}

// addTokenLocked stores rec, whose session is stored.
func (s *Store) addTokenLocked(rec authstore.RefreshRecord) {
	s.seq++
	t := &memToken{rec: rec, expiry: &expiryItem[authstore.TokenHash]{key: rec.Hash, at: rec.ExpiresAt}, seq: s.seq}
	s.tokens[rec.Hash] = t
	heap.Push(&s.tokenExpiry, t.expiry)
	addToSet(s.sessionTokens, rec.SessionID, rec.Hash)
}

// addToSet adds v to the set m[k], making the set if needed.
func addToSet[K, V comparable](m map[K]map[V]struct{}, k K, v V) {
	set := m[k]
	if set == nil {
		set = make(map[V]struct{})
		m[k] = set
	}
	set[v] = struct{}{}
}

// revokeLocked marks f revoked at the time at unless it is already revoked.
func (s *Store) revokeLocked(f *memSession, at time.Time) {
	if f.sess.RevokedAt.IsZero() {
		f.sess.RevokedAt = at
		s.revoked[f.sess.ID] = struct{}{}
	}
}

// deleteTokenLocked deletes the stored token h.
func (s *Store) deleteTokenLocked(h authstore.TokenHash) {
	t := s.tokens[h]
	heap.Remove(&s.tokenExpiry, t.expiry.index)
	delete(s.tokens, h)
	fid := t.rec.SessionID
	if hashes := s.sessionTokens[fid]; hashes != nil {
		delete(hashes, h)
		if len(hashes) == 0 {
			delete(s.sessionTokens, fid)
		}
	}
}

// deleteSessionLocked deletes the stored session id and all its tokens.
func (s *Store) deleteSessionLocked(id string) {
	f := s.sessions[id]
	for h := range s.sessionTokens[id] {
		t := s.tokens[h]
		heap.Remove(&s.tokenExpiry, t.expiry.index)
		delete(s.tokens, h)
	}
	delete(s.sessionTokens, id)
	heap.Remove(&s.sessionExpiry, f.expiry.index)
	delete(s.sessions, id)
	delete(s.revoked, id)
	uid := f.sess.UserID
	if ids := s.userSessions[uid]; ids != nil {
		delete(ids, id)
		if len(ids) == 0 {
			delete(s.userSessions, uid)
		}
	}
}

// purgeLocked deletes at most limit items that can never be honoured again
// at now: expired sessions, then revoked ones if withRevoked, then expired
// tokens. It returns how many it deleted; fewer than limit means none is
// left.
func (s *Store) purgeLocked(now time.Time, limit int, withRevoked bool) int {
	n := 0
	for n < limit && len(s.sessionExpiry) > 0 && !now.Before(s.sessionExpiry[0].at) {
		s.deleteSessionLocked(s.sessionExpiry[0].key)
		n++
	}
	if withRevoked {
		for id := range s.revoked {
			if n == limit {
				break
			}
			s.deleteSessionLocked(id)
			n++
		}
	}
	for n < limit && len(s.tokenExpiry) > 0 && !now.Before(s.tokenExpiry[0].at) {
		s.deleteTokenLocked(s.tokenExpiry[0].key)
		n++
	}
	return n
}

// makeRoomLocked deletes sessions of userID so that one more keeps the user
// within the cap: the oldest revoked or expired ones at now first, then, if
// the user would still have more than the cap of live sessions, the oldest
// live ones.
func (s *Store) makeRoomLocked(userID string, now time.Time) {
	ids := s.userSessions[userID]
	excess := len(ids) + 1 - s.maxPerUser
	if excess <= 0 {
		return
	}
	var live, dead []*memSession
	for id := range ids {
		if f := s.sessions[id]; f.sess.Live(now) {
			live = append(live, f)
		} else {
			dead = append(dead, f)
		}
	}
	oldestFirst := func(a, b *memSession) int {
		return cmp.Or(a.sess.CreatedAt.Compare(b.sess.CreatedAt), cmp.Compare(a.sess.ID, b.sess.ID))
	}
	slices.SortFunc(dead, oldestFirst)
	for _, f := range dead[:min(excess, len(dead))] {
		s.deleteSessionLocked(f.sess.ID)
	}
	if over := len(live) + 1 - s.maxPerUser; over > 0 {
		slices.SortFunc(live, oldestFirst)
		for _, f := range live[:over] {
			s.deleteSessionLocked(f.sess.ID)
		}
	}
}

// expiryItem is an entry of an expiryHeap: the item key expires at at.
type expiryItem[K comparable] struct {
	key   K
	at    time.Time
	index int // position in the heap, kept by the heap methods
}

// expiryHeap is a min-heap of items by expiry, for container/heap. Every
// item knows its index, so any item can be removed in O(log n).
type expiryHeap[K comparable] []*expiryItem[K]

func (h expiryHeap[K]) Len() int           { return len(h) }
func (h expiryHeap[K]) Less(i, j int) bool { return h[i].at.Before(h[j].at) }

func (h expiryHeap[K]) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].index = i
	h[j].index = j
}

func (h *expiryHeap[K]) Push(x any) {
	it := x.(*expiryItem[K])
	it.index = len(*h)
	*h = append(*h, it)
}

// Pop removes the last item. When the heap has shrunk to a quarter of its
// capacity it moves to a smaller array, so memory follows the number of
// stored items down as well as up.
func (h *expiryHeap[K]) Pop() any {
	old := *h
	n := len(old) - 1
	it := old[n]
	old[n] = nil
	it.index = -1
	*h = old[:n]
	if c := cap(old); c > 64 && n < c/4 {
		*h = append(make(expiryHeap[K], 0, c/2), (*h)...)
	}
	return it
}
