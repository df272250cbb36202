package password

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/crypto/argon2"
)

// Argon2id parameters. The defaults are the minimum that OWASP's Password
// Storage Cheat Sheet recommends (m=19 MiB, t=2, p=1), and [NewArgon2id]
// refuses anything weaker. The maximums bound both the configuration and
// the hashes [Argon2id.Verify] accepts, so that a stored hash cannot demand
// an absurd amount of memory or time.
const (
	DefaultArgon2Memory      = 19 * 1024 // KiB
	DefaultArgon2Iterations  = 2
	DefaultArgon2Parallelism = 1
	MaxArgon2Memory          = 1 << 20 // KiB: 1 GiB
	MaxArgon2Iterations      = 64
	MaxArgon2Parallelism     = 16
)

// The shape of the hashes Argon2id makes, and the bounds of those it reads.
const (
	argon2Prefix  = "$argon2id$"
	argon2SaltLen = 16
	argon2KeyLen  = 32
	minSaltLen    = 8
	maxSaltLen    = 64
	minKeyLen     = 16
	maxKeyLen     = 64
)

// argon2Params are the cost parameters of one Argon2id hash.
type argon2Params struct {
	memory      uint32 // KiB
	iterations  uint32
	parallelism uint8
}

// Argon2id is the Argon2id [Hasher] (RFC 9106), with hashes in the PHC
// string format:
//
//	$argon2id$v=19$m=19456,t=2,p=1$<salt>$<key>
//
// where salt (16 random bytes) and key (32 bytes) are in unpadded standard
// base64. Argon2id is bounded by memory as bcrypt is by CPU: each running
// computation holds m KiB, so the peak memory is m × [WithConcurrency]
// (with the default 19 MiB and 7 slots, 133 MiB), and past [WithQueue]
// waiting callers the answer is [ErrBusy]. A stored hash of larger m
// verifies with its own m, within the same slots. Build one with
// [NewArgon2id]; it is safe for concurrent use.
type Argon2id struct {
	params argon2Params
	limiter
}

// NewArgon2id returns an Argon2id [Hasher]. It takes [WithMemory],
// [WithIterations], [WithParallelism], [WithConcurrency] and [WithQueue];
// parameters weaker than the defaults are refused with [ErrConfig], as is
// [WithCost].
func NewArgon2id(opts ...Option) (*Argon2id, error) {
	cfg := newConfig(append([]Option{
		WithMemory(DefaultArgon2Memory),
		WithIterations(DefaultArgon2Iterations),
		WithParallelism(DefaultArgon2Parallelism),
	}, opts...))
	switch {
	case cfg.cost != 0:
		return nil, fmt.Errorf("%w: WithCost applies to NewBcrypt only", ErrConfig)
	case cfg.memory < DefaultArgon2Memory || cfg.memory > MaxArgon2Memory:
		return nil, fmt.Errorf("%w: WithMemory(%d): must be in [%d, %d] KiB", ErrConfig, cfg.memory, DefaultArgon2Memory, MaxArgon2Memory)
	case cfg.iterations < DefaultArgon2Iterations || cfg.iterations > MaxArgon2Iterations:
		return nil, fmt.Errorf("%w: WithIterations(%d): must be in [%d, %d]", ErrConfig, cfg.iterations, DefaultArgon2Iterations, MaxArgon2Iterations)
	case cfg.parallelism < 1 || cfg.parallelism > MaxArgon2Parallelism:
		return nil, fmt.Errorf("%w: WithParallelism(%d): must be in [1, %d]", ErrConfig, cfg.parallelism, MaxArgon2Parallelism)
	}
	if err := cfg.checkShared(); err != nil {
		return nil, err
	}
	return newArgon2id(cfg), nil
}

// newArgon2id builds the hasher of cfg without checking it; only
// NewArgon2id, and tests wanting cheap parameters, call it.
func newArgon2id(cfg config) *Argon2id {
	return &Argon2id{
		params:  argon2Params{memory: uint32(cfg.memory), iterations: uint32(cfg.iterations), parallelism: uint8(cfg.parallelism)},
		limiter: newLimiter(cfg.concurrency, cfg.queue),
	}
}

// Matches reports whether hash starts with $argon2id$; see [Verifier].
// The rest is checked by [Argon2id.Verify].
func (a *Argon2id) Matches(hash []byte) bool {
	return bytes.HasPrefix(hash, []byte(argon2Prefix))
}

// Hash checks password with [Check] and returns its Argon2id hash, with a
// fresh random salt, in the PHC string format.
func (a *Argon2id) Hash(ctx context.Context, password string) ([]byte, error) {
	if err := Check(password); err != nil {
		return nil, err
	}
	salt := make([]byte, argon2SaltLen)
	if _, err := rand.Read(salt); err != nil {
		return nil, fmt.Errorf("password: salt: %w", err)
	}
	if err := a.acquire(ctx); err != nil {
		return nil, err
	}
	defer a.release()
	p := a.params
	key := argon2.IDKey([]byte(password), salt, p.iterations, p.memory, p.parallelism, argon2KeyLen)
	return encodeArgon2id(p, salt, key), nil
}

// dummySalt salts the computations whose result is thrown away.
var dummySalt = make([]byte, argon2SaltLen)

// Verify reports whether password matches hash, exactly as received, by a
// constant-time comparison. A hash that is not a well-formed Argon2id PHC
// string within the bounds (see [MaxArgon2Memory]) never matches, nor does
// a password that could never have been stored (see [Check]); either costs
// one full hash of the configured parameters all the same, as does a nil
// hash (an unknown user). rehash is true when hash matches but was made with
// other parameters, salt or key length than the configured ones.
func (a *Argon2id) Verify(ctx context.Context, hash []byte, password string) (ok, rehash bool, err error) {
	if err := a.acquire(ctx); err != nil {
		return false, false, err
	}
	defer a.release()
	p, salt, key, perr := parseArgon2id(hash)
	if perr != nil || Check(password) != nil {
		// Spend what a wrong password costs, on a stand-in of legal
		// length, so the time does not tell why the answer is false.
		q := a.params
		argon2.IDKey([]byte("invalid password"), dummySalt, q.iterations, q.memory, q.parallelism, argon2KeyLen)
		return false, false, nil
	}
	got := argon2.IDKey([]byte(password), salt, p.iterations, p.memory, p.parallelism, uint32(len(key)))
	if subtle.ConstantTimeCompare(got, key) != 1 {
		return false, false, nil
	}
	return true, p != a.params || len(salt) != argon2SaltLen || len(key) != argon2KeyLen, nil
}

// encodeArgon2id writes the PHC string of an Argon2id hash.
func encodeArgon2id(p argon2Params, salt, key []byte) []byte {
	b64 := base64.RawStdEncoding
	return fmt.Appendf(nil, "%sv=%d$m=%d,t=%d,p=%d$%s$%s", argon2Prefix, argon2.Version,
		p.memory, p.iterations, p.parallelism, b64.EncodeToString(salt), b64.EncodeToString(key))
}

// errMalformed is why parseArgon2id refused a hash; Verify treats every
// refusal as an unreadable hash.
var errMalformed = errors.New("password: malformed argon2id hash")

// parseArgon2id reads an Argon2id PHC string strictly: exactly the fields
// and order encodeArgon2id writes, version 19, canonical decimals and
// canonical unpadded base64, and parameters and lengths within bounds.
func parseArgon2id(hash []byte) (p argon2Params, salt, key []byte, err error) {
	fields := strings.Split(string(hash), "$")
	if len(fields) != 6 || fields[0] != "" || fields[1] != "argon2id" {
		return p, nil, nil, fmt.Errorf("%w: not $argon2id$v$params$salt$key", errMalformed)
	}
	if fields[2] != "v="+strconv.Itoa(argon2.Version) {
		return p, nil, nil, fmt.Errorf("%w: version %q is not v=%d", errMalformed, fields[2], argon2.Version)
	}
	params := strings.Split(fields[3], ",")
	if len(params) != 3 {
		return p, nil, nil, fmt.Errorf("%w: parameters %q are not m=,t=,p=", errMalformed, fields[3])
	}
	m, err1 := parseParam(params[0], "m=", 8, MaxArgon2Memory)
	t, err2 := parseParam(params[1], "t=", 1, MaxArgon2Iterations)
	par, err3 := parseParam(params[2], "p=", 1, MaxArgon2Parallelism)
	if err := errors.Join(err1, err2, err3); err != nil {
		return p, nil, nil, err
	}
	if m < 8*par {
		return p, nil, nil, fmt.Errorf("%w: m=%d is below 8 KiB per lane", errMalformed, m)
	}
	if salt, err = decodeB64(fields[4], "salt", minSaltLen, maxSaltLen); err != nil {
		return p, nil, nil, err
	}
	if key, err = decodeB64(fields[5], "key", minKeyLen, maxKeyLen); err != nil {
		return p, nil, nil, err
	}
	return argon2Params{memory: uint32(m), iterations: uint32(t), parallelism: uint8(par)}, salt, key, nil
}

// parseParam reads name followed by a decimal in [lo, hi], without sign or
// leading zero.
func parseParam(s, name string, lo, hi int) (int, error) {
	digits, ok := strings.CutPrefix(s, name)
	if !ok || digits == "" || len(digits) > 10 || (digits[0] == '0' && len(digits) > 1) ||
		strings.Trim(digits, "0123456789") != "" {
		return 0, fmt.Errorf("%w: parameter %q is not %sN", errMalformed, s, name)
	}
	n, err := strconv.Atoi(digits)
	if err != nil || n < lo || n > hi {
		return 0, fmt.Errorf("%w: parameter %q is not in [%d, %d]", errMalformed, s, lo, hi)
	}
	return n, nil
}

// decodeB64 decodes canonical unpadded standard base64 of lo to hi bytes.
// The decoder skips line breaks, so the input is checked by encoding the
// result again.
func decodeB64(s, what string, lo, hi int) ([]byte, error) {
	b, err := base64.RawStdEncoding.Strict().DecodeString(s)
	if err != nil || base64.RawStdEncoding.EncodeToString(b) != s {
		return nil, fmt.Errorf("%w: %s is not unpadded standard base64", errMalformed, what)
	}
	if len(b) < lo || len(b) > hi {
		return nil, fmt.Errorf("%w: %s of %d bytes is not %d to %d", errMalformed, what, len(b), lo, hi)
	}
	return b, nil
}
