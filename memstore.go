package auth

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
)

// DefaultMaxFamiliesPerUser is the number of families a [MemoryStore] keeps
// per user unless [WithMaxFamiliesPerUser] says otherwise.
const DefaultMaxFamiliesPerUser = 100

// How many expired families and tokens [MemoryStore.CreateFamily] and a
// successful [MemoryStore.Rotate] delete on the side, at most. Each adds one
// token, and deletes more than one when it can, so the expired items that
// wait for deletion never pile up while the store is in use.
const (
	memoryCreatePurgeBatch = 8
	memoryRotatePurgeBatch = 2
)

// MemoryStore is the in-memory [RefreshStore], the default. It serves one
// process only: instances behind a load balancer need a shared store, and
// every session is lost at a restart. The zero value is not usable; call
// [NewMemoryStore].
//
// Memory stays bounded without help. Each CreateFamily and each successful
// Rotate deletes a few expired families and tokens (oldest expiry first), a
// family keeps at most 1000 tokens (the oldest used ones go first), and
// CreateFamily keeps at most [WithMaxFamiliesPerUser] families per user,
// evicting the user's oldest revoked or expired families first, then the
// oldest live ones. Revoked families are kept otherwise, so that presenting
// one of their tokens is recognised, until they expire or
// [MemoryStore.Purge] deletes them. Running Purge periodically, as
// [Auth.Purge] does, frees memory sooner.
//
// No operation walks the whole store: expiries are kept in order, so
// finding expired items costs O(log n) each, and an operation on one user
// reads that user's families only. Purge holds the mutex for its own batch
// only, O(limit log n).
type MemoryStore struct {
	maxPerUser int // immutable after NewMemoryStore

	mu sync.Mutex // guards every field below
	// tokens holds every stored token by hash.
	tokens map[TokenHash]*memToken
	// families holds every stored family by id.
	families map[string]*memFamily
	// userFamilies holds the ids of each user's families; a user with no
	// family has no entry.
	userFamilies map[string]map[string]struct{}
	// familyTokens holds the token hashes of each family; a family with no
	// token left has no entry.
	familyTokens map[string]map[TokenHash]struct{}
	// revoked holds the ids of the revoked families.
	revoked map[string]struct{}
	// familyExpiry and tokenExpiry order every family and every token by
	// ExpiresAt, so that purging finds expired items without a scan.
	familyExpiry expiryHeap[string]
	tokenExpiry  expiryHeap[TokenHash]
}

// memFamily is a stored family with its routing key and its place in
// familyExpiry.
type memFamily struct {
	fam    Family
	route  string
	expiry *expiryItem[string]
}

// memToken is a stored token with its place in tokenExpiry.
type memToken struct {
	rec    RefreshRecord
	expiry *expiryItem[TokenHash]
}

var _ RefreshStore = (*MemoryStore)(nil)

// MemoryStoreOption configures a [MemoryStore]; pass options to
// [NewMemoryStore].
type MemoryStoreOption func(*memoryStoreConfig)

type memoryStoreConfig struct {
	maxFamiliesPerUser int
}

// WithMaxFamiliesPerUser sets how many families (sessions) a [MemoryStore]
// keeps per user. When [MemoryStore.CreateFamily] would give a user more
// than n, it first deletes the user's oldest (by CreatedAt) revoked or
// expired families, then, if the user would still have more than n live
// ones, the oldest live families: those sessions end. A deleted family goes
// with all its tokens. The default, also used when n < 1, is
// [DefaultMaxFamiliesPerUser] (100).
func WithMaxFamiliesPerUser(n int) MemoryStoreOption {
	return func(c *memoryStoreConfig) {
		if n < 1 {
			n = DefaultMaxFamiliesPerUser
		}
		c.maxFamiliesPerUser = n
	}
}

// NewMemoryStore returns an empty [MemoryStore] configured by opts.
func NewMemoryStore(opts ...MemoryStoreOption) *MemoryStore {
	c := memoryStoreConfig{maxFamiliesPerUser: DefaultMaxFamiliesPerUser}
	for _, opt := range opts {
		opt(&c)
	}
	return &MemoryStore{
		maxPerUser:   c.maxFamiliesPerUser,
		tokens:       make(map[TokenHash]*memToken),
		families:     make(map[string]*memFamily),
		userFamilies: make(map[string]map[string]struct{}),
		familyTokens: make(map[string]map[TokenHash]struct{}),
		revoked:      make(map[string]struct{}),
	}
}

// CreateFamily stores fam and its first token rec, as [RefreshStore]
// requires. It returns an error, and stores nothing, when rec does not
// belong to fam or when the family id or the token hash is already stored.
// Taking fam.CreatedAt as the current time, it also deletes a few expired
// families and tokens, and keeps the user within the cap of
// [WithMaxFamiliesPerUser].
func (s *MemoryStore) CreateFamily(ctx context.Context, fam Family, rec RefreshRecord) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if rec.FamilyID != fam.ID || rec.UserID != fam.UserID {
		return fmt.Errorf("auth: memory store: token of family %q and user %q created with family %q of user %q",
			rec.FamilyID, rec.UserID, fam.ID, fam.UserID)
	}
	if rec.Hash == (TokenHash{}) {
		return errZeroHash
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.families[fam.ID]; ok {
		return fmt.Errorf("auth: memory store: family %q already exists", fam.ID)
	}
	if _, ok := s.tokens[rec.Hash]; ok {
		return errDuplicateHash
	}
	now := fam.CreatedAt
	s.purgeLocked(now, memoryCreatePurgeBatch, false)
	s.makeRoomLocked(fam.UserID, now)

	f := &memFamily{fam: fam, route: RouteFor(fam.UserID), expiry: &expiryItem[string]{key: fam.ID, at: fam.ExpiresAt}}
	s.families[fam.ID] = f
	heap.Push(&s.familyExpiry, f.expiry)
	addToSet(s.userFamilies, fam.UserID, fam.ID)
	if !fam.RevokedAt.IsZero() {
		s.revoked[fam.ID] = struct{}{}
	}
	s.addTokenLocked(rec)
	return nil
}

// Lookup returns the token with hash h and its family, as [RefreshStore]
// requires: found is false when there is no such token or when route is not
// the routing key of the token's user.
func (s *MemoryStore) Lookup(ctx context.Context, route string, h TokenHash) (rec RefreshRecord, fam Family, found bool, err error) {
	if err := ctx.Err(); err != nil {
		return RefreshRecord{}, Family{}, false, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	t, f := s.tokenLocked(route, h)
	if t == nil {
		return RefreshRecord{}, Family{}, false, nil
	}
	return t.rec, f.fam, true, nil
}

// Rotate replaces old by next in one step, as [RefreshStore] requires; the
// mutex makes the compare-and-swap atomic. It returns false, changing
// nothing, when old is not stored under route, when its family is revoked,
// when old's Successor is not expect, when expect is zero and old is used
// (superseded), or when expect is not zero and is not a stored, unused token
// of old's family. Once every check has passed, a next that belongs to
// another family or user, or whose hash is zero or already stored, is a
// caller's bug: Rotate returns an error and changes nothing. After a swap,
// taking next.IssuedAt as the current time, it deletes up to two families or
// tokens that have expired by then.
func (s *MemoryStore) Rotate(ctx context.Context, route string, old, expect TokenHash, next RefreshRecord) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	t, f := s.tokenLocked(route, old)
	if t == nil || !f.fam.RevokedAt.IsZero() || t.rec.Successor != expect {
		return false, nil
	}
	var superseded *memToken
	if expect == (TokenHash{}) {
		if t.rec.Used() {
			return false, nil
		}
	} else {
		superseded = s.tokens[expect]
		if superseded == nil || superseded.rec.Used() || superseded.rec.FamilyID != t.rec.FamilyID {
			return false, nil
		}
	}
	switch {
	case next.FamilyID != t.rec.FamilyID || next.UserID != t.rec.UserID:
		return false, fmt.Errorf("auth: memory store: rotation of a token of family %q into a token of family %q and user %q",
			t.rec.FamilyID, next.FamilyID, next.UserID)
	case next.Hash == (TokenHash{}):
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
		superseded.rec.Successor = TokenHash{}
	}
	s.addTokenLocked(next)
	f.fam.RefreshedAt = next.IssuedAt
	s.purgeLocked(next.IssuedAt, memoryRotatePurgeBatch, false)
	if len(s.familyTokens[f.fam.ID]) > maxTokensPerFamily {
		s.trimFamilyLocked(f.fam.ID)
	}
	return true, nil
}

// maxTokensPerFamily bounds the tokens a [MemoryStore] keeps per family, so
// that one session refreshing in a loop cannot grow the store without end.
// Past it, the oldest used tokens are dropped down to half of it: presenting
// one of those (hundreds of rotations old) is then refused as unknown,
// rather than recognised as reuse.
const maxTokensPerFamily = 1000

// trimFamilyLocked drops the oldest used tokens of family id down to
// maxTokensPerFamily/2 tokens; s.mu must be held.
func (s *MemoryStore) trimFamilyLocked(id string) {
	var used []*memToken
	for h := range s.familyTokens[id] {
		if t := s.tokens[h]; t != nil && t.rec.Used() {
			used = append(used, t)
		}
	}
	sort.Slice(used, func(i, j int) bool { return used[i].rec.IssuedAt.Before(used[j].rec.IssuedAt) })
	for _, t := range used[:max(0, len(s.familyTokens[id])-maxTokensPerFamily/2)] {
		s.deleteTokenLocked(t.rec.Hash)
	}
}

// RevokeFamily marks the family familyID of userID revoked at the time at,
// as [RefreshStore] requires. A family of another user is not found.
func (s *MemoryStore) RevokeFamily(ctx context.Context, userID, familyID string, at time.Time) (found bool, err error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	f := s.families[familyID]
	if f == nil || f.fam.UserID != userID {
		return false, nil
	}
	s.revokeLocked(f, at)
	return true, nil
}

// RevokeUser marks every family of userID that is live at the time at
// revoked at that time, as [RefreshStore] requires, and returns how many it
// revoked.
func (s *MemoryStore) RevokeUser(ctx context.Context, userID string, at time.Time) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for id := range s.userFamilies[userID] {
		if f := s.families[id]; f.fam.Live(at) {
			s.revokeLocked(f, at)
			n++
		}
	}
	return n, nil
}

// Families returns the families of userID that are live at now, newest
// (latest CreatedAt) first, as [RefreshStore] requires. Families created at
// the same instant come in the order of their ids.
func (s *MemoryStore) Families(ctx context.Context, userID string, now time.Time) ([]Family, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.Lock()
	ids := s.userFamilies[userID]
	fams := make([]Family, 0, len(ids))
	for id := range ids {
		if f := s.families[id]; f.fam.Live(now) {
			fams = append(fams, f.fam)
		}
	}
	s.mu.Unlock()
	slices.SortFunc(fams, func(a, b Family) int {
		return cmp.Or(b.CreatedAt.Compare(a.CreatedAt), cmp.Compare(a.ID, b.ID))
	})
	return fams, nil
}

// Purge deletes at most limit items that can never be honoured again, as
// [RefreshStore] requires, and returns how many it deleted. An item is a
// family that is revoked or expired at now, counted once with all its
// tokens, or a token expired at now in a family that stays. Expired families
// go first, oldest expiry first, then revoked families, then expired tokens.
// A limit below 1 is an error: a caller looping until Purge returns less
// than limit would never stop.
func (s *MemoryStore) Purge(ctx context.Context, now time.Time, limit int) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	if limit < 1 {
		return 0, fmt.Errorf("auth: memory store: purge limit %d; want at least 1", limit)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.purgeLocked(now, limit, true), nil
}

var (
	errZeroHash      = errors.New("auth: memory store: zero token hash")
	errDuplicateHash = errors.New("auth: memory store: token hash already exists")
)

// tokenLocked returns the token h and its family when h is stored under
// route, or nils.
func (s *MemoryStore) tokenLocked(route string, h TokenHash) (*memToken, *memFamily) {
	t := s.tokens[h]
	if t == nil {
		return nil, nil
	}
	f := s.families[t.rec.FamilyID]
	if f == nil || f.route != route {
		return nil, nil
	}
	return t, f
}

// addTokenLocked stores rec, whose family is stored.
func (s *MemoryStore) addTokenLocked(rec RefreshRecord) {
	t := &memToken{rec: rec, expiry: &expiryItem[TokenHash]{key: rec.Hash, at: rec.ExpiresAt}}
	s.tokens[rec.Hash] = t
	heap.Push(&s.tokenExpiry, t.expiry)
	addToSet(s.familyTokens, rec.FamilyID, rec.Hash)
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
func (s *MemoryStore) revokeLocked(f *memFamily, at time.Time) {
	if f.fam.RevokedAt.IsZero() {
		f.fam.RevokedAt = at
		s.revoked[f.fam.ID] = struct{}{}
	}
}

// deleteTokenLocked deletes the stored token h.
func (s *MemoryStore) deleteTokenLocked(h TokenHash) {
	t := s.tokens[h]
	heap.Remove(&s.tokenExpiry, t.expiry.index)
	delete(s.tokens, h)
	fid := t.rec.FamilyID
	if hashes := s.familyTokens[fid]; hashes != nil {
		delete(hashes, h)
		if len(hashes) == 0 {
			delete(s.familyTokens, fid)
		}
	}
}

// deleteFamilyLocked deletes the stored family id and all its tokens.
func (s *MemoryStore) deleteFamilyLocked(id string) {
	f := s.families[id]
	for h := range s.familyTokens[id] {
		t := s.tokens[h]
		heap.Remove(&s.tokenExpiry, t.expiry.index)
		delete(s.tokens, h)
	}
	delete(s.familyTokens, id)
	heap.Remove(&s.familyExpiry, f.expiry.index)
	delete(s.families, id)
	delete(s.revoked, id)
	uid := f.fam.UserID
	if ids := s.userFamilies[uid]; ids != nil {
		delete(ids, id)
		if len(ids) == 0 {
			delete(s.userFamilies, uid)
		}
	}
}

// purgeLocked deletes at most limit items that can never be honoured again
// at now: expired families, then revoked ones if withRevoked, then expired
// tokens. It returns how many it deleted; fewer than limit means none is
// left.
func (s *MemoryStore) purgeLocked(now time.Time, limit int, withRevoked bool) int {
	n := 0
	for n < limit && len(s.familyExpiry) > 0 && !now.Before(s.familyExpiry[0].at) {
		s.deleteFamilyLocked(s.familyExpiry[0].key)
		n++
	}
	if withRevoked {
		for id := range s.revoked {
			if n == limit {
				break
			}
			s.deleteFamilyLocked(id)
			n++
		}
	}
	for n < limit && len(s.tokenExpiry) > 0 && !now.Before(s.tokenExpiry[0].at) {
		s.deleteTokenLocked(s.tokenExpiry[0].key)
		n++
	}
	return n
}

// makeRoomLocked deletes families of userID so that one more keeps the user
// within the cap: the oldest revoked or expired ones at now first, then, if
// the user would still have more than the cap of live families, the oldest
// live ones.
func (s *MemoryStore) makeRoomLocked(userID string, now time.Time) {
	ids := s.userFamilies[userID]
	excess := len(ids) + 1 - s.maxPerUser
	if excess <= 0 {
		return
	}
	var live, dead []*memFamily
	for id := range ids {
		if f := s.families[id]; f.fam.Live(now) {
			live = append(live, f)
		} else {
			dead = append(dead, f)
		}
	}
	oldestFirst := func(a, b *memFamily) int {
		return cmp.Or(a.fam.CreatedAt.Compare(b.fam.CreatedAt), cmp.Compare(a.fam.ID, b.fam.ID))
	}
	slices.SortFunc(dead, oldestFirst)
	for _, f := range dead[:min(excess, len(dead))] {
		s.deleteFamilyLocked(f.fam.ID)
	}
	if over := len(live) + 1 - s.maxPerUser; over > 0 {
		slices.SortFunc(live, oldestFirst)
		for _, f := range live[:over] {
			s.deleteFamilyLocked(f.fam.ID)
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
