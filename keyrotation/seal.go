package keyrotation

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/x509"
	"errors"
	"fmt"
	"io"

	"github.com/jwtkit/auth"
)

// KeyEncryptionKeySize is the size of the key-encryption key: AES-256.
const KeyEncryptionKeySize = 32

// sealVersion is the first byte of a sealed key: the format below.
const sealVersion = 1

// sealLabel binds the additional data of the seal to this use.
const sealLabel = "jwtkit auth signing key v1\x00"

var errUnseal = errors.New("keyrotation: a stored key does not open under the key-encryption key (another key, or altered)")

// aad is the additional data of a key's seal: its id and algorithm, so
// that a sealed key cannot be moved to another record.
func aad(id string, alg auth.Algorithm) []byte {
	return []byte(sealLabel + id + "\x00" + string(alg))
}

// seal encrypts plain with AES-256-GCM under kek: version, nonce, then
// the ciphertext with its tag.
func seal(aead cipher.AEAD, random io.Reader, id string, alg auth.Algorithm, plain []byte) ([]byte, error) {
	out := make([]byte, 1+aead.NonceSize(), 1+aead.NonceSize()+len(plain)+aead.Overhead())
	out[0] = sealVersion
	if _, err := io.ReadFull(random, out[1:]); err != nil {
		return nil, fmt.Errorf("keyrotation: nonce: %w", err)
	}
	return aead.Seal(out, out[1:], plain, aad(id, alg)), nil
}

// open decrypts what seal made.
func open(aead cipher.AEAD, id string, alg auth.Algorithm, sealed []byte) ([]byte, error) {
	n := 1 + aead.NonceSize()
	if len(sealed) < n+aead.Overhead() || sealed[0] != sealVersion {
		return nil, errUnseal
	}
	plain, err := aead.Open(nil, sealed[1:n], sealed[n:], aad(id, alg))
	if err != nil {
		return nil, errUnseal
	}
	return plain, nil
}

// newAEAD returns AES-256-GCM under kek.
func newAEAD(kek []byte) (cipher.AEAD, error) {
	if len(kek) != KeyEncryptionKeySize {
		return nil, fmt.Errorf("%w: keyrotation: the key-encryption key has %d bytes; want %d", auth.ErrConfig, len(kek), KeyEncryptionKeySize)
	}
	block, err := aes.NewCipher(kek)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

// rsaBits is the size of the RSA keys the rotation makes.
const rsaBits = 3072

// generate makes a new private key for alg and returns it with its
// serialised form: PKCS#8 DER, or the raw secret for HMAC.
func generate(random io.Reader, alg auth.Algorithm) (*auth.Key, []byte, error) {
	var priv any
	var err error
	switch alg {
	case auth.HS256, auth.HS384, auth.HS512:
		secret := make([]byte, 64)
		if _, err := io.ReadFull(random, secret); err != nil {
			return nil, nil, err
		}
		k, err := auth.NewHMACKey(alg, secret)
		return k, secret, err
	case auth.EdDSA:
		_, priv, err = ed25519.GenerateKey(random)
	case auth.ES256:
		priv, err = ecdsa.GenerateKey(elliptic.P256(), random)
	case auth.ES384:
		priv, err = ecdsa.GenerateKey(elliptic.P384(), random)
	case auth.ES512:
		priv, err = ecdsa.GenerateKey(elliptic.P521(), random)
	case auth.RS256, auth.RS384, auth.RS512, auth.PS256, auth.PS384, auth.PS512:
		priv, err = rsa.GenerateKey(random, rsaBits)
	default:
		return nil, nil, fmt.Errorf("%w: keyrotation: algorithm %q cannot be generated", auth.ErrConfig, alg)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("keyrotation: generate %s key: %w", alg, err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return nil, nil, err
	}
	k, err := decode(alg, der)
	return k, der, err
}

// decode makes the key of alg from its serialised form.
func decode(alg auth.Algorithm, plain []byte) (*auth.Key, error) {
	switch alg {
	case auth.HS256, auth.HS384, auth.HS512:
		return auth.NewHMACKey(alg, plain)
	}
	priv, err := x509.ParsePKCS8PrivateKey(plain)
	if err != nil {
		return nil, fmt.Errorf("keyrotation: stored key: %w", err)
	}
	switch p := priv.(type) {
	case ed25519.PrivateKey:
		return auth.NewPrivateKey(alg, p)
	case *ecdsa.PrivateKey:
		return auth.NewPrivateKey(alg, p)
	case *rsa.PrivateKey:
		return auth.NewPrivateKey(alg, p)
	}
	return nil, fmt.Errorf("keyrotation: stored key of type %T", priv)
}
