package redisstore

import (
	"context"
	"errors"
	"strconv"
	"time"

	"github.com/jwtkit/auth/authstore"
)

// Revoked implements [authstore.RevocationChecker] with one script in the
// slot of the user's routing key, one round trip: it reports true when
// tokenID or sessionID is denied for userID, or when the token was issued
// (issuedAt) before the user's cutoff. A zero issuedAt counts as issued
// before any cutoff.
func (s *Store) Revoked(ctx context.Context, userID, sessionID, tokenID string, issuedAt time.Time) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, wrap("revoked", err)
	}
	pre := s.cfg.routePrefix(authstore.RouteFor(userID))
	sessionKey := pre + deniedKey + tokenID // a token of no session: the same key twice
	if sessionID != "" {
		sessionKey = pre + deniedKey + sessionID
	}
	n, err := revokedScript.Run(ctx, s.rdb,
		[]string{pre + deniedKey + tokenID, sessionKey, pre + cutoffsKey},
		userID, strconv.FormatInt(issuedAt.UnixMicro(), 10),
	).Int64()
	if err != nil {
		return false, wrap("revoked", err)
	}
	return n == 1, nil
}

// Deny implements [authstore.RevocationStore]: Revoked reports true for
// every token of userID whose id or session id is id from now on. Redis
// keeps the entry until until plus [authstore.MaxLeeway], because a
// verifier with a leeway still accepts such a token that long after its
// exp.
func (s *Store) Deny(ctx context.Context, userID, id string, until time.Time) error {
	if err := ctx.Err(); err != nil {
		return wrap("deny", err)
	}
	if id == "" {
		return wrap("deny", errEmptyID)
	}
	pre := s.cfg.routePrefix(authstore.RouteFor(userID))
	err := denyScript.Run(ctx, s.rdb, []string{pre + deniedKey + id}, userID, expiry(until, authstore.MaxLeeway)).Err()
	return wrap("deny", err)
}

// errEmptyID is the error of Deny without an id.
var errEmptyID = errors.New("empty id")

// CutOff implements [authstore.RevocationStore]: Revoked reports true for
// every token of userID issued before at, and a later call with an earlier
// at changes nothing. Redis keeps the cutoff until at plus
// [authstore.MaxAccessTTL] plus [authstore.MaxLeeway], when every token it
// refuses has expired.
func (s *Store) CutOff(ctx context.Context, userID string, at time.Time) error {
	if err := ctx.Err(); err != nil {
		return wrap("cutoff", err)
	}
	pre := s.cfg.routePrefix(authstore.RouteFor(userID))
	err := cutOffScript.Run(ctx, s.rdb, []string{pre + cutoffsKey},
		userID, strconv.FormatInt(at.UnixMicro(), 10), expiry(at, authstore.MaxAccessTTL+authstore.MaxLeeway),
	).Err()
	return wrap("cutoff", err)
}
