package password

import (
	"context"
	"errors"
	"strings"
	"testing"

	"golang.org/x/crypto/bcrypt"
)

func newTestBcrypt(t *testing.T, opts ...Option) *Bcrypt {
	t.Helper()
	p, err := NewBcrypt(append([]Option{WithCost(MinCost)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestPasswordsHashVerify(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	p := newTestBcrypt(t)
	h, err := p.Hash(ctx, "correct horse")
	if err != nil {
		t.Fatal(err)
	}
	if cost, _ := bcrypt.Cost(h); cost != MinCost {
		t.Errorf("cost = %d; want %d", cost, MinCost)
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
		{"garbage hash", []byte("nope"), "correct horse", false},
		{"too long never matches", h, "correct horse" + strings.Repeat("x", 80), false},
	}
	for _, tt := range tests {
		ok, rehash, err := p.Verify(ctx, tt.hash, tt.pw)
		if err != nil || ok != tt.ok || rehash {
			t.Errorf("%s: Verify = %v, %v, %v; want %v, false, nil", tt.name, ok, rehash, err, tt.ok)
		}
	}
	// bcrypt ignores bytes past 72: such a password must not verify against
	// the hash of its first 72 bytes.
	long := strings.Repeat("p", 72)
	hl, err := p.Hash(ctx, long)
	if err != nil {
		t.Fatal(err)
	}
	if ok, _, _ := p.Verify(ctx, hl, long+"suffix"); ok {
		t.Error("a 78-byte password verified against the hash of its 72-byte prefix")
	}
	if _, err := p.Hash(ctx, long+"x"); !errors.Is(err, ErrInvalid) {
		t.Errorf("Hash(73 bytes) = %v; want ErrInvalid", err)
	}
}

func TestPasswordsRehash(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	old := newTestBcrypt(t)
	h, _ := old.Hash(ctx, "correct horse")
	p := newTestBcrypt(t, WithCost(MinCost+1))
	ok, rehash, err := p.Verify(ctx, h, "correct horse")
	if !ok || !rehash || err != nil {
		t.Errorf("Verify(old cost) = %v, %v, %v; want true, true, nil", ok, rehash, err)
	}
	if ok, rehash, _ := p.Verify(ctx, h, "wrong horse"); ok || rehash {
		t.Errorf("Verify(wrong, old cost) = %v, %v; want false, false", ok, rehash)
	}
}

func TestPasswordsConfig(t *testing.T) {
	t.Parallel()
	for _, opts := range [][]Option{
		{WithCost(9)}, {WithCost(32)}, {WithConcurrency(0)},
	} {
		if _, err := NewBcrypt(opts...); !errors.Is(err, ErrConfig) {
			t.Errorf("NewBcrypt = %v; want ErrConfig", err)
		}
	}
}

// TestVerifyWithoutUsableHash: an account without a usable hash (none, empty,
// unreadable) never matches, and is compared against the dummy hash like an
// unknown user, so it costs a full bcrypt comparison.
func TestVerifyWithoutUsableHash(t *testing.T) {
	t.Parallel()
	for _, hash := range [][]byte{nil, {}, []byte("not a bcrypt hash")} {
		p := newTestBcrypt(t)
		ok, rehash, err := p.Verify(context.Background(), hash, "correct horse")
		if ok || rehash || err != nil {
			t.Fatalf("Verify(%q) = %v, %v, %v; want false, false, nil", hash, ok, rehash, err)
		}
		if cost, err := bcrypt.Cost(p.dummy); err != nil || cost != p.cost {
			t.Errorf("Verify(%q): dummy hash of cost %d (%v); want a dummy of cost %d compared against", hash, cost, err, p.cost)
		}
	}
}
