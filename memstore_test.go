package auth

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"
)

// The conformance suite for MemoryStore runs in package authtest (it
// imports this package); these tests cover what only the memory store
// promises: the per-user cap, bounded memory, copies, and its internal
// consistency.

var memNow = time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC)

// memSeq makes distinct hashes and ids without randomness.
type memSeq struct{ n int }

func (q *memSeq) next() int { q.n++; return q.n }

// family returns a family of userID created at created and its first token.
func (q *memSeq) family(userID string, created, expires time.Time) (Family, RefreshRecord) {
	fam := Family{
		ID:          fmt.Sprintf("fam-%d", q.next()),
		UserID:      userID,
		CreatedAt:   created,
		ExpiresAt:   expires,
		RefreshedAt: created,
		UserAgent:   "test",
		Address:     "192.0.2.1",
	}
	return fam, q.token(fam.ID, userID, created, expires)
}

// token returns a new token of family familyID.
func (q *memSeq) token(familyID, userID string, issued, expires time.Time) RefreshRecord {
	return RefreshRecord{
		Hash:      HashRefreshToken(fmt.Sprintf("%s-token-%d", RouteFor(userID), q.next())),
		FamilyID:  familyID,
		UserID:    userID,
		IssuedAt:  issued,
		ExpiresAt: expires,
	}
}

func memCreate(t *testing.T, s *MemoryStore, fam Family, rec RefreshRecord) {
	t.Helper()
	if err := s.CreateFamily(context.Background(), fam, rec); err != nil {
		t.Fatalf("CreateFamily(%s) = %v; want nil", fam.ID, err)
	}
}

func memFamilyIDs(t *testing.T, s *MemoryStore, userID string, now time.Time) []string {
	t.Helper()
	fams, err := s.Families(context.Background(), userID, now)
	if err != nil {
		t.Fatalf("Families(%s) = %v", userID, err)
	}
	ids := make([]string, len(fams))
	for i, f := range fams {
		ids[i] = f.ID
	}
	return ids
}

func TestMemoryStoreOptions(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name string
		opts []MemoryStoreOption
		want int
	}{
		{"default", nil, DefaultMaxFamiliesPerUser},
		{"3", []MemoryStoreOption{WithMaxFamiliesPerUser(3)}, 3},
		{"0 means the default", []MemoryStoreOption{WithMaxFamiliesPerUser(0)}, DefaultMaxFamiliesPerUser},
		{"negative means the default", []MemoryStoreOption{WithMaxFamiliesPerUser(-1)}, DefaultMaxFamiliesPerUser},
	} {
		if got := NewMemoryStore(tt.opts...).maxPerUser; got != tt.want {
			t.Errorf("%s: NewMemoryStore(...).maxPerUser = %d; want %d", tt.name, got, tt.want)
		}
	}
	if DefaultMaxFamiliesPerUser != 100 {
		t.Errorf("DefaultMaxFamiliesPerUser = %d; want 100, as documented", DefaultMaxFamiliesPerUser)
	}
}

func TestMemoryStoreCapEvictsOldestLive(t *testing.T) {
	t.Parallel()
	s := NewMemoryStore(WithMaxFamiliesPerUser(3))
	var q memSeq
	end := memNow.Add(30 * 24 * time.Hour)
	other, otherRec := q.family("bob", memNow, end)
	memCreate(t, s, other, otherRec)

	// Created out of order: the cap goes by CreatedAt, not by insertion.
	ids := map[int]string{}
	recs := map[int]RefreshRecord{}
	for _, minute := range []int{2, 0, 1, 4, 3} {
		f, rec := q.family("alice", memNow.Add(time.Duration(minute)*time.Minute), end)
		memCreate(t, s, f, rec)
		ids[minute], recs[minute] = f.ID, rec
	}
	want := []string{ids[4], ids[3], ids[2]}
	if got := memFamilyIDs(t, s, "alice", memNow); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("Families(alice) = %v; want %v (the two oldest evicted)", got, want)
	}
	for _, minute := range []int{0, 1} {
		if _, _, found, _ := s.Lookup(context.Background(), RouteFor("alice"), recs[minute].Hash); found {
			t.Errorf("Lookup(token of evicted family %s) found = true; want false", ids[minute])
		}
	}
	if got := memFamilyIDs(t, s, "bob", memNow); len(got) != 1 || got[0] != other.ID {
		t.Errorf("Families(bob) = %v; want [%s]", got, other.ID)
	}
	if len(s.families) != 4 || len(s.tokens) != 4 {
		t.Errorf("stored families, tokens = %d, %d; want 4, 4", len(s.families), len(s.tokens))
	}
	memCheckInvariants(t, s)
}

func TestMemoryStoreCapEvictsRevokedFirst(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := NewMemoryStore(WithMaxFamiliesPerUser(3))
	var q memSeq
	end := memNow.Add(30 * 24 * time.Hour)
	var fams []Family
	for i := range 3 {
		f, rec := q.family("alice", memNow.Add(time.Duration(i)*time.Minute), end)
		memCreate(t, s, f, rec)
		fams = append(fams, f)
	}
	if found, err := s.RevokeFamily(ctx, "alice", fams[1].ID, memNow.Add(5*time.Minute)); !found || err != nil {
		t.Fatalf("RevokeFamily = %v, %v; want true, nil", found, err)
	}
	// A fourth family: the revoked one goes, every live one stays.
	f4, rec4 := q.family("alice", memNow.Add(6*time.Minute), end)
	memCreate(t, s, f4, rec4)
	if _, ok := s.families[fams[1].ID]; ok {
		t.Errorf("revoked family %s still stored; want it evicted first", fams[1].ID)
	}
	want := []string{f4.ID, fams[2].ID, fams[0].ID}
	if got := memFamilyIDs(t, s, "alice", memNow.Add(6*time.Minute)); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("Families(alice) = %v; want %v", got, want)
	}
	// A fifth: no dead family left, so the oldest live one goes.
	f5, rec5 := q.family("alice", memNow.Add(7*time.Minute), end)
	memCreate(t, s, f5, rec5)
	want = []string{f5.ID, f4.ID, fams[2].ID}
	if got := memFamilyIDs(t, s, "alice", memNow.Add(7*time.Minute)); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("Families(alice) = %v; want %v", got, want)
	}
	memCheckInvariants(t, s)
}

// Sign-ins alone keep memory bounded: every CreateFamily deletes a few
// expired families and tokens.
func TestMemoryStoreBoundedMemory(t *testing.T) {
	t.Parallel()
	s := NewMemoryStore()
	var q memSeq
	const lifetime = 10 // seconds; at most this many families are live at once
	for i := range 5000 {
		created := memNow.Add(time.Duration(i) * time.Second)
		f, rec := q.family(fmt.Sprintf("user-%d", i), created, created.Add(lifetime*time.Second))
		memCreate(t, s, f, rec)
		if n := len(s.families); n > lifetime {
			t.Fatalf("after %d sign-ins: %d families stored; want at most %d", i+1, n, lifetime)
		}
	}
	memCheckInvariants(t, s)
}

// Rotations alone keep memory bounded too: a long session rotated every
// second holds only the tokens that have not expired yet.
func TestMemoryStoreBoundedByRotation(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := NewMemoryStore()
	var q memSeq
	const ttl = 10 // seconds of each token
	f, rec := q.family("alice", memNow, memNow.Add(24*time.Hour))
	rec.ExpiresAt = memNow.Add(ttl * time.Second)
	memCreate(t, s, f, rec)
	for i := 1; i <= 5000; i++ {
		issued := memNow.Add(time.Duration(i) * time.Second)
		next := q.token(f.ID, "alice", issued, issued.Add(ttl*time.Second))
		if ok, err := s.Rotate(ctx, RouteFor("alice"), rec.Hash, TokenHash{}, next); !ok || err != nil {
			t.Fatalf("Rotate %d = %v, %v; want true, nil", i, ok, err)
		}
		rec = next
		if n := len(s.tokens); n > ttl {
			t.Fatalf("after %d rotations: %d tokens stored; want at most %d", i, n, ttl)
		}
	}
	if _, _, found, _ := s.Lookup(ctx, RouteFor("alice"), rec.Hash); !found {
		t.Error("Lookup(newest token) found = false; want true")
	}
	memCheckInvariants(t, s)
}

// A burst of families that then expire leaves the store: the maps and the
// expiry heaps shrink back as later sign-ins purge a batch each.
func TestMemoryStoreShrinksAfterBurst(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := NewMemoryStore()
	var q memSeq
	const burst, later = 1000, 200
	for i := range burst {
		f, rec := q.family(fmt.Sprintf("burst-%d", i), memNow, memNow.Add(time.Minute))
		memCreate(t, s, f, rec)
		// Rotate once: a family holds two tokens.
		next := q.token(f.ID, f.UserID, memNow.Add(time.Second), memNow.Add(time.Minute))
		if ok, err := s.Rotate(ctx, RouteFor(f.UserID), rec.Hash, TokenHash{}, next); !ok || err != nil {
			t.Fatalf("Rotate = %v, %v; want true, nil", ok, err)
		}
	}
	if len(s.families) != burst || len(s.tokens) != 2*burst || len(s.userFamilies) != burst {
		t.Fatalf("after the burst: families, tokens, users = %d, %d, %d; want %d, %d, %d",
			len(s.families), len(s.tokens), len(s.userFamilies), burst, 2*burst, burst)
	}
	peak := cap(s.tokenExpiry)
	for i := range later {
		created := memNow.Add(time.Hour + time.Duration(i)*time.Second)
		f, rec := q.family(fmt.Sprintf("later-%d", i), created, created.Add(24*time.Hour))
		memCreate(t, s, f, rec)
	}
	for _, c := range []struct {
		name      string
		got, want int
	}{
		{"families", len(s.families), later},
		{"tokens", len(s.tokens), later},
		{"userFamilies", len(s.userFamilies), later},
		{"familyTokens", len(s.familyTokens), later},
		{"familyExpiry", len(s.familyExpiry), later},
		{"tokenExpiry", len(s.tokenExpiry), later},
	} {
		if c.got != c.want {
			t.Errorf("after %d later sign-ins: len(%s) = %d; want %d", later, c.name, c.got, c.want)
		}
	}
	if c := cap(s.tokenExpiry); c >= peak/2 {
		t.Errorf("cap(tokenExpiry) = %d after shrinking from %d; want less than %d", c, peak, peak/2)
	}
	memCheckInvariants(t, s)
}

// CreateFamily purges expired items on the side, never revoked families:
// their tokens stay recognised until they expire or Purge runs.
func TestMemoryStoreKeepsRevokedFamilies(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := NewMemoryStore()
	var q memSeq
	f, rec := q.family("alice", memNow, memNow.Add(time.Hour))
	memCreate(t, s, f, rec)
	if found, err := s.RevokeFamily(ctx, "alice", f.ID, memNow); !found || err != nil {
		t.Fatalf("RevokeFamily = %v, %v; want true, nil", found, err)
	}
	for i := range 50 {
		g, grec := q.family("alice", memNow.Add(time.Duration(i)*time.Second), memNow.Add(2*time.Hour))
		memCreate(t, s, g, grec)
	}
	_, fam, found, err := s.Lookup(ctx, RouteFor("alice"), rec.Hash)
	if err != nil || !found || !fam.RevokedAt.Equal(memNow) {
		t.Errorf("Lookup(token of revoked family) = %v, RevokedAt %v, %v; want found, %v", found, fam.RevokedAt, err, memNow)
	}
	// Once the family has expired, the next sign-in deletes it.
	g, grec := q.family("alice", memNow.Add(time.Hour), memNow.Add(2*time.Hour))
	memCreate(t, s, g, grec)
	if _, _, found, _ := s.Lookup(ctx, RouteFor("alice"), rec.Hash); found {
		t.Errorf("Lookup(token of expired revoked family) found = true; want false")
	}
	memCheckInvariants(t, s)
}

func TestMemoryStoreReturnsCopies(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := NewMemoryStore()
	var q memSeq
	f, rec := q.family("alice", memNow, memNow.Add(time.Hour))
	memCreate(t, s, f, rec)
	f.UserAgent, rec.UsedAt = "changed by the caller", memNow // the store kept its own copies

	gotRec, gotFam, _, _ := s.Lookup(ctx, RouteFor("alice"), rec.Hash)
	gotRec.UsedAt, gotRec.Successor[0] = memNow, 1
	gotFam.RevokedAt, gotFam.UserAgent = memNow, "changed"
	fams, _ := s.Families(ctx, "alice", memNow)
	fams[0].RevokedAt, fams[0].ExpiresAt = memNow, memNow

	again, fam, _, _ := s.Lookup(ctx, RouteFor("alice"), rec.Hash)
	if again.Used() || again.HasSuccessor() {
		t.Errorf("Lookup after changing a returned record = %+v; want it unused", again)
	}
	if !fam.RevokedAt.IsZero() || fam.UserAgent != "test" {
		t.Errorf("Lookup after changing a returned family = RevokedAt %v, UserAgent %q; want zero, %q", fam.RevokedAt, fam.UserAgent, "test")
	}
	if fams, _ := s.Families(ctx, "alice", memNow); len(fams) != 1 || !fams[0].RevokedAt.IsZero() {
		t.Errorf("Families after changing a returned slice = %+v; want one live family", fams)
	}
}

// Calls that break CreateFamily's or Rotate's preconditions are errors and
// change nothing; so is a Purge limit below 1.
func TestMemoryStoreMisuse(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := NewMemoryStore()
	var q memSeq
	end := memNow.Add(time.Hour)
	f, rec := q.family("alice", memNow, end)
	memCreate(t, s, f, rec)
	route := RouteFor("alice")

	other, otherRec := q.family("alice", memNow, end)
	sameID, sameIDRec := q.family("alice", memNow, end)
	sameID.ID, sameIDRec.FamilyID = f.ID, f.ID
	sameHash, sameHashRec := q.family("alice", memNow, end)
	sameHashRec.Hash = rec.Hash
	zeroHash, zeroHashRec := q.family("alice", memNow, end)
	zeroHashRec.Hash = TokenHash{}
	wrongUser := otherRec
	wrongUser.UserID = "bob"
	for _, tt := range []struct {
		name string
		fam  Family
		rec  RefreshRecord
	}{
		{"token of another family", other, rec},
		{"token of another user", other, wrongUser},
		{"existing family id", sameID, sameIDRec},
		{"existing token hash", sameHash, sameHashRec},
		{"zero token hash", zeroHash, zeroHashRec},
	} {
		if err := s.CreateFamily(ctx, tt.fam, tt.rec); err == nil {
			t.Errorf("CreateFamily(%s) = nil; want an error", tt.name)
		}
	}

	next := q.token(f.ID, "alice", memNow.Add(time.Minute), end)
	foreign := next
	foreign.FamilyID = "fam-elsewhere"
	existing := next
	existing.Hash = rec.Hash
	zeroNext := next
	zeroNext.Hash = TokenHash{}
	for _, tt := range []struct {
		name string
		next RefreshRecord
	}{
		{"next of another family", foreign},
		{"next with an existing hash", existing},
		{"next with the zero hash", zeroNext},
	} {
		if ok, err := s.Rotate(ctx, route, rec.Hash, TokenHash{}, tt.next); ok || err == nil {
			t.Errorf("Rotate(%s) = %v, %v; want false, an error", tt.name, ok, err)
		}
	}
	if n, err := s.Purge(ctx, end, 0); n != 0 || err == nil {
		t.Errorf("Purge(limit 0) = %d, %v; want 0, an error", n, err)
	}

	got, _, _, _ := s.Lookup(ctx, route, rec.Hash)
	if got != rec {
		t.Errorf("Lookup after refused calls = %+v; want %+v", got, rec)
	}
	if len(s.families) != 1 || len(s.tokens) != 1 {
		t.Errorf("stored families, tokens = %d, %d; want 1, 1", len(s.families), len(s.tokens))
	}
	memCheckInvariants(t, s)
}

// A long random mix of operations keeps every index consistent, every user
// within the cap and every family with at most one unused token; a Purge
// that returns less than its limit leaves nothing to purge.
func TestMemoryStoreRandomOperations(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	const maxPerUser = 4
	s := NewMemoryStore(WithMaxFamiliesPerUser(maxPerUser))
	r := rand.New(rand.NewPCG(1, 2))
	var q memSeq
	users := []string{"alice", "bob", "carol", "dave", "erin"}
	var hashes []TokenHash // every hash ever stored, some since deleted
	now := memNow
	for step := range 5000 {
		now = now.Add(time.Duration(r.IntN(120)) * time.Second)
		user := users[r.IntN(len(users))]
		switch op := r.IntN(10); {
		case op < 3:
			f, rec := q.family(user, now, now.Add(time.Duration(5+r.IntN(60))*time.Minute))
			rec.ExpiresAt = now.Add(time.Duration(2+r.IntN(30)) * time.Minute)
			memCreate(t, s, f, rec)
			hashes = append(hashes, rec.Hash)
		case op < 7 && len(hashes) > 0:
			h := hashes[r.IntN(len(hashes))]
			t0 := s.tokens[h]
			if t0 == nil {
				break
			}
			old := t0.rec
			next := q.token(old.FamilyID, old.UserID, now, now.Add(time.Duration(2+r.IntN(30))*time.Minute))
			if _, err := s.Rotate(ctx, RouteFor(old.UserID), h, old.Successor, next); err != nil {
				t.Fatalf("step %d: Rotate = %v", step, err)
			}
			hashes = append(hashes, next.Hash)
		case op < 8:
			for id := range s.userFamilies[user] {
				if _, err := s.RevokeFamily(ctx, user, id, now); err != nil {
					t.Fatalf("step %d: RevokeFamily = %v", step, err)
				}
				break
			}
		case op < 9 && r.IntN(4) == 0:
			if _, err := s.RevokeUser(ctx, user, now); err != nil {
				t.Fatalf("step %d: RevokeUser = %v", step, err)
			}
		default:
			limit := 1 + r.IntN(5)
			n, err := s.Purge(ctx, now, limit)
			if err != nil {
				t.Fatalf("step %d: Purge = %v", step, err)
			}
			if n < limit {
				memCheckPurged(t, s, now)
			}
		}
		memCheckInvariants(t, s)
		if t.Failed() {
			t.Fatalf("step %d: inconsistent store", step)
		}
	}
}

// memCheckPurged checks that nothing purgeable at now is stored.
func memCheckPurged(t *testing.T, s *MemoryStore, now time.Time) {
	t.Helper()
	for id, f := range s.families {
		if !f.fam.Live(now) {
			t.Errorf("family %s (revoked %v, expires %v) still stored after a short Purge at %v", id, f.fam.RevokedAt, f.fam.ExpiresAt, now)
		}
	}
	for _, tok := range s.tokens {
		if !now.Before(tok.rec.ExpiresAt) {
			t.Errorf("token expiring %v still stored after a short Purge at %v", tok.rec.ExpiresAt, now)
		}
	}
}

// memCheckInvariants checks that the indexes of s agree with each other.
func memCheckInvariants(t *testing.T, s *MemoryStore) {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	for h, tok := range s.tokens {
		if tok.rec.Hash != h {
			t.Errorf("token stored under %x has hash %x", h[:4], tok.rec.Hash[:4])
		}
		if s.families[tok.rec.FamilyID] == nil {
			t.Errorf("token %x of missing family %s", h[:4], tok.rec.FamilyID)
		}
		if _, ok := s.familyTokens[tok.rec.FamilyID][h]; !ok {
			t.Errorf("token %x missing from familyTokens[%s]", h[:4], tok.rec.FamilyID)
		}
		if i := tok.expiry.index; i < 0 || i >= len(s.tokenExpiry) || s.tokenExpiry[i] != tok.expiry {
			t.Errorf("token %x has a stale expiry entry", h[:4])
		}
	}
	for id, hashes := range s.familyTokens {
		if len(hashes) == 0 {
			t.Errorf("familyTokens[%s] is empty; want no entry", id)
		}
		unused := 0
		for h := range hashes {
			tok := s.tokens[h]
			if tok == nil || tok.rec.FamilyID != id {
				t.Errorf("familyTokens[%s] holds %x, not a stored token of the family", id, h[:4])
				continue
			}
			if !tok.rec.Used() {
				unused++
			}
		}
		if unused > 1 {
			t.Errorf("family %s has %d unused tokens; want at most 1", id, unused)
		}
	}
	perUser := map[string]int{}
	for id, f := range s.families {
		if f.fam.ID != id || f.route != RouteFor(f.fam.UserID) {
			t.Errorf("family stored under %s: ID %s, route %q", id, f.fam.ID, f.route)
		}
		if _, ok := s.userFamilies[f.fam.UserID][id]; !ok {
			t.Errorf("family %s missing from userFamilies[%s]", id, f.fam.UserID)
		}
		if _, ok := s.revoked[id]; ok == f.fam.RevokedAt.IsZero() {
			t.Errorf("family %s: in revoked set = %v, RevokedAt = %v", id, ok, f.fam.RevokedAt)
		}
		if i := f.expiry.index; i < 0 || i >= len(s.familyExpiry) || s.familyExpiry[i] != f.expiry {
			t.Errorf("family %s has a stale expiry entry", id)
		}
		perUser[f.fam.UserID]++
	}
	for user, n := range perUser {
		if n > s.maxPerUser {
			t.Errorf("user %s has %d families; want at most %d", user, n, s.maxPerUser)
		}
	}
	for user, ids := range s.userFamilies {
		if len(ids) == 0 || len(ids) != perUser[user] {
			t.Errorf("userFamilies[%s] has %d ids; want %d, not 0", user, len(ids), perUser[user])
		}
	}
	for id := range s.revoked {
		if s.families[id] == nil {
			t.Errorf("revoked set holds missing family %s", id)
		}
	}
	if len(s.familyExpiry) != len(s.families) || len(s.tokenExpiry) != len(s.tokens) {
		t.Errorf("heap sizes %d, %d; want %d, %d", len(s.familyExpiry), len(s.tokenExpiry), len(s.families), len(s.tokens))
	}
	memCheckHeap(t, "familyExpiry", s.familyExpiry)
	memCheckHeap(t, "tokenExpiry", s.tokenExpiry)
}

func memCheckHeap[K comparable](t *testing.T, name string, h expiryHeap[K]) {
	t.Helper()
	for i, it := range h {
		if it.index != i {
			t.Errorf("%s[%d].index = %d", name, i, it.index)
		}
		if p := (i - 1) / 2; i > 0 && it.at.Before(h[p].at) {
			t.Errorf("%s: item %d expires before its parent %d", name, i, p)
		}
	}
}

func TestMemoryStoreBoundsOneFamily(t *testing.T) {
	t.Parallel()
	e := newRTEnv(t)
	tok := e.start(t, "alice").RefreshToken
	first := tok
	for i := 0; i < 3*maxTokensPerFamily; i++ {
		tok = e.refresh(t, tok).RefreshToken
	}
	ms := e.store.RefreshStore.(*MemoryStore)
	ms.mu.Lock()
	n := len(ms.tokens)
	ms.mu.Unlock()
	if n > maxTokensPerFamily+1 {
		t.Errorf("after %d rotations of one session the store holds %d tokens; want at most %d", 3*maxTokensPerFamily, n, maxTokensPerFamily+1)
	}
	e.refresh(t, tok) // the newest still rotates
	e.wantRefreshErr(t, first, ErrRefreshTokenUnknown)
}
