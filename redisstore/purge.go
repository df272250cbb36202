package redisstore

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
)

// purgeRoutes is how many routes one round of [Store.Purge] visits at most.
const purgeRoutes = 64

// announce lowers the score of route in the purge index to score (us), or
// adds route with it. A lower score than needed is always safe: Purge then
// visits the route early, finds nothing due, and raises the score.
func (s *Store) announce(ctx context.Context, route, score string) error {
	f, err := strconv.ParseFloat(score, 64)
	if err != nil {
		return errReply
	}
	return s.rdb.ZAddLT(ctx, s.purgeKey, redis.Z{Score: f, Member: route}).Err()
}

// confirm announces the bound that a script has just recorded for route, if
// any. It runs after a change that is already done, so its failure (a
// cancelled ctx included) is ignored: the route then waits in the purge
// index under the score it had, and Redis still expires its records by
// itself.
func (s *Store) confirm(ctx context.Context, route, bound string) {
	if bound != "" {
		_ = s.announce(ctx, route, bound)
	}
}

// Purge deletes at most limit items that can never be honoured again, as
// [authstore.RefreshStore] and [authstore.RevocationStore] require (one
// Purge serves both), and returns how many it deleted. An item is a
// session that is revoked or whose ExpiresAt is at or before now, deleted
// with all its tokens and counted once; a token whose ExpiresAt is at or
// before now, in a session that stays; or the index entry of a record that
// Redis has already expired by itself. Revocation entries are never among
// them: Redis expires each by itself once it can no longer matter. Nor are
// one-time tokens ([Store.SaveOneTime]): Redis deletes each record by
// itself the expiry margin after its ExpiresAt, and its index with the
// last record, as [authstore.OneTimeStore] allows, so Purge neither
// deletes nor counts them. It returns less than limit only when nothing is
// left to delete. A limit below 1 is an error.
//
// Purge finds the routing keys with due items in the purge index, a sorted
// set in a slot of its own, and deletes each route's items with one script
// in that route's slot, so it never holds up the rotations of other users,
// and those of one user only for the route's share of the batch. One call
// takes a few round trips per 64 routes.
func (s *Store) Purge(ctx context.Context, now time.Time, limit int) (int, error) {
	const op = "purge"
	if err := ctx.Err(); err != nil {
		return 0, wrap(op, err)
	}
	if limit < 1 {
		return 0, fmt.Errorf("redisstore: purge limit %d; want at least 1", limit)
	}
	nowUS := strconv.FormatInt(now.UnixMicro(), 10)
	n := 0
	for n < limit {
		rem := limit - n
		routes, err := s.rdb.ZRangeArgs(ctx, redis.ZRangeArgs{
			Key: s.purgeKey, Start: "-inf", Stop: nowUS, ByScore: true, Count: int64(min(rem, purgeRoutes)),
		}).Result()
		if err != nil {
			return n, wrap(op, err)
		}
		if len(routes) == 0 {
			break
		}
		deleted, err := s.purgeRoutes(ctx, routes, nowUS, rem/len(routes))
		n += deleted
		if err != nil {
			return n, wrap(op, err)
		}
	}
	return n, nil
}

// routeBound is the bound of a route after its purge script: the earliest
// due time left, "" when nothing is.
type routeBound struct {
	route, bound string
}

// purgeRoutes purges up to share items from each of routes and moves each
// route in the purge index to the bound its script leaves. It returns the
// number of items deleted.
func (s *Store) purgeRoutes(ctx context.Context, routes []string, nowUS string, share int) (int, error) {
	keys := func(route string) []string {
		pre := s.cfg.routePrefix(route)
		return []string{pre + dueKey, pre + boundKey, pre + sessionsKey}
	}
	cmds := make([]*redis.Cmd, len(routes))
	var invalid []any
	_, _ = s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, route := range routes {
			if !validRoute(route) {
				invalid = append(invalid, route)
				continue
			}
			cmds[i] = purgeRouteScript.EvalSha(ctx, p, keys(route), s.cfg.routePrefix(route), nowUS, share)
		}
		return nil
	})
	if len(invalid) > 0 {
		if err := s.rdb.ZRem(ctx, s.purgeKey, invalid...).Err(); err != nil {
			return 0, err
		}
	}
	var (
		n      int
		done   []routeBound
		failed error
	)
	for i, cmd := range cmds {
		if cmd == nil {
			continue
		}
		if redis.HasErrorPrefix(cmd.Err(), "NOSCRIPT") {
			route := routes[i]
			cmd = purgeRouteScript.Run(ctx, s.rdb, keys(route), s.cfg.routePrefix(route), nowUS, share)
		}
		vals, err := cmd.Slice()
		if err == nil {
			var count int64
			var bound string
			if count, bound, err = codeBound(vals); err == nil {
				n += int(count)
				done = append(done, routeBound{routes[i], bound})
				continue
			}
		}
		failed = firstErr(failed, err)
	}
	if s.afterPurgeScripts != nil {
		s.afterPurgeScripts()
	}
	if err := s.publish(ctx, done); err != nil {
		return n, err
	}
	return n, failed
}

// firstErr returns the first non-nil error of a and b.
func firstErr(a, b error) error {
	if a != nil {
		return a
	}
	return b
}

// publish sets the score of each route in the purge index to the bound
// that the route's purge script left, or removes the route when nothing is
// left. That may raise a score above the bound of a change made meanwhile,
// so publish reads each route's bound again afterwards and lowers the score
// to it where it is lower: the score of a route never stays above the
// earliest due time of its items, whatever runs concurrently.
func (s *Store) publish(ctx context.Context, done []routeBound) error {
	if len(done) == 0 {
		return nil
	}
	_, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for _, d := range done {
			if d.bound == "" {
				p.ZRem(ctx, s.purgeKey, d.route)
				continue
			}
			f, err := strconv.ParseFloat(d.bound, 64)
			if err != nil {
				return errReply
			}
			p.ZAdd(ctx, s.purgeKey, redis.Z{Score: f, Member: d.route})
		}
		return nil
	})
	if err != nil {
		return err
	}
	gets := make([]*redis.StringCmd, len(done))
	_, _ = s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, d := range done {
			gets[i] = p.Get(ctx, s.cfg.routePrefix(d.route)+boundKey)
		}
		return nil
	})
	var lower []routeBound
	for i, d := range done {
		b, err := gets[i].Result()
		if errors.Is(err, redis.Nil) {
			continue
		}
		if err != nil {
			return err
		}
		if d.bound == "" || less(b, d.bound) {
			lower = append(lower, routeBound{d.route, b})
		}
	}
	if len(lower) == 0 {
		return nil
	}
	_, err = s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for _, l := range lower {
			f, err := strconv.ParseFloat(l.bound, 64)
			if err != nil {
				return errReply
			}
			p.ZAddLT(ctx, s.purgeKey, redis.Z{Score: f, Member: l.route})
		}
		return nil
	})
	return err
}

// less compares two decimal scores.
func less(a, b string) bool {
	x, err1 := strconv.ParseFloat(a, 64)
	y, err2 := strconv.ParseFloat(b, 64)
	return err1 == nil && err2 == nil && x < y
}
