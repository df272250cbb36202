package authtest

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/jwtkit/auth"
)

// Lifetimes of the records the suite builds, and the number of goroutines
// of the concurrency subtests.
const (
	tokenTTL  = 24 * time.Hour
	familyTTL = 30 * 24 * time.Hour
	racers    = 50
)

// zero is the zero hash: the expect of a rotation of an unused token.
var zero auth.TokenHash

// TestRefreshStore checks that the stores newStore returns follow the
// [auth.RefreshStore] contract. It runs one subtest per clause, each on a
// fresh, empty store from newStore, one after another. See the package
// documentation for what it assumes of a store.
func TestRefreshStore(t *testing.T, newStore func(t *testing.T) auth.RefreshStore) {
	for _, tt := range []struct {
		name string
		run  func(*testing.T, auth.RefreshStore)
	}{
		{"CreateLookup", testCreateLookup},
		{"LookupMissing", testLookupMissing},
		{"LookupWrongRoute", testLookupWrongRoute},
		{"LookupExpired", testLookupExpired},
		{"LookupUsed", testLookupUsed},
		{"LookupRevokedFamily", testLookupRevokedFamily},
		{"RevokeFamily", testRevokeFamily},
		{"RevokeUser", testRevokeUser},
		{"Isolation", testIsolation},
		{"Families", testFamilies},
		{"Purge", testPurge},
		{"PurgeLimit", testPurgeLimit},
		{"Rotate", testRotate},
		{"RotateWrongExpect", testRotateWrongExpect},
		{"RotateUnknownToken", testRotateUnknownToken},
		{"RotateWrongRoute", testRotateWrongRoute},
		{"RotateRevokedFamily", testRotateRevokedFamily},
		{"RotateGraceWindow", testRotateGraceWindow},
		{"RotateSupersededToken", testRotateSupersededToken},
		{"RotateExpectUsed", testRotateExpectUsed},
		{"RotateExpectMissing", testRotateExpectMissing},
		{"CancelledContext", testCancelledContext},
		{"ConcurrentRotate", testConcurrentRotate},
		{"ConcurrentGraceRotate", testConcurrentGraceRotate},
		{"ConcurrentUsers", testConcurrentUsers},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s := newStore(t)
			if s == nil {
				t.Fatal("newStore returned nil")
			}
			tt.run(t, s)
		})
	}
}

// CreateFamily stores the family and its first token; Lookup returns both
// with every field as stored.
func testCreateLookup(t *testing.T, s auth.RefreshStore) {
	h := newHarness(t, s)
	user := uuid.NewString()
	fam := auth.Family{
		ID:          uuid.NewString(),
		UserID:      user,
		CreatedAt:   h.now.Add(-2*time.Hour + 1*time.Microsecond),
		ExpiresAt:   h.now.Add(familyTTL + 2*time.Microsecond),
		RefreshedAt: h.now.Add(-time.Hour + 3*time.Microsecond),
		UserAgent:   "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0 «ünïcödé»",
		Address:     "2001:db8::7",
	}
	rec := auth.RefreshRecord{
		Hash:      newHash(user),
		FamilyID:  fam.ID,
		UserID:    user,
		IssuedAt:  h.now.Add(-time.Hour + 4*time.Microsecond),
		ExpiresAt: h.now.Add(tokenTTL + 5*time.Microsecond),
	}
	h.create(fam, rec)
	h.wantRecord(rec)
	h.wantFamily(rec, fam)

	// Client details may be empty.
	bare, bareRec := newFamily(user, h.now)
	bare.UserAgent, bare.Address = "", ""
	h.create(bare, bareRec)
	h.wantRecord(bareRec)
	h.wantFamily(bareRec, bare)
	h.wantRecord(rec)
	h.wantFamily(rec, fam)
}

// Lookup of a token that was never stored: found is false, err nil.
func testLookupMissing(t *testing.T, s auth.RefreshStore) {
	h := newHarness(t, s)
	user := uuid.NewString()
	route := auth.RouteFor(user)
	h.wantMissing(route, newHash(user)) // empty store
	h.login(user, h.now)
	h.wantMissing(route, newHash(user))
	h.wantMissing(route, zero)
}

// Lookup under another routing key than the one of the token's user finds
// nothing.
func testLookupWrongRoute(t *testing.T, s auth.RefreshStore) {
	h := newHarness(t, s)
	user, other := uuid.NewString(), uuid.NewString()
	_, rec := h.login(user, h.now)
	h.login(other, h.now)
	for _, route := range []string{auth.RouteFor(other), "", strings.Repeat("A", auth.RouteLen)} {
		h.wantMissing(route, rec.Hash)
	}
	h.wantRecord(rec)
}

// Expired tokens and families are returned as they are.
func testLookupExpired(t *testing.T, s auth.RefreshStore) {
	h := newHarness(t, s)
	user := uuid.NewString()
	fam, rec := newFamily(user, h.now.Add(-2*time.Hour))
	rec.ExpiresAt = h.now.Add(-time.Second)
	h.create(fam, rec)
	h.wantRecord(rec)
	h.wantFamily(rec, fam)

	old, oldRec := newFamily(user, h.now.Add(-2*time.Hour))
	old.ExpiresAt = h.now.Add(-time.Second)
	oldRec.ExpiresAt = old.ExpiresAt
	h.create(old, oldRec)
	h.wantRecord(oldRec)
	h.wantFamily(oldRec, old)
}

// A rotated token is returned with its UsedAt and Successor.
func testLookupUsed(t *testing.T, s auth.RefreshStore) {
	h := newHarness(t, s)
	user := uuid.NewString()
	fam, a := h.login(user, h.now)
	b := successor(a, h.now.Add(time.Minute))
	h.rotate(auth.RouteFor(user), a.Hash, zero, b, true)
	a.UsedAt, a.Successor = b.IssuedAt, b.Hash
	fam.RefreshedAt = b.IssuedAt
	h.wantRecord(a)
	h.wantFamily(a, fam)
}

// The tokens of a revoked family stay readable, with the family's RevokedAt.
func testLookupRevokedFamily(t *testing.T, s auth.RefreshStore) {
	h := newHarness(t, s)
	user := uuid.NewString()
	fam, a := h.login(user, h.now)
	b := successor(a, h.now.Add(time.Minute))
	h.rotate(auth.RouteFor(user), a.Hash, zero, b, true)
	at := h.now.Add(2 * time.Minute)
	h.revokeFamily(user, fam.ID, at, true)
	a.UsedAt, a.Successor = b.IssuedAt, b.Hash
	fam.RefreshedAt, fam.RevokedAt = b.IssuedAt, at
	for _, rec := range []auth.RefreshRecord{a, b} {
		h.wantRecord(rec)
		h.wantFamily(rec, fam)
	}
}

// RevokeFamily revokes one family of the user, once: the first time stays.
// It reports found == false for an unknown family, or one of another user.
func testRevokeFamily(t *testing.T, s auth.RefreshStore) {
	h := newHarness(t, s)
	user, other := uuid.NewString(), uuid.NewString()
	f1, a := h.login(user, h.now.Add(-2*time.Minute))
	f2, b := h.login(user, h.now.Add(-time.Minute))
	g, c := h.login(other, h.now)

	h.revokeFamily(user, f1.ID, h.now, true)
	h.revokeFamily(user, f1.ID, h.now.Add(time.Minute), true) // idempotent
	f1.RevokedAt = h.now
	h.wantFamily(a, f1)
	h.wantRecord(a)

	h.revokeFamily(user, uuid.NewString(), h.now, false)
	h.revokeFamily(other, f2.ID, h.now, false)
	h.revokeFamily(uuid.NewString(), f2.ID, h.now, false)
	h.wantFamily(b, f2)
	h.wantFamily(c, g)
	h.wantFamilies(user, h.now, f2)
}

// RevokeUser revokes every live family of the user at the given time and
// counts them; revoked and expired families, and other users, are left
// alone.
func testRevokeUser(t *testing.T, s auth.RefreshStore) {
	h := newHarness(t, s)
	user, other := uuid.NewString(), uuid.NewString()
	at := h.now.Add(2 * time.Hour)
	f1, a := h.login(user, h.now.Add(-4*time.Minute))
	f2, b := h.login(user, h.now.Add(-3*time.Minute))
	expired, c := newFamily(user, h.now.Add(-2*time.Minute))
	expired.ExpiresAt = h.now.Add(time.Hour) // not live at at
	c.ExpiresAt = expired.ExpiresAt
	h.create(expired, c)
	revoked, d := h.login(user, h.now.Add(-time.Minute))
	g, e := h.login(other, h.now)
	h.revokeFamily(user, revoked.ID, h.now, true)
	revoked.RevokedAt = h.now

	h.revokeUser(user, at, 2)
	f1.RevokedAt, f2.RevokedAt = at, at
	h.wantFamily(a, f1)
	h.wantFamily(b, f2)
	h.wantFamily(c, expired)
	h.wantFamily(d, revoked)
	h.wantFamily(e, g)
	h.wantFamilies(other, h.now, g)

	h.revokeUser(user, at.Add(time.Minute), 0)
	h.wantFamily(a, f1)
	h.revokeUser(uuid.NewString(), at, 0)
}

// Operations on one user or family never touch another.
func testIsolation(t *testing.T, s auth.RefreshStore) {
	h := newHarness(t, s)
	user, other := uuid.NewString(), uuid.NewString()
	route := auth.RouteFor(user)
	f1, a := h.login(user, h.now.Add(-time.Minute))
	f2, b := h.login(user, h.now)
	g, c := h.login(other, h.now)

	// A token is found under its own user's route only.
	h.wantMissing(auth.RouteFor(other), a.Hash)
	h.wantMissing(route, c.Hash)

	// Rotating in f1 leaves f2 and g alone.
	a2 := successor(a, h.now.Add(time.Minute))
	h.rotate(route, a.Hash, zero, a2, true)
	f1.RefreshedAt = a2.IssuedAt
	h.wantFamily(a2, f1)
	h.wantRecord(b)
	h.wantFamily(b, f2)
	h.wantRecord(c)
	h.wantFamily(c, g)

	// A token of another family is no expect: b is not a's successor.
	b2 := successor(b, h.now.Add(2*time.Minute))
	h.rotate(route, b.Hash, a2.Hash, b2, false)
	h.wantMissing(route, b2.Hash)

	// Revoking f1 leaves f2 and g alone; another user cannot revoke g.
	h.revokeFamily(user, f1.ID, h.now, true)
	h.revokeFamily(user, g.ID, h.now, false)
	h.wantFamily(b, f2)
	h.wantFamily(c, g)
	h.wantFamilies(user, h.now, f2)
	h.wantFamilies(other, h.now, g)

	// Revoking the other user leaves this one alone.
	h.revokeUser(other, h.now, 1)
	h.wantFamily(b, f2)
	h.wantFamilies(user, h.now, f2)
}

// Families lists the live families of the user, newest (by CreatedAt)
// first, with every field.
func testFamilies(t *testing.T, s auth.RefreshStore) {
	h := newHarness(t, s)
	user, other := uuid.NewString(), uuid.NewString()
	ended, _ := newFamily(user, h.now.Add(-5*time.Minute))
	ended.ExpiresAt = h.now // ExpiresAt must be after now
	f1, a := newFamily(user, h.now.Add(-4*time.Minute))
	f2, _ := newFamily(user, h.now.Add(-3*time.Minute))
	f3, _ := newFamily(user, h.now.Add(-2*time.Minute))
	f3.ExpiresAt = h.now.Add(time.Microsecond) // live until just after now
	revoked, _ := newFamily(user, h.now.Add(-time.Minute))
	g, _ := newFamily(other, h.now)
	for _, f := range []auth.Family{ended, f1, f2, f3, revoked, g} {
		rec := auth.RefreshRecord{Hash: newHash(f.UserID), FamilyID: f.ID, UserID: f.UserID, IssuedAt: f.CreatedAt, ExpiresAt: f.ExpiresAt}
		if f.ID == f1.ID {
			rec = a
		}
		h.create(f, rec)
	}
	// The oldest family was refreshed last: the order is still by sign-in.
	a2 := successor(a, h.now.Add(-time.Second))
	h.rotate(auth.RouteFor(user), a.Hash, zero, a2, true)
	f1.RefreshedAt = a2.IssuedAt
	h.revokeFamily(user, revoked.ID, h.now.Add(-time.Second), true)

	h.wantFamilies(user, h.now, f3, f2, f1)
	h.wantFamilies(other, h.now, g)
	h.wantFamilies(uuid.NewString(), h.now)
	h.wantFamilies(user, f3.ExpiresAt, f2, f1)
}

// Purge deletes expired families with their tokens, revoked families and
// expired tokens, and nothing that is live.
func testPurge(t *testing.T, s auth.RefreshStore) {
	h := newHarness(t, s)
	user, other := uuid.NewString(), uuid.NewString()
	route := auth.RouteFor(user)
	purgeAt := h.now.Add(2 * time.Hour)

	// live: a live family whose first two tokens have expired at purgeAt.
	live, l1 := newFamily(user, h.now.Add(-5*time.Minute))
	l1.ExpiresAt = h.now.Add(time.Hour)
	h.create(live, l1)
	l2 := successor(l1, h.now.Add(time.Minute))
	l2.ExpiresAt = purgeAt // at or before now: expired
	h.rotate(route, l1.Hash, zero, l2, true)
	l3 := successor(l2, h.now.Add(2*time.Minute))
	h.rotate(route, l2.Hash, zero, l3, true)
	live.RefreshedAt = l3.IssuedAt

	// expired: a family past its end at purgeAt, with two tokens.
	expired, e1 := newFamily(user, h.now.Add(-4*time.Minute))
	expired.ExpiresAt = h.now.Add(time.Hour)
	e1.ExpiresAt = expired.ExpiresAt
	h.create(expired, e1)
	e2 := successor(e1, h.now.Add(time.Minute))
	e2.ExpiresAt = expired.ExpiresAt
	h.rotate(route, e1.Hash, zero, e2, true)

	// ending: a family and its token that end exactly at purgeAt.
	ending, n1 := newFamily(user, h.now.Add(-3*time.Minute))
	ending.ExpiresAt, n1.ExpiresAt = purgeAt, purgeAt
	h.create(ending, n1)

	// lasting: a family and its token that end just after purgeAt.
	lasting, m1 := newFamily(user, h.now.Add(-2*time.Minute))
	lasting.ExpiresAt, m1.ExpiresAt = purgeAt.Add(time.Microsecond), purgeAt.Add(time.Microsecond)
	h.create(lasting, m1)

	// revoked: an otherwise live family, revoked below.
	revoked, r1 := h.login(user, h.now.Add(-time.Minute))

	// theirs: another user's live family.
	theirs, t1 := h.login(other, h.now)

	h.revokeFamily(user, revoked.ID, h.now, true)

	// Five items: the families expired, ending and revoked, each with its
	// tokens, and the tokens l1 and l2. A store that counts each deleted row
	// reports up to nine.
	if n := h.purge(purgeAt, 100); n < 5 || n > 9 {
		t.Errorf("Purge(%s, 100) = %d; want 5 (up to 9 if each token of a deleted family counts)", fmtTime(purgeAt), n)
	}
	for _, rec := range []auth.RefreshRecord{l1, l2, e1, e2, n1, r1} {
		h.wantMissing(auth.RouteFor(rec.UserID), rec.Hash)
	}
	for _, f := range []auth.Family{expired, ending, revoked} {
		h.revokeFamily(user, f.ID, h.now, false)
	}
	h.wantRecord(l3)
	h.wantFamily(l3, live)
	h.wantRecord(m1)
	h.wantFamily(m1, lasting)
	h.wantRecord(t1)
	h.wantFamily(t1, theirs)
	// At h.now, expired and ending would be live had they not been deleted.
	h.wantFamilies(user, h.now, lasting, live)
	h.wantFamilies(other, h.now, theirs)

	if n := h.purge(purgeAt, 100); n != 0 {
		t.Errorf("second Purge(%s, 100) = %d; want 0", fmtTime(purgeAt), n)
	}
}

// Purge deletes at most limit items per call, and returns less than limit
// only when nothing is left to delete, so that a caller's loop ends with
// everything purged.
func testPurgeLimit(t *testing.T, s auth.RefreshStore) {
	h := newHarness(t, s)
	purgeAt := h.now.Add(2 * time.Hour)
	for _, limit := range []int{1, 3, 4} {
		var (
			gone, kept []auth.RefreshRecord
			lo, hi     int // the count of deleted items, without and with every row
		)
		for range 4 { // expired families with one token each
			user := uuid.NewString()
			f, rec := newFamily(user, h.now)
			f.ExpiresAt, rec.ExpiresAt = h.now.Add(time.Hour), h.now.Add(time.Hour)
			h.create(f, rec)
			gone = append(gone, rec)
			lo, hi = lo+1, hi+2
		}
		var revoked []auth.Family
		for range 2 { // revoked families with one token each
			f, rec := h.login(uuid.NewString(), h.now)
			revoked = append(revoked, f)
			gone = append(gone, rec)
			lo, hi = lo+1, hi+2
		}
		// A live family whose first three tokens have expired.
		user := uuid.NewString()
		live, rec := newFamily(user, h.now)
		rec.ExpiresAt = h.now.Add(time.Hour)
		h.create(live, rec)
		for i := range 3 {
			next := successor(rec, h.now.Add(time.Duration(i+1)*time.Minute))
			if i < 2 {
				next.ExpiresAt = h.now.Add(time.Hour)
			}
			h.rotate(auth.RouteFor(user), rec.Hash, zero, next, true)
			gone = append(gone, rec)
			lo, hi = lo+1, hi+1
			rec = next
		}
		kept = append(kept, rec)
		for _, f := range revoked {
			h.revokeFamily(f.UserID, f.ID, h.now, true)
		}

		total, calls := 0, 0
		for {
			n := h.purge(purgeAt, limit)
			calls++
			if n < 0 || n > limit {
				t.Fatalf("Purge(%s, %d) = %d; want 0 to %d", fmtTime(purgeAt), limit, n, limit)
			}
			total += n
			if n < limit {
				break
			}
			if calls > hi {
				t.Fatalf("Purge(%s, %d) returned %d items %d times; want less than %d once nothing is left", fmtTime(purgeAt), limit, limit, calls, limit)
			}
		}
		if total < lo || total > hi {
			t.Errorf("limit %d: Purge deleted %d items in all; want %d (up to %d if each token of a deleted family counts)", limit, total, lo, hi)
		}
		for _, rec := range gone {
			h.wantMissing(auth.RouteFor(rec.UserID), rec.Hash)
		}
		for _, rec := range kept {
			h.wantRecord(rec)
		}
		if n := h.purge(purgeAt, limit); n != 0 {
			t.Errorf("Purge(%s, %d) after the loop = %d; want 0", fmtTime(purgeAt), limit, n)
		}
	}
}

// Rotate marks the old token used, with next as its successor, stores next
// and moves the family's RefreshedAt; the chain goes on from next.
func testRotate(t *testing.T, s auth.RefreshStore) {
	h := newHarness(t, s)
	user := uuid.NewString()
	route := auth.RouteFor(user)
	fam, a := h.login(user, h.now)
	b := successor(a, h.now.Add(time.Minute))
	h.rotate(route, a.Hash, zero, b, true)
	a.UsedAt, a.Successor = b.IssuedAt, b.Hash
	fam.RefreshedAt = b.IssuedAt
	h.wantRecord(a)
	h.wantRecord(b)
	h.wantFamily(b, fam)

	c := successor(b, h.now.Add(2*time.Minute))
	h.rotate(route, b.Hash, zero, c, true)
	b.UsedAt, b.Successor = c.IssuedAt, c.Hash
	fam.RefreshedAt = c.IssuedAt
	h.wantRecord(a)
	h.wantRecord(b)
	h.wantRecord(c)
	h.wantFamily(a, fam)
}

// Rotate with an expect that is not old's Successor fails and changes
// nothing.
func testRotateWrongExpect(t *testing.T, s auth.RefreshStore) {
	h := newHarness(t, s)
	user := uuid.NewString()
	route := auth.RouteFor(user)
	fam, a := h.login(user, h.now)
	b := successor(a, h.now.Add(time.Minute))
	h.rotate(route, a.Hash, newHash(user), b, false) // a is unused: only zero matches
	h.wantRecord(a)
	h.wantFamily(a, fam)
	h.wantMissing(route, b.Hash)

	h.rotate(route, a.Hash, zero, b, true)
	a.UsedAt, a.Successor = b.IssuedAt, b.Hash
	fam.RefreshedAt = b.IssuedAt
	c := successor(a, h.now.Add(2*time.Minute))
	h.rotate(route, a.Hash, zero, c, false)          // a is used
	h.rotate(route, a.Hash, newHash(user), c, false) // not a's successor
	h.rotate(route, a.Hash, a.Hash, c, false)
	h.wantRecord(a)
	h.wantRecord(b)
	h.wantFamily(a, fam)
	h.wantMissing(route, c.Hash)
}

// Rotate of a token that is not stored fails and stores nothing.
func testRotateUnknownToken(t *testing.T, s auth.RefreshStore) {
	h := newHarness(t, s)
	user := uuid.NewString()
	route := auth.RouteFor(user)
	fam, a := h.login(user, h.now)
	ghost := successor(a, h.now) // never stored
	next := successor(a, h.now.Add(time.Minute))
	h.rotate(route, ghost.Hash, zero, next, false)
	h.wantMissing(route, next.Hash)

	stranger := uuid.NewString() // a user with no data at all
	_, srec := newFamily(stranger, h.now)
	snext := successor(srec, h.now.Add(time.Minute))
	h.rotate(auth.RouteFor(stranger), srec.Hash, zero, snext, false)
	h.wantMissing(auth.RouteFor(stranger), snext.Hash)

	h.wantRecord(a)
	h.wantFamily(a, fam)
}

// Rotate under another routing key than the one of the token's user fails
// and changes nothing.
func testRotateWrongRoute(t *testing.T, s auth.RefreshStore) {
	h := newHarness(t, s)
	user, other := uuid.NewString(), uuid.NewString()
	route := auth.RouteFor(user)
	fam, a := h.login(user, h.now)
	h.login(other, h.now)
	b := successor(a, h.now.Add(time.Minute))
	h.rotate(auth.RouteFor(other), a.Hash, zero, b, false)
	h.rotate("", a.Hash, zero, b, false)
	h.wantRecord(a)
	h.wantFamily(a, fam)
	h.wantMissing(route, b.Hash)
	h.rotate(route, a.Hash, zero, b, true)
}

// Rotate in a revoked family fails and changes nothing, grace rotations
// included.
func testRotateRevokedFamily(t *testing.T, s auth.RefreshStore) {
	h := newHarness(t, s)
	user := uuid.NewString()
	route := auth.RouteFor(user)
	fam, a := h.login(user, h.now)
	b := successor(a, h.now.Add(time.Minute))
	h.rotate(route, a.Hash, zero, b, true)
	a.UsedAt, a.Successor = b.IssuedAt, b.Hash
	fam.RefreshedAt = b.IssuedAt
	h.revokeFamily(user, fam.ID, h.now.Add(2*time.Minute), true)
	fam.RevokedAt = h.now.Add(2 * time.Minute)

	c := successor(b, h.now.Add(3*time.Minute))
	h.rotate(route, b.Hash, zero, c, false)
	d := successor(a, h.now.Add(3*time.Minute))
	h.rotate(route, a.Hash, b.Hash, d, false)
	h.wantRecord(a)
	h.wantRecord(b)
	h.wantFamily(b, fam)
	h.wantMissing(route, c.Hash)
	h.wantMissing(route, d.Hash)
}

// A grace rotation (expect is old's current, unused successor) gives old a
// new successor and marks the replaced one used with no successor; a second
// one with the now stale expect fails.
func testRotateGraceWindow(t *testing.T, s auth.RefreshStore) {
	h := newHarness(t, s)
	user := uuid.NewString()
	route := auth.RouteFor(user)
	fam, a := h.login(user, h.now)
	b := successor(a, h.now.Add(time.Minute))
	h.rotate(route, a.Hash, zero, b, true)

	c := successor(a, h.now.Add(time.Minute+2*time.Second))
	h.rotate(route, a.Hash, b.Hash, c, true)
	a.UsedAt, a.Successor = b.IssuedAt, c.Hash // the first use stays
	b.UsedAt = c.IssuedAt                      // superseded: used, no successor
	fam.RefreshedAt = c.IssuedAt
	h.wantRecord(a)
	h.wantRecord(b)
	h.wantRecord(c)
	h.wantFamily(c, fam)

	d := successor(a, h.now.Add(time.Minute+3*time.Second))
	h.rotate(route, a.Hash, b.Hash, d, false)
	h.wantMissing(route, d.Hash)
	h.wantRecord(a)
	h.wantRecord(b)
	h.wantRecord(c)
	h.wantFamily(a, fam)

	// The chain goes on from the newest token.
	e := successor(c, h.now.Add(2*time.Minute))
	h.rotate(route, c.Hash, zero, e, true)
}

// A superseded token (used, with no successor) cannot be rotated: a zero
// expect means that old is unused. Otherwise the family would have two
// live tokens.
func testRotateSupersededToken(t *testing.T, s auth.RefreshStore) {
	h := newHarness(t, s)
	user := uuid.NewString()
	route := auth.RouteFor(user)
	_, a := h.login(user, h.now)
	b := successor(a, h.now.Add(time.Minute))
	h.rotate(route, a.Hash, zero, b, true)
	c := successor(a, h.now.Add(time.Minute+time.Second))
	h.rotate(route, a.Hash, b.Hash, c, true)
	b.UsedAt = c.IssuedAt

	d := successor(b, h.now.Add(2*time.Minute))
	h.rotate(route, b.Hash, zero, d, false)
	h.wantRecord(b)
	h.wantMissing(route, d.Hash)
}

// A grace rotation whose expect is already used fails and changes nothing.
func testRotateExpectUsed(t *testing.T, s auth.RefreshStore) {
	h := newHarness(t, s)
	user := uuid.NewString()
	route := auth.RouteFor(user)
	fam, a := h.login(user, h.now)
	b := successor(a, h.now.Add(time.Minute))
	h.rotate(route, a.Hash, zero, b, true)
	c := successor(b, h.now.Add(2*time.Minute))
	h.rotate(route, b.Hash, zero, c, true)
	a.UsedAt, a.Successor = b.IssuedAt, b.Hash
	b.UsedAt, b.Successor = c.IssuedAt, c.Hash
	fam.RefreshedAt = c.IssuedAt

	d := successor(a, h.now.Add(3*time.Minute))
	h.rotate(route, a.Hash, b.Hash, d, false)
	h.wantRecord(a)
	h.wantRecord(b)
	h.wantRecord(c)
	h.wantFamily(a, fam)
	h.wantMissing(route, d.Hash)
}

// A grace rotation whose expect is no longer stored (purged) fails and
// changes nothing.
func testRotateExpectMissing(t *testing.T, s auth.RefreshStore) {
	h := newHarness(t, s)
	user := uuid.NewString()
	route := auth.RouteFor(user)
	fam, a := h.login(user, h.now)
	b := successor(a, h.now.Add(time.Minute))
	b.ExpiresAt = h.now.Add(2 * time.Minute)
	h.rotate(route, a.Hash, zero, b, true)
	a.UsedAt, a.Successor = b.IssuedAt, b.Hash
	fam.RefreshedAt = b.IssuedAt
	if n := h.purge(h.now.Add(3*time.Minute), 100); n < 1 {
		t.Fatalf("Purge(%s, 100) = %d; want at least 1 (the expired token)", fmtTime(h.now.Add(3*time.Minute)), n)
	}
	h.wantMissing(route, b.Hash)

	c := successor(a, h.now.Add(4*time.Minute))
	h.rotate(route, a.Hash, b.Hash, c, false)
	h.wantRecord(a)
	h.wantFamily(a, fam)
	h.wantMissing(route, c.Hash)
}

// Every method called with a cancelled context returns an error matching
// context.Canceled and changes nothing.
func testCancelledContext(t *testing.T, s auth.RefreshStore) {
	h := newHarness(t, s)
	user := uuid.NewString()
	route := auth.RouteFor(user)
	stale, st := newFamily(user, h.now.Add(-time.Minute))
	stale.ExpiresAt, st.ExpiresAt = h.now.Add(time.Hour), h.now.Add(time.Hour)
	h.create(stale, st)
	fam, a := h.login(user, h.now)

	ctx, cancel := context.WithCancel(h.ctx)
	cancel()
	check := func(call string, err error) {
		t.Helper()
		if !errors.Is(err, context.Canceled) {
			t.Errorf("%s with a cancelled context: error = %v; want context.Canceled", call, err)
		}
	}
	newFam, newRec := newFamily(user, h.now)
	check("CreateFamily", s.CreateFamily(ctx, newFam, newRec))
	_, _, _, err := s.Lookup(ctx, route, a.Hash)
	check("Lookup", err)
	b := successor(a, h.now.Add(time.Minute))
	_, err = s.Rotate(ctx, route, a.Hash, zero, b)
	check("Rotate", err)
	_, err = s.RevokeFamily(ctx, user, fam.ID, h.now)
	check("RevokeFamily", err)
	_, err = s.RevokeUser(ctx, user, h.now)
	check("RevokeUser", err)
	_, err = s.Families(ctx, user, h.now)
	check("Families", err)
	_, err = s.Purge(ctx, h.now.Add(2*time.Hour), 100)
	check("Purge", err)

	h.wantMissing(route, newRec.Hash)
	h.wantMissing(route, b.Hash)
	h.wantRecord(a)
	h.wantRecord(st)
	h.wantFamilies(user, h.now, fam, stale)
}

// Of many concurrent rotations of one unused token, exactly one succeeds,
// and its next is the one successor stored.
func testConcurrentRotate(t *testing.T, s auth.RefreshStore) {
	h := newHarness(t, s)
	user := uuid.NewString()
	route := auth.RouteFor(user)
	fam, a := h.login(user, h.now)
	win, lost := h.race(route, a, zero, h.now.Add(time.Minute))

	a.UsedAt, a.Successor = win.IssuedAt, win.Hash
	fam.RefreshedAt = win.IssuedAt
	h.wantRecord(a)
	h.wantRecord(win)
	h.wantFamily(win, fam)
	for _, rec := range lost {
		h.wantMissing(route, rec.Hash)
	}
	h.rotate(route, win.Hash, zero, successor(win, h.now.Add(2*time.Minute)), true)
}

// Of many concurrent grace rotations with the same expect, exactly one
// succeeds.
func testConcurrentGraceRotate(t *testing.T, s auth.RefreshStore) {
	h := newHarness(t, s)
	user := uuid.NewString()
	route := auth.RouteFor(user)
	fam, a := h.login(user, h.now)
	b := successor(a, h.now.Add(time.Minute))
	h.rotate(route, a.Hash, zero, b, true)
	win, lost := h.race(route, a, b.Hash, h.now.Add(2*time.Minute))

	a.UsedAt, a.Successor = b.IssuedAt, win.Hash
	b.UsedAt = win.IssuedAt
	fam.RefreshedAt = win.IssuedAt
	h.wantRecord(a)
	h.wantRecord(b)
	h.wantRecord(win)
	h.wantFamily(win, fam)
	for _, rec := range lost {
		h.wantMissing(route, rec.Hash)
	}
	h.rotate(route, win.Hash, zero, successor(win, h.now.Add(3*time.Minute)), true)
}

// Many users sign in and rotate their chains at once, beside Lookup,
// Families and Purge calls: no call fails and every chain ends where it
// should.
func testConcurrentUsers(t *testing.T, s auth.RefreshStore) {
	const steps = 10
	h := newHarness(t, s)
	ctx := h.ctx
	fams := make([]auth.Family, racers)
	lasts := make([]auth.RefreshRecord, racers)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range racers {
		wg.Go(func() {
			<-start
			user := uuid.NewString()
			route := auth.RouteFor(user)
			fam, rec := newFamily(user, h.now)
			if err := s.CreateFamily(ctx, fam, rec); err != nil {
				t.Errorf("user %d: CreateFamily = %v; want nil", i, err)
				return
			}
			for k := range steps {
				next := successor(rec, h.now.Add(time.Duration(k+1)*time.Second))
				if ok, err := s.Rotate(ctx, route, rec.Hash, zero, next); !ok || err != nil {
					t.Errorf("user %d: Rotate step %d = %v, %v; want true, nil", i, k, ok, err)
					return
				}
				if _, _, found, err := s.Lookup(ctx, route, next.Hash); !found || err != nil {
					t.Errorf("user %d: Lookup step %d = %v, %v; want true, nil", i, k, found, err)
					return
				}
				if _, err := s.Families(ctx, user, h.now); err != nil {
					t.Errorf("user %d: Families = %v; want nil", i, err)
					return
				}
				rec = next
			}
			fam.RefreshedAt = rec.IssuedAt
			fams[i], lasts[i] = fam, rec
		})
	}
	wg.Go(func() {
		<-start
		for range racers {
			if _, err := s.Purge(ctx, h.now, 10); err != nil {
				t.Errorf("Purge = %v; want nil", err)
				return
			}
		}
	})
	close(start)
	wg.Wait()
	if t.Failed() {
		return
	}
	for i := range racers {
		h.wantRecord(lasts[i])
		h.wantFamilies(fams[i].UserID, h.now, fams[i])
	}
}

// harness calls a store on behalf of one subtest and checks the answers.
type harness struct {
	t   *testing.T
	s   auth.RefreshStore
	ctx context.Context
	now time.Time // the subtest's start, in UTC, truncated to microseconds
}

func newHarness(t *testing.T, s auth.RefreshStore) *harness {
	return &harness{t: t, s: s, ctx: t.Context(), now: time.Now().UTC().Truncate(time.Microsecond)}
}

// newHash returns the hash of a new refresh token of userID: its routing
// key followed by 256 random bits, as the library makes them.
func newHash(userID string) auth.TokenHash {
	var secret [32]byte
	rand.Read(secret[:])
	return auth.HashRefreshToken(auth.RouteFor(userID) + base64.RawURLEncoding.EncodeToString(secret[:]))
}

// newFamily returns a family of userID signed in at created and its first
// token, not stored.
func newFamily(userID string, created time.Time) (auth.Family, auth.RefreshRecord) {
	fam := auth.Family{
		ID:          uuid.NewString(),
		UserID:      userID,
		CreatedAt:   created,
		ExpiresAt:   created.Add(familyTTL),
		RefreshedAt: created,
		UserAgent:   "authtest/1.0",
		Address:     "192.0.2.1",
	}
	rec := auth.RefreshRecord{
		Hash:      newHash(userID),
		FamilyID:  fam.ID,
		UserID:    userID,
		IssuedAt:  created,
		ExpiresAt: created.Add(tokenTTL),
	}
	return fam, rec
}

// successor returns a new token of prev's family issued at issued, not
// stored.
func successor(prev auth.RefreshRecord, issued time.Time) auth.RefreshRecord {
	return auth.RefreshRecord{
		Hash:      newHash(prev.UserID),
		FamilyID:  prev.FamilyID,
		UserID:    prev.UserID,
		IssuedAt:  issued,
		ExpiresAt: issued.Add(tokenTTL),
	}
}

// create stores fam and rec.
func (h *harness) create(fam auth.Family, rec auth.RefreshRecord) {
	h.t.Helper()
	if err := h.s.CreateFamily(h.ctx, fam, rec); err != nil {
		h.t.Fatalf("CreateFamily(family %s, token %s) = %v; want nil", fam.ID, short(rec.Hash), err)
	}
}

// login stores a new family of userID signed in at created and returns it
// with its first token.
func (h *harness) login(userID string, created time.Time) (auth.Family, auth.RefreshRecord) {
	h.t.Helper()
	fam, rec := newFamily(userID, created)
	h.create(fam, rec)
	return fam, rec
}

// rotate calls Rotate and checks its answer.
func (h *harness) rotate(route string, old, expect auth.TokenHash, next auth.RefreshRecord, want bool) {
	h.t.Helper()
	ok, err := h.s.Rotate(h.ctx, route, old, expect, next)
	if err != nil {
		h.t.Fatalf("Rotate(%q, %s, expect %s, next %s) error = %v; want nil", route, short(old), short(expect), short(next.Hash), err)
	}
	if ok != want {
		h.t.Fatalf("Rotate(%q, %s, expect %s, next %s) = %v; want %v", route, short(old), short(expect), short(next.Hash), ok, want)
	}
}

// race calls Rotate(route, old.Hash, expect, next) from [racers] goroutines
// at once, each with its own next (issued at issued plus i microseconds),
// and returns the next of the one call that returned true and those of the
// others. It fails the test unless exactly one returned true.
func (h *harness) race(route string, old auth.RefreshRecord, expect auth.TokenHash, issued time.Time) (win auth.RefreshRecord, lost []auth.RefreshRecord) {
	h.t.Helper()
	nexts := make([]auth.RefreshRecord, racers)
	for i := range nexts {
		nexts[i] = successor(old, issued.Add(time.Duration(i)*time.Microsecond))
	}
	oks := make([]bool, racers)
	errs := make([]error, racers)
	start := make(chan struct{})
	var ready, wg sync.WaitGroup
	ready.Add(racers)
	for i := range racers {
		wg.Go(func() {
			// Warm up first (a database/sql store opens its connections
			// now), so that the Rotate calls below really run at once.
			_, _, _, _ = h.s.Lookup(h.ctx, route, old.Hash)
			ready.Done()
			<-start
			oks[i], errs[i] = h.s.Rotate(h.ctx, route, old.Hash, expect, nexts[i])
		})
	}
	ready.Wait()
	close(start)
	wg.Wait()
	winner, wins := -1, 0
	for i := range racers {
		if errs[i] != nil {
			h.t.Errorf("concurrent Rotate(%q, %s, expect %s, next %s) error = %v; want nil", route, short(old.Hash), short(expect), short(nexts[i].Hash), errs[i])
		}
		if oks[i] {
			winner, wins = i, wins+1
		}
	}
	if wins != 1 {
		h.t.Fatalf("%d concurrent Rotate(%q, %s, expect %s, ...): %d returned true; want exactly 1", racers, route, short(old.Hash), short(expect), wins)
	}
	for i, rec := range nexts {
		if i != winner {
			lost = append(lost, rec)
		}
	}
	return nexts[winner], lost
}

// revokeFamily calls RevokeFamily and checks found.
func (h *harness) revokeFamily(userID, familyID string, at time.Time, want bool) {
	h.t.Helper()
	found, err := h.s.RevokeFamily(h.ctx, userID, familyID, at)
	if err != nil {
		h.t.Fatalf("RevokeFamily(%s, %s, %s) error = %v; want nil", userID, familyID, fmtTime(at), err)
	}
	if found != want {
		h.t.Errorf("RevokeFamily(%s, %s, %s) = %v; want %v", userID, familyID, fmtTime(at), found, want)
	}
}

// revokeUser calls RevokeUser and checks the count.
func (h *harness) revokeUser(userID string, at time.Time, want int) {
	h.t.Helper()
	n, err := h.s.RevokeUser(h.ctx, userID, at)
	if err != nil {
		h.t.Fatalf("RevokeUser(%s, %s) error = %v; want nil", userID, fmtTime(at), err)
	}
	if n != want {
		h.t.Errorf("RevokeUser(%s, %s) = %d; want %d", userID, fmtTime(at), n, want)
	}
}

// purge calls Purge and returns its count.
func (h *harness) purge(now time.Time, limit int) int {
	h.t.Helper()
	n, err := h.s.Purge(h.ctx, now, limit)
	if err != nil {
		h.t.Fatalf("Purge(%s, %d) error = %v; want nil", fmtTime(now), limit, err)
	}
	return n
}

// lookup returns the token hash of route and its family, failing the test
// when it is not found.
func (h *harness) lookup(route string, hash auth.TokenHash) (auth.RefreshRecord, auth.Family) {
	h.t.Helper()
	rec, fam, found, err := h.s.Lookup(h.ctx, route, hash)
	if err != nil {
		h.t.Fatalf("Lookup(%q, %s) error = %v; want nil", route, short(hash), err)
	}
	if !found {
		h.t.Fatalf("Lookup(%q, %s) found = false; want true", route, short(hash))
	}
	return rec, fam
}

// wantMissing checks that Lookup does not find hash under route.
func (h *harness) wantMissing(route string, hash auth.TokenHash) {
	h.t.Helper()
	_, _, found, err := h.s.Lookup(h.ctx, route, hash)
	if err != nil {
		h.t.Fatalf("Lookup(%q, %s) error = %v; want nil", route, short(hash), err)
	}
	if found {
		h.t.Errorf("Lookup(%q, %s) found = true; want false", route, short(hash))
	}
}

// wantRecord checks that Lookup returns the token want.Hash as want.
func (h *harness) wantRecord(want auth.RefreshRecord) {
	h.t.Helper()
	route := auth.RouteFor(want.UserID)
	got, _ := h.lookup(route, want.Hash)
	if d := diffRecord(got, want); d != "" {
		h.t.Errorf("Lookup(%q, %s) record: %s", route, short(want.Hash), d)
	}
}

// wantFamily checks that Lookup of the token rec returns the family want.
func (h *harness) wantFamily(rec auth.RefreshRecord, want auth.Family) {
	h.t.Helper()
	route := auth.RouteFor(rec.UserID)
	_, got := h.lookup(route, rec.Hash)
	if d := diffFamily(got, want); d != "" {
		h.t.Errorf("Lookup(%q, %s) family: %s", route, short(rec.Hash), d)
	}
}

// wantFamilies checks that Families(userID, now) returns want, in order.
func (h *harness) wantFamilies(userID string, now time.Time, want ...auth.Family) {
	h.t.Helper()
	got, err := h.s.Families(h.ctx, userID, now)
	if err != nil {
		h.t.Fatalf("Families(%s, %s) error = %v; want nil", userID, fmtTime(now), err)
	}
	ids := func(fams []auth.Family) []string {
		out := make([]string, len(fams))
		for i, f := range fams {
			out[i] = f.ID
		}
		return out
	}
	if len(got) != len(want) {
		h.t.Errorf("Families(%s, %s) = %v; want %v", userID, fmtTime(now), ids(got), ids(want))
		return
	}
	for i := range got {
		if got[i].ID != want[i].ID {
			h.t.Errorf("Families(%s, %s) = %v; want %v (newest first)", userID, fmtTime(now), ids(got), ids(want))
			return
		}
		if d := diffFamily(got[i], want[i]); d != "" {
			h.t.Errorf("Families(%s, %s)[%d]: %s", userID, fmtTime(now), i, d)
		}
	}
}

// differ collects the differences between two values, field by field.
type differ []string

func (d *differ) str(field, got, want string) {
	if got != want {
		*d = append(*d, fmt.Sprintf("%s = %q; want %q", field, got, want))
	}
}

func (d *differ) time(field string, got, want time.Time) {
	if !got.Equal(want) {
		*d = append(*d, fmt.Sprintf("%s = %s; want %s", field, fmtTime(got), fmtTime(want)))
	}
}

func (d *differ) hash(field string, got, want auth.TokenHash) {
	if got != want {
		*d = append(*d, fmt.Sprintf("%s = %s; want %s", field, short(got), short(want)))
	}
}

func diffRecord(got, want auth.RefreshRecord) string {
	var d differ
	d.hash("Hash", got.Hash, want.Hash)
	d.str("FamilyID", got.FamilyID, want.FamilyID)
	d.str("UserID", got.UserID, want.UserID)
	d.time("IssuedAt", got.IssuedAt, want.IssuedAt)
	d.time("ExpiresAt", got.ExpiresAt, want.ExpiresAt)
	d.time("UsedAt", got.UsedAt, want.UsedAt)
	d.hash("Successor", got.Successor, want.Successor)
	return strings.Join(d, ", ")
}

func diffFamily(got, want auth.Family) string {
	var d differ
	d.str("ID", got.ID, want.ID)
	d.str("UserID", got.UserID, want.UserID)
	d.time("CreatedAt", got.CreatedAt, want.CreatedAt)
	d.time("ExpiresAt", got.ExpiresAt, want.ExpiresAt)
	d.time("RefreshedAt", got.RefreshedAt, want.RefreshedAt)
	d.time("RevokedAt", got.RevokedAt, want.RevokedAt)
	d.str("UserAgent", got.UserAgent, want.UserAgent)
	d.str("Address", got.Address, want.Address)
	return strings.Join(d, ", ")
}

// short names a hash by its first bytes.
func short(h auth.TokenHash) string {
	if h == zero {
		return "zero"
	}
	return hex.EncodeToString(h[:6])
}

func fmtTime(t time.Time) string {
	if t.IsZero() {
		return "zero time"
	}
	return t.UTC().Format(time.RFC3339Nano)
}
