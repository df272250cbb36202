package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/jwtkit/auth/authstore"
)

var _ authstore.OneTimeStore = (*Store)(nil)

// Errors of SaveOneTime calls that break its preconditions.
var (
	errNoPurpose = errors.New("empty purpose")
	errNoUser    = errors.New("empty user id")
)

// SaveOneTime stores the single-use token t, as [authstore.OneTimeStore]
// requires: one INSERT into the one-time tokens table, under the routing
// key of t.UserID. It returns an error, and stores nothing, when t.UserID or
// t.Purpose is empty, or when a token of the same hash is stored under that
// routing key (the database's primary key refuses the duplicate). t's
// ExpiresAt is kept to the microsecond; [Store.Purge] deletes the record
// once it has expired.
func (s *Store) SaveOneTime(ctx context.Context, t authstore.OneTimeToken) error {
	if err := ctx.Err(); err != nil {
		return fail(ctx, "save one-time token", err)
	}
	if t.UserID == "" {
		return fail(ctx, "save one-time token", errNoUser)
	}
	if t.Purpose == "" {
		return fail(ctx, "save one-time token", errNoPurpose)
	}
	_, err := s.db.ExecContext(ctx, s.q.saveOneTime,
		authstore.RouteFor(t.UserID), t.Hash[:], t.UserID, t.Purpose, s.dialect.timeArg(t.ExpiresAt))
	if err != nil {
		return fail(ctx, "save one-time token", err)
	}
	return nil
}

// ConsumeOneTime deletes the token of hash h stored under route when its
// purpose is purpose and its ExpiresAt is after now, and returns it with
// found true, as [authstore.OneTimeStore] requires. It is one statement
// (DELETE ... RETURNING), so the check and the deletion are one atomic step:
// of concurrent calls for one token, at most one finds it. A token that is
// unknown, consumed already, expired at now, stored under another route or
// kept for another purpose is not found, with a nil error, and a token of
// another purpose stays as it was.
func (s *Store) ConsumeOneTime(ctx context.Context, route string, h authstore.TokenHash, purpose string, now time.Time) (t authstore.OneTimeToken, found bool, err error) {
	if err := ctx.Err(); err != nil {
		return authstore.OneTimeToken{}, false, fail(ctx, "consume one-time token", err)
	}
	err = s.db.QueryRowContext(ctx, s.q.consumeOneTime, route, h[:], purpose, s.dialect.timeArg(now)).
		Scan(&t.UserID, timeCol{&t.ExpiresAt})
	if errors.Is(err, sql.ErrNoRows) {
		return authstore.OneTimeToken{}, false, nil
	}
	if err != nil {
		return authstore.OneTimeToken{}, false, fail(ctx, "consume one-time token", err)
	}
	t.Hash, t.Purpose = h, purpose
	return t, true, nil
}

// RevokeOneTime deletes every one-time token of userID kept for purpose,
// expired or not, in one statement under the user's routing key, and
// returns how many it deleted, as [authstore.OneTimeStore] requires. Tokens
// of other purposes and of other users stay.
func (s *Store) RevokeOneTime(ctx context.Context, userID, purpose string) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, fail(ctx, "revoke one-time tokens", err)
	}
	res, err := s.db.ExecContext(ctx, s.q.revokeOneTime, authstore.RouteFor(userID), userID, purpose)
	if err != nil {
		return 0, fail(ctx, "revoke one-time tokens", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fail(ctx, "revoke one-time tokens", err)
	}
	return int(n), nil
}
