package redisstore

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/jwtkit/auth/authstore"
)

// Throttle is an [authstore.Throttle] kept in Redis, so that every
// instance sharing the Redis counts the failures of all of them together.
// It keeps one string per throttled key: the key's theoretical arrival time
// of the generic cell rate algorithm ([authstore.Rate.GCRA]) in
// microseconds, which Redis deletes once it has passed, when the key's
// credit is fully restored. Each method is one command or one script on
// that one key, so a Throttle works on Redis Cluster as on a single server.
// It is safe for concurrent use; the zero value is not usable, call
// [NewThrottle].
type Throttle struct {
	rdb    redis.UniversalClient
	rate   authstore.Rate
	prefix string // of every key
	// interval and window are the rate's, in microseconds.
	interval, window int64
}

var _ authstore.Throttle = (*Throttle)(nil)

// NewThrottle returns a Throttle of rate (Limit failures per Window) kept
// in the Redis that client reaches. Of the options only [WithKeyPrefix]
// applies; keys are named PREFIX + "throttle:" + key. The rate must allow
// at least one failure per window (else the error matches
// [authstore.ErrInvalidRate]), and Window/Limit must be at least a
// microsecond.
func NewThrottle(client redis.UniversalClient, rate authstore.Rate, opts ...Option) (*Throttle, error) {
	if client == nil {
		return nil, fmt.Errorf("%w: nil redis client", errConfig)
	}
	if err := rate.Validate(); err != nil {
		return nil, fmt.Errorf("%w: %w", errConfig, err)
	}
	if rate.Interval() < time.Microsecond {
		return nil, fmt.Errorf("%w: throttle rate %d per %v; want at most one failure per microsecond",
			errConfig, rate.Limit, rate.Window)
	}
	c := defaultConfig()
	for _, opt := range opts {
		opt(&c)
	}
	if err := c.validate(); err != nil {
		return nil, err
	}
	return &Throttle{
		rdb:      client,
		rate:     rate,
		prefix:   c.prefix + throttleKey,
		interval: rate.Interval().Microseconds(),
		window:   rate.Window.Microseconds(),
	}, nil
}

// Check implements [authstore.Throttle] with one GET: it returns how long key
// must wait at now before its next attempt, or 0.
func (t *Throttle) Check(ctx context.Context, key string, now time.Time) (time.Duration, error) {
	if err := ctx.Err(); err != nil {
		return 0, wrap("throttle check", err)
	}
	s, err := t.rdb.Get(ctx, t.prefix+key).Result()
	if errors.Is(err, redis.Nil) {
		return 0, nil
	}
	if err != nil {
		return 0, wrap("throttle check", err)
	}
	tat, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 0, wrap("throttle check", errReply)
	}
	return t.rate.Wait(time.UnixMicro(tat), now), nil
}

// Fail implements [authstore.Throttle] with one script that applies
// [authstore.Rate.GCRA] atomically: it records a failure of key at now and
// returns how long key must now wait before its next attempt.
func (t *Throttle) Fail(ctx context.Context, key string, now time.Time) (time.Duration, error) {
	if err := ctx.Err(); err != nil {
		return 0, wrap("throttle fail", err)
	}
	us, err := failScript.Run(ctx, t.rdb, []string{t.prefix + key},
		now.UnixMicro(), t.interval, t.window,
	).Int64()
	if err != nil {
		return 0, wrap("throttle fail", err)
	}
	return time.Duration(us) * time.Microsecond, nil
}

// Take implements [authstore.Throttle], in one script on the key's node.
func (t *Throttle) Take(ctx context.Context, key string, now time.Time) (time.Duration, error) {
	if err := ctx.Err(); err != nil {
		return 0, wrap("throttle take", err)
	}
	us, err := takeScript.Run(ctx, t.rdb, []string{t.prefix + key},
		now.UnixMicro(), t.interval, t.window,
	).Int64()
	if err != nil {
		return 0, wrap("throttle take", err)
	}
	return time.Duration(us) * time.Microsecond, nil
}

// Refund implements [authstore.Throttle], in one script on the key's node.
func (t *Throttle) Refund(ctx context.Context, key string, now time.Time) error {
	if err := ctx.Err(); err != nil {
		return wrap("throttle refund", err)
	}
	if err := refundScript.Run(ctx, t.rdb, []string{t.prefix + key}, now.UnixMicro(), t.interval).Err(); err != nil {
		return wrap("throttle refund", err)
	}
	return nil
}

// Reset implements [authstore.Throttle]: it deletes key's record.
func (t *Throttle) Reset(ctx context.Context, key string) error {
	if err := ctx.Err(); err != nil {
		return wrap("throttle reset", err)
	}
	return wrap("throttle reset", t.rdb.Del(ctx, t.prefix+key).Err())
}
