package password

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/argon2"
)

// testArgon2Params are cheap parameters for tests only: NewArgon2id
// refuses them.
var testArgon2Params = config{memory: 64, iterations: 1, parallelism: 1, concurrency: 4, queue: DefaultQueue}

// newTestArgon2id returns an Argon2id of the cheap test parameters, with
// cfg's fields that are set taking over.
func newTestArgon2id(t testing.TB, cfg config) *Argon2id {
	t.Helper()
	c := testArgon2Params
	if cfg.memory != 0 {
		c.memory = cfg.memory
	}
	if cfg.iterations != 0 {
		c.iterations = cfg.iterations
	}
	if cfg.parallelism != 0 {
		c.parallelism = cfg.parallelism
	}
	if cfg.concurrency != 0 {
		c.concurrency = cfg.concurrency
	}
	if cfg.queue != 0 {
		c.queue = cfg.queue
	}
	return newArgon2id(c)
}

func TestArgon2idConfig(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		opts []Option
	}{
		{"memory below OWASP", []Option{WithMemory(DefaultArgon2Memory - 1)}},
		{"memory too large", []Option{WithMemory(MaxArgon2Memory + 1)}},
		{"one iteration", []Option{WithIterations(1)}},
		{"too many iterations", []Option{WithIterations(MaxArgon2Iterations + 1)}},
		{"no lanes", []Option{WithParallelism(0)}},
		{"too many lanes", []Option{WithParallelism(MaxArgon2Parallelism + 1)}},
		{"no concurrency", []Option{WithConcurrency(0)}},
		{"no queue", []Option{WithQueue(0)}},
		{"bcrypt cost", []Option{WithCost(DefaultCost)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if _, err := NewArgon2id(tt.opts...); !errors.Is(err, ErrConfig) {
				t.Errorf("NewArgon2id(%s) = %v; want ErrConfig", tt.name, err)
			}
		})
	}
	a, err := NewArgon2id(WithMemory(64*1024), WithIterations(3), WithParallelism(2))
	if err != nil {
		t.Fatalf("NewArgon2id(stronger) = %v; want nil", err)
	}
	if want := (argon2Params{memory: 64 * 1024, iterations: 3, parallelism: 2}); a.params != want {
		t.Errorf("NewArgon2id(stronger) params = %+v; want %+v", a.params, want)
	}
	d, err := NewArgon2id()
	if err != nil {
		t.Fatal(err)
	}
	if want := (argon2Params{memory: 19456, iterations: 2, parallelism: 1}); d.params != want {
		t.Errorf("NewArgon2id() params = %+v; want %+v", d.params, want)
	}
	if _, err := NewBcrypt(WithMemory(DefaultArgon2Memory)); !errors.Is(err, ErrConfig) {
		t.Errorf("NewBcrypt(WithMemory) = %v; want ErrConfig", err)
	}
}

func TestArgon2idHashVerify(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	a := newTestArgon2id(t, config{})
	h, err := a.Hash(ctx, "correct horse")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(h), "$argon2id$v=19$m=64,t=1,p=1$") {
		t.Errorf("Hash = %q; want the PHC string of m=64,t=1,p=1", h)
	}
	p, salt, key, err := parseArgon2id(h)
	if err != nil || p != a.params || len(salt) != 16 || len(key) != 32 {
		t.Errorf("parseArgon2id(Hash) = %+v, %d-byte salt, %d-byte key, %v; want the params, 16, 32, nil", p, len(salt), len(key), err)
	}
	if h2, _ := a.Hash(ctx, "correct horse"); string(h2) == string(h) {
		t.Error("two hashes of one password are equal; want fresh salts")
	}
	tests := []struct {
		name string
		hash []byte
		pw   string
		ok   bool
	}{
		{"right", h, "correct horse", true},
		{"wrong", h, "correct horsE", false},
		{"not trimmed", h, "correct horse ", false},
		{"unknown user", nil, "correct horse", false},
		{"empty hash", []byte{}, "correct horse", false},
		{"garbage hash", []byte("$argon2id$nope"), "correct horse", false},
		{"too long never matches", h, "correct horse" + strings.Repeat("x", 80), false},
	}
	for _, tt := range tests {
		ok, rehash, err := a.Verify(ctx, tt.hash, tt.pw)
		if err != nil || ok != tt.ok || rehash {
			t.Errorf("%s: Verify(%q) = %v, %v, %v; want %v, false, nil", tt.name, tt.hash, ok, rehash, err, tt.ok)
		}
	}
	if _, err := a.Hash(ctx, "short"); !errors.Is(err, ErrInvalid) {
		t.Errorf("Hash(short) = %v; want ErrInvalid", err)
	}
	if !a.Matches(h) || a.Matches(nil) || a.Matches([]byte("$2a$10$")) {
		t.Error("Matches: want true for $argon2id$ only")
	}
}

func TestArgon2idRehash(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	weak := newTestArgon2id(t, config{})
	h, _ := weak.Hash(ctx, "correct horse")
	for _, cfg := range []config{{memory: 128}, {iterations: 2}, {parallelism: 2}} {
		a := newTestArgon2id(t, cfg)
		ok, rehash, err := a.Verify(ctx, h, "correct horse")
		if !ok || !rehash || err != nil {
			t.Errorf("%+v: Verify(weaker hash) = %v, %v, %v; want true, true, nil", a.params, ok, rehash, err)
		}
		if ok, rehash, _ := a.Verify(ctx, h, "wrong horse"); ok || rehash {
			t.Errorf("%+v: Verify(wrong, weaker hash) = %v, %v; want false, false", a.params, ok, rehash)
		}
	}
	// A hash of other salt and key lengths verifies and is replaced.
	salt := []byte("0123456789ab") // 12 bytes
	key := argon2.IDKey([]byte("correct horse"), salt, 1, 64, 1, 24)
	odd := encodeArgon2id(weak.params, salt, key)
	if ok, rehash, err := weak.Verify(ctx, odd, "correct horse"); !ok || !rehash || err != nil {
		t.Errorf("Verify(%q) = %v, %v, %v; want true, true, nil", odd, ok, rehash, err)
	}
}

func TestParseArgon2id(t *testing.T) {
	t.Parallel()
	const (
		salt = "MDEyMzQ1Njc4OWFiY2RlZg"                      // 16 bytes
		key  = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY" // 32 bytes
	)
	ok := "$argon2id$v=19$m=64,t=1,p=1$" + salt + "$" + key
	tests := []struct {
		name string
		hash string
		ok   bool
	}{
		{"valid", ok, true},
		{"valid large", "$argon2id$v=19$m=1048576,t=64,p=16$" + salt + "$" + key, true},
		{"valid short salt and key", "$argon2id$v=19$m=64,t=1,p=1$MDEyMzQ1Njc$MDEyMzQ1Njc4OWFiY2RlZg", true},
		{"empty", "", false},
		{"argon2i", "$argon2i$v=19$m=64,t=1,p=1$" + salt + "$" + key, false},
		{"argon2d", "$argon2d$v=19$m=64,t=1,p=1$" + salt + "$" + key, false},
		{"no leading $", "argon2id$v=19$m=64,t=1,p=1$" + salt + "$" + key, false},
		{"trailing $", ok + "$", false},
		{"missing key", "$argon2id$v=19$m=64,t=1,p=1$" + salt, false},
		{"missing version", "$argon2id$m=64,t=1,p=1$" + salt + "$" + key, false},
		{"version 16", "$argon2id$v=16$m=64,t=1,p=1$" + salt + "$" + key, false},
		{"version 019", "$argon2id$v=019$m=64,t=1,p=1$" + salt + "$" + key, false},
		{"params out of order", "$argon2id$v=19$t=1,m=64,p=1$" + salt + "$" + key, false},
		{"params missing p", "$argon2id$v=19$m=64,t=1$" + salt + "$" + key, false},
		{"params extra", "$argon2id$v=19$m=64,t=1,p=1,k=1$" + salt + "$" + key, false},
		{"params with space", "$argon2id$v=19$m=64, t=1,p=1$" + salt + "$" + key, false},
		{"m empty", "$argon2id$v=19$m=,t=1,p=1$" + salt + "$" + key, false},
		{"m leading zero", "$argon2id$v=19$m=064,t=1,p=1$" + salt + "$" + key, false},
		{"m signed", "$argon2id$v=19$m=+64,t=1,p=1$" + salt + "$" + key, false},
		{"m negative", "$argon2id$v=19$m=-64,t=1,p=1$" + salt + "$" + key, false},
		{"m hex", "$argon2id$v=19$m=0x40,t=1,p=1$" + salt + "$" + key, false},
		{"m below 8 per lane", "$argon2id$v=19$m=15,t=1,p=2$" + salt + "$" + key, false},
		{"m absurd", "$argon2id$v=19$m=1048577,t=1,p=1$" + salt + "$" + key, false},
		{"m overflow", "$argon2id$v=19$m=99999999999999999999,t=1,p=1$" + salt + "$" + key, false},
		{"t zero", "$argon2id$v=19$m=64,t=0,p=1$" + salt + "$" + key, false},
		{"t absurd", "$argon2id$v=19$m=64,t=65,p=1$" + salt + "$" + key, false},
		{"p zero", "$argon2id$v=19$m=64,t=1,p=0$" + salt + "$" + key, false},
		{"p absurd", "$argon2id$v=19$m=256,t=1,p=17$" + salt + "$" + key, false},
		{"p 256 wraps uint8", "$argon2id$v=19$m=4096,t=1,p=256$" + salt + "$" + key, false},
		{"salt padded", "$argon2id$v=19$m=64,t=1,p=1$" + salt + "==$" + key, false},
		{"salt url alphabet", "$argon2id$v=19$m=64,t=1,p=1$MDEyMzQ1Njc4OWFiY2RlZ_$" + key, false},
		{"salt with newline", "$argon2id$v=19$m=64,t=1,p=1$MDEyMzQ1Njc4\nOWFiY2RlZg$" + key, false},
		{"salt non-canonical bits", "$argon2id$v=19$m=64,t=1,p=1$MDEyMzQ1Njc4OWFiY2RlZh$" + key, false},
		{"salt empty", "$argon2id$v=19$m=64,t=1,p=1$$" + key, false},
		{"salt 7 bytes", "$argon2id$v=19$m=64,t=1,p=1$MDEyMzQ1Ng$" + key, false},
		{"salt 65 bytes", "$argon2id$v=19$m=64,t=1,p=1$" + strings.Repeat("QUFB", 21) + "QUE$" + key, false},
		{"key empty", "$argon2id$v=19$m=64,t=1,p=1$" + salt + "$", false},
		{"key 15 bytes", "$argon2id$v=19$m=64,t=1,p=1$" + salt + "$MDEyMzQ1Njc4OWFiY2Rl", false},
		{"key 65 bytes", "$argon2id$v=19$m=64,t=1,p=1$" + salt + "$" + strings.Repeat("QUFB", 21) + "QUE", false},
		{"key not base64", "$argon2id$v=19$m=64,t=1,p=1$" + salt + "$" + key[:40] + "!!!", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, _, _, err := parseArgon2id([]byte(tt.hash))
			if (err == nil) != tt.ok || (err != nil && !errors.Is(err, errMalformed)) {
				t.Errorf("parseArgon2id(%q) = %v; want ok=%v", tt.hash, err, tt.ok)
			}
		})
	}
}

// TestArgon2idWithoutUsableHash: no hash, an unreadable one or a password
// that breaks Check never matches, and costs a computation within a slot.
func TestArgon2idWithoutUsableHash(t *testing.T) {
	t.Parallel()
	a := newTestArgon2id(t, config{concurrency: 1})
	h, _ := a.Hash(context.Background(), "correct horse")
	tests := []struct {
		hash []byte
		pw   string
	}{
		{nil, "correct horse"}, {[]byte{}, "correct horse"}, {[]byte("$argon2id$v=19$m=64"), "correct horse"},
		{[]byte("$2a$10$not argon2"), "correct horse"}, {h, "short"},
	}
	for _, tt := range tests {
		ok, rehash, err := a.Verify(context.Background(), tt.hash, tt.pw)
		if ok || rehash || err != nil {
			t.Errorf("Verify(%q, %q) = %v, %v, %v; want false, false, nil", tt.hash, tt.pw, ok, rehash, err)
		}
	}
	// The dummy path takes a slot like any computation: with the one slot
	// taken, it waits and gives up with its context.
	_ = a.acquire(context.Background())
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	if _, _, err := a.Verify(ctx, nil, "correct horse"); !errors.Is(err, ErrBusy) {
		t.Errorf("Verify(nil) with the slot taken = %v; want ErrBusy", err)
	}
	a.release()
}
