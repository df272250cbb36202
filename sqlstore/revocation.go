package sqlstore

import (
	"context"
	"time"

	"github.com/jwtkit/auth/authstore"
)

// Revoked reports whether the token tokenID of userID, issued at issuedAt,
// is denied or issued before its user's cutoff, as
// [authstore.RevocationChecker] requires: one query, one round trip,
// reading the user's rows only. A cutoff compares with issuedAt to the
// microsecond.
func (s *Store) Revoked(ctx context.Context, userID, tokenID string, issuedAt time.Time) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, fail(ctx, "revoked", err)
	}
	var revoked bool
	err := s.db.QueryRowContext(ctx, s.q.revoked, authstore.RouteFor(userID), userID, s.dialect.timeArg(issuedAt), tokenID).Scan(&revoked)
	if err != nil {
		return false, fail(ctx, "revoked", err)
	}
	return revoked, nil
}

// DenyToken makes Revoked report true for the token tokenID of userID, as
// [authstore.RevocationStore] requires. Denying a token twice keeps the
// later exp. [Store.Purge] deletes the entry [authstore.MaxLeeway] after
// exp, when no verifier accepts the token any more.
func (s *Store) DenyToken(ctx context.Context, userID, tokenID string, exp time.Time) error {
	if err := ctx.Err(); err != nil {
		return fail(ctx, "deny token", err)
	}
	if _, err := s.db.ExecContext(ctx, s.q.denyToken, authstore.RouteFor(userID), userID, tokenID, s.dialect.timeArg(exp)); err != nil {
		return fail(ctx, "deny token", err)
	}
	return nil
}

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
