package auth

import (
	"context"
	"crypto/rand"
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
	MinPasswordBytes = 8
	MaxPasswordBytes = 72
	// DefaultBcryptCost is the default bcrypt cost.
	DefaultBcryptCost = 12
	// MinBcryptCost is the lowest cost accepted.
	MinBcryptCost = 10
)

// ErrInvalidPassword means a password to be stored breaks the rules: 8 to 72
// bytes of valid UTF-8 without NUL. Nothing else is demanded of it. It
// matches [ErrInvalidInput].
var ErrInvalidPassword = kind("auth: password must be 8 to 72 bytes of UTF-8 without NUL", ErrInvalidInput)

// Passwords hashes and checks passwords with bcrypt, and caps how many
// bcrypt computations run at once, so a flood of logins cannot starve the
// requests that only verify tokens. Build one with [NewPasswords]; it is
// safe for concurrent use.
type Passwords struct {
	cost     int
	slots    chan struct{} // one token per concurrent bcrypt computation
	maxQueue int64         // callers allowed to wait for a slot
	queued   atomic.Int64  // callers waiting for a slot now

	dummyOnce sync.Once
	dummy     []byte // hash compared against for unknown users; set by dummyOnce
	dummyErr  error
}

// PasswordsOption configures [NewPasswords].
type PasswordsOption func(*passwordsConfig)

type passwordsConfig struct {
	cost, concurrency, queue int
}

// DefaultHashQueue is how many callers may wait for a bcrypt slot by
// default.
const DefaultHashQueue = 128

// WithBcryptCost sets the bcrypt cost. Default [DefaultBcryptCost] (12); at
// least [MinBcryptCost] (10), at most 31. A hash of another cost still
// verifies, and [Passwords.Verify] reports it needs rehashing.
func WithBcryptCost(cost int) PasswordsOption {
	return func(c *passwordsConfig) { c.cost = cost }
}

// WithHashConcurrency caps concurrent bcrypt computations. Default: one
// fewer than the CPUs, at least one.
func WithHashConcurrency(n int) PasswordsOption {
	return func(c *passwordsConfig) { c.concurrency = n }
}

// WithHashQueue caps how many callers may wait for a bcrypt slot; more
// are refused at once with [ErrUnavailable] (HTTP 503) rather than queued
// without end. Default [DefaultHashQueue].
func WithHashQueue(n int) PasswordsOption {
	return func(c *passwordsConfig) { c.queue = n }
}

// NewPasswords returns a password hasher.
func NewPasswords(opts ...PasswordsOption) (*Passwords, error) {
	cfg := passwordsConfig{cost: DefaultBcryptCost, concurrency: max(1, runtime.NumCPU()-1), queue: DefaultHashQueue}
	for _, o := range opts {
		o(&cfg)
	}
	if cfg.cost < MinBcryptCost || cfg.cost > bcrypt.MaxCost {
		return nil, fmt.Errorf("%w: bcrypt cost must be in [%d, %d]", ErrConfig, MinBcryptCost, bcrypt.MaxCost)
	}
	if cfg.concurrency < 1 || cfg.queue < 1 {
		return nil, fmt.Errorf("%w: hash concurrency and queue must be at least 1", ErrConfig)
	}
	return &Passwords{cost: cfg.cost, slots: make(chan struct{}, cfg.concurrency), maxQueue: int64(cfg.queue)}, nil
}

// dummyHash returns the hash that unknown users are compared against,
// made on first use so that building a Passwords stays cheap.
// It runs within a bcrypt slot, which the caller holds.
func (p *Passwords) dummyHash() ([]byte, error) {
	p.dummyOnce.Do(func() {
		var random [18]byte
		if _, err := rand.Read(random[:]); err != nil {
			p.dummyErr = fmt.Errorf("auth: dummy password: %w", err)
			return
		}
		p.dummy, p.dummyErr = bcrypt.GenerateFromPassword([]byte(fmt.Sprintf("%x", random)), p.cost)
	})
	return p.dummy, p.dummyErr
}

// CheckPassword reports whether password may be stored: 8 to 72 bytes of
// valid UTF-8 without NUL. It returns [ErrInvalidPassword] otherwise.
func CheckPassword(password string) error {
	if len(password) < MinPasswordBytes || len(password) > MaxPasswordBytes ||
		!utf8.ValidString(password) || strings.IndexByte(password, 0) >= 0 {
		return ErrInvalidPassword
	}
	return nil
}

// acquire waits for a bcrypt slot or the end of ctx.
func (p *Passwords) acquire(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("%w: waiting to hash: %w", ErrUnavailable, err)
	}
	select {
	case p.slots <- struct{}{}:
		return nil
	default:
	}
	if p.queued.Add(1) > p.maxQueue {
		p.queued.Add(-1)
		return fmt.Errorf("%w: too many password checks waiting", ErrUnavailable)
	}
	defer p.queued.Add(-1)
	select {
	case p.slots <- struct{}{}:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("%w: waiting to hash: %w", ErrUnavailable, ctx.Err())
	}
}

func (p *Passwords) release() { <-p.slots }

// Hash checks password with [CheckPassword] and returns its bcrypt hash.
func (p *Passwords) Hash(ctx context.Context, password string) ([]byte, error) {
	if err := CheckPassword(password); err != nil {
		return nil, err
	}
	if err := p.acquire(ctx); err != nil {
		return nil, err
	}
	defer p.release()
	h, err := bcrypt.GenerateFromPassword([]byte(password), p.cost)
	if err != nil {
		return nil, fmt.Errorf("auth: hash password: %w", err)
	}
	return h, nil
}

// Verify reports whether password matches hash, exactly as received (no
// trimming, no normalisation). A password that could never have been stored
// (see [CheckPassword]) never matches, yet costs a comparison all the same.
// rehash is true when hash was made with another cost than the configured
// one: store a new hash while the password is at hand. With a nil hash, for
// an unknown user, Verify compares against a dummy hash of the same cost and
// reports false, so unknown users and wrong passwords take the same time.
func (p *Passwords) Verify(ctx context.Context, hash []byte, password string) (ok, rehash bool, err error) {
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
	valid := CheckPassword(password) == nil
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
