package password

import "context"

// Verifier checks the password hashes of one format: [Bcrypt] and
// [Argon2id] are Verifiers, and so is whatever an application writes for
// the hashes of a system it migrates from, to hand to [NewPolicy].
// A Verifier must be safe for concurrent use.
type Verifier interface {
	// Matches reports whether hash is of the verifier's format, by its form
	// alone (a prefix, a header): cheap, without hashing, and false for a
	// nil or empty hash.
	Matches(hash []byte) bool
	// Verify reports whether password matches hash, exactly as received.
	// rehash reports that hash, although it matches, is not of the
	// verifier's current parameters; a [Policy] asks for a rehash of every
	// match in a format other than its current one, whatever rehash says.
	// A mismatch, and a hash that Matches accepted but that turns out
	// unreadable, is ok=false with a nil error: err is for system
	// failures, and for [ErrBusy].
	Verify(ctx context.Context, hash []byte, password string) (ok, rehash bool, err error)
}

// Hasher is a password policy: a [Verifier] that also makes new hashes.
// [Bcrypt], [Argon2id] and [Policy] are Hashers; package auth takes one
// (auth.WithPasswords). A Hasher must be safe for concurrent use.
//
// Beyond the Verifier contract, a Hasher's Verify spends the work of one
// full hash of its current parameters whatever the hash: with a nil hash
// (an unknown user), an empty or unreadable one (an account without a
// password) or a password that breaks [Check], it computes a hash all the
// same and reports false, so that those answers take as long as a wrong
// password.
type Hasher interface {
	Verifier
	// Hash checks password with [Check] (an error matching [ErrInvalid])
	// and returns its hash by the current parameters.
	Hash(ctx context.Context, password string) ([]byte, error)
}

var (
	_ Hasher = (*Bcrypt)(nil)
	_ Hasher = (*Argon2id)(nil)
	_ Hasher = (*Policy)(nil)
)
