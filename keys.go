package auth

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"hash"
	"io"
	"sync"

	"github.com/golang-jwt/jwt/v5"
)

// Algorithm is a JWS signing algorithm ("alg"). A [Key] has exactly one.
type Algorithm string

// The supported algorithms. HS256 needs a secret shared by every verifier;
// the others let verifiers hold only a public key. EdDSA (Ed25519) and ES256
// sign far faster than RS256.
const (
	HS256 Algorithm = "HS256"
	HS384 Algorithm = "HS384"
	HS512 Algorithm = "HS512"
	RS256 Algorithm = "RS256"
	RS384 Algorithm = "RS384"
	RS512 Algorithm = "RS512"
	PS256 Algorithm = "PS256"
	PS384 Algorithm = "PS384"
	PS512 Algorithm = "PS512"
	ES256 Algorithm = "ES256"
	ES384 Algorithm = "ES384"
	ES512 Algorithm = "ES512"
	EdDSA Algorithm = "EdDSA"
)

// Key size limits.
const (
	// minRSABits is the smallest RSA modulus accepted.
	minRSABits = 2048
	// maxRSABits bounds the cost of one verification.
	maxRSABits = 16384
	// maxKeyIDLen bounds a caller-given kid.
	maxKeyIDLen = 128
)

type keyKind int

const (
	kindHMAC keyKind = iota + 1
	kindRSA
	kindEC
	kindEd25519
)

type algInfo struct {
	kind   keyKind
	method jwt.SigningMethod
	minLen int            // HMAC: minimum secret length in bytes
	curve  elliptic.Curve // EC: the one curve allowed
}

func lookupAlg(alg Algorithm) (algInfo, bool) {
	switch alg {
	case HS256:
		return algInfo{kind: kindHMAC, method: jwt.SigningMethodHS256, minLen: 32}, true
	case HS384:
		return algInfo{kind: kindHMAC, method: jwt.SigningMethodHS384, minLen: 48}, true
	case HS512:
		return algInfo{kind: kindHMAC, method: jwt.SigningMethodHS512, minLen: 64}, true
	case RS256:
		return algInfo{kind: kindRSA, method: jwt.SigningMethodRS256}, true
	case RS384:
		return algInfo{kind: kindRSA, method: jwt.SigningMethodRS384}, true
	case RS512:
		return algInfo{kind: kindRSA, method: jwt.SigningMethodRS512}, true
	case PS256:
		return algInfo{kind: kindRSA, method: jwt.SigningMethodPS256}, true
	case PS384:
		return algInfo{kind: kindRSA, method: jwt.SigningMethodPS384}, true
	case PS512:
		return algInfo{kind: kindRSA, method: jwt.SigningMethodPS512}, true
	case ES256:
		return algInfo{kind: kindEC, method: jwt.SigningMethodES256, curve: elliptic.P256()}, true
	case ES384:
		return algInfo{kind: kindEC, method: jwt.SigningMethodES384, curve: elliptic.P384()}, true
	case ES512:
		return algInfo{kind: kindEC, method: jwt.SigningMethodES512, curve: elliptic.P521()}, true
	case EdDSA:
		return algInfo{kind: kindEd25519, method: jwt.SigningMethodEdDSA}, true
	}
	return algInfo{}, false
}

// Key is one signing or verification key bound to exactly one [Algorithm]
// and identified by a key id (kid). A Key is immutable and safe for
// concurrent use. Build one with [NewHMACKey], [NewPrivateKey],
// [NewPublicKey], [ParseKeyPEM], [ParseJWK] or [GenerateKey].
type Key struct {
	id     string
	alg    Algorithm
	info   algInfo
	signer any              // []byte for HMAC, a private key or external crypto.Signer otherwise; nil for verify-only
	verify any              // []byte for HMAC, a public key otherwise
	public crypto.PublicKey // nil for HMAC
	header string           // base64url JOSE header of the tokens it signs
	macs   *sync.Pool       // of hash.Hash keyed with the secret; HMAC only
}

// verifySignature checks sig over input with the key's one algorithm.
// HMAC keys reuse their keyed hashes (the same computation as
// jwt.SigningMethodHMAC.Verify, without building a new HMAC each time);
// the comparison is constant-time.
func (k *Key) verifySignature(input string, sig []byte) error {
	if k.macs == nil {
		return k.info.method.Verify(input, sig, k.verify)
	}
	h := k.macs.Get().(hash.Hash)
	h.Reset()
	h.Write([]byte(input))
	var buf [64]byte
	ok := hmac.Equal(h.Sum(buf[:0]), sig)
	k.macs.Put(h)
	if !ok {
		return jwt.ErrSignatureInvalid
	}
	return nil
}

// ID returns the key id (kid) placed in the header of tokens the key signs.
func (k *Key) ID() string { return k.id }

// Algorithm returns the key's one algorithm.
func (k *Key) Algorithm() Algorithm { return k.alg }

// canSign reports whether the key holds private (or secret) material.
func (k *Key) canSign() bool { return k.signer != nil }

// Public returns the public key, or nil for an HMAC key.
func (k *Key) Public() crypto.PublicKey { return k.public }

// verifyOnly returns a copy of k without its private material, for
// publishing or for a verify-only [KeySet] entry. An HMAC key is returned
// unchanged: its secret is what verifies.
func (k *Key) verifyOnly() *Key {
	if k.info.kind == kindHMAC {
		return k
	}
	c := *k
	c.signer = nil
	return &c
}

// KeyOption configures a [Key] at construction.
type KeyOption func(*keyConfig)

type keyConfig struct {
	id    string
	idSet bool // WithKeyID was given, even with ""
}

// WithKeyID sets the key id instead of deriving it from the key. The default
// is the RFC 7638 JWK thumbprint of the public key, or for an HMAC secret a
// keyed digest that reveals nothing about it; both are stable across
// restarts and instances that share the key. An id must be 1 to 128
// printable ASCII characters.
func WithKeyID(kid string) KeyOption {
	return func(c *keyConfig) { c.id, c.idSet = kid, true }
}

func newKey(alg Algorithm, signer, public any, opts []KeyOption) (*Key, error) {
	info, ok := lookupAlg(alg)
	if !ok {
		return nil, fmt.Errorf("%w: unknown algorithm %q", ErrConfig, alg)
	}
	var cfg keyConfig
	for _, o := range opts {
		o(&cfg)
	}
	k := &Key{alg: alg, info: info}
	if info.kind == kindHMAC {
		secret, err := hmacSecret(alg, info, signer)
		if err != nil {
			return nil, err
		}
		k.signer, k.verify = secret, secret
		newHash := info.method.(*jwt.SigningMethodHMAC).Hash.New
		k.macs = &sync.Pool{New: func() any { return hmac.New(newHash, secret) }}
	} else {
		pub, err := checkPublicKey(alg, info, public)
		if err != nil {
			return nil, err
		}
		k.verify, k.public = pub, pub
		if signer != nil {
			k.signer = signer
			// An external signer (see inMemory) is not called here: a
			// KMS round trip at construction is not wanted, and each of
			// its signatures is verified when it signs (see Key.sign).
			if inMemory(signer) {
				if err := checkKeyPair(k); err != nil {
					return nil, err
				}
			}
		}
	}
	if err := k.setID(&cfg); err != nil {
		return nil, err
	}
	k.header = headerSegment(k)
	return k, nil
}

// hmacSecret returns a copy of the HMAC secret, refusing one shorter than
// the hash of alg.
func hmacSecret(alg Algorithm, info algInfo, signer any) ([]byte, error) {
	secret, ok := signer.([]byte)
	if !ok {
		return nil, fmt.Errorf("%w: %s needs a secret, got %T", ErrKeyMismatch, alg, signer)
	}
	if len(secret) < info.minLen {
		return nil, fmt.Errorf("%w: %s secret has %d bytes, need at least %d", ErrWeakKey, alg, len(secret), info.minLen)
	}
	return append([]byte(nil), secret...), nil
}

// checkPublicKey returns public if it is a usable key of alg's type: an
// RSA key of 2048 to 16384 bits with a valid exponent, an ECDSA point on
// alg's one curve, or an Ed25519 key.
func checkPublicKey(alg Algorithm, info algInfo, public any) (crypto.PublicKey, error) {
	switch info.kind {
	case kindRSA:
		pub, ok := public.(*rsa.PublicKey)
		if !ok || pub == nil || pub.N == nil {
			return nil, fmt.Errorf("%w: %s needs an RSA key, got %T", ErrKeyMismatch, alg, public)
		}
		if bits := pub.N.BitLen(); bits < minRSABits || bits > maxRSABits {
			return nil, fmt.Errorf("%w: %s key has %d bits, need %d to %d", ErrWeakKey, alg, bits, minRSABits, maxRSABits)
		}
		if pub.E < 3 || pub.E%2 == 0 {
			return nil, fmt.Errorf("%w: %s key has an invalid public exponent", ErrWeakKey, alg)
		}
		return pub, nil
	case kindEC:
		pub, ok := public.(*ecdsa.PublicKey)
		if !ok || pub == nil || pub.Curve == nil || pub.X == nil || pub.Y == nil {
			return nil, fmt.Errorf("%w: %s needs an ECDSA key, got %T", ErrKeyMismatch, alg, public)
		}
		if pub.Curve != info.curve {
			return nil, fmt.Errorf("%w: %s needs curve %s, got %s", ErrKeyMismatch, alg, info.curve.Params().Name, pub.Curve.Params().Name)
		}
		// ECDH validates the point: it must lie on the curve.
		if _, err := pub.ECDH(); err != nil {
			return nil, fmt.Errorf("%w: %s public key is not a valid point", ErrKeyMismatch, alg)
		}
		return pub, nil
	case kindEd25519:
		pub, ok := public.(ed25519.PublicKey)
		if !ok || len(pub) != ed25519.PublicKeySize {
			return nil, fmt.Errorf("%w: %s needs an Ed25519 key, got %T", ErrKeyMismatch, alg, public)
		}
		return pub, nil
	}
	return nil, fmt.Errorf("%w: %s is not a public-key algorithm", ErrConfig, alg)
}

// setID sets the key id: the one given with [WithKeyID], or one derived
// from the key.
func (k *Key) setID(cfg *keyConfig) error {
	if !cfg.idSet {
		k.id = deriveKeyID(k)
		return nil
	}
	if err := checkKeyID(cfg.id); err != nil {
		return err
	}
	k.id = cfg.id
	return nil
}

// checkKeyPair signs a fixed message with k's private key and verifies it
// with k's public key, so a private key whose public half does not belong to
// it (an Ed25519 key of two different keys, an ECDSA key whose D does not
// match X and Y) is refused when built instead of signing tokens that never
// verify. RSA keys were already checked by [rsa.PrivateKey.Validate].
func checkKeyPair(k *Key) error {
	if k.info.kind == kindRSA {
		return nil
	}
	const msg = "jwtkit auth: key pair check"
	sig, err := k.info.method.Sign(msg, k.signer)
	if err == nil {
		err = k.info.method.Verify(msg, sig, k.verify)
	}
	if err != nil {
		return fmt.Errorf("%w: %s private key does not match its public key", ErrKeyMismatch, k.alg)
	}
	return nil
}

func checkKeyID(kid string) error {
	if kid == "" || len(kid) > maxKeyIDLen {
		return fmt.Errorf("%w: key id must be 1 to %d bytes", ErrConfig, maxKeyIDLen)
	}
	for i := 0; i < len(kid); i++ {
		if c := kid[i]; c < 0x21 || c > 0x7e {
			return fmt.Errorf("%w: key id must be printable ASCII without spaces", ErrConfig)
		}
	}
	return nil
}

// hmacKeyIDLabel cannot occur in a JWS signing input (it holds a space and a
// colon, which base64url never does), so the derived kid can never double
// as a token signature.
const hmacKeyIDLabel = "jwtkit auth: HMAC key id v1"

func deriveKeyID(k *Key) string {
	if k.info.kind == kindHMAC {
		m := hmac.New(sha256.New, k.verify.([]byte))
		m.Write([]byte(hmacKeyIDLabel))
		return base64.RawURLEncoding.EncodeToString(m.Sum(nil)[:18])
	}
	return Thumbprint(k)
}

// NewHMACKey returns an HMAC key (HS256, HS384 or HS512). The secret must be
// at least as long as the hash output (32 bytes for HS256); it is copied.
func NewHMACKey(alg Algorithm, secret []byte, opts ...KeyOption) (*Key, error) {
	if info, ok := lookupAlg(alg); ok && info.kind != kindHMAC {
		return nil, fmt.Errorf("%w: %s is not an HMAC algorithm", ErrKeyMismatch, alg)
	}
	return newKey(alg, secret, nil, opts)
}

// NewPrivateKey returns a signing key for alg from priv.
//
// A private key in memory is checked in full: *rsa.PrivateKey for RS* and
// PS* (validated), *ecdsa.PrivateKey on the matching curve for ES*,
// ed25519.PrivateKey for EdDSA (each pair signs and verifies a test
// message, so halves of two keys are refused).
//
// Any other crypto.Signer is an external signer whose private key the
// process never holds, such as a KMS or HSM client. It is accepted when its
// Public method returns a key that [NewPublicKey] accepts for alg: an RSA
// key of 2048 to 16384 bits for RS* and PS*, an ECDSA key on the
// algorithm's curve for ES*, an Ed25519 key for EdDSA. NewPrivateKey calls
// Public once and never Sign, so building the key costs no round trip.
// Tokens are then signed by its Sign method, called with
// crypto/rand.Reader and:
//   - RS256/384/512: the SHA-256/384/512 digest and that crypto.Hash,
//     for a PKCS #1 v1.5 signature;
//   - PS256/384/512: the digest and an *rsa.PSSOptions with
//     [rsa.PSSSaltLengthEqualsHash], for a PSS signature;
//   - ES256/384/512: the digest and its crypto.Hash, for an ASN.1 DER
//     signature (as [ecdsa.PrivateKey.Sign] returns), which the key
//     converts to the JWS form;
//   - EdDSA: the signing input itself and crypto.Hash(0).
//
// Sign must be safe for concurrent use. crypto.Signer takes no context, so
// a signer that makes a network call must bound each call with a timeout
// of its own. Each signature of an external signer is verified with the
// public key before a token is issued: a Sign error, a malformed signature
// or one that does not verify (a KMS key replaced under the application)
// fails the issue with an error matching [ErrUnavailable], which HTTP
// answers 503, and nothing is issued.
//
// A key that does not fit alg is refused with an error matching
// [ErrKeyMismatch] or [ErrWeakKey].
func NewPrivateKey(alg Algorithm, priv crypto.Signer, opts ...KeyOption) (*Key, error) {
	if priv == nil {
		return nil, fmt.Errorf("%w: nil private key", ErrKeyMismatch)
	}
	if info, ok := lookupAlg(alg); ok && info.kind == kindHMAC {
		return nil, fmt.Errorf("%w: %s takes a secret, not a private key", ErrKeyMismatch, alg)
	}
	switch p := priv.(type) {
	case *rsa.PrivateKey:
		if p == nil || p.N == nil {
			return nil, fmt.Errorf("%w: empty RSA private key", ErrKeyMismatch)
		}
		if err := p.Validate(); err != nil {
			return nil, fmt.Errorf("%w: %s: %v", ErrKeyMismatch, alg, err)
		}
	case *ecdsa.PrivateKey:
		if p == nil || p.D == nil {
			return nil, fmt.Errorf("%w: empty ECDSA private key", ErrKeyMismatch)
		}
	case ed25519.PrivateKey:
		if len(p) != ed25519.PrivateKeySize {
			return nil, fmt.Errorf("%w: Ed25519 private key has %d bytes, need %d", ErrKeyMismatch, len(p), ed25519.PrivateKeySize)
		}
	}
	// An external signer: its public key gets the checks of NewPublicKey
	// in newKey, and it is never called beyond Public.
	return newKey(alg, priv, priv.Public(), opts)
}

// NewPublicKey returns a verify-only key for alg from a public key:
// *rsa.PublicKey, *ecdsa.PublicKey or ed25519.PublicKey.
func NewPublicKey(alg Algorithm, pub crypto.PublicKey, opts ...KeyOption) (*Key, error) {
	if info, ok := lookupAlg(alg); ok && info.kind == kindHMAC {
		return nil, fmt.Errorf("%w: %s takes a secret, not a public key", ErrKeyMismatch, alg)
	}
	return newKey(alg, nil, pub, opts)
}

// GenerateKey returns a new random key for alg: a 2048-bit RSA key for RS*
// and PS*, a key on the algorithm's curve for ES*, an Ed25519 key for EdDSA,
// and a secret as long as the hash output for HS*. Random bytes come from
// r, or from crypto/rand when r is nil.
func GenerateKey(r io.Reader, alg Algorithm, opts ...KeyOption) (*Key, error) {
	info, ok := lookupAlg(alg)
	if !ok {
		return nil, fmt.Errorf("%w: unknown algorithm %q", ErrConfig, alg)
	}
	if r == nil {
		r = rand.Reader
	}
	switch info.kind {
	case kindHMAC:
		secret := make([]byte, info.minLen)
		if _, err := io.ReadFull(r, secret); err != nil {
			return nil, fmt.Errorf("auth: generate %s secret: %w", alg, err)
		}
		return NewHMACKey(alg, secret, opts...)
	case kindRSA:
		priv, err := rsa.GenerateKey(r, minRSABits)
		if err != nil {
			return nil, fmt.Errorf("auth: generate %s key: %w", alg, err)
		}
		return NewPrivateKey(alg, priv, opts...)
	case kindEC:
		priv, err := ecdsa.GenerateKey(info.curve, r)
		if err != nil {
			return nil, fmt.Errorf("auth: generate %s key: %w", alg, err)
		}
		return NewPrivateKey(alg, priv, opts...)
	default:
		_, priv, err := ed25519.GenerateKey(r)
		if err != nil {
			return nil, fmt.Errorf("auth: generate %s key: %w", alg, err)
		}
		return NewPrivateKey(alg, priv, opts...)
	}
}

// ParseKeyPEM returns the key for alg in one PEM block: a signing key from
// a private key in PKCS#1 ("RSA PRIVATE KEY"), SEC 1 ("EC PRIVATE KEY",
// optionally after an "EC PARAMETERS" block) or PKCS#8 ("PRIVATE KEY"), a
// verify-only key from a public key in SPKI ("PUBLIC KEY") or PKCS#1 ("RSA
// PUBLIC KEY"). Encrypted PEM, extra blocks and keys that do not fit alg
// are refused with an error matching [ErrKeyMismatch] or [ErrWeakKey].
func ParseKeyPEM(alg Algorithm, data []byte, opts ...KeyOption) (*Key, error) {
	block, err := onePEMBlock(data)
	if err != nil {
		return nil, err
	}
	var parsed any
	switch block.Type {
	case "RSA PRIVATE KEY":
		parsed, err = x509.ParsePKCS1PrivateKey(block.Bytes)
	case "EC PRIVATE KEY":
		parsed, err = x509.ParseECPrivateKey(block.Bytes)
	case "PRIVATE KEY":
		parsed, err = x509.ParsePKCS8PrivateKey(block.Bytes)
	case "PUBLIC KEY":
		parsed, err = x509.ParsePKIXPublicKey(block.Bytes)
	case "RSA PUBLIC KEY":
		parsed, err = x509.ParsePKCS1PublicKey(block.Bytes)
	default:
		return nil, fmt.Errorf("%w: unsupported PEM block %q", ErrKeyMismatch, block.Type)
	}
	if err != nil {
		return nil, fmt.Errorf("%w: parse %s: %v", ErrKeyMismatch, block.Type, err)
	}
	if signer, ok := parsed.(crypto.Signer); ok {
		return NewPrivateKey(alg, signer, opts...)
	}
	return NewPublicKey(alg, parsed, opts...)
}

func onePEMBlock(data []byte) (*pem.Block, error) {
	var found *pem.Block
	rest := data
	for {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			break
		}
		if b.Type == "EC PARAMETERS" {
			continue
		}
		if found != nil {
			return nil, fmt.Errorf("%w: more than one key in PEM data", ErrKeyMismatch)
		}
		if len(b.Headers) != 0 {
			return nil, fmt.Errorf("%w: encrypted or annotated PEM is not supported", ErrKeyMismatch)
		}
		found = b
	}
	if found == nil {
		return nil, fmt.Errorf("%w: no PEM block found", ErrKeyMismatch)
	}
	return found, nil
}
