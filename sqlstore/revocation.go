package sqlstore

import (
	"context"
	"time"

	"github.com/jwtkit/auth"
)

// Revoked reports whether the access token c is denied or issued before
// its user's cutoff, as [auth.RevocationChecker] requires: one query, one
// round trip, reading the user's rows only. A cutoff compares with
// c.IssuedAt to the microsecond.
func (s *Store) Revoked(ctx context.Context, c *auth.Claims) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, fail(ctx, "revoked", err)
	}
	var revoked bool
	err := s.db.QueryRowContext(ctx, s.q.revoked, auth.RouteFor(c.Subject), c.Subject, s.dialect.timeArg(c.IssuedAt), c.ID).Scan(&revoked)
	if err != nil {
		return false, fail(ctx, "revoked", err)
	}
	return revoked, nil
}

// DenyToken makes Revoked report true for the token jti of userID, as
// [auth.RevocationStore] requires. Denying a token twice keeps the later
// exp. [Store.Purge] deletes the entry [auth.MaxLeeway] after exp, when no
// verifier accepts the token any more.
func (s *Store) DenyToken(ctx context.Context, userID, jti string, exp time.Time) error {
	if err := ctx.Err(); err != nil {
		return fail(ctx, "deny token", err)
	}
	if _, err := s.db.ExecContext(ctx, s.q.denyToken, auth.RouteFor(userID), userID, jti, s.dialect.timeArg(exp)); err != nil {
		return fail(ctx, "deny token", err)
	}
	return nil
}

// CutOff makes Revoked report true for every token of userID issued before
// at, as [auth.RevocationStore] requires. It is one upsert that keeps the
// later of the stored and the new cutoff, so a cutoff never moves back,
// even under concurrent calls. [Store.Purge] deletes the entry once at is
// older than [auth.MaxAccessTTL] plus [auth.MaxLeeway].
func (s *Store) CutOff(ctx context.Context, userID string, at time.Time) error {
	if err := ctx.Err(); err != nil {
		return fail(ctx, "cutoff", err)
	}
	if _, err := s.db.ExecContext(ctx, s.q.cutOff, auth.RouteFor(userID), userID, s.dialect.timeArg(at)); err != nil {
		return fail(ctx, "cutoff", err)
	}
	return nil
}
