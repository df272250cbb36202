package redisstore

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/jwtkit/auth/authstore"
)

var _ authstore.OneTimeStore = (*Store)(nil)

// errIncomplete is the error of SaveOneTime for a token without a purpose
// or a user.
var errIncomplete = errors.New("redisstore: one-time token without a purpose or a user id")

// SaveOneTime stores t in the slot of its user's routing key with one
// script, as [authstore.OneTimeStore] requires: the token's record, and an
// entry in the index of the route's tokens of t.Purpose. It returns an
// error, and stores nothing, when t.Purpose or t.UserID is empty, when
// t.Hash is the zero hash or t.ExpiresAt the zero time, or when a token of
// the same hash is stored under the routing key. Redis deletes the record
// by itself the expiry margin ([WithExpiryMargin]) after t.ExpiresAt, and
// the index with its last record; a t whose record would already be past
// that, by the Redis server's clock, is not stored at all, as Redis would
// delete it at once.
func (s *Store) SaveOneTime(ctx context.Context, t authstore.OneTimeToken) error {
	const op = "save one-time token"
	if err := ctx.Err(); err != nil {
		return wrap(op, err)
	}
	switch {
	case t.Purpose == "" || t.UserID == "":
		return fmt.Errorf("%w (purpose %q, user id %q)", errIncomplete, t.Purpose, t.UserID)
	case t.Hash == authstore.TokenHash{}:
		return errZeroHash
	case t.ExpiresAt.IsZero():
		return fmt.Errorf("%w: a one-time token needs ExpiresAt", errZeroTime)
	}
	pre := s.cfg.routePrefix(authstore.RouteFor(t.UserID))
	id := tokenID(t.Hash)
	code, err := saveOneTimeScript.Run(ctx, s.rdb,
		[]string{pre + oneTimeKey + id, pre + purposeKey + t.Purpose},
		id, t.UserID, t.Purpose, micro(t.ExpiresAt), expiry(t.ExpiresAt, s.cfg.margin),
	).Int64()
	if err != nil {
		return wrap(op, err)
	}
	switch code {
	case 0:
		return nil
	case 1:
		return errTokenExists
	}
	return wrap(op, errReply)
}

// ConsumeOneTime deletes the one-time token of hash h under route and
// returns it, in one script in the slot of route, when its Purpose is
// purpose and its ExpiresAt is after now, as [authstore.OneTimeStore]
// requires; now is the caller's clock, never the Redis server's. Otherwise
// it changes nothing and returns found false: a token of another purpose
// stays for its own. Of concurrent calls for one token, Redis runs the
// scripts one after another, so only the first finds it.
func (s *Store) ConsumeOneTime(ctx context.Context, route string, h authstore.TokenHash, purpose string, now time.Time) (t authstore.OneTimeToken, found bool, err error) {
	const op = "consume one-time token"
	if err := ctx.Err(); err != nil {
		return t, false, wrap(op, err)
	}
	if !validRoute(route) || h == (authstore.TokenHash{}) || purpose == "" {
		return t, false, nil
	}
	pre := s.cfg.routePrefix(route)
	id := tokenID(h)
	vals, err := consumeOneTimeScript.Run(ctx, s.rdb,
		[]string{pre + oneTimeKey + id, pre + purposeKey + purpose},
		id, purpose, strconv.FormatInt(now.UnixMicro(), 10),
	).Slice()
	if err != nil {
		return t, false, wrap(op, err)
	}
	if len(vals) == 0 {
		return t, false, nil
	}
	f, ok := stringVals(vals, 2)
	if !ok {
		return t, false, wrap(op, errReply)
	}
	t = authstore.OneTimeToken{Hash: h, UserID: f[0], Purpose: purpose}
	if !parseTimes(timeField{f[1], &t.ExpiresAt}) || t.ExpiresAt.IsZero() {
		return authstore.OneTimeToken{}, false, wrap(op, errReply)
	}
	return t, true, nil
}

// RevokeOneTime deletes every one-time token of userID whose Purpose is
// purpose, in one script in the slot of the user's routing key, and returns
// how many it deleted, as [authstore.OneTimeStore] requires. It counts a
// token past its ExpiresAt that Redis has not deleted yet; it leaves the
// tokens of other purposes and other users alone.
func (s *Store) RevokeOneTime(ctx context.Context, userID, purpose string) (int, error) {
	const op = "revoke one-time tokens"
	if err := ctx.Err(); err != nil {
		return 0, wrap(op, err)
	}
	pre := s.cfg.routePrefix(authstore.RouteFor(userID))
	n, err := revokeOneTimeScript.Run(ctx, s.rdb, []string{pre + purposeKey + purpose}, pre, userID, purpose).Int64()
	if err != nil {
		return 0, wrap(op, err)
	}
	return int(n), nil
}
