package authstore

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"time"
)

// TokenHash is the SHA-256 of a refresh token: the only form in which a
// store ever holds it.
type TokenHash [sha256.Size]byte

// HashToken returns the hash under which a store keeps the refresh token
// token.
func HashToken(token string) TokenHash { return sha256.Sum256([]byte(token)) }

// RouteLen is the length of the routing prefix that begins every refresh
// token (see [RouteFor]).
const RouteLen = 12

// routeLabel separates the routing digest from any other use of SHA-256.
const routeLabel = "jwtkit auth: refresh route v1\x00"

// RouteFor returns the routing key of userID: 12 base64url characters (72
// bits of a SHA-256 of the id), not secret and useless for guessing
// anything. Every refresh token of the user begins with it, so a store
// partitioned by user (a Redis Cluster hash tag, a distribution column) can
// find the partition of a presented token without a global index, and every
// atomic operation touches one user's partition only.
func RouteFor(userID string) string {
	sum := sha256.Sum256([]byte(routeLabel + userID))
	return base64.RawURLEncoding.EncodeToString(sum[:9])
}

// Session is one sign-in: the chain of refresh tokens that started with it
// and continues through every rotation. Revoking a session kills all its
// tokens at once.
type Session struct {
	ID     string // random UUID
	UserID string
	// CreatedAt is the sign-in time.
	CreatedAt time.Time
	// ExpiresAt is the absolute end of the session: no rotation goes past it.
	ExpiresAt time.Time
	// RefreshedAt is when the newest token of the session was issued.
	RefreshedAt time.Time
	// RevokedAt is when the session was revoked; zero while live.
	RevokedAt time.Time
	// UserAgent and Address describe the client that signed in, for
	// "your sessions" screens. Both may be empty.
	UserAgent string
	Address   string
}

// Live reports whether the session is neither revoked nor expired at now.
func (s *Session) Live(now time.Time) bool {
	return s.RevokedAt.IsZero() && now.Before(s.ExpiresAt)
}

// RefreshRecord is the stored state of one refresh token.
type RefreshRecord struct {
	Hash      TokenHash
	SessionID string
	UserID    string
	// IssuedAt and ExpiresAt bound the token's own (sliding) lifetime.
	IssuedAt  time.Time
	ExpiresAt time.Time
	// UsedAt is when the token was rotated or superseded; zero while unused.
	UsedAt time.Time
	// Successor is the hash of the token that replaced this one by rotation.
	// It is the zero hash for an unused token, and for a superseded one (an
	// unused successor that a grace-window rotation replaced).
	Successor TokenHash
}

// Used reports whether the token was rotated or superseded.
func (r *RefreshRecord) Used() bool { return !r.UsedAt.IsZero() }

// HasSuccessor reports whether the token was rotated into a successor.
func (r *RefreshRecord) HasSuccessor() bool { return r.Successor != TokenHash{} }

// MinKeptTokens is how many used tokens of a session, the last ones before
// its unused token, a [RefreshStore] keeps at least: a client that presents
// one of them is caught reusing a token, and the library revokes the
// session. An older used token may have been deleted, and is then refused
// as unknown. A session that rotates once a minute thus keeps reuse
// detection for at least a quarter of an hour of its history; an attacker
// who holds a stolen token longer than MinKeptTokens rotations still
// cannot use it, since it was used (or deleted).
const MinKeptTokens = 16

// RefreshStore keeps sessions and their refresh tokens. The library decides
// what a presented token means (valid, expired, reused); a store only keeps
// records and performs the few atomic operations below.
// github.com/jwtkit/auth/authtest.TestRefreshStore runs every clause of
// this contract against an implementation.
//
// Every method must be safe for concurrent use, take ctx first and honour
// its cancellation. An error return means a system failure (unreachable
// database, cancelled context) or a call that breaks a precondition stated
// below (a duplicate id or hash, a record of another session); a missing
// record is reported with found == false and a nil error, never with an
// error. A call refused for a broken precondition changes nothing.
//
// Times are kept to the microsecond at least and come back equal
// ([time.Time.Equal]) to what was stored. A store keeps every record at least
// until Purge deletes it, or the bound on chains below lets a token go; a store whose database expires keys by itself sets
// their lifetime some time past ExpiresAt (a minute is plenty), so that
// Lookup still reports a just-expired record as it is.
//
// Chains are bounded: of each session, a store keeps at least the token it
// stored last (by CreateSession, then by each successful Rotate), which is
// the session's unused one, and the [MinKeptTokens] used tokens stored
// before it, so that presenting any of those is still recognised as reuse. It may delete older tokens of the session as
// rotation proceeds; a deleted token is unknown (Lookup reports found ==
// false, Rotate false). A store keeps only a bounded number of tokens of a
// session however often it rotates, and documents the number.
//
// Writes are bounded too: in a store that many clients share, no single
// database operation that writes or deletes (a statement, a script) should
// grow with the number of rotations of a session, which the bound above
// caps, or with the number of sessions of a user, so that no operation
// holds up the others for long. RevokeUser, whose work grows with the
// sessions of a user, may run in batches of a bounded size (see below).
//
// Partitioning: every method touches one user's data only. Methods that
// start from a token receive its routing key (the token's first [RouteLen]
// characters); the others receive the user id, whose routing key is
// [RouteFor](userID). A store partitioned by routing key therefore runs each
// operation in one partition. A token is found under its own routing key
// only.
type RefreshStore interface {
	// CreateSession stores a new session and its first token, rec, whose
	// SessionID and UserID equal sess's, atomically. It returns an error,
	// and stores nothing, when rec belongs to another session or user, or
	// when the session id or the token hash already exists under the
	// user's routing key (a partitioned store can only check within the
	// partition). A store may cap the number of sessions per user by
	// evicting the oldest, but must allow at least ten.
	CreateSession(ctx context.Context, sess Session, rec RefreshRecord) error

	// Lookup returns the record of the token with hash h in the partition
	// route, and its session. found is false (and err nil) when there is
	// no such token or its session is gone. Expired, used and revoked
	// records are returned as they are: judging them is the caller's job.
	Lookup(ctx context.Context, route string, h TokenHash) (rec RefreshRecord, sess Session, found bool, err error)

	// Rotate is the atomic compare-and-swap at the heart of refresh-token
	// rotation. In one indivisible step it checks that
	//   - the token old exists in the partition route,
	//   - its session is not revoked,
	//   - next belongs to old's session and user, and its hash is not
	//     stored yet,
	//   - when expect is the zero hash: old is unused (UsedAt zero);
	//   - when expect is not zero: old's Successor equals expect, and the
	//     token expect exists in the same session and is unused;
	// and only then it
	//   - sets old's UsedAt to next.IssuedAt if it was zero, and old's
	//     Successor to next.Hash,
	//   - marks the token expect, if not zero, used at next.IssuedAt with no
	//     successor (superseded),
	//   - stores next, and
	//   - sets the session's RefreshedAt to next.IssuedAt,
	// returning true. If a check on the stored state fails (old missing,
	// used or revoked, expect not the unused successor) it changes nothing
	// and returns false with a nil error; a next of another session or
	// user, or with a hash already stored, breaks a precondition: it
	// changes nothing and returns an error (or false). Of any number of
	// concurrent Rotate calls with the same old and expect that would each
	// pass the checks alone, exactly one returns true. Expiry is the
	// caller's concern: Rotate does not check it. After a swap, a store
	// may delete the session's tokens stored before its newest one and the
	// [MinKeptTokens] before that, old included (see "Chains are bounded"
	// in the interface's documentation).
	Rotate(ctx context.Context, route string, old, expect TokenHash, next RefreshRecord) (bool, error)

	// RevokeSession marks the session sessionID of userID revoked at the
	// time at, unless it is already revoked (then the first time stays). It
	// returns found == false when userID has no such session. Its tokens
	// stay stored (its unused one and at least [MinKeptTokens] used ones),
	// so presenting one is recognised until the session is purged.
	RevokeSession(ctx context.Context, userID, sessionID string, at time.Time) (found bool, err error)

	// RevokeUser marks every session of userID that is live at the time at
	// revoked at that time, and returns how many it revoked. It need not be
	// atomic: a store may revoke the sessions in batches, and a session
	// created while RevokeUser runs may stay live. Every session that is
	// live at at and stays stored throughout the call is revoked by the
	// time it returns nil, and each session it revoked is counted once.
	// On an error some sessions may be revoked already.
	RevokeUser(ctx context.Context, userID string, at time.Time) (int, error)

	// Sessions returns the sessions of userID that are live at now (not
	// revoked, ExpiresAt after now), newest CreatedAt first.
	Sessions(ctx context.Context, userID string, now time.Time) ([]Session, error)

	// Purge deletes at most limit items that can never be honoured again
	// and returns how many it deleted. An item is a session that is revoked
	// or whose ExpiresAt is at or before now, deleted with all its tokens
	// (a store may count each deleted row instead), or a token whose
	// ExpiresAt is at or before now. It returns less than limit only when
	// nothing purgeable is left, so callers loop until then. limit must be
	// at least 1. One call must not block Rotate for longer than its own
	// batch.
	Purge(ctx context.Context, now time.Time, limit int) (int, error)
}
