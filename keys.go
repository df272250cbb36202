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
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"

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
	// MinRSABits is the smallest RSA modulus accepted.
	MinRSABits = 2048
	// maxRSABits bounds the cost of one verification.
	maxRSABits = 16384
	// maxKeyIDLen bounds a caller-given kid.
	maxKeyIDLen = 128
)

type family int

const (
	famHMAC family = iota + 1
	famRSA
	famEC
	famEd25519
)

type algInfo struct {
	fam    family
	method jwt.SigningMethod
	minLen int            // HMAC: minimum secret length in bytes
	curve  elliptic.Curve // EC: the one curve allowed
}

func lookupAlg(alg Algorithm) (algInfo, bool) {
	switch alg {
	case HS256:
		return algInfo{fam: famHMAC, method: jwt.SigningMethodHS256, minLen: 32}, true
	case HS384:
		return algInfo{fam: famHMAC, method: jwt.SigningMethodHS384, minLen: 48}, true
	case HS512:
		return algInfo{fam: famHMAC, method: jwt.SigningMethodHS512, minLen: 64}, true
	case RS256:
		return algInfo{fam: famRSA, method: jwt.SigningMethodRS256}, true
	case RS384:
		return algInfo{fam: famRSA, method: jwt.SigningMethodRS384}, true
	case RS512:
		return algInfo{fam: famRSA, method: jwt.SigningMethodRS512}, true
	case PS256:
		return algInfo{fam: famRSA, method: jwt.SigningMethodPS256}, true
	case PS384:
		return algInfo{fam: famRSA, method: jwt.SigningMethodPS384}, true
	case PS512:
		return algInfo{fam: famRSA, method: jwt.SigningMethodPS512}, true
	case ES256:
		return algInfo{fam: famEC, method: jwt.SigningMethodES256, curve: elliptic.P256()}, true
	case ES384:
		return algInfo{fam: famEC, method: jwt.SigningMethodES384, curve: elliptic.P384()}, true
	case ES512:
		return algInfo{fam: famEC, method: jwt.SigningMethodES512, curve: elliptic.P521()}, true
	case EdDSA:
		return algInfo{fam: famEd25519, method: jwt.SigningMethodEdDSA}, true
	}
	return algInfo{}, false
}

// ParseAlgorithm returns the [Algorithm] named s (exact, case-sensitive
// spelling as in RFC 7518), or an error matching [ErrConfig].
func ParseAlgorithm(s string) (Algorithm, error) {
	a := Algorithm(s)
	if _, ok := lookupAlg(a); !ok {
		return "", fmt.Errorf("%w: unknown algorithm %q", ErrConfig, s)
	}
	return a, nil
}

// Key is one signing or verification key bound to exactly one [Algorithm]
// and identified by a key id (kid). A Key is immutable and safe for
// concurrent use. Build one with [NewHMACKey], [NewPrivateKey],
// [NewPublicKey], [ParsePrivateKeyPEM], [ParsePublicKeyPEM] or
// [GenerateKey].
type Key struct {
	id     string
	alg    Algorithm
	info   algInfo
	signer any              // []byte for HMAC, a private key otherwise; nil for verify-only
	verify any              // []byte for HMAC, a public key otherwise
	public crypto.PublicKey // nil for HMAC
	header string           // base64url JOSE header of the tokens it signs
}

// ID returns the key id (kid) placed in the header of tokens the key signs.
func (k *Key) ID() string { return k.id }

// Algorithm returns the key's one algorithm.
func (k *Key) Algorithm() Algorithm { return k.alg }

// CanSign reports whether the key holds private (or secret) material.
func (k *Key) CanSign() bool { return k.signer != nil }

// Public returns the public key, or nil for an HMAC key.
func (k *Key) Public() crypto.PublicKey { return k.public }

// VerifyOnly returns a copy of k without its private material, for
// publishing or for a verify-only [KeySet] entry. An HMAC key is returned
// unchanged: its secret is what verifies.
func (k *Key) VerifyOnly() *Key {
	if k.info.fam == famHMAC {
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
	switch info.fam {
	case famHMAC:
		secret, ok := signer.([]byte)
		if !ok {
			return nil, fmt.Errorf("%w: %s needs a secret, got %T", ErrKeyMismatch, alg, signer)
		}
		if len(secret) < info.minLen {
			return nil, fmt.Errorf("%w: %s secret has %d bytes, need at least %d", ErrWeakKey, alg, len(secret), info.minLen)
		}
		s := append([]byte(nil), secret...)
		k.signer, k.verify = s, s
	case famRSA:
		pub, ok := public.(*rsa.PublicKey)
		if !ok || pub == nil || pub.N == nil {
			return nil, fmt.Errorf("%w: %s needs an RSA key, got %T", ErrKeyMismatch, alg, public)
		}
		if bits := pub.N.BitLen(); bits < MinRSABits || bits > maxRSABits {
			return nil, fmt.Errorf("%w: %s key has %d bits, need %d to %d", ErrWeakKey, alg, bits, MinRSABits, maxRSABits)
		}
		if pub.E < 3 || pub.E%2 == 0 {
			return nil, fmt.Errorf("%w: %s key has an invalid public exponent", ErrWeakKey, alg)
		}
		k.verify, k.public = pub, pub
	case famEC:
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
		k.verify, k.public = pub, pub
	case famEd25519:
		pub, ok := public.(ed25519.PublicKey)
		if !ok || len(pub) != ed25519.PublicKeySize {
			return nil, fmt.Errorf("%w: %s needs an Ed25519 key, got %T", ErrKeyMismatch, alg, public)
		}
		k.verify, k.public = pub, pub
	}
	if info.fam != famHMAC && signer != nil {
		k.signer = signer
		if err := checkKeyPair(k); err != nil {
			return nil, err
		}
	}
	if cfg.idSet {
		if err := checkKeyID(cfg.id); err != nil {
			return nil, err
		}
		k.id = cfg.id
	} else {
		k.id = deriveKeyID(k)
	}
	k.header = headerSegment(k)
	return k, nil
}

// checkKeyPair signs a fixed message with k's private key and verifies it
// with k's public key, so a private key whose public half does not belong to
// it (an Ed25519 key of two different keys, an ECDSA key whose D does not
// match X and Y) is refused when built instead of signing tokens that never
// verify. RSA keys were already checked by [rsa.PrivateKey.Validate].
func checkKeyPair(k *Key) error {
	if k.info.fam == famRSA {
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
	if k.info.fam == famHMAC {
		m := hmac.New(sha256.New, k.verify.([]byte))
		m.Write([]byte(hmacKeyIDLabel))
		return base64.RawURLEncoding.EncodeToString(m.Sum(nil)[:18])
	}
	return Thumbprint(k)
}

// NewHMACKey returns an HMAC key (HS256, HS384 or HS512). The secret must be
// at least as long as the hash output (32 bytes for HS256); it is copied.
func NewHMACKey(alg Algorithm, secret []byte, opts ...KeyOption) (*Key, error) {
	if info, ok := lookupAlg(alg); ok && info.fam != famHMAC {
		return nil, fmt.Errorf("%w: %s is not an HMAC algorithm", ErrKeyMismatch, alg)
	}
	return newKey(alg, secret, nil, opts)
}

// NewPrivateKey returns a signing key for alg from a private key:
// *rsa.PrivateKey for RS* and PS*, *ecdsa.PrivateKey on the matching curve
// for ES*, ed25519.PrivateKey for EdDSA.
func NewPrivateKey(alg Algorithm, priv crypto.Signer, opts ...KeyOption) (*Key, error) {
	if priv == nil {
		return nil, fmt.Errorf("%w: nil private key", ErrKeyMismatch)
	}
	if info, ok := lookupAlg(alg); ok && info.fam == famHMAC {
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
	default:
		return nil, fmt.Errorf("%w: unsupported private key type %T", ErrKeyMismatch, priv)
	}
	return newKey(alg, priv, priv.Public(), opts)
}

// NewPublicKey returns a verify-only key for alg from a public key:
// *rsa.PublicKey, *ecdsa.PublicKey or ed25519.PublicKey.
func NewPublicKey(alg Algorithm, pub crypto.PublicKey, opts ...KeyOption) (*Key, error) {
	if info, ok := lookupAlg(alg); ok && info.fam == famHMAC {
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
	switch info.fam {
	case famHMAC:
		secret := make([]byte, info.minLen)
		if _, err := io.ReadFull(r, secret); err != nil {
			return nil, fmt.Errorf("auth: generate %s secret: %w", alg, err)
		}
		return NewHMACKey(alg, secret, opts...)
	case famRSA:
		priv, err := rsa.GenerateKey(r, MinRSABits)
		if err != nil {
			return nil, fmt.Errorf("auth: generate %s key: %w", alg, err)
		}
		return NewPrivateKey(alg, priv, opts...)
	case famEC:
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

// ParsePrivateKeyPEM returns a signing key for alg from one PEM block:
// PKCS#1 ("RSA PRIVATE KEY"), SEC 1 ("EC PRIVATE KEY", optionally after an
// "EC PARAMETERS" block) or PKCS#8 ("PRIVATE KEY"). Encrypted PEM, extra
// blocks and keys that do not fit alg are refused with an error matching
// [ErrKeyMismatch] or [ErrWeakKey].
func ParsePrivateKeyPEM(alg Algorithm, data []byte, opts ...KeyOption) (*Key, error) {
	block, err := onePEMBlock(data)
	if err != nil {
		return nil, err
	}
	var priv any
	switch block.Type {
	case "RSA PRIVATE KEY":
		priv, err = x509.ParsePKCS1PrivateKey(block.Bytes)
	case "EC PRIVATE KEY":
		priv, err = x509.ParseECPrivateKey(block.Bytes)
	case "PRIVATE KEY":
		priv, err = x509.ParsePKCS8PrivateKey(block.Bytes)
	case "PUBLIC KEY", "RSA PUBLIC KEY":
		return nil, fmt.Errorf("%w: PEM block %q holds a public key; a private key is needed to sign", ErrKeyMismatch, block.Type)
	default:
		return nil, fmt.Errorf("%w: unsupported PEM block %q", ErrKeyMismatch, block.Type)
	}
	if err != nil {
		return nil, fmt.Errorf("%w: parse %s: %v", ErrKeyMismatch, block.Type, err)
	}
	signer, ok := priv.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("%w: unsupported private key type %T", ErrKeyMismatch, priv)
	}
	return NewPrivateKey(alg, signer, opts...)
}

// ParsePublicKeyPEM returns a verify-only key for alg from one PEM block:
// SPKI ("PUBLIC KEY") or PKCS#1 ("RSA PUBLIC KEY").
func ParsePublicKeyPEM(alg Algorithm, data []byte, opts ...KeyOption) (*Key, error) {
	block, err := onePEMBlock(data)
	if err != nil {
		return nil, err
	}
	var pub any
	switch block.Type {
	case "PUBLIC KEY":
		pub, err = x509.ParsePKIXPublicKey(block.Bytes)
	case "RSA PUBLIC KEY":
		pub, err = x509.ParsePKCS1PublicKey(block.Bytes)
	default:
		return nil, fmt.Errorf("%w: unsupported PEM block %q for a public key", ErrKeyMismatch, block.Type)
	}
	if err != nil {
		return nil, fmt.Errorf("%w: parse %s: %v", ErrKeyMismatch, block.Type, err)
	}
	return NewPublicKey(alg, pub, opts...)
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

// jwk is the public JSON Web Key form of a [Key] (RFC 7517, 7518, 8037).
type jwk struct {
	Kty string `json:"kty"`
	Kid string `json:"kid"`
	Use string `json:"use"`
	Alg string `json:"alg"`
	Crv string `json:"crv,omitempty"`
	N   string `json:"n,omitempty"`
	E   string `json:"e,omitempty"`
	X   string `json:"x,omitempty"`
	Y   string `json:"y,omitempty"`
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

// publicJWK returns the public JWK members of k, or false for HMAC keys,
// which are never published.
func publicJWK(k *Key) (jwk, bool) {
	j := jwk{Kid: k.id, Use: "sig", Alg: string(k.alg)}
	switch pub := k.public.(type) {
	case *rsa.PublicKey:
		j.Kty = "RSA"
		j.N = b64(pub.N.Bytes())
		j.E = b64(big.NewInt(int64(pub.E)).Bytes())
	case *ecdsa.PublicKey:
		j.Kty = "EC"
		j.Crv = pub.Curve.Params().Name
		size := (pub.Curve.Params().BitSize + 7) / 8
		j.X = b64(pub.X.FillBytes(make([]byte, size)))
		j.Y = b64(pub.Y.FillBytes(make([]byte, size)))
	case ed25519.PublicKey:
		j.Kty = "OKP"
		j.Crv = "Ed25519"
		j.X = b64(pub)
	default:
		return jwk{}, false
	}
	return j, true
}

// Thumbprint returns the RFC 7638 JWK SHA-256 thumbprint of k's public key,
// base64url without padding, or "" for an HMAC key.
func Thumbprint(k *Key) string {
	j, ok := publicJWK(k)
	if !ok {
		return ""
	}
	// RFC 7638 §3.2: only the required members, in lexicographic order,
	// no whitespace. The member values here never need JSON escaping.
	var s string
	switch j.Kty {
	case "RSA":
		s = `{"e":"` + j.E + `","kty":"RSA","n":"` + j.N + `"}`
	case "EC":
		s = `{"crv":"` + j.Crv + `","kty":"EC","x":"` + j.X + `","y":"` + j.Y + `"}`
	case "OKP":
		s = `{"crv":"` + j.Crv + `","kty":"OKP","x":"` + j.X + `"}`
	}
	sum := sha256.Sum256([]byte(s))
	return b64(sum[:])
}

// MarshalJSON returns the public JWK of k. It fails for an HMAC key, whose
// secret is never serialised.
func (k *Key) MarshalJSON() ([]byte, error) {
	j, ok := publicJWK(k)
	if !ok {
		return nil, fmt.Errorf("auth: an HMAC key has no public form")
	}
	return json.Marshal(j)
}
