package authstore

import (
	"context"
	"time"
)

// KeyRecord is one signing key as a [KeyStore] keeps it. The private key
// (or HMAC secret) is sealed by the library under a key-encryption key
// that the application supplies and no store ever sees, so a store holds
// nothing that signs.
type KeyRecord struct {
	// Generation orders the keys: 1 for the first key, one more for each
	// next key. It is unique in a store.
	Generation int64
	// ID is the key's kid; it is unique in a store.
	ID string
	// Algorithm is the JWS alg the key signs with ("EdDSA", "ES256", ...).
	Algorithm string
	// Sealed is the private key, encrypted and authenticated by the
	// library; a store keeps it as opaque bytes.
	Sealed []byte
	// CreatedAt is when the key was made, and ActiveAt when it starts
	// signing; until then it is only published.
	CreatedAt time.Time
	ActiveAt  time.Time
}

// KeyStore keeps the signing keys that every instance of a service shares,
// so that instances rotate them together with no coordination beyond the
// store. Whichever instance finds the next key due tries to add it; the
// store lets exactly one addition of a generation succeed, and every
// instance then loads the same keys.
// github.com/jwtkit/auth/authtest.TestKeyStore runs every clause of this
// contract against an implementation.
//
// Every method must be safe for concurrent use, take ctx first and honour
// its cancellation; errors are for system failures and for a call that
// breaks a precondition below. A store holds a handful of keys: they live
// in one partition of a partitioned store. Times are kept to the
// microsecond at least, and Sealed comes back byte for byte.
type KeyStore interface {
	// AddKey stores rec when the store holds no key of rec.Generation,
	// and returns true. When it holds one already (another instance added
	// it first), it stores nothing and returns false with a nil error. Of
	// any number of concurrent calls for one generation, exactly one
	// returns true. A rec whose ID is stored already, or with an empty ID,
	// Algorithm or Sealed, or a Generation below 1, is an error, and
	// nothing is stored.
	AddKey(ctx context.Context, rec KeyRecord) (added bool, err error)

	// Keys returns every stored key, lowest Generation first.
	Keys(ctx context.Context) ([]KeyRecord, error)

	// DeleteKeys deletes every key whose Generation is below generation
	// (keys that no token can carry any more) and returns how many it
	// deleted.
	DeleteKeys(ctx context.Context, generation int64) (int, error)
}
