package password

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"testing"
)

// legacySHA is the Verifier of a made-up legacy format, "sha256:<hex>",
// as an application would write for the hashes of a system it leaves.
type legacySHA struct{}

func (legacySHA) Matches(hash []byte) bool { return bytes.HasPrefix(hash, []byte("sha256:")) }

func (legacySHA) Verify(_ context.Context, hash []byte, password string) (bool, bool, error) {
	sum := sha256.Sum256([]byte(password))
	want := []byte("sha256:" + hex.EncodeToString(sum[:]))
	return subtle.ConstantTimeCompare(hash, want) == 1, false, nil
}

func legacyHash(password string) []byte {
	sum := sha256.Sum256([]byte(password))
	return []byte("sha256:" + hex.EncodeToString(sum[:]))
}

func TestPolicyVerify(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	argon := newTestArgon2id(t, config{})
	bc := newTestBcrypt(t)
	policy, err := NewPolicy(argon, bc, legacySHA{})
	if err != nil {
		t.Fatal(err)
	}
	ah, _ := argon.Hash(ctx, "correct horse")
	bh, _ := bc.Hash(ctx, "correct horse")
	weak, _ := newTestArgon2id(t, config{}).Hash(ctx, "correct horse")
	stronger := newTestArgon2id(t, config{iterations: 2})
	sp, _ := NewPolicy(stronger, bc)
	tests := []struct {
		name       string
		policy     *Policy
		hash       []byte
		pw         string
		ok, rehash bool
	}{
		{"current format", policy, ah, "correct horse", true, false},
		{"current format, wrong", policy, ah, "wrong horse", false, false},
		{"bcrypt under argon2id", policy, bh, "correct horse", true, true},
		{"bcrypt under argon2id, wrong", policy, bh, "wrong horse", false, false},
		{"legacy", policy, legacyHash("correct horse"), "correct horse", true, true},
		{"legacy, wrong", policy, legacyHash("correct horse"), "wrong horse", false, false},
		{"weaker argon2id", sp, weak, "correct horse", true, true},
		{"unknown user", policy, nil, "correct horse", false, false},
		{"empty hash", policy, []byte{}, "correct horse", false, false},
		{"unknown format", policy, []byte("md5:abc"), "correct horse", false, false},
	}
	for _, tt := range tests {
		ok, rehash, err := tt.policy.Verify(ctx, tt.hash, tt.pw)
		if err != nil || ok != tt.ok || rehash != tt.rehash {
			t.Errorf("%s: Verify(%q) = %v, %v, %v; want %v, %v, nil", tt.name, tt.hash, ok, rehash, err, tt.ok, tt.rehash)
		}
	}
	h, err := policy.Hash(ctx, "correct horse")
	if err != nil || !argon.Matches(h) {
		t.Errorf("Hash = %q, %v; want an argon2id hash", h, err)
	}
	if !policy.Matches(bh) || !policy.Matches(legacyHash("x")) || policy.Matches([]byte("md5:abc")) || policy.Matches(nil) {
		t.Error("Matches: want true for the formats of the policy only")
	}
	// Under bcrypt as the current policy, an Argon2id hash is the one moved.
	bp, _ := NewPolicy(bc, argon)
	if ok, rehash, err := bp.Verify(ctx, ah, "correct horse"); !ok || !rehash || err != nil {
		t.Errorf("argon2id under bcrypt: Verify = %v, %v, %v; want true, true, nil", ok, rehash, err)
	}
}

// TestPolicyUnknownUserUsesCurrent: a hash no format accepts goes to the
// current hasher's dummy, which takes one of its slots.
func TestPolicyUnknownUserUsesCurrent(t *testing.T) {
	t.Parallel()
	argon := newTestArgon2id(t, config{concurrency: 1, queue: 1})
	policy, _ := NewPolicy(argon, newTestBcrypt(t))
	_ = argon.acquire(context.Background())
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, _, err := policy.Verify(ctx, nil, "correct horse"); !errors.Is(err, ErrBusy) {
		t.Errorf("Verify(nil) with the argon2id slot taken = %v; want ErrBusy", err)
	}
	argon.release()
}

func TestPolicyConfig(t *testing.T) {
	t.Parallel()
	if _, err := NewPolicy(nil); !errors.Is(err, ErrConfig) {
		t.Errorf("NewPolicy(nil) = %v; want ErrConfig", err)
	}
	if _, err := NewPolicy(newTestBcrypt(t), nil); !errors.Is(err, ErrConfig) {
		t.Errorf("NewPolicy(bcrypt, nil) = %v; want ErrConfig", err)
	}
}
