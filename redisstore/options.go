package redisstore

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// Defaults of the options.
const (
	// DefaultKeyPrefix begins the name of every key the package writes.
	DefaultKeyPrefix = "auth:"
	// DefaultExpiryMargin is how long a token (refresh or one-time) or a
	// session outlives its ExpiresAt in Redis before Redis deletes it by
	// itself.
	DefaultExpiryMargin = time.Minute
	// DefaultMaxSessionsPerUser is the number of sessions a [Store] keeps
	// per user unless [WithMaxSessionsPerUser] says otherwise.
	DefaultMaxSessionsPerUser = 100
)

// Option configures a [Store] or a [Throttle]; pass options to [New] or
// [NewThrottle].
type Option func(*config)

type config struct {
	prefix      string
	maxSessions int
	margin      time.Duration
}

func defaultConfig() config {
	return config{
		prefix:      DefaultKeyPrefix,
		maxSessions: DefaultMaxSessionsPerUser,
		margin:      DefaultExpiryMargin,
	}
}

// errConfig is the class of the errors of [New] and [NewThrottle].
var errConfig = errors.New("redisstore: invalid configuration")

func (c *config) validate() error {
	switch {
	case strings.ContainsAny(c.prefix, "{}"):
		return fmt.Errorf("%w: key prefix %q contains a brace; braces would change the hash slots", errConfig, c.prefix)
	case c.maxSessions < 10:
		return fmt.Errorf("%w: WithMaxSessionsPerUser(%d); want at least 10", errConfig, c.maxSessions)
	case c.margin < 0:
		return fmt.Errorf("%w: negative expiry margin %v", errConfig, c.margin)
	}
	return nil
}

// WithKeyPrefix sets the text that begins the name of every key, so that
// several stores, or other data, can share one Redis database. It must not
// contain a brace. The default is [DefaultKeyPrefix] ("auth:"). A [Store] and
// a [Throttle] may share a prefix.
func WithKeyPrefix(prefix string) Option { return func(c *config) { c.prefix = prefix } }

// WithMaxSessionsPerUser sets how many sessions a [Store] keeps per user.
// When [Store.CreateSession] would give a user more than n, it first
// deletes the user's revoked sessions, then expired ones (earliest
// ExpiresAt first), then, if the user would still have more than n, the
// oldest (by CreatedAt) live sessions: those sessions end. To take a
// bounded time whatever n is, one CreateSession looks at no more than 64
// candidates of each kind, so a user far over the cap (after n was
// lowered) comes down to it over a few sign-ins. The default is
// [DefaultMaxSessionsPerUser] (100); n must be at least 10, as
// [authstore.RefreshStore] requires. A [Throttle] ignores it.
func WithMaxSessionsPerUser(n int) Option { return func(c *config) { c.maxSessions = n } }

// WithExpiryMargin sets how long Redis keeps a token or a session past its
// ExpiresAt before deleting it by itself, so that [Store.Lookup] still
// reports a token that has just expired as expired rather than unknown. A
// one-time token's record ([Store.SaveOneTime]) outlives its ExpiresAt by
// the same margin, which covers a Redis clock ahead of the services'. The
// default is [DefaultExpiryMargin] (one minute); d must not be negative. A
// [Throttle] ignores it.
func WithExpiryMargin(d time.Duration) Option { return func(c *config) { c.margin = d } }
