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

	"github.com/jwtkit/auth/authstore"
)

// Lifetimes of the records the suite builds, and the number of goroutines
// of the concurrency subtests.
const (
	tokenTTL   = 24 * time.Hour
	sessionTTL = 30 * 24 * time.Hour
	racers     = 50
)

// zero is the zero hash: the expect of a rotation of an unused token.
var zero authstore.TokenHash

// TestRefreshStore checks that the stores newStore returns follow the
// [authstore.RefreshStore] contract. It runs one subtest per clause, each
// on a fresh, empty store from newStore, one after another. See the package
// documentation for what it assumes of a store.
func TestRefreshStore(t *testing.T, newStore func(t *testing.T) authstore.RefreshStore) {
	for _, tt := range []struct {
		name string
		run  func(*testing.T, authstore.RefreshStore)
	}{
		{"CreateLookup", testCreateLookup},
		{"CreateDuplicateSession", testCreateDuplicateSession},
		{"CreateDuplicateHash", testCreateDuplicateHash},
		{"CreateForeignToken", testCreateForeignToken},
		{"LookupMissing", testLookupMissing},
		{"LookupWrongRoute", testLookupWrongRoute},
		{"LookupExpired", testLookupExpired},
		{"LookupUsed", testLookupUsed},
		{"LookupRevokedSession", testLookupRevokedSession},
		{"RevokeSession", testRevokeSession},
		{"RevokeUser", testRevokeUser},
		{"RevokeUserManySessions", testRevokeUserManySessions},
		{"Isolation", testIsolation},
		{"Sessions", testSessions},
		{"Purge", testPurge},
		{"PurgeLimit", testPurgeLimit},
		{"Rotate", testRotate},
		{"RotateWrongExpect", testRotateWrongExpect},
		{"RotateUnknownToken", testRotateUnknownToken},
		{"RotateWrongRoute", testRotateWrongRoute},
		{"RotateRevokedSession", testRotateRevokedSession},
		{"RotateGraceWindow", testRotateGraceWindow},
		{"RotateSupersededToken", testRotateSupersededToken},
		{"RotateExpectUsed", testRotateExpectUsed},
		{"RotateExpectMissing", testRotateExpectMissing},
		{"RotateExpectOtherSession", testRotateExpectOtherSession},
		{"RotateForeignNext", testRotateForeignNext},
		{"RotateDuplicateHash", testRotateDuplicateHash},
		{"LongChain", testLongChain},
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

// CreateSession stores the session and its first token; Lookup returns both
// with every field as stored.
func testCreateLookup(t *testing.T, s authstore.RefreshStore) {
	h := newHarness(t, s)
	user := uuid.NewString()
	sess := authstore.Session{
		ID:          uuid.NewString(),
		UserID:      user,
		CreatedAt:   h.now.Add(-2*time.Hour + 1*time.Microsecond),
		ExpiresAt:   h.now.Add(sessionTTL + 2*time.Microsecond),
		RefreshedAt: h.now.Add(-time.Hour + 3*time.Microsecond),
		UserAgent:   "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0 «ünïcödé»",
		Address:     "2001:db8::7",
	}
	rec := authstore.RefreshRecord{
		Hash:      newHash(user),
		SessionID: sess.ID,
		UserID:    user,
		IssuedAt:  h.now.Add(-time.Hour + 4*time.Microsecond),
		ExpiresAt: h.now.Add(tokenTTL + 5*time.Microsecond),
	}
	h.create(sess, rec)
	h.wantRecord(rec)
	h.wantSession(rec, sess)

	// Client details may be empty.
	bare, bareRec := newSession(user, h.now)
	bare.UserAgent, bare.Address = "", ""
	h.create(bare, bareRec)
	h.wantRecord(bareRec)
	h.wantSession(bareRec, bare)
	h.wantRecord(rec)
	h.wantSession(rec, sess)
}

// CreateSession refuses a session whose id the user already has, live or
// revoked, and stores nothing of it: the stored session keeps its fields
// and the new token is not stored.
func testCreateDuplicateSession(t *testing.T, s authstore.RefreshStore) {
	h := newHarness(t, s)
	user := uuid.NewString()
	live, a := h.login(user, h.now.Add(-2*time.Minute))
	revoked, b := h.login(user, h.now.Add(-time.Minute))
	h.revokeSession(user, revoked.ID, h.now, true)
	revoked.RevokedAt = h.now
	for _, tt := range []struct {
		name string
		id   string
	}{
		{"a live session", live.ID},
		{"a revoked session", revoked.ID},
	} {
		dup, rec := newSession(user, h.now)
		dup.ID, rec.SessionID = tt.id, tt.id
		dup.UserAgent, dup.Address = "authtest/duplicate", "198.51.100.7"
		h.createRefused(tt.name+"'s id", dup, rec)
		h.wantMissing(authstore.RouteFor(user), rec.Hash)
	}
	h.wantRecord(a)
	h.wantSession(a, live)
	h.wantRecord(b)
	h.wantSession(b, revoked)
	h.wantSessions(user, h.now, live)
}

// CreateSession refuses a first token whose hash the user already has in
// another session, used or not, and stores nothing of the new session: the
// stored token keeps its record and its session.
func testCreateDuplicateHash(t *testing.T, s authstore.RefreshStore) {
	h := newHarness(t, s)
	user := uuid.NewString()
	sess, a := h.login(user, h.now.Add(-2*time.Minute))
	b := successor(a, h.now.Add(-time.Minute))
	h.rotate(authstore.RouteFor(user), a.Hash, zero, b, true)
	a.UsedAt, a.Successor = b.IssuedAt, b.Hash
	sess.RefreshedAt = b.IssuedAt
	for _, tt := range []struct {
		name string
		hash authstore.TokenHash
	}{
		{"the hash of a used token", a.Hash},
		{"the hash of an unused token", b.Hash},
	} {
		dup, rec := newSession(user, h.now)
		rec.Hash = tt.hash
		h.createRefused(tt.name, dup, rec)
	}
	h.wantRecord(a)
	h.wantRecord(b)
	h.wantSession(a, sess)
	h.wantSession(b, sess)
	h.wantSessions(user, h.now, sess)
}

// CreateSession refuses a first token that belongs to another session or
// another user than the session it creates, and stores nothing: neither
// the session nor the token, nor a token in the session that the record
// names.
func testCreateForeignToken(t *testing.T, s authstore.RefreshStore) {
	h := newHarness(t, s)
	user, other := uuid.NewString(), uuid.NewString()
	sess, a := h.login(user, h.now.Add(-time.Minute))
	theirs, c := h.login(other, h.now.Add(-time.Minute))
	for _, tt := range []struct {
		name      string
		sessionID string // of the token; "" for the new session's
		userID    string // of the token; "" for the new session's
	}{
		{"a token of an unknown session", uuid.NewString(), ""},
		{"a token of another session of the user", sess.ID, ""},
		{"a token of another user", "", other},
		{"a token of another user's session", theirs.ID, other},
	} {
		created, rec := newSession(user, h.now)
		if tt.sessionID != "" {
			rec.SessionID = tt.sessionID
		}
		if tt.userID != "" {
			rec.UserID, rec.Hash = tt.userID, newHash(tt.userID)
		}
		h.createRefused(tt.name, created, rec)
		h.wantMissing(authstore.RouteFor(user), rec.Hash)
		h.wantMissing(authstore.RouteFor(other), rec.Hash)
	}
	h.wantRecord(a)
	h.wantSession(a, sess)
	h.wantRecord(c)
	h.wantSession(c, theirs)
	h.wantSessions(user, h.now, sess)
	h.wantSessions(other, h.now, theirs)
}

// Lookup of a token that was never stored: found is false, err nil.
func testLookupMissing(t *testing.T, s authstore.RefreshStore) {
	h := newHarness(t, s)
	user := uuid.NewString()
	route := authstore.RouteFor(user)
	h.wantMissing(route, newHash(user)) // empty store
	h.login(user, h.now)
	h.wantMissing(route, newHash(user))
	h.wantMissing(route, zero)
}

// Lookup under another routing key than the one of the token's user finds
// nothing.
func testLookupWrongRoute(t *testing.T, s authstore.RefreshStore) {
	h := newHarness(t, s)
	user, other := uuid.NewString(), uuid.NewString()
	_, rec := h.login(user, h.now)
	h.login(other, h.now)
	for _, route := range []string{authstore.RouteFor(other), "", strings.Repeat("A", authstore.RouteLen)} {
		h.wantMissing(route, rec.Hash)
	}
	h.wantRecord(rec)
}

// Expired tokens and sessions are returned as they are.
func testLookupExpired(t *testing.T, s authstore.RefreshStore) {
	h := newHarness(t, s)
	user := uuid.NewString()
	sess, rec := newSession(user, h.now.Add(-2*time.Hour))
	rec.ExpiresAt = h.now.Add(-time.Second)
	h.create(sess, rec)
	h.wantRecord(rec)
	h.wantSession(rec, sess)

	old, oldRec := newSession(user, h.now.Add(-2*time.Hour))
	old.ExpiresAt = h.now.Add(-time.Second)
	oldRec.ExpiresAt = old.ExpiresAt
	h.create(old, oldRec)
	h.wantRecord(oldRec)
	h.wantSession(oldRec, old)
}

// A rotated token is returned with its UsedAt and Successor.
func testLookupUsed(t *testing.T, s authstore.RefreshStore) {
	h := newHarness(t, s)
	user := uuid.NewString()
	sess, a := h.login(user, h.now)
	b := successor(a, h.now.Add(time.Minute))
	h.rotate(authstore.RouteFor(user), a.Hash, zero, b, true)
	a.UsedAt, a.Successor = b.IssuedAt, b.Hash
	sess.RefreshedAt = b.IssuedAt
	h.wantRecord(a)
	h.wantSession(a, sess)
}

// The tokens of a revoked session stay readable, with the session's
// RevokedAt.
func testLookupRevokedSession(t *testing.T, s authstore.RefreshStore) {
	h := newHarness(t, s)
	user := uuid.NewString()
	sess, a := h.login(user, h.now)
	b := successor(a, h.now.Add(time.Minute))
	h.rotate(authstore.RouteFor(user), a.Hash, zero, b, true)
	at := h.now.Add(2 * time.Minute)
	h.revokeSession(user, sess.ID, at, true)
	a.UsedAt, a.Successor = b.IssuedAt, b.Hash
	sess.RefreshedAt, sess.RevokedAt = b.IssuedAt, at
	for _, rec := range []authstore.RefreshRecord{a, b} {
		h.wantRecord(rec)
		h.wantSession(rec, sess)
	}
}

// RevokeSession revokes one session of the user, once: the first time stays.
// It reports found == false for an unknown session, or one of another user.
func testRevokeSession(t *testing.T, s authstore.RefreshStore) {
	h := newHarness(t, s)
	user, other := uuid.NewString(), uuid.NewString()
	s1, a := h.login(user, h.now.Add(-2*time.Minute))
	s2, b := h.login(user, h.now.Add(-time.Minute))
	theirs, c := h.login(other, h.now)

	h.revokeSession(user, s1.ID, h.now, true)
	h.revokeSession(user, s1.ID, h.now.Add(time.Minute), true) // idempotent
	s1.RevokedAt = h.now
	h.wantSession(a, s1)
	h.wantRecord(a)

	h.revokeSession(user, uuid.NewString(), h.now, false)
	h.revokeSession(other, s2.ID, h.now, false)
	h.revokeSession(uuid.NewString(), s2.ID, h.now, false)
	h.wantSession(b, s2)
	h.wantSession(c, theirs)
	h.wantSessions(user, h.now, s2)
}

// RevokeUser revokes every live session of the user at the given time and
// counts them; revoked and expired sessions, and other users, are left
// alone.
func testRevokeUser(t *testing.T, s authstore.RefreshStore) {
	h := newHarness(t, s)
	user, other := uuid.NewString(), uuid.NewString()
	at := h.now.Add(2 * time.Hour)
	s1, a := h.login(user, h.now.Add(-4*time.Minute))
	s2, b := h.login(user, h.now.Add(-3*time.Minute))
	expired, c := newSession(user, h.now.Add(-2*time.Minute))
	expired.ExpiresAt = h.now.Add(time.Hour) // not live at at
	c.ExpiresAt = expired.ExpiresAt
	h.create(expired, c)
	revoked, d := h.login(user, h.now.Add(-time.Minute))
	theirs, e := h.login(other, h.now)
	h.revokeSession(user, revoked.ID, h.now, true)
	revoked.RevokedAt = h.now

	h.revokeUser(user, at, 2)
	s1.RevokedAt, s2.RevokedAt = at, at
	h.wantSession(a, s1)
	h.wantSession(b, s2)
	h.wantSession(c, expired)
	h.wantSession(d, revoked)
	h.wantSession(e, theirs)
	h.wantSessions(other, h.now, theirs)

	h.revokeUser(user, at.Add(time.Minute), 0)
	h.wantSession(a, s1)
	h.revokeUser(uuid.NewString(), at, 0)
}

// RevokeUser revokes every live session of a user with many sessions, and
// counts each once. A store may cap the sessions per user, so the count to
// expect is that of the live sessions that Sessions lists first.
func testRevokeUserManySessions(t *testing.T, s authstore.RefreshStore) {
	const many = 300
	h := newHarness(t, s)
	user, other := uuid.NewString(), uuid.NewString()
	at := h.now.Add(time.Hour)
	var firsts []authstore.RefreshRecord
	for i := range many {
		_, rec := h.login(user, h.now.Add(time.Duration(i-many)*time.Second))
		firsts = append(firsts, rec)
	}
	theirs, c := h.login(other, h.now)
	live, err := s.Sessions(h.ctx, user, at)
	if err != nil {
		t.Fatalf("Sessions(%s, %s) error = %v; want nil", user, fmtTime(at), err)
	}
	if len(live) < 10 {
		t.Fatalf("Sessions(%s, %s) after %d sign-ins = %d sessions; want at least 10", user, fmtTime(at), many, len(live))
	}
	h.revokeUser(user, at, len(live))
	h.wantSessions(user, at)
	h.wantSessions(user, h.now)
	for _, sess := range live {
		h.revokeSession(user, sess.ID, at.Add(time.Minute), true) // the first time stays
	}
	for _, rec := range firsts {
		got, sess, found, err := s.Lookup(h.ctx, authstore.RouteFor(user), rec.Hash)
		if err != nil {
			t.Fatalf("Lookup(%s) error = %v; want nil", short(rec.Hash), err)
		}
		if found && !sess.RevokedAt.Equal(at) {
			t.Errorf("Lookup(%s) after RevokeUser: session RevokedAt = %s; want %s", short(rec.Hash), fmtTime(sess.RevokedAt), fmtTime(at))
		}
		if found && got.Used() {
			t.Errorf("Lookup(%s) after RevokeUser: UsedAt = %s; want zero", short(rec.Hash), fmtTime(got.UsedAt))
		}
	}
	h.revokeUser(user, at.Add(time.Minute), 0)
	h.wantRecord(c)
	h.wantSession(c, theirs)
	h.wantSessions(other, h.now, theirs)
}

// Operations on one user or session never touch another.
func testIsolation(t *testing.T, s authstore.RefreshStore) {
	h := newHarness(t, s)
	user, other := uuid.NewString(), uuid.NewString()
	route := authstore.RouteFor(user)
	s1, a := h.login(user, h.now.Add(-time.Minute))
	s2, b := h.login(user, h.now)
	theirs, c := h.login(other, h.now)

	// A token is found under its own user's route only.
	h.wantMissing(authstore.RouteFor(other), a.Hash)
	h.wantMissing(route, c.Hash)

	// Rotating in s1 leaves s2 and theirs alone.
	a2 := successor(a, h.now.Add(time.Minute))
	h.rotate(route, a.Hash, zero, a2, true)
	s1.RefreshedAt = a2.IssuedAt
	h.wantSession(a2, s1)
	h.wantRecord(b)
	h.wantSession(b, s2)
	h.wantRecord(c)
	h.wantSession(c, theirs)

	// A token of another session is no expect: b is not a's successor.
	b2 := successor(b, h.now.Add(2*time.Minute))
	h.rotate(route, b.Hash, a2.Hash, b2, false)
	h.wantMissing(route, b2.Hash)

	// Revoking s1 leaves s2 and theirs alone; user cannot revoke theirs.
	h.revokeSession(user, s1.ID, h.now, true)
	h.revokeSession(user, theirs.ID, h.now, false)
	h.wantSession(b, s2)
	h.wantSession(c, theirs)
	h.wantSessions(user, h.now, s2)
	h.wantSessions(other, h.now, theirs)

	// Revoking the other user leaves this one alone.
	h.revokeUser(other, h.now, 1)
	h.wantSession(b, s2)
	h.wantSessions(user, h.now, s2)
}

// Sessions lists the live sessions of the user, newest (by CreatedAt)
// first, with every field.
func testSessions(t *testing.T, s authstore.RefreshStore) {
	h := newHarness(t, s)
	user, other := uuid.NewString(), uuid.NewString()
	ended, _ := newSession(user, h.now.Add(-5*time.Minute))
	ended.ExpiresAt = h.now // ExpiresAt must be after now
	s1, a := newSession(user, h.now.Add(-4*time.Minute))
	s2, _ := newSession(user, h.now.Add(-3*time.Minute))
	s3, _ := newSession(user, h.now.Add(-2*time.Minute))
	s3.ExpiresAt = h.now.Add(time.Microsecond) // live until just after now
	revoked, _ := newSession(user, h.now.Add(-time.Minute))
	theirs, _ := newSession(other, h.now)
	for _, sess := range []authstore.Session{ended, s1, s2, s3, revoked, theirs} {
		rec := authstore.RefreshRecord{Hash: newHash(sess.UserID), SessionID: sess.ID, UserID: sess.UserID, IssuedAt: sess.CreatedAt, ExpiresAt: sess.ExpiresAt}
		if sess.ID == s1.ID {
			rec = a
		}
		h.create(sess, rec)
	}
	// The oldest session was refreshed last: the order is still by sign-in.
	a2 := successor(a, h.now.Add(-time.Second))
	h.rotate(authstore.RouteFor(user), a.Hash, zero, a2, true)
	s1.RefreshedAt = a2.IssuedAt
	h.revokeSession(user, revoked.ID, h.now.Add(-time.Second), true)

	h.wantSessions(user, h.now, s3, s2, s1)
	h.wantSessions(other, h.now, theirs)
	h.wantSessions(uuid.NewString(), h.now)
	h.wantSessions(user, s3.ExpiresAt, s2, s1)
}

// Purge deletes expired sessions with their tokens, revoked sessions and
// expired tokens, and nothing that is live.
func testPurge(t *testing.T, s authstore.RefreshStore) {
	h := newHarness(t, s)
	user, other := uuid.NewString(), uuid.NewString()
	route := authstore.RouteFor(user)
	purgeAt := h.now.Add(2 * time.Hour)

	// live: a live session whose first two tokens have expired at purgeAt.
	live, l1 := newSession(user, h.now.Add(-5*time.Minute))
	l1.ExpiresAt = h.now.Add(time.Hour)
	h.create(live, l1)
	l2 := successor(l1, h.now.Add(time.Minute))
	l2.ExpiresAt = purgeAt // at or before now: expired
	h.rotate(route, l1.Hash, zero, l2, true)
	l3 := successor(l2, h.now.Add(2*time.Minute))
	h.rotate(route, l2.Hash, zero, l3, true)
	live.RefreshedAt = l3.IssuedAt

	// expired: a session past its end at purgeAt, with two tokens.
	expired, e1 := newSession(user, h.now.Add(-4*time.Minute))
	expired.ExpiresAt = h.now.Add(time.Hour)
	e1.ExpiresAt = expired.ExpiresAt
	h.create(expired, e1)
	e2 := successor(e1, h.now.Add(time.Minute))
	e2.ExpiresAt = expired.ExpiresAt
	h.rotate(route, e1.Hash, zero, e2, true)

	// ending: a session and its token that end exactly at purgeAt.
	ending, n1 := newSession(user, h.now.Add(-3*time.Minute))
	ending.ExpiresAt, n1.ExpiresAt = purgeAt, purgeAt
	h.create(ending, n1)

	// lasting: a session and its token that end just after purgeAt.
	lasting, m1 := newSession(user, h.now.Add(-2*time.Minute))
	lasting.ExpiresAt, m1.ExpiresAt = purgeAt.Add(time.Microsecond), purgeAt.Add(time.Microsecond)
	h.create(lasting, m1)

	// revoked: an otherwise live session, revoked below.
	revoked, r1 := h.login(user, h.now.Add(-time.Minute))

	// theirs: another user's live session.
	theirs, t1 := h.login(other, h.now)

	h.revokeSession(user, revoked.ID, h.now, true)

	// Five items: the sessions expired, ending and revoked, each with its
	// tokens, and the tokens l1 and l2. A store that counts each deleted row
	// reports up to nine.
	if n := h.purge(purgeAt, 100); n < 5 || n > 9 {
		t.Errorf("Purge(%s, 100) = %d; want 5 (up to 9 if each token of a deleted session counts)", fmtTime(purgeAt), n)
	}
	for _, rec := range []authstore.RefreshRecord{l1, l2, e1, e2, n1, r1} {
		h.wantMissing(authstore.RouteFor(rec.UserID), rec.Hash)
	}
	for _, sess := range []authstore.Session{expired, ending, revoked} {
		h.revokeSession(user, sess.ID, h.now, false)
	}
	h.wantRecord(l3)
	h.wantSession(l3, live)
	h.wantRecord(m1)
	h.wantSession(m1, lasting)
	h.wantRecord(t1)
	h.wantSession(t1, theirs)
	// At h.now, expired and ending would be live had they not been deleted.
	h.wantSessions(user, h.now, lasting, live)
	h.wantSessions(other, h.now, theirs)

	if n := h.purge(purgeAt, 100); n != 0 {
		t.Errorf("second Purge(%s, 100) = %d; want 0", fmtTime(purgeAt), n)
	}
}

// Purge deletes at most limit items per call, and returns less than limit
// only when nothing is left to delete, so that a caller's loop ends with
// everything purged.
func testPurgeLimit(t *testing.T, s authstore.RefreshStore) {
	h := newHarness(t, s)
	purgeAt := h.now.Add(2 * time.Hour)
	for _, limit := range []int{1, 3, 4} {
		var (
			gone, kept []authstore.RefreshRecord
			lo, hi     int // the count of deleted items, without and with every row
		)
		for range 4 { // expired sessions with one token each
			user := uuid.NewString()
			sess, rec := newSession(user, h.now)
			sess.ExpiresAt, rec.ExpiresAt = h.now.Add(time.Hour), h.now.Add(time.Hour)
			h.create(sess, rec)
			gone = append(gone, rec)
			lo, hi = lo+1, hi+2
		}
		var revoked []authstore.Session
		for range 2 { // revoked sessions with one token each
			sess, rec := h.login(uuid.NewString(), h.now)
			revoked = append(revoked, sess)
			gone = append(gone, rec)
			lo, hi = lo+1, hi+2
		}
		// A live session whose first three tokens have expired.
		user := uuid.NewString()
		live, rec := newSession(user, h.now)
		rec.ExpiresAt = h.now.Add(time.Hour)
		h.create(live, rec)
		for i := range 3 {
			next := successor(rec, h.now.Add(time.Duration(i+1)*time.Minute))
			if i < 2 {
				next.ExpiresAt = h.now.Add(time.Hour)
			}
			h.rotate(authstore.RouteFor(user), rec.Hash, zero, next, true)
			gone = append(gone, rec)
			lo, hi = lo+1, hi+1
			rec = next
		}
		kept = append(kept, rec)
		for _, sess := range revoked {
			h.revokeSession(sess.UserID, sess.ID, h.now, true)
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
			t.Errorf("limit %d: Purge deleted %d items in all; want %d (up to %d if each token of a deleted session counts)", limit, total, lo, hi)
		}
		for _, rec := range gone {
			h.wantMissing(authstore.RouteFor(rec.UserID), rec.Hash)
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
// and moves the session's RefreshedAt; the chain goes on from next.
func testRotate(t *testing.T, s authstore.RefreshStore) {
	h := newHarness(t, s)
	user := uuid.NewString()
	route := authstore.RouteFor(user)
	sess, a := h.login(user, h.now)
	b := successor(a, h.now.Add(time.Minute))
	h.rotate(route, a.Hash, zero, b, true)
	a.UsedAt, a.Successor = b.IssuedAt, b.Hash
	sess.RefreshedAt = b.IssuedAt
	h.wantRecord(a)
	h.wantRecord(b)
	h.wantSession(b, sess)

	c := successor(b, h.now.Add(2*time.Minute))
	h.rotate(route, b.Hash, zero, c, true)
	b.UsedAt, b.Successor = c.IssuedAt, c.Hash
	sess.RefreshedAt = c.IssuedAt
	h.wantRecord(a)
	h.wantRecord(b)
	h.wantRecord(c)
	h.wantSession(a, sess)
}

// Rotate with an expect that is not old's Successor fails and changes
// nothing.
func testRotateWrongExpect(t *testing.T, s authstore.RefreshStore) {
	h := newHarness(t, s)
	user := uuid.NewString()
	route := authstore.RouteFor(user)
	sess, a := h.login(user, h.now)
	b := successor(a, h.now.Add(time.Minute))
	h.rotate(route, a.Hash, newHash(user), b, false) // a is unused: only zero matches
	h.wantRecord(a)
	h.wantSession(a, sess)
	h.wantMissing(route, b.Hash)

	h.rotate(route, a.Hash, zero, b, true)
	a.UsedAt, a.Successor = b.IssuedAt, b.Hash
	sess.RefreshedAt = b.IssuedAt
	c := successor(a, h.now.Add(2*time.Minute))
	h.rotate(route, a.Hash, zero, c, false)          // a is used
	h.rotate(route, a.Hash, newHash(user), c, false) // not a's successor
	h.rotate(route, a.Hash, a.Hash, c, false)
	h.wantRecord(a)
	h.wantRecord(b)
	h.wantSession(a, sess)
	h.wantMissing(route, c.Hash)
}

// Rotate of a token that is not stored fails and stores nothing.
func testRotateUnknownToken(t *testing.T, s authstore.RefreshStore) {
	h := newHarness(t, s)
	user := uuid.NewString()
	route := authstore.RouteFor(user)
	sess, a := h.login(user, h.now)
	ghost := successor(a, h.now) // never stored
	next := successor(a, h.now.Add(time.Minute))
	h.rotate(route, ghost.Hash, zero, next, false)
	h.wantMissing(route, next.Hash)

	stranger := uuid.NewString() // a user with no data at all
	_, srec := newSession(stranger, h.now)
	snext := successor(srec, h.now.Add(time.Minute))
	h.rotate(authstore.RouteFor(stranger), srec.Hash, zero, snext, false)
	h.wantMissing(authstore.RouteFor(stranger), snext.Hash)

	h.wantRecord(a)
	h.wantSession(a, sess)
}

// Rotate under another routing key than the one of the token's user fails
// and changes nothing.
func testRotateWrongRoute(t *testing.T, s authstore.RefreshStore) {
	h := newHarness(t, s)
	user, other := uuid.NewString(), uuid.NewString()
	route := authstore.RouteFor(user)
	sess, a := h.login(user, h.now)
	h.login(other, h.now)
	b := successor(a, h.now.Add(time.Minute))
	h.rotate(authstore.RouteFor(other), a.Hash, zero, b, false)
	h.rotate("", a.Hash, zero, b, false)
	h.wantRecord(a)
	h.wantSession(a, sess)
	h.wantMissing(route, b.Hash)
	h.rotate(route, a.Hash, zero, b, true)
}

// Rotate in a revoked session fails and changes nothing, grace rotations
// included.
func testRotateRevokedSession(t *testing.T, s authstore.RefreshStore) {
	h := newHarness(t, s)
	user := uuid.NewString()
	route := authstore.RouteFor(user)
	sess, a := h.login(user, h.now)
	b := successor(a, h.now.Add(time.Minute))
	h.rotate(route, a.Hash, zero, b, true)
	a.UsedAt, a.Successor = b.IssuedAt, b.Hash
	sess.RefreshedAt = b.IssuedAt
	h.revokeSession(user, sess.ID, h.now.Add(2*time.Minute), true)
	sess.RevokedAt = h.now.Add(2 * time.Minute)

	c := successor(b, h.now.Add(3*time.Minute))
	h.rotate(route, b.Hash, zero, c, false)
	d := successor(a, h.now.Add(3*time.Minute))
	h.rotate(route, a.Hash, b.Hash, d, false)
	h.wantRecord(a)
	h.wantRecord(b)
	h.wantSession(b, sess)
	h.wantMissing(route, c.Hash)
	h.wantMissing(route, d.Hash)
}

// A grace rotation (expect is old's current, unused successor) gives old a
// new successor and marks the replaced one used with no successor; a second
// one with the now stale expect fails.
func testRotateGraceWindow(t *testing.T, s authstore.RefreshStore) {
	h := newHarness(t, s)
	user := uuid.NewString()
	route := authstore.RouteFor(user)
	sess, a := h.login(user, h.now)
	b := successor(a, h.now.Add(time.Minute))
	h.rotate(route, a.Hash, zero, b, true)

	c := successor(a, h.now.Add(time.Minute+2*time.Second))
	h.rotate(route, a.Hash, b.Hash, c, true)
	a.UsedAt, a.Successor = b.IssuedAt, c.Hash // the first use stays
	b.UsedAt = c.IssuedAt                      // superseded: used, no successor
	sess.RefreshedAt = c.IssuedAt
	h.wantRecord(a)
	h.wantRecord(b)
	h.wantRecord(c)
	h.wantSession(c, sess)

	d := successor(a, h.now.Add(time.Minute+3*time.Second))
	h.rotate(route, a.Hash, b.Hash, d, false)
	h.wantMissing(route, d.Hash)
	h.wantRecord(a)
	h.wantRecord(b)
	h.wantRecord(c)
	h.wantSession(a, sess)

	// The chain goes on from the newest token.
	e := successor(c, h.now.Add(2*time.Minute))
	h.rotate(route, c.Hash, zero, e, true)
}

// A superseded token (used, with no successor) cannot be rotated: a zero
// expect means that old is unused. Otherwise the session would have two
// live tokens.
func testRotateSupersededToken(t *testing.T, s authstore.RefreshStore) {
	h := newHarness(t, s)
	user := uuid.NewString()
	route := authstore.RouteFor(user)
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
func testRotateExpectUsed(t *testing.T, s authstore.RefreshStore) {
	h := newHarness(t, s)
	user := uuid.NewString()
	route := authstore.RouteFor(user)
	sess, a := h.login(user, h.now)
	b := successor(a, h.now.Add(time.Minute))
	h.rotate(route, a.Hash, zero, b, true)
	c := successor(b, h.now.Add(2*time.Minute))
	h.rotate(route, b.Hash, zero, c, true)
	a.UsedAt, a.Successor = b.IssuedAt, b.Hash
	b.UsedAt, b.Successor = c.IssuedAt, c.Hash
	sess.RefreshedAt = c.IssuedAt

	d := successor(a, h.now.Add(3*time.Minute))
	h.rotate(route, a.Hash, b.Hash, d, false)
	h.wantRecord(a)
	h.wantRecord(b)
	h.wantRecord(c)
	h.wantSession(a, sess)
	h.wantMissing(route, d.Hash)
}

// A grace rotation whose expect is no longer stored (purged) fails and
// changes nothing.
func testRotateExpectMissing(t *testing.T, s authstore.RefreshStore) {
	h := newHarness(t, s)
	user := uuid.NewString()
	route := authstore.RouteFor(user)
	sess, a := h.login(user, h.now)
	b := successor(a, h.now.Add(time.Minute))
	b.ExpiresAt = h.now.Add(2 * time.Minute)
	h.rotate(route, a.Hash, zero, b, true)
	a.UsedAt, a.Successor = b.IssuedAt, b.Hash
	sess.RefreshedAt = b.IssuedAt
	if n := h.purge(h.now.Add(3*time.Minute), 100); n < 1 {
		t.Fatalf("Purge(%s, 100) = %d; want at least 1 (the expired token)", fmtTime(h.now.Add(3*time.Minute)), n)
	}
	h.wantMissing(route, b.Hash)

	c := successor(a, h.now.Add(4*time.Minute))
	h.rotate(route, a.Hash, b.Hash, c, false)
	h.wantRecord(a)
	h.wantSession(a, sess)
	h.wantMissing(route, c.Hash)
}

// A grace rotation whose expect is old's Successor by hash but now a token
// of another session of the user fails and changes nothing: expect must be
// a token of old's session. (Old's successor expired and was purged, and a
// new session's first token has the same hash.)
func testRotateExpectOtherSession(t *testing.T, s authstore.RefreshStore) {
	h := newHarness(t, s)
	user := uuid.NewString()
	route := authstore.RouteFor(user)
	sess, a := h.login(user, h.now)
	b := successor(a, h.now.Add(time.Minute))
	b.ExpiresAt = h.now.Add(2 * time.Minute)
	h.rotate(route, a.Hash, zero, b, true)
	a.UsedAt, a.Successor = b.IssuedAt, b.Hash
	sess.RefreshedAt = b.IssuedAt
	purgeAt := h.now.Add(3 * time.Minute)
	if n := h.purge(purgeAt, 100); n < 1 {
		t.Fatalf("Purge(%s, 100) = %d; want at least 1 (the expired token)", fmtTime(purgeAt), n)
	}
	h.wantMissing(route, b.Hash)

	other, c := newSession(user, h.now.Add(4*time.Minute))
	c.Hash = b.Hash
	h.create(other, c)
	d := successor(a, h.now.Add(5*time.Minute))
	h.rotate(route, a.Hash, b.Hash, d, false)
	h.wantRecord(a)
	h.wantSession(a, sess)
	h.wantRecord(c)
	h.wantSession(c, other)
	h.wantMissing(route, d.Hash)
}

// Rotate refuses a next that belongs to another session or another user
// than old: it returns false or an error, and changes nothing. Old stays
// unused, next is stored nowhere, the session that next names is left
// alone, and old rotates afterwards.
func testRotateForeignNext(t *testing.T, s authstore.RefreshStore) {
	h := newHarness(t, s)
	user, other := uuid.NewString(), uuid.NewString()
	route := authstore.RouteFor(user)
	sess, a := h.login(user, h.now.Add(-time.Minute))
	sibling, c := h.login(user, h.now)
	theirs, d := h.login(other, h.now)
	for _, tt := range []struct {
		name      string
		sessionID string // of next; "" for old's
		userID    string // of next; "" for old's
	}{
		{"a next of another session of the user", sibling.ID, ""},
		{"a next of an unknown session", uuid.NewString(), ""},
		{"a next of another user", "", other},
		{"a next of another user's session", theirs.ID, other},
	} {
		next := successor(a, h.now.Add(time.Minute))
		if tt.sessionID != "" {
			next.SessionID = tt.sessionID
		}
		if tt.userID != "" {
			next.UserID = tt.userID
		}
		h.rotateRefused(tt.name, route, a.Hash, zero, next)
		h.wantMissing(route, next.Hash)
		h.wantMissing(authstore.RouteFor(other), next.Hash)
	}
	h.wantRecord(a)
	h.wantSession(a, sess)
	h.wantRecord(c)
	h.wantSession(c, sibling)
	h.wantRecord(d)
	h.wantSession(d, theirs)
	h.rotate(route, a.Hash, zero, successor(a, h.now.Add(2*time.Minute)), true)
}

// Rotate refuses a next whose hash the user already has (old's own, an
// earlier token of the session, a token of another session): it returns
// false or an error, and changes nothing. Every stored token keeps its
// record and its session, old stays unused, and old rotates afterwards.
func testRotateDuplicateHash(t *testing.T, s authstore.RefreshStore) {
	h := newHarness(t, s)
	user := uuid.NewString()
	route := authstore.RouteFor(user)
	sess, a := h.login(user, h.now.Add(-2*time.Minute))
	b := successor(a, h.now.Add(-time.Minute))
	h.rotate(route, a.Hash, zero, b, true)
	a.UsedAt, a.Successor = b.IssuedAt, b.Hash
	sess.RefreshedAt = b.IssuedAt
	sibling, c := h.login(user, h.now)
	for _, tt := range []struct {
		name string
		hash authstore.TokenHash
	}{
		{"a next with old's own hash", b.Hash},
		{"a next with the hash of an earlier token of the session", a.Hash},
		{"a next with the hash of a token of another session", c.Hash},
	} {
		next := successor(b, h.now.Add(time.Minute))
		next.Hash = tt.hash
		h.rotateRefused(tt.name, route, b.Hash, zero, next)
	}
	h.wantRecord(a)
	h.wantRecord(b)
	h.wantSession(b, sess)
	h.wantRecord(c)
	h.wantSession(c, sibling)
	h.rotate(route, b.Hash, zero, successor(b, h.now.Add(2*time.Minute)), true)
}

// A session that rotates many times keeps at least its newest
// [authstore.MinKeptTokens] used tokens, each found with its UsedAt and
// Successor, so that replaying any of them is recognised as reuse. An older
// token may be gone (unknown) or kept (used); either way it never rotates
// again. The chain, and grace rotations, go on as usual.
func testLongChain(t *testing.T, s authstore.RefreshStore) {
	const rotations = 200
	h := newHarness(t, s)
	user := uuid.NewString()
	route := authstore.RouteFor(user)
	sess, first := h.login(user, h.now)
	chain := []authstore.RefreshRecord{first}
	for i := range rotations {
		prev := &chain[len(chain)-1]
		next := successor(*prev, h.now.Add(time.Duration(i+1)*time.Second))
		h.rotate(route, prev.Hash, zero, next, true)
		prev.UsedAt, prev.Successor = next.IssuedAt, next.Hash
		chain = append(chain, next)
	}
	last := chain[rotations]
	sess.RefreshedAt = last.IssuedAt
	h.wantRecord(last)
	h.wantSession(last, sess)
	for _, rec := range chain[rotations-authstore.MinKeptTokens : rotations] {
		h.wantRecord(rec) // found, used, with its successor: a replay is reuse
	}
	for i, rec := range chain[:rotations-authstore.MinKeptTokens] {
		got, _, found, err := s.Lookup(h.ctx, route, rec.Hash)
		if err != nil {
			t.Fatalf("Lookup(%q, token %d of %d) error = %v; want nil", route, i, rotations, err)
		}
		if found {
			if d := diffRecord(got, rec); d != "" {
				t.Errorf("Lookup(%q, token %d of %d), kept: %s", route, i, rotations, d)
			}
		}
	}
	// Old tokens never rotate again, kept or not.
	for _, rec := range []authstore.RefreshRecord{chain[0], chain[rotations/2], chain[rotations-authstore.MinKeptTokens]} {
		h.rotate(route, rec.Hash, zero, successor(rec, h.now.Add(time.Hour)), false)
	}
	h.wantRecord(last)

	// A grace rotation of the newest used token still works, and the chain
	// goes on from its next.
	prev := chain[rotations-1]
	grace := successor(prev, last.IssuedAt.Add(time.Second))
	h.rotate(route, prev.Hash, last.Hash, grace, true)
	prev.Successor = grace.Hash
	last.UsedAt = grace.IssuedAt
	h.wantRecord(prev)
	h.wantRecord(last)
	h.wantRecord(grace)
	h.rotate(route, grace.Hash, zero, successor(grace, grace.IssuedAt.Add(time.Second)), true)
}

// Every method called with a cancelled context returns an error matching
// context.Canceled and changes nothing.
func testCancelledContext(t *testing.T, s authstore.RefreshStore) {
	h := newHarness(t, s)
	user := uuid.NewString()
	route := authstore.RouteFor(user)
	stale, st := newSession(user, h.now.Add(-time.Minute))
	stale.ExpiresAt, st.ExpiresAt = h.now.Add(time.Hour), h.now.Add(time.Hour)
	h.create(stale, st)
	sess, a := h.login(user, h.now)

	ctx, cancel := context.WithCancel(h.ctx)
	cancel()
	check := func(call string, err error) {
		t.Helper()
		if !errors.Is(err, context.Canceled) {
			t.Errorf("%s with a cancelled context: error = %v; want context.Canceled", call, err)
		}
	}
	newSess, newRec := newSession(user, h.now)
	check("CreateSession", s.CreateSession(ctx, newSess, newRec))
	_, _, _, err := s.Lookup(ctx, route, a.Hash)
	check("Lookup", err)
	b := successor(a, h.now.Add(time.Minute))
	_, err = s.Rotate(ctx, route, a.Hash, zero, b)
	check("Rotate", err)
	_, err = s.RevokeSession(ctx, user, sess.ID, h.now)
	check("RevokeSession", err)
	_, err = s.RevokeUser(ctx, user, h.now)
	check("RevokeUser", err)
	_, err = s.Sessions(ctx, user, h.now)
	check("Sessions", err)
	_, err = s.Purge(ctx, h.now.Add(2*time.Hour), 100)
	check("Purge", err)

	h.wantMissing(route, newRec.Hash)
	h.wantMissing(route, b.Hash)
	h.wantRecord(a)
	h.wantRecord(st)
	h.wantSessions(user, h.now, sess, stale)
}

// Of many concurrent rotations of one unused token, exactly one succeeds,
// and its next is the one successor stored.
func testConcurrentRotate(t *testing.T, s authstore.RefreshStore) {
	h := newHarness(t, s)
	user := uuid.NewString()
	route := authstore.RouteFor(user)
	sess, a := h.login(user, h.now)
	win, lost := h.race(route, a, zero, h.now.Add(time.Minute))

	a.UsedAt, a.Successor = win.IssuedAt, win.Hash
	sess.RefreshedAt = win.IssuedAt
	h.wantRecord(a)
	h.wantRecord(win)
	h.wantSession(win, sess)
	for _, rec := range lost {
		h.wantMissing(route, rec.Hash)
	}
	h.rotate(route, win.Hash, zero, successor(win, h.now.Add(2*time.Minute)), true)
}

// Of many concurrent grace rotations with the same expect, exactly one
// succeeds.
func testConcurrentGraceRotate(t *testing.T, s authstore.RefreshStore) {
	h := newHarness(t, s)
	user := uuid.NewString()
	route := authstore.RouteFor(user)
	sess, a := h.login(user, h.now)
	b := successor(a, h.now.Add(time.Minute))
	h.rotate(route, a.Hash, zero, b, true)
	win, lost := h.race(route, a, b.Hash, h.now.Add(2*time.Minute))

	a.UsedAt, a.Successor = b.IssuedAt, win.Hash
	b.UsedAt = win.IssuedAt
	sess.RefreshedAt = win.IssuedAt
	h.wantRecord(a)
	h.wantRecord(b)
	h.wantRecord(win)
	h.wantSession(win, sess)
	for _, rec := range lost {
		h.wantMissing(route, rec.Hash)
	}
	h.rotate(route, win.Hash, zero, successor(win, h.now.Add(3*time.Minute)), true)
}

// Many users sign in and rotate their chains at once, beside Lookup,
// Sessions and Purge calls: no call fails and every chain ends where it
// should.
func testConcurrentUsers(t *testing.T, s authstore.RefreshStore) {
	const steps = 10
	h := newHarness(t, s)
	ctx := h.ctx
	sessions := make([]authstore.Session, racers)
	lasts := make([]authstore.RefreshRecord, racers)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range racers {
		wg.Go(func() {
			<-start
			user := uuid.NewString()
			route := authstore.RouteFor(user)
			sess, rec := newSession(user, h.now)
			if err := s.CreateSession(ctx, sess, rec); err != nil {
				t.Errorf("user %d: CreateSession = %v; want nil", i, err)
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
				if _, err := s.Sessions(ctx, user, h.now); err != nil {
					t.Errorf("user %d: Sessions = %v; want nil", i, err)
					return
				}
				rec = next
			}
			sess.RefreshedAt = rec.IssuedAt
			sessions[i], lasts[i] = sess, rec
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
		h.wantSessions(sessions[i].UserID, h.now, sessions[i])
	}
}

// harness calls a store on behalf of one subtest and checks the answers.
type harness struct {
	t   *testing.T
	s   authstore.RefreshStore
	ctx context.Context
	now time.Time // the subtest's start, in UTC, truncated to microseconds
}

func newHarness(t *testing.T, s authstore.RefreshStore) *harness {
	return &harness{t: t, s: s, ctx: t.Context(), now: time.Now().UTC().Truncate(time.Microsecond)}
}

// newHash returns the hash of a new refresh token of userID: its routing
// key followed by 256 random bits, as the library makes them.
func newHash(userID string) authstore.TokenHash {
	var secret [32]byte
	rand.Read(secret[:])
	return authstore.HashToken(authstore.RouteFor(userID) + base64.RawURLEncoding.EncodeToString(secret[:]))
}

// newSession returns a session of userID signed in at created and its first
// token, not stored.
func newSession(userID string, created time.Time) (authstore.Session, authstore.RefreshRecord) {
	sess := authstore.Session{
		ID:          uuid.NewString(),
		UserID:      userID,
		CreatedAt:   created,
		ExpiresAt:   created.Add(sessionTTL),
		RefreshedAt: created,
		UserAgent:   "authtest/1.0",
		Address:     "192.0.2.1",
	}
	rec := authstore.RefreshRecord{
		Hash:      newHash(userID),
		SessionID: sess.ID,
		UserID:    userID,
		IssuedAt:  created,
		ExpiresAt: created.Add(tokenTTL),
	}
	return sess, rec
}

// successor returns a new token of prev's session issued at issued, not
// stored.
func successor(prev authstore.RefreshRecord, issued time.Time) authstore.RefreshRecord {
	return authstore.RefreshRecord{
		Hash:      newHash(prev.UserID),
		SessionID: prev.SessionID,
		UserID:    prev.UserID,
		IssuedAt:  issued,
		ExpiresAt: issued.Add(tokenTTL),
	}
}

// create stores sess and rec.
func (h *harness) create(sess authstore.Session, rec authstore.RefreshRecord) {
	h.t.Helper()
	if err := h.s.CreateSession(h.ctx, sess, rec); err != nil {
		h.t.Fatalf("CreateSession(session %s, token %s) = %v; want nil", sess.ID, short(rec.Hash), err)
	}
}

// login stores a new session of userID signed in at created and returns it
// with its first token.
func (h *harness) login(userID string, created time.Time) (authstore.Session, authstore.RefreshRecord) {
	h.t.Helper()
	sess, rec := newSession(userID, created)
	h.create(sess, rec)
	return sess, rec
}

// rotate calls Rotate and checks its answer.
func (h *harness) rotate(route string, old, expect authstore.TokenHash, next authstore.RefreshRecord, want bool) {
	h.t.Helper()
	ok, err := h.s.Rotate(h.ctx, route, old, expect, next)
	if err != nil {
		h.t.Fatalf("Rotate(%q, %s, expect %s, next %s) error = %v; want nil", route, short(old), short(expect), short(next.Hash), err)
	}
	if ok != want {
		h.t.Fatalf("Rotate(%q, %s, expect %s, next %s) = %v; want %v", route, short(old), short(expect), short(next.Hash), ok, want)
	}
}

// createRefused calls CreateSession with arguments that break its
// preconditions (what names them) and checks that it returned an error.
func (h *harness) createRefused(what string, sess authstore.Session, rec authstore.RefreshRecord) {
	h.t.Helper()
	if err := h.s.CreateSession(h.ctx, sess, rec); err == nil {
		h.t.Errorf("CreateSession(session %s, %s) = nil; want an error", sess.ID, what)
	}
}

// rotateRefused calls Rotate with a next that breaks its preconditions
// (what names it) and checks that it did not report a swap; it may return
// an error or false.
func (h *harness) rotateRefused(what, route string, old, expect authstore.TokenHash, next authstore.RefreshRecord) {
	h.t.Helper()
	if ok, err := h.s.Rotate(h.ctx, route, old, expect, next); ok {
		h.t.Errorf("Rotate(%q, %s, expect %s, %s) = true, %v; want false or an error", route, short(old), short(expect), what, err)
	}
}

// race calls Rotate(route, old.Hash, expect, next) from [racers] goroutines
// at once, each with its own next (issued at issued plus i microseconds),
// and returns the next of the one call that returned true and those of the
// others. It fails the test unless exactly one returned true.
func (h *harness) race(route string, old authstore.RefreshRecord, expect authstore.TokenHash, issued time.Time) (win authstore.RefreshRecord, lost []authstore.RefreshRecord) {
	h.t.Helper()
	nexts := make([]authstore.RefreshRecord, racers)
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

// revokeSession calls RevokeSession and checks found.
func (h *harness) revokeSession(userID, sessionID string, at time.Time, want bool) {
	h.t.Helper()
	found, err := h.s.RevokeSession(h.ctx, userID, sessionID, at)
	if err != nil {
		h.t.Fatalf("RevokeSession(%s, %s, %s) error = %v; want nil", userID, sessionID, fmtTime(at), err)
	}
	if found != want {
		h.t.Errorf("RevokeSession(%s, %s, %s) = %v; want %v", userID, sessionID, fmtTime(at), found, want)
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

// lookup returns the token hash of route and its session, failing the test
// when it is not found.
func (h *harness) lookup(route string, hash authstore.TokenHash) (authstore.RefreshRecord, authstore.Session) {
	h.t.Helper()
	rec, sess, found, err := h.s.Lookup(h.ctx, route, hash)
	if err != nil {
		h.t.Fatalf("Lookup(%q, %s) error = %v; want nil", route, short(hash), err)
	}
	if !found {
		h.t.Fatalf("Lookup(%q, %s) found = false; want true", route, short(hash))
	}
	return rec, sess
}

// wantMissing checks that Lookup does not find hash under route.
func (h *harness) wantMissing(route string, hash authstore.TokenHash) {
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
func (h *harness) wantRecord(want authstore.RefreshRecord) {
	h.t.Helper()
	route := authstore.RouteFor(want.UserID)
	got, _ := h.lookup(route, want.Hash)
	if d := diffRecord(got, want); d != "" {
		h.t.Errorf("Lookup(%q, %s) record: %s", route, short(want.Hash), d)
	}
}

// wantSession checks that Lookup of the token rec returns the session want.
func (h *harness) wantSession(rec authstore.RefreshRecord, want authstore.Session) {
	h.t.Helper()
	route := authstore.RouteFor(rec.UserID)
	_, got := h.lookup(route, rec.Hash)
	if d := diffSession(got, want); d != "" {
		h.t.Errorf("Lookup(%q, %s) session: %s", route, short(rec.Hash), d)
	}
}

// wantSessions checks that Sessions(userID, now) returns want, in order.
func (h *harness) wantSessions(userID string, now time.Time, want ...authstore.Session) {
	h.t.Helper()
	got, err := h.s.Sessions(h.ctx, userID, now)
	if err != nil {
		h.t.Fatalf("Sessions(%s, %s) error = %v; want nil", userID, fmtTime(now), err)
	}
	ids := func(sessions []authstore.Session) []string {
		out := make([]string, len(sessions))
		for i, sess := range sessions {
			out[i] = sess.ID
		}
		return out
	}
	if len(got) != len(want) {
		h.t.Errorf("Sessions(%s, %s) = %v; want %v", userID, fmtTime(now), ids(got), ids(want))
		return
	}
	for i := range got {
		if got[i].ID != want[i].ID {
			h.t.Errorf("Sessions(%s, %s) = %v; want %v (newest first)", userID, fmtTime(now), ids(got), ids(want))
			return
		}
		if d := diffSession(got[i], want[i]); d != "" {
			h.t.Errorf("Sessions(%s, %s)[%d]: %s", userID, fmtTime(now), i, d)
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

func (d *differ) hash(field string, got, want authstore.TokenHash) {
	if got != want {
		*d = append(*d, fmt.Sprintf("%s = %s; want %s", field, short(got), short(want)))
	}
}

func diffRecord(got, want authstore.RefreshRecord) string {
	var d differ
	d.hash("Hash", got.Hash, want.Hash)
	d.str("SessionID", got.SessionID, want.SessionID)
	d.str("UserID", got.UserID, want.UserID)
	d.time("IssuedAt", got.IssuedAt, want.IssuedAt)
	d.time("ExpiresAt", got.ExpiresAt, want.ExpiresAt)
	d.time("UsedAt", got.UsedAt, want.UsedAt)
	d.hash("Successor", got.Successor, want.Successor)
	return strings.Join(d, ", ")
}

func diffSession(got, want authstore.Session) string {
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
func short(h authstore.TokenHash) string {
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
