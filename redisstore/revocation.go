package redisstore

import (
	"context"
	"strconv"
	"time"

	"github.com/jwtkit/auth"
)

// Revoked implements [auth.RevocationChecker] with one script in the slot of
// the user's routing key, one round trip: it reports true when c's jti is
// denied for c's subject, or when c was issued before the subject's cutoff.
// A token with no IssuedAt counts as issued before any cutoff.
func (s *Store) Revoked(ctx context.Context, c *auth.Claims) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, wrap("revoked", err)
	}
	pre := s.cfg.routePrefix(auth.RouteFor(c.Subject))
	n, err := revokedScript.Run(ctx, s.rdb,
		[]string{pre + deniedKey + c.ID, pre + cutoffsKey},
		c.Subject, strconv.FormatInt(c.IssuedAt.UnixMicro(), 10),
	).Int64()
	if err != nil {
		return false, wrap("revoked", err)
	}
	return n == 1, nil
}

// DenyToken implements [auth.RevocationStore]: Revoked reports true for the
// token jti of userID from now on. Redis keeps the entry until exp plus
// [auth.MaxLeeway], because a verifier with a leeway still accepts the
// token that long after exp.
func (s *Store) DenyToken(ctx context.Context, userID, jti string, exp time.Time) error {
	if err := ctx.Err(); err != nil {
		return wrap("deny token", err)
	}
	pre := s.cfg.routePrefix(auth.RouteFor(userID))
	err := denyScript.Run(ctx, s.rdb, []string{pre + deniedKey + jti}, userID, expiry(exp, auth.MaxLeeway)).Err()
	return wrap("deny token", err)
}

// CutOff implements [auth.RevocationStore]: Revoked reports true for every
// token of userID issued before at, and a later call with an earlier at
// changes nothing. Redis keeps the cutoff until at plus [auth.MaxAccessTTL]
// plus [auth.MaxLeeway], when every token it refuses has expired.
func (s *Store) CutOff(ctx context.Context, userID string, at time.Time) error {
	if err := ctx.Err(); err != nil {
		return wrap("cutoff", err)
	}
	pre := s.cfg.routePrefix(auth.RouteFor(userID))
	err := cutOffScript.Run(ctx, s.rdb, []string{pre + cutoffsKey},
		userID, strconv.FormatInt(at.UnixMicro(), 10), expiry(at, auth.MaxAccessTTL+auth.MaxLeeway),
	).Err()
	return wrap("cutoff", err)
}
