package auth

import (
	"context"
	"crypto/hmac"
	"encoding/json"
	"fmt"
	"sync"
	"sync/atomic"
)

// KeySource resolves the verification key a token names by its kid. A
// [KeySet] is one; a source that fetches a remote JWK Set is another.
//
// VerificationKey must be safe for concurrent use. It returns the key with id
// kid, an error matching [ErrTokenUnknownKey] when there is no such key, or
// any other error when the answer is unknown (a failed fetch): the verifier
// then refuses the token with [ErrUnavailable] instead of calling it bad.
type KeySource interface {
	VerificationKey(ctx context.Context, kid string) (*Key, error)
}

// KeySet holds one signing key and any number of verify-only keys, so keys
// can rotate without failing a request: tokens signed by an older key keep
// verifying until that key is retired. It serves its public keys as a JWK
// Set (it is an [http.Handler]; see [KeySet.ServeHTTP]).
//
// A KeySet is safe for concurrent use. Readers never block: each change
// ([KeySet.Add], [KeySet.Promote], [KeySet.Retire]) publishes a new
// immutable snapshot atomically.
type KeySet struct {
	mu   sync.Mutex // serialises writers; readers use snap
	snap atomic.Pointer[keySnapshot]
}

type keySnapshot struct {
	signing *Key
	byID    map[string]*Key
	// byHeader maps the exact header segment each key writes to the key,
	// so verifying a token the set signed skips decoding its header.
	byHeader map[string]*Key
	order    []*Key // signing key first, then verify-only keys in the order added
	jwks     []byte // precomputed JWK Set document
}

// NewKeySet returns a key set that signs with signing and also verifies
// tokens signed by any of verifyOnly, which are stripped of private
// material. Key ids must be distinct. The signing key must hold private (or
// secret) material; a nil signing key makes a set that only verifies, so
// an [Auth] built on it cannot issue tokens (it then needs at least one
// verify-only key).
func NewKeySet(signing *Key, verifyOnly ...*Key) (*KeySet, error) {
	if signing != nil && !signing.canSign() {
		return nil, fmt.Errorf("%w: the signing key must hold a private key or secret", errNoSigningKey)
	}
	if signing == nil && len(verifyOnly) == 0 {
		return nil, fmt.Errorf("%w: no key", ErrConfig)
	}
	keys := make([]*Key, 0, 1+len(verifyOnly))
	if signing != nil {
		keys = append(keys, signing)
	}
	for _, k := range verifyOnly {
		if k == nil {
			return nil, fmt.Errorf("%w: nil verification key", ErrConfig)
		}
		keys = append(keys, k.verifyOnly())
	}
	snap, err := newSnapshot(signing, keys)
	if err != nil {
		return nil, err
	}
	ks := &KeySet{}
	ks.snap.Store(snap)
	return ks, nil
}

func newSnapshot(signing *Key, keys []*Key) (*keySnapshot, error) {
	s := &keySnapshot{signing: signing, byID: make(map[string]*Key, len(keys)), byHeader: make(map[string]*Key, len(keys)), order: keys}
	set := struct {
		Keys []jwk `json:"keys"`
	}{Keys: []jwk{}}
	for _, k := range keys {
		if _, dup := s.byID[k.id]; dup {
			return nil, fmt.Errorf("%w: duplicate key id %q", ErrConfig, k.id)
		}
		s.byID[k.id] = k
		s.byHeader[k.header] = k
		if j, ok := publicJWK(k); ok {
			set.Keys = append(set.Keys, j)
		}
	}
	b, err := json.Marshal(set)
	if err != nil {
		return nil, fmt.Errorf("auth: encode JWK Set: %w", err)
	}
	s.jwks = b
	return s, nil
}

// SigningKey returns the key that signs new tokens, or nil for a
// verify-only set.
func (ks *KeySet) SigningKey() *Key { return ks.snap.Load().signing }

// Keys returns every key of the set, the signing key first.
func (ks *KeySet) Keys() []*Key {
	s := ks.snap.Load()
	return append([]*Key(nil), s.order...)
}

// VerificationKey implements [KeySource].
func (ks *KeySet) VerificationKey(_ context.Context, kid string) (*Key, error) {
	if k, ok := ks.snap.Load().byID[kid]; ok {
		return k, nil
	}
	return nil, ErrTokenUnknownKey
}

// jwks returns the JWK Set document of the set's public keys (see
// [KeySet.ServeHTTP]). The caller must not modify it.
func (ks *KeySet) jwks() []byte { return ks.snap.Load().jwks }

// Add adds k as a verify-only key: tokens it signs verify from now on, and
// its public key is published in the JWK Set. Adding the next key some time
// before [KeySet.Promote] lets every verifier that caches the JWK Set learn
// it before it signs anything.
func (ks *KeySet) Add(k *Key) error {
	if k == nil {
		return fmt.Errorf("%w: nil key", ErrConfig)
	}
	ks.mu.Lock()
	defer ks.mu.Unlock()
	s := ks.snap.Load()
	keys := append(append([]*Key(nil), s.order...), k)
	return ks.replace(s.signing, keys)
}

// Promote makes k, which must hold its private material, the signing key.
// Publish k with [KeySet.Add] first, long enough before that every verifier
// caching the JWK Set has seen it. The previous signing key stays as a
// verify-only key until [KeySet.Retire].
func (ks *KeySet) Promote(k *Key) error {
	if k == nil || !k.canSign() {
		return fmt.Errorf("%w: the signing key must hold a private key or secret", errNoSigningKey)
	}
	ks.mu.Lock()
	defer ks.mu.Unlock()
	s := ks.snap.Load()
	if o, ok := s.byID[k.id]; ok && !sameKey(o, k) {
		return fmt.Errorf("%w: another key already has id %q", ErrConfig, k.id)
	}
	keys := make([]*Key, 0, len(s.order)+1)
	keys = append(keys, k)
	for _, o := range s.order {
		if o.id == k.id {
			continue
		}
		if o == s.signing {
			o = o.verifyOnly()
		}
		keys = append(keys, o)
	}
	return ks.replace(k, keys)
}

// Retire removes the verify-only key with id kid: tokens it signed stop
// verifying and it leaves the JWK Set. Retire a key once every token it
// signed has expired. The signing key cannot be retired.
func (ks *KeySet) Retire(kid string) error {
	ks.mu.Lock()
	defer ks.mu.Unlock()
	s := ks.snap.Load()
	if s.signing != nil && s.signing.id == kid {
		return fmt.Errorf("%w: cannot retire the signing key %q", ErrConfig, kid)
	}
	keys := make([]*Key, 0, len(s.order))
	found := false
	for _, o := range s.order {
		if o.id == kid {
			found = true
			continue
		}
		keys = append(keys, o)
	}
	if !found {
		return fmt.Errorf("%w: no key %q", ErrConfig, kid)
	}
	if len(keys) == 0 {
		return fmt.Errorf("%w: cannot retire the last key", ErrConfig)
	}
	return ks.replace(s.signing, keys)
}

// sameKey reports whether a and b are the same key material for the same
// algorithm, whatever their kids and private halves.
func sameKey(a, b *Key) bool {
	if a.alg != b.alg {
		return false
	}
	if a.info.kind == kindHMAC {
		return hmac.Equal(a.verify.([]byte), b.verify.([]byte))
	}
	return Thumbprint(a) == Thumbprint(b)
}

// replace publishes a new snapshot; ks.mu must be held.
func (ks *KeySet) replace(signing *Key, keys []*Key) error {
	for i, k := range keys {
		if k != signing {
			keys[i] = k.verifyOnly()
		}
	}
	snap, err := newSnapshot(signing, keys)
	if err != nil {
		return err
	}
	ks.snap.Store(snap)
	return nil
}
