package authstore

import (
	"context"
	"time"
)

// Bounds that the library guarantees to every store: no access token lives
// longer than MaxAccessTTL, and no verifier accepts one later than
// MaxLeeway past its exp. Revocation entries may be dropped once they can no
// longer matter by these bounds.
const (
	// MaxAccessTTL is the longest access token lifetime the library issues
	// or accepts.
	MaxAccessTTL = 24 * time.Hour
	// MaxLeeway is the largest clock-skew leeway the library accepts.
	MaxLeeway = 5 * time.Minute
)

// RevocationChecker decides whether an access token that is otherwise valid
// has been revoked: its own id (jti) or its session's id (sid) denied, or a
// per-user cutoff ("every token issued to this user before now is
// invalid"). The verifier consults it on every request, after the signature
// and the claims have been checked.
//
// Revoked returns true when the token with id tokenID, of the session
// sessionID ("" for a token issued outside a session), issued to userID at
// issuedAt, must be refused, and a non-nil error only when it cannot tell
// (a store is unreachable). The verifier then fails closed: the request is
// refused with HTTP 503, never let through and never reported as a bad
// token. issuedAt has microsecond precision for tokens the library issued,
// so a token issued in the same second just after a cutoff stays valid.
// Revoked must be safe for concurrent use and fast: it runs on every
// authenticated request, and a store answers it in one round trip.
type RevocationChecker interface {
	Revoked(ctx context.Context, userID, sessionID, tokenID string, issuedAt time.Time) (bool, error)
}

// RevocationStore is a [RevocationChecker] that also records revocations of
// access tokens. Logout denies one token's id and its session's id; logout
// everywhere sets a per-user cutoff. Instances that share a store see a
// revocation at once.
// github.com/jwtkit/auth/authtest.TestRevocationStore runs every clause of
// this contract against an implementation.
//
// Every method must be safe for concurrent use; errors are for system
// failures only. Both kinds of entry are keyed by user, so a store
// partitioned by [RouteFor](userID) answers Revoked from one partition, in
// one round trip.
type RevocationStore interface {
	RevocationChecker

	// Deny makes Revoked report true for every token of userID whose
	// tokenID or sessionID is id (token and session ids are random UUIDs,
	// so they never collide), until at least until. The entry may be
	// dropped once until plus [MaxLeeway] has passed (no verifier accepts
	// such a token by then). Denying an id again keeps the later until; id
	// is never empty.
	Deny(ctx context.Context, userID, id string, until time.Time) error

	// CutOff makes Revoked report true for every token of userID whose
	// issuedAt is before at. A cutoff never moves back: a call with an
	// earlier time than the current cutoff changes nothing. The entry may be
	// dropped once at is older than [MaxAccessTTL] plus [MaxLeeway].
	CutOff(ctx context.Context, userID string, at time.Time) error

	// Purge deletes at most limit entries that can no longer matter at now
	// (by the bounds above) and returns how many it deleted; it returns
	// less than limit only when nothing purgeable is left. A store whose
	// database expires entries by itself may return 0. Entries that still
	// matter are never deleted. A value that is also a [RefreshStore] has
	// one Purge for both contracts.
	Purge(ctx context.Context, now time.Time, limit int) (int, error)
}
