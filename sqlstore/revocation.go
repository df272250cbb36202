package sqlstore

import (
	"context"
	"errors"
	"time"

	"github.com/jwtkit/auth/authstore"
)

// Revoked reports whether the token tokenID of the session sessionID of
// userID, issued at issuedAt, is denied (by its own id or its session's) or
// issued before its user's cutoff, as
// [authstore.RevocationChecker] requires: one query, one round trip,
// reading the user's rows only. A cutoff compares with issuedAt to the
// microsecond.
func (s *Store) Revoked(ctx context.Context, userID, sessionID, tokenID string, issuedAt time.Time) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, fail(ctx, "revoked", err)
	}
	var revoked bool
	if sessionID == "" {
		sessionID = tokenID // no session: look for the token's id alone
	}
	err := s.db.QueryRowContext(ctx, s.q.revoked, authstore.RouteFor(userID), userID, s.dialect.timeArg(issuedAt), tokenID, sessionID).Scan(&revoked)
	if err != nil {
		return false, fail(ctx, "revoked", err)
	}
	return revoked, nil
}

// Deny makes Revoked report true for every token of userID whose id or
// session id is id, as [authstore.RevocationStore] requires; the entry is
// a row of the denied-tokens table (its column jti holds either kind of
// id). Denying an id twice keeps the later until. [Store.Purge] deletes the
// entry [authstore.MaxLeeway] after until, when no verifier accepts such a
// token any more.
func (s *Store) Deny(ctx context.Context, userID, id string, until time.Time) error {
	if err := ctx.Err(); err != nil {
		return fail(ctx, "deny", err)
	}
	if id == "" {
		return fail(ctx, "deny", errEmptyID)
	}
	if _, err := s.db.ExecContext(ctx, s.q.denyToken, authstore.RouteFor(userID), userID, id, s.dialect.timeArg(until)); err != nil {
		return fail(ctx, "deny", err)
	}
	return nil
}

// errEmptyID is the error of Deny without an id.
var errEmptyID = errors.New("empty id")

// CutOff makes Revoked report true for every token of userID issued before
// at, as [authstore.RevocationStore] requires. It is one upsert that keeps
// the later of the stored and the new cutoff, so a cutoff never moves back,
// even under concurrent calls. [Store.Purge] deletes the entry once at is
// older than [authstore.MaxAccessTTL] plus [authstore.MaxLeeway].
func (s *Store) CutOff(ctx context.Context, userID string, at time.Time) error {
	if err := ctx.Err(); err != nil {
		return fail(ctx, "cutoff", err)
	}
	if _, err := s.db.ExecContext(ctx, s.q.cutOff, authstore.RouteFor(userID), userID, s.dialect.timeArg(at)); err != nil {
		return fail(ctx, "cutoff", err)
	}
	return nil
}
