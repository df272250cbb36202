package redisstore

import (
	"fmt"
	"strings"
	"time"

	"github.com/jwtkit/auth"
)

// Defaults of the options.
const (
	// DefaultKeyPrefix begins the name of every key the package writes.
	DefaultKeyPrefix = "auth:"
	// DefaultExpiryMargin is how long a token or a family outlives its
	// ExpiresAt in Redis before Redis deletes it by itself.
	DefaultExpiryMargin = time.Minute
)

// Option configures a [Store] or a [Throttle]; pass options to [New] or
// [NewThrottle].
type Option func(*config)

type config struct {
	prefix      string
	maxFamilies int
	margin      time.Duration
}

func defaultConfig() config {
	return config{
		prefix:      DefaultKeyPrefix,
		maxFamilies: auth.DefaultMaxFamiliesPerUser,
		margin:      DefaultExpiryMargin,
	}
}

func (c *config) validate() error {
	switch {
	case strings.ContainsAny(c.prefix, "{}"):
		return fmt.Errorf("%w: redisstore: key prefix %q contains a brace; braces would change the hash slots", auth.ErrConfig, c.prefix)
	case c.maxFamilies < 1:
		return fmt.Errorf("%w: redisstore: at most %d families per user; want at least 1", auth.ErrConfig, c.maxFamilies)
	case c.margin < 0:
		return fmt.Errorf("%w: redisstore: negative expiry margin %v", auth.ErrConfig, c.margin)
	}
	return nil
}

// WithKeyPrefix sets the text that begins the name of every key, so that
// several stores, or other data, can share one Redis database. It must not
// contain a brace. The default is [DefaultKeyPrefix] ("auth:"). A [Store] and
// a [Throttle] may share a prefix.
func WithKeyPrefix(prefix string) Option { return func(c *config) { c.prefix = prefix } }

// WithMaxFamiliesPerUser sets how many families (sessions) a [Store] keeps
// per user. When [Store.CreateFamily] would give a user more than n, it first
// deletes the user's oldest (by CreatedAt) revoked or expired families, then,
// if the user would still have more than n live ones, the oldest live
// families: those sessions end. The default is
// [auth.DefaultMaxFamiliesPerUser] (100); n must be at least 1. A
// [Throttle] ignores it.
func WithMaxFamiliesPerUser(n int) Option { return func(c *config) { c.maxFamilies = n } }

// WithExpiryMargin sets how long Redis keeps a token or a family past its
// ExpiresAt before deleting it by itself, so that [Store.Lookup] still
// reports a token that has just expired as expired rather than unknown. The
// default is [DefaultExpiryMargin] (one minute); d must not be negative. A
// [Throttle] ignores it.
func WithExpiryMargin(d time.Duration) Option { return func(c *config) { c.margin = d } }
