package password

import (
	"context"
	"crypto/rand"
	"fmt"
	"sync"

	"golang.org/x/crypto/bcrypt"
)

// bcrypt costs.
const (
	// DefaultCost is the default bcrypt cost.
	DefaultCost = 12
	// MinCost is the lowest cost accepted.
	MinCost = 10
)

// Bcrypt is the bcrypt [Hasher]: it hashes and checks passwords with
// bcrypt, and caps how many bcrypt computations run at once, so a flood of
// logins cannot starve the requests that only verify tokens. Build one
// with [NewBcrypt]; it is safe for concurrent use.
type Bcrypt struct {
	cost int
	limiter

	dummyOnce sync.Once
	dummy     []byte // hash compared against for unknown users; set by dummyOnce
	dummyErr  error
}

// NewBcrypt returns a bcrypt [Hasher]. It takes [WithCost],
// [WithConcurrency] and [WithQueue], and refuses the Argon2id options.
func NewBcrypt(opts ...Option) (*Bcrypt, error) {
	cfg := newConfig(append([]Option{WithCost(DefaultCost)}, opts...))
	switch {
	case cfg.cost < MinCost || cfg.cost > bcrypt.MaxCost:
		return nil, fmt.Errorf("%w: WithCost(%d): must be in [%d, %d]", ErrConfig, cfg.cost, MinCost, bcrypt.MaxCost)
	case cfg.memory != 0 || cfg.iterations != 0 || cfg.parallelism != 0:
		return nil, fmt.Errorf("%w: WithMemory, WithIterations and WithParallelism apply to NewArgon2id only", ErrConfig)
	}
	if err := cfg.checkShared(); err != nil {
		return nil, err
	}
	return &Bcrypt{cost: cfg.cost, limiter: newLimiter(cfg.concurrency, cfg.queue)}, nil
}

// Matches reports whether hash is a bcrypt hash ($2a$, $2b$, ...) whose
// header can be read; see [Verifier].
func (p *Bcrypt) Matches(hash []byte) bool {
	_, err := bcrypt.Cost(hash)
	return err == nil
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
