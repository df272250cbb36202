package authstore

import (
	"context"
	"time"
)

// OneTimeToken is the stored record of a single-use token: the token that
// a password-reset or e-mail-verification link carries. A store never holds
// the token itself, only its hash. Like a refresh token, the token begins
// with [RouteFor] of its user, so its record lives in the user's partition.
type OneTimeToken struct {
	Hash   TokenHash
	UserID string
	// Purpose binds the token to one use ("password_reset",
	// "email_verify"); it is never empty.
	Purpose string
	// ExpiresAt is the end of the token's short life.
	ExpiresAt time.Time
}

// OneTimeStore keeps single-use tokens. The library makes the tokens (256
// random bits behind the routing key), decides their purpose and lifetime,
// and consumes each one at most once; a store keeps the records and makes
// consumption atomic.
// github.com/jwtkit/auth/authtest.TestOneTimeStore runs every clause of
// this contract against an implementation.
//
// Every method must be safe for concurrent use, take ctx first and honour
// its cancellation; errors are for system failures, and for a call that
// breaks a precondition below. Times are kept to the microsecond at least.
// Every method touches one user's partition: ConsumeOneTime receives the
// token's routing key, the others the user id (whose routing key is
// [RouteFor](userID)). A store keeps an unconsumed record at least until its
// ExpiresAt; after that it may delete it at any time (a database that
// expires keys by itself, or Purge). A value that is also a [RefreshStore]
// or a [RevocationStore] deletes expired records in its one Purge, and
// counts each.
type OneTimeStore interface {
	// SaveOneTime stores t. It returns an error, and stores nothing, when
	// a record of the same hash exists in the user's partition, or when
	// t.Purpose or t.UserID is empty.
	SaveOneTime(ctx context.Context, t OneTimeToken) error

	// ConsumeOneTime, in one indivisible step, finds the record of hash h
	// in the partition route and, when its Purpose is purpose and its
	// ExpiresAt is after now, deletes it and returns it with found true.
	// Otherwise (no such record, consumed already, expired, another
	// purpose) it returns found false and a nil error, and a record of
	// another purpose that has not expired stays usable for its own
	// purpose. Of any number of concurrent calls for one token, at most
	// one returns found true.
	ConsumeOneTime(ctx context.Context, route string, h TokenHash, purpose string, now time.Time) (t OneTimeToken, found bool, err error)

	// RevokeOneTime deletes every record of userID whose Purpose is
	// purpose (a password change kills the reset links already sent) and
	// returns how many it deleted; records of other purposes and other
	// users stay.
	RevokeOneTime(ctx context.Context, userID, purpose string) (int, error)
}
