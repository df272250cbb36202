package keyrotation

import (
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/jwtkit/auth"
	"github.com/jwtkit/auth/audit"
)

// Option configures a [Rotator] in [New].
type Option func(*config) error

type config struct {
	now    func() time.Time
	random io.Reader
	poll   time.Duration
	logger *slog.Logger
	events func(context.Context, audit.Event)
}

// maxPoll bounds the default poll interval.
const maxPoll = time.Minute

func newConfig(p Policy, opts []Option) (config, error) {
	c := config{now: time.Now, random: rand.Reader, poll: min(p.Publish/4, maxPoll)}
	for _, opt := range opts {
		if opt == nil {
			return c, configError("New", "nil option")
		}
		if err := opt(&c); err != nil {
			return c, err
		}
	}
	if c.poll <= 0 || c.poll >= p.Publish {
		return c, configError("WithPollInterval", "%v is not in (0, Policy.Publish = %v)", c.poll, p.Publish)
	}
	return c, nil
}

func configError(what, format string, args ...any) error {
	return fmt.Errorf("%w: keyrotation: %s: %s", auth.ErrConfig, what, fmt.Sprintf(format, args...))
}

// WithPollInterval sets how often [Rotator.Run] reads the store: the
// bound on how long an instance takes to see a new key. Default a quarter
// of Policy.Publish, at most a minute; it must be shorter than
// Policy.Publish.
func WithPollInterval(d time.Duration) Option {
	return func(c *config) error {
		c.poll = d
		return nil
	}
}

// WithClock sets the clock of the rotation. Default time.Now.
func WithClock(now func() time.Time) Option {
	return func(c *config) error {
		if now == nil {
			return configError("WithClock", "nil clock")
		}
		c.now = now
		return nil
	}
}

// WithRandom sets the source of new keys and nonces. Default
// crypto/rand.Reader.
func WithRandom(r io.Reader) Option {
	return func(c *config) error {
		if r == nil {
			return configError("WithRandom", "nil reader")
		}
		c.random = r
		return nil
	}
}

// WithLogger sets the logger of the rotation's events and failures.
// Default none.
func WithLogger(l *slog.Logger) Option {
	return func(c *config) error {
		if l == nil {
			return configError("WithLogger", "nil logger")
		}
		c.logger = l
		return nil
	}
}

// WithEvents sets the receiver of the rotation's events: audit.KeyCreated
// when this instance added the next key to the store, audit.KeyActivated
// when this instance started signing with another key (Reason holds the
// kid). Default none.
func WithEvents(f func(context.Context, audit.Event)) Option {
	return func(c *config) error {
		if f == nil {
			return configError("WithEvents", "nil function")
		}
		c.events = f
		return nil
	}
}
