package auth

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/sha512"
	"errors"
	"fmt"
	"math/big"

	"github.com/golang-jwt/jwt/v5"
	"golang.org/x/crypto/cryptobyte"
	"golang.org/x/crypto/cryptobyte/asn1"
)

// Signing with keys the process never holds: [NewPrivateKey] accepts any
// crypto.Signer whose public key fits the algorithm (a KMS or HSM client is
// one). Keys in memory (*rsa.PrivateKey, *ecdsa.PrivateKey,
// ed25519.PrivateKey) and HMAC secrets sign through golang-jwt as before;
// any other signer is an external signer, and [Key.sign] computes the JWS
// signature with its Sign method. Verification is golang-jwt's either way.

// inMemory reports whether signer is key material that golang-jwt signs
// with itself: an HMAC secret or one of the standard library's private
// keys. Any other signer is external: its Sign method signs.
func inMemory(signer any) bool {
	switch signer.(type) {
	case []byte, *rsa.PrivateKey, *ecdsa.PrivateKey, ed25519.PrivateKey:
		return true
	}
	return false
}

// errSignatureMismatch is the cause when an external signer returned a
// signature that its public key does not verify: it signed with another
// key (a KMS key rotated or replaced under the application) or another
// algorithm.
var errSignatureMismatch = errors.New("the signature does not verify with the key's public key")

// sign returns the JWS signature of input, the header and payload segments
// joined by a dot. Keys in memory sign through golang-jwt. An external
// signer signs through its Sign method, and its signature is verified with
// the public key before it is returned, so no token that fails to verify is
// ever issued; a failed Sign, a malformed signature or one that does not
// verify gives an error matching [ErrUnavailable] (HTTP 503): the signer,
// not the request, failed.
func (k *Key) sign(input string) ([]byte, error) {
	if k.signer == nil {
		return nil, errNoSigningKey
	}
	if inMemory(k.signer) {
		return k.info.method.Sign(input, k.signer)
	}
	s, ok := k.signer.(crypto.Signer)
	if !ok { // newKey stores nothing else
		return nil, fmt.Errorf("%w: %T cannot sign", ErrConfig, k.signer)
	}
	sig, err := signExternal(s, k.info, input)
	if err == nil && k.info.method.Verify(input, sig, k.verify) != nil {
		err = errSignatureMismatch
	}
	if err != nil {
		return nil, unavailable(fmt.Sprintf("%s signer of key %q", k.alg, k.id), err)
	}
	return sig, nil
}

// signExternal returns the JWS signature of input made by the external
// signer s for the algorithm info: for RS* a PKCS #1 v1.5 signature of the
// digest, for PS* a PSS signature of the digest with a salt as long as the
// hash, for ES* the signer's ASN.1 DER signature of the digest in the JWS
// form r||s, for EdDSA a signature of the message itself.
func signExternal(s crypto.Signer, info algInfo, input string) ([]byte, error) {
	switch m := info.method.(type) {
	case *jwt.SigningMethodRSA:
		return s.Sign(rand.Reader, digest(m.Hash, input), m.Hash)
	case *jwt.SigningMethodRSAPSS:
		return s.Sign(rand.Reader, digest(m.Hash, input), &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash, Hash: m.Hash})
	case *jwt.SigningMethodECDSA:
		der, err := s.Sign(rand.Reader, digest(m.Hash, input), m.Hash)
		if err != nil {
			return nil, err
		}
		return ecdsaJWSSignature(der, info.curve)
	case *jwt.SigningMethodEd25519:
		return s.Sign(rand.Reader, []byte(input), crypto.Hash(0))
	}
	return nil, fmt.Errorf("%w: %s cannot sign through a crypto.Signer", ErrConfig, info.method.Alg())
}

// digest returns the SHA-2 digest h of input.
func digest(h crypto.Hash, input string) []byte {
	switch h {
	case crypto.SHA384:
		d := sha512.Sum384([]byte(input))
		return d[:]
	case crypto.SHA512:
		d := sha512.Sum512([]byte(input))
		return d[:]
	}
	d := sha256.Sum256([]byte(input))
	return d[:]
}

// ecdsaJWSSignature converts an ECDSA signature in ASN.1 DER, the form a
// crypto.Signer returns (SEQUENCE { r INTEGER, s INTEGER }), to the form of
// JWS (RFC 7518 section 3.4): r and s as big-endian integers each padded to
// the curve's size, concatenated. It refuses anything but strict DER of two
// integers in [1, N-1] with nothing after them.
func ecdsaJWSSignature(der []byte, curve elliptic.Curve) ([]byte, error) {
	var (
		inner cryptobyte.String
		r, s  = new(big.Int), new(big.Int)
	)
	in := cryptobyte.String(der)
	if !in.ReadASN1(&inner, asn1.SEQUENCE) || !in.Empty() ||
		!inner.ReadASN1Integer(r) || !inner.ReadASN1Integer(s) || !inner.Empty() {
		return nil, errors.New("the ECDSA signature is not ASN.1 DER of two integers")
	}
	params := curve.Params()
	if r.Sign() <= 0 || s.Sign() <= 0 || r.Cmp(params.N) >= 0 || s.Cmp(params.N) >= 0 {
		return nil, errors.New("the ECDSA signature is out of range for the curve")
	}
	size := (params.BitSize + 7) / 8
	out := make([]byte, 2*size)
	r.FillBytes(out[:size])
	s.FillBytes(out[size:])
	return out, nil
}
