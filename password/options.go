package password

import (
	"fmt"
	"runtime"
)

// Option configures [NewBcrypt] or [NewArgon2id]. [WithConcurrency] and
// [WithQueue] apply to both; [WithCost] to bcrypt only; [WithMemory],
// [WithIterations] and [WithParallelism] to Argon2id only. An option given
// to the constructor it does not apply to is refused with [ErrConfig].
type Option func(*config)

// config is what the options set; zero means "not set" for the options of
// one algorithm only, so that the other constructor can refuse them.
type config struct {
	cost                            int // bcrypt
	memory, iterations, parallelism int // Argon2id
	concurrency, queue              int
}

// DefaultQueue is how many callers may wait for a hashing slot by
// default.
const DefaultQueue = 128

// WithCost sets the bcrypt cost. Default [DefaultCost] (12); at
// least [MinCost] (10), at most 31. A hash of another cost still
// verifies, and [Bcrypt.Verify] reports it needs rehashing.
func WithCost(cost int) Option {
	return func(c *config) { c.cost = cost }
}

// WithMemory sets the memory of an Argon2id computation, in KiB.
// Default and minimum [DefaultArgon2Memory] (19456 KiB, 19 MiB); at most
// [MaxArgon2Memory]. Each running computation holds this much, so the
// peak is memory × [WithConcurrency].
func WithMemory(kib int) Option {
	return func(c *config) { c.memory = kib }
}

// WithIterations sets the Argon2id time cost, the passes over the memory.
// Default and minimum [DefaultArgon2Iterations] (2); at most
// [MaxArgon2Iterations].
func WithIterations(t int) Option {
	return func(c *config) { c.iterations = t }
}

// WithParallelism sets the Argon2id lanes, computed by as many goroutines.
// Default [DefaultArgon2Parallelism] (1); at most [MaxArgon2Parallelism].
func WithParallelism(p int) Option {
	return func(c *config) { c.parallelism = p }
}

// WithConcurrency caps concurrent hash computations of one hasher.
// Default: one fewer than the CPUs, at least one.
func WithConcurrency(n int) Option {
	return func(c *config) { c.concurrency = n }
}

// WithQueue caps how many callers may wait for a hashing slot; more
// are refused at once with [ErrBusy] (HTTP 503 in package auth) rather than queued
// without end. Default [DefaultQueue].
func WithQueue(n int) Option {
	return func(c *config) { c.queue = n }
}

// newConfig applies opts over the shared defaults.
func newConfig(opts []Option) config {
	cfg := config{concurrency: max(1, runtime.NumCPU()-1), queue: DefaultQueue}
	for _, o := range opts {
		o(&cfg)
	}
	return cfg
}

// checkShared validates the options both hashers take.
func (c *config) checkShared() error {
	switch {
	case c.concurrency < 1:
		return fmt.Errorf("%w: WithConcurrency(%d): must be at least 1", ErrConfig, c.concurrency)
	case c.queue < 1:
		return fmt.Errorf("%w: WithQueue(%d): must be at least 1", ErrConfig, c.queue)
	}
	return nil
}
