package auth

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"time"
)

// TokenHash is the SHA-256 of a refresh token: the only form in which a
// store ever holds it.
type TokenHash [sha256.Size]byte

// HashRefreshToken returns the hash under which a store keeps token.
func HashRefreshToken(token string) TokenHash { return sha256.Sum256([]byte(token)) }

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

// Family is one login session: the chain of refresh tokens that started with
// one sign-in and continues through every rotation.
type Family struct {
	ID     string // random UUID
	UserID string
	// CreatedAt is the sign-in time.
	CreatedAt time.Time
	// ExpiresAt is the absolute end of the family: no rotation goes past it.
	ExpiresAt time.Time
	// RefreshedAt is when the newest token of the family was issued.
	RefreshedAt time.Time
	// RevokedAt is when the family was revoked; zero while live.
	RevokedAt time.Time
	// UserAgent and Address describe the client that signed in, for
	// "your sessions" screens. Both may be empty.
	UserAgent string
	Address   string
}

// Live reports whether the family is neither revoked nor expired at now.
func (f *Family) Live(now time.Time) bool {
	return f.RevokedAt.IsZero() && now.Before(f.ExpiresAt)
}

// RefreshRecord is the stored state of one refresh token.
type RefreshRecord struct {
	Hash     TokenHash
	FamilyID string
	UserID   string
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

// RefreshStore keeps refresh-token families. The library decides what a
// presented token means (valid, expired, reused); a store only keeps records
// and performs the few atomic operations below.
// [github.com/jwtkit/auth/authtest.TestRefreshStore] runs every clause of
// this contract against an implementation.
//
// Every method must be safe for concurrent use, take ctx first and honour
// its cancellation. An error return means a system failure (unreachable
// database, cancelled context) or a call that breaks a precondition stated
// below (a duplicate id or hash, a record of another family); a missing
// record is reported with found == false and a nil error, never with an
// error.
//
// Times are kept to the microsecond at least and come back equal
// ([time.Time.Equal]) to what was stored. A store keeps every record at least
// until Purge deletes it; a store whose database expires keys by itself sets
// their lifetime some time past ExpiresAt (a minute is plenty), so that
// Lookup still reports a just-expired record as it is.
//
// Partitioning: every method touches one user's data only. Methods that
// start from a token receive its routing key (the token's first [RouteLen]
// characters); the others receive the user id, whose routing key is
// [RouteFor](userID). A store partitioned by routing key therefore runs each
// operation in one partition. A token is found under its own routing key
// only.
type RefreshStore interface {
	// CreateFamily stores a new family and its first token, rec, whose
	// FamilyID and UserID equal fam's, atomically. The family id and the
	// token hash must not exist under the user's routing key yet (a
	// partitioned store can only check within the partition). A store may cap the number
	// of families per user by evicting the oldest, but must allow at least
	// ten.
	CreateFamily(ctx context.Context, fam Family, rec RefreshRecord) error

	// Lookup returns the record of the token with hash h in the partition
	// route, and its family. found is false (and err nil) when there is no
	// such token or its family is gone. Expired, used and revoked records
	// are returned as they are: judging them is the caller's job.
	Lookup(ctx context.Context, route string, h TokenHash) (rec RefreshRecord, fam Family, found bool, err error)

	// Rotate is the atomic compare-and-swap at the heart of refresh-token
	// rotation. In one indivisible step it checks that
	//   - the token old exists in the partition route,
	//   - its family is not revoked,
	//   - when expect is the zero hash: old is unused (UsedAt zero);
	//   - when expect is not zero: old's Successor equals expect, and the
	//     token expect exists in the same family and is unused;
	// and only then it
	//   - sets old's UsedAt to next.IssuedAt if it was zero, and old's
	//     Successor to next.Hash,
	//   - marks the token expect, if not zero, used at next.IssuedAt with no
	//     successor (superseded),
	//   - stores next (a new token of the same family and user), and
	//   - sets the family's RefreshedAt to next.IssuedAt,
	// returning true. If any check fails it changes nothing and returns
	// false with a nil error. Of any number of concurrent Rotate calls with
	// the same old and expect that would each pass the checks alone, exactly
	// one returns true. Expiry is the caller's concern: Rotate does not
	// check it.
	Rotate(ctx context.Context, route string, old, expect TokenHash, next RefreshRecord) (bool, error)

	// RevokeFamily marks the family familyID of userID revoked at the time
	// at, unless it is already revoked (then the first time stays). It
	// returns found == false when userID has no such family. Its tokens stay
	// stored, so presenting one is recognised until the family is purged.
	RevokeFamily(ctx context.Context, userID, familyID string, at time.Time) (found bool, err error)

	// RevokeUser marks every family of userID that is live at the time at
	// revoked at that time, and returns how many it revoked.
	RevokeUser(ctx context.Context, userID string, at time.Time) (int, error)

	// Families returns the families of userID that are live at now (not
	// revoked, ExpiresAt after now), newest CreatedAt first.
	Families(ctx context.Context, userID string, now time.Time) ([]Family, error)

	// Purge deletes at most limit items that can never be honoured again
	// and returns how many it deleted. An item is a family that is revoked
	// or whose ExpiresAt is at or before now, deleted with all its tokens
	// (a store may count each deleted row instead), or a token whose
	// ExpiresAt is at or before now. It returns less than limit only when
	// nothing purgeable is left, so callers loop until then. limit must be
	// at least 1. One call must not block Rotate for longer than its own
	// batch.
	Purge(ctx context.Context, now time.Time, limit int) (int, error)
}
