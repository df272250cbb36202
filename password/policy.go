package password

import (
	"context"
	"fmt"
)

// Policy verifies every configured format at once and hashes by one: the
// current [Hasher] makes every new hash and checks unknown users (its
// dummy), and the other [Verifier]s check the hashes of the formats being
// migrated from. A match in another format than the current one reports
// rehash=true, so that package auth stores a hash of the current format at
// that login. Build one with [NewPolicy]; it is safe for concurrent use.
type Policy struct {
	current Hasher
	also    []Verifier
}

// NewPolicy returns the policy that hashes with current and verifies the
// hashes of current and of also. A hash goes to the first of current and
// also (in that order) whose Matches accepts it; one that none accepts, a
// nil hash included, to current, which spends a full hash and reports
// false. For example, to move from bcrypt to Argon2id:
//
//	policy, err := password.NewPolicy(argon, bcrypt)
//
// where argon is an [*Argon2id] and bcrypt a [*Bcrypt]; an application adds
// its own Verifier for the hashes of a legacy system. A nil hasher or
// verifier is refused with [ErrConfig].
func NewPolicy(current Hasher, also ...Verifier) (*Policy, error) {
	if current == nil {
		return nil, fmt.Errorf("%w: NewPolicy: nil current hasher", ErrConfig)
	}
	for i, v := range also {
		if v == nil {
			return nil, fmt.Errorf("%w: NewPolicy: verifier %d is nil", ErrConfig, i)
		}
	}
	return &Policy{current: current, also: append([]Verifier(nil), also...)}, nil
}

// Hash returns the hash of password by the current hasher; see
// [Hasher].
func (p *Policy) Hash(ctx context.Context, password string) ([]byte, error) {
	return p.current.Hash(ctx, password)
}

// Matches reports whether any format of the policy accepts hash.
func (p *Policy) Matches(hash []byte) bool {
	if p.current.Matches(hash) {
		return true
	}
	for _, v := range p.also {
		if v.Matches(hash) {
			return true
		}
	}
	return false
}

// Verify checks password against hash with the verifier of its format, as
// [NewPolicy] describes. rehash is the current hasher's for a hash of its
// format, and true for any match in another.
func (p *Policy) Verify(ctx context.Context, hash []byte, password string) (ok, rehash bool, err error) {
	if !p.current.Matches(hash) {
		for _, v := range p.also {
			if v.Matches(hash) {
				ok, _, err := v.Verify(ctx, hash, password)
				return ok, ok, err
			}
		}
	}
	return p.current.Verify(ctx, hash, password)
}
