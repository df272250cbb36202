package password

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"unicode/utf8"

	"golang.org/x/crypto/bcrypt"
)

// Password limits. bcrypt reads at most 72 bytes, and golang.org/x/crypto
// accepts any suffix past them, so longer passwords are refused rather than
// silently cut.
const (
	MinBytes = 8
	MaxBytes = 72
	// DefaultCost is the default bcrypt cost.
	DefaultCost = 12
	// MinCost is the lowest cost accepted.
	MinCost = 10
)

// Errors of the package.
var (
	// ErrInvalid means a password to be stored breaks the rules: 8 to 72
	// bytes of valid UTF-8 without NUL. Nothing else is demanded of it.
	// Package auth answers it with 400 INVALID_INPUT.
	ErrInvalid = errors.New("password: must be 8 to 72 bytes of UTF-8 without NUL")
	// ErrBusy means a hash or check was refused because too many callers
	// already wait for a slot (see [WithQueue]), or the caller's context
	// ended while it waited. Package auth answers it with 503.
	ErrBusy = errors.New("password: too busy, retry later")
	// ErrConfig is the class of the errors of [NewBcrypt].
	ErrConfig = errors.New("password: invalid configuration")
)

// Bcrypt hashes and checks passwords with bcrypt, and caps how many
// bcrypt computations run at once, so a flood of logins cannot starve the
// requests that only verify tokens. Build one with [NewBcrypt]; it is
// safe for concurrent use.
type Bcrypt struct {
	cost     int
	slots    chan struct{} // one token per concurrent bcrypt computation
	maxQueue int64         // callers allowed to wait for a slot
	queued   atomic.Int64  // callers waiting for a slot now

	dummyOnce sync.Once
	dummy     []byte // hash compared against for unknown users; set by dummyOnce
	dummyErr  error
}

// Option configures [NewBcrypt].
type Option func(*config)

type config struct {
	cost, concurrency, queue int
}

// DefaultQueue is how many callers may wait for a bcrypt slot by
// default.
const DefaultQueue = 128

// WithCost sets the bcrypt cost. Default [DefaultCost] (12); at
// least [MinCost] (10), at most 31. A hash of another cost still
// verifies, and [Bcrypt.Verify] reports it needs rehashing.
func WithCost(cost int) Option {
	return func(c *config) { c.cost = cost }
}

// WithConcurrency caps concurrent bcrypt computations. Default: one
// fewer than the CPUs, at least one.
func WithConcurrency(n int) Option {
	return func(c *config) { c.concurrency = n }
}

// WithQueue caps how many callers may wait for a bcrypt slot; more
// are refused at once with [ErrBusy] (HTTP 503 in package auth) rather than queued
// without end. Default [DefaultQueue].
func WithQueue(n int) Option {
	return func(c *config) { c.queue = n }
}

// NewBcrypt returns a password hasher.
func NewBcrypt(opts ...Option) (*Bcrypt, error) {
	cfg := config{cost: DefaultCost, concurrency: max(1, runtime.NumCPU()-1), queue: DefaultQueue}
	for _, o := range opts {
		o(&cfg)
	}
	switch {
	case cfg.cost < MinCost || cfg.cost > bcrypt.MaxCost:
		return nil, fmt.Errorf("%w: WithCost(%d): must be in [%d, %d]", ErrConfig, cfg.cost, MinCost, bcrypt.MaxCost)
	case cfg.concurrency < 1:
		return nil, fmt.Errorf("%w: WithConcurrency(%d): must be at least 1", ErrConfig, cfg.concurrency)
	case cfg.queue < 1:
		return nil, fmt.Errorf("%w: WithQueue(%d): must be at least 1", ErrConfig, cfg.queue)
	}
	return &Bcrypt{cost: cfg.cost, slots: make(chan struct{}, cfg.concurrency), maxQueue: int64(cfg.queue)}, nil
}

// dummyHash returns the hash that unknown users are compared against,
// made on first use so that building a Bcrypt stays cheap.
// It runs within a bcrypt slot, which the caller holds.
func (p *Bcrypt) dummyHash() ([]byte, error) {
	p.dummyOnce.Do(func() {
		var random [18]byte
		if _, err := rand.Read(random[:]); err != nil {
			p.dummyErr = fmt.Errorf("password: dummy password: %w", err)
			return
		}
		p.dummy, p.dummyErr = bcrypt.GenerateFromPassword([]byte(fmt.Sprintf("%x", random)), p.cost)
	})
	return p.dummy, p.dummyErr
}

// Check reports whether password may be stored: 8 to 72 bytes of
// valid UTF-8 without NUL. It returns [ErrInvalid] otherwise.
func Check(password string) error {
	if len(password) < MinBytes || len(password) > MaxBytes ||
		!utf8.ValidString(password) || strings.IndexByte(password, 0) >= 0 {
		return ErrInvalid
	}
	return nil
}

// acquire waits for a bcrypt slot or the end of ctx.
func (p *Bcrypt) acquire(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("%w: waiting to hash: %w", ErrBusy, err)
	}
	select {
	case p.slots <- struct{}{}:
		return nil
	default:
	}
	if p.queued.Add(1) > p.maxQueue {
		p.queued.Add(-1)
		return fmt.Errorf("%w: too many password checks waiting", ErrBusy)
	}
	defer p.queued.Add(-1)
	select {
	case p.slots <- struct{}{}:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("%w: waiting to hash: %w", ErrBusy, ctx.Err())
	}
}

func (p *Bcrypt) release() { <-p.slots }

// Hash checks password with [Check] and returns its bcrypt hash.
func (p *Bcrypt) Hash(ctx context.Context, password string) ([]byte, error) {
	if err := Check(password); err != nil {
		return nil, err
	}
	if err := p.acquire(ctx); err != nil {
		return nil, err
	}
	defer p.release()
	h, err := bcrypt.GenerateFromPassword([]byte(password), p.cost)
	if err != nil {
		return nil, fmt.Errorf("password: hash password: %w", err)
	}
	return h, nil
}

// Verify reports whether password matches hash, exactly as received (no
// trimming, no normalisation). A password that could never have been stored
// (see [Check]) never matches, yet costs a comparison all the same.
// rehash is true when hash was made with another cost than the configured
// one: store a new hash while the password is at hand. With a nil hash, for
// an unknown user, Verify compares against a dummy hash of the same cost and
// reports false, so unknown users and wrong passwords take the same time.
func (p *Bcrypt) Verify(ctx context.Context, hash []byte, password string) (ok, rehash bool, err error) {
	if err := p.acquire(ctx); err != nil {
		return false, false, err
	}
	defer p.release()
	dummy, err := p.dummyHash()
	if err != nil {
		return false, false, err
	}
	target := hash
	if _, err := bcrypt.Cost(hash); err != nil {
		// No hash (an unknown user), or one that cannot be read (an account
		// without a password): compare against the dummy all the same, so
		// the answer takes as long as for a wrong password.
		target = dummy
	}
	valid := Check(password) == nil
	if !valid {
		// Compare a stand-in of legal length, so the time spent does not
		// depend on why the password was refused.
		password = "invalid password"
		target = dummy
	}
	cmp := bcrypt.CompareHashAndPassword(target, []byte(password))
	if hash == nil || !valid || cmp != nil {
		return false, false, nil
	}
	cost, err := bcrypt.Cost(hash)
	return true, err == nil && cost != p.cost, nil
}
