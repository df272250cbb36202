package auth_test

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/asn1"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"io"
	"math/big"
	"strings"
	"testing"

	"github.com/jwtkit/auth"
)

func pemBlock(typ string, der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der})
}

func mustPKCS8(t testing.TB, priv any) []byte {
	t.Helper()
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		t.Fatalf("MarshalPKCS8PrivateKey: %v", err)
	}
	return pemBlock("PRIVATE KEY", der)
}

func mustSPKI(t testing.TB, pub any) []byte {
	t.Helper()
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		t.Fatalf("MarshalPKIXPublicKey: %v", err)
	}
	return pemBlock("PUBLIC KEY", der)
}

func mustSEC1(t testing.TB, priv *ecdsa.PrivateKey) []byte {
	t.Helper()
	der, err := x509.MarshalECPrivateKey(priv)
	if err != nil {
		t.Fatalf("MarshalECPrivateKey: %v", err)
	}
	return pemBlock("EC PRIVATE KEY", der)
}

// ecParameters is the "EC PARAMETERS" block that openssl ecparam -genkey
// writes before the key: the named curve's OID.
func ecParameters(t testing.TB, oid asn1.ObjectIdentifier) []byte {
	t.Helper()
	der, err := asn1.Marshal(oid)
	if err != nil {
		t.Fatal(err)
	}
	return pemBlock("EC PARAMETERS", der)
}

var oidP256 = asn1.ObjectIdentifier{1, 2, 840, 10045, 3, 1, 7}

func concat(bs ...[]byte) []byte { return bytes.Join(bs, nil) }

// mustKey returns a function that returns the key a constructor built, or
// fails the test: mustKey(t)(auth.NewHMACKey(...)).
func mustKey(t testing.TB) func(*auth.Key, error) *auth.Key {
	return func(k *auth.Key, err error) *auth.Key {
		t.Helper()
		if err != nil {
			t.Fatalf("building a key: %v", err)
		}
		return k
	}
}

// checkSignsFor shows that tokens signed by priv verify with pub, end to end.
func checkSignsFor(t *testing.T, priv, pub *auth.Key) {
	t.Helper()
	at, err := newAuth(t, priv).Issue(context.Background(), auth.Claims{Subject: "u"})
	if err != nil {
		t.Fatalf("Issue with %s key %s: %v", priv.Algorithm(), priv.ID(), err)
	}
	vs, err := auth.NewKeySet(nil, pub)
	if err != nil {
		t.Fatal(err)
	}
	v, err := auth.New(auth.WithKeySource(vs), auth.WithIssuer(fxIssuer), auth.WithAudience(fxAudience), auth.WithClock(fxClock))
	if err != nil {
		t.Fatal(err)
	}
	checkVerify(t, v, at.Token, nil)
}

func TestParsePEM(t *testing.T) {
	t.Parallel()
	rsaKey := rawKey(t, "rsa-a").(*rsa.PrivateKey)
	p256 := rawKey(t, "p256-a").(*ecdsa.PrivateKey)
	p384 := rawKey(t, "p384-a").(*ecdsa.PrivateKey)
	edKey := rawKey(t, "ed-a").(ed25519.PrivateKey)

	private := []struct {
		name string
		alg  auth.Algorithm
		raw  crypto.Signer
		pem  []byte
	}{
		{"PKCS#1 RSA", auth.RS256, rsaKey, pemBlock("RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(rsaKey))},
		{"PKCS#1 RSA for PS512", auth.PS512, rsaKey, pemBlock("RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(rsaKey))},
		{"PKCS#8 RSA", auth.RS384, rsaKey, mustPKCS8(t, rsaKey)},
		{"PKCS#8 EC", auth.ES256, p256, mustPKCS8(t, p256)},
		{"PKCS#8 Ed25519", auth.EdDSA, edKey, mustPKCS8(t, edKey)},
		{"SEC 1", auth.ES256, p256, mustSEC1(t, p256)},
		{"SEC 1 P-384", auth.ES384, p384, mustSEC1(t, p384)},
		{"SEC 1 after EC PARAMETERS", auth.ES256, p256, concat(ecParameters(t, oidP256), mustSEC1(t, p256))},
		{"text around the block", auth.ES256, p256, concat([]byte("Bag Attributes\n    localKeyID: 01\n"), mustSEC1(t, p256), []byte("trailing note\n"))},
	}
	for _, tt := range private {
		t.Run("private/"+tt.name, func(t *testing.T) {
			t.Parallel()
			k, err := auth.ParseKeyPEM(tt.alg, tt.pem)
			if err != nil {
				t.Fatalf("ParsePrivateKeyPEM(%s, %s) = %v; want a key", tt.alg, tt.name, err)
			}
			want := mustKey(t)(auth.NewPrivateKey(tt.alg, tt.raw))
			if k.ID() != want.ID() || k.Algorithm() != tt.alg || !auth.CanSign(k) {
				t.Errorf("ParsePrivateKeyPEM(%s, %s) = kid %q, %s, CanSign %v; want kid %q, %s, true",
					tt.alg, tt.name, k.ID(), k.Algorithm(), auth.CanSign(k), want.ID(), tt.alg)
			}
			checkSignsFor(t, k, auth.VerifyOnly(want))
		})
	}

	public := []struct {
		name string
		alg  auth.Algorithm
		raw  crypto.Signer
		pem  []byte
	}{
		{"SPKI RSA", auth.RS256, rsaKey, mustSPKI(t, rsaKey.Public())},
		{"SPKI EC", auth.ES256, p256, mustSPKI(t, p256.Public())},
		{"SPKI EC P-384", auth.ES384, p384, mustSPKI(t, p384.Public())},
		{"SPKI Ed25519", auth.EdDSA, edKey, mustSPKI(t, edKey.Public())},
		{"PKCS#1 RSA public", auth.PS256, rsaKey, pemBlock("RSA PUBLIC KEY", x509.MarshalPKCS1PublicKey(&rsaKey.PublicKey))},
	}
	for _, tt := range public {
		t.Run("public/"+tt.name, func(t *testing.T) {
			t.Parallel()
			k, err := auth.ParseKeyPEM(tt.alg, tt.pem)
			if err != nil {
				t.Fatalf("ParsePublicKeyPEM(%s, %s) = %v; want a key", tt.alg, tt.name, err)
			}
			signer := mustKey(t)(auth.NewPrivateKey(tt.alg, tt.raw))
			if k.ID() != signer.ID() || k.Algorithm() != tt.alg || auth.CanSign(k) {
				t.Errorf("ParsePublicKeyPEM(%s, %s) = kid %q, %s, CanSign %v; want kid %q, %s, false",
					tt.alg, tt.name, k.ID(), k.Algorithm(), auth.CanSign(k), signer.ID(), tt.alg)
			}
			checkSignsFor(t, signer, k)
		})
	}
}

func TestParsePEMRefuses(t *testing.T) {
	t.Parallel()
	rsaKey := rawKey(t, "rsa-a").(*rsa.PrivateKey)
	rsaKey2 := rawKey(t, "rsa-b").(*rsa.PrivateKey)
	p256 := rawKey(t, "p256-a").(*ecdsa.PrivateKey)
	p384 := rawKey(t, "p384-a").(*ecdsa.PrivateKey)
	edKey := rawKey(t, "ed-a").(ed25519.PrivateKey)
	x25519, err := ecdh.X25519().GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	pkcs1 := pemBlock("RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(rsaKey))
	encrypted := pem.EncodeToMemory(&pem.Block{
		Type:    "RSA PRIVATE KEY",
		Headers: map[string]string{"Proc-Type": "4,ENCRYPTED", "DEK-Info": "AES-128-CBC,00112233445566778899AABBCCDDEEFF"},
		Bytes:   x509.MarshalPKCS1PrivateKey(rsaKey),
	})
	corrupt := mustPKCS8(t, rsaKey)
	corrupt = bytes.Replace(corrupt, []byte("MII"), []byte("MIA"), 1)

	const priv, pub = "private", "public"
	tests := []struct {
		name string
		kind string // which parser
		alg  auth.Algorithm
		pem  []byte
		want error
	}{
		{"RSA PEM for ES256", priv, auth.ES256, pkcs1, auth.ErrKeyMismatch},
		{"RSA PKCS#8 for EdDSA", priv, auth.EdDSA, mustPKCS8(t, rsaKey), auth.ErrKeyMismatch},
		{"P-384 key for ES256", priv, auth.ES256, mustSEC1(t, p384), auth.ErrKeyMismatch},
		{"P-256 key for ES384", priv, auth.ES384, mustPKCS8(t, p256), auth.ErrKeyMismatch},
		{"P-256 key for ES512", priv, auth.ES512, mustSEC1(t, p256), auth.ErrKeyMismatch},
		{"Ed25519 for RS256", priv, auth.RS256, mustPKCS8(t, edKey), auth.ErrKeyMismatch},
		{"EC key for EdDSA", priv, auth.EdDSA, mustPKCS8(t, p256), auth.ErrKeyMismatch},
		{"RSA key for HS256", priv, auth.HS256, pkcs1, auth.ErrKeyMismatch},
		{"X25519 key", priv, auth.EdDSA, mustPKCS8(t, x25519), auth.ErrKeyMismatch},
		{"two keys", priv, auth.RS256, concat(pkcs1, pemBlock("RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(rsaKey2))), auth.ErrKeyMismatch},
		{"the same key twice", priv, auth.RS256, concat(pkcs1, pkcs1), auth.ErrKeyMismatch},
		{"key and public key", priv, auth.RS256, concat(pkcs1, mustSPKI(t, rsaKey.Public())), auth.ErrKeyMismatch},
		{"garbage", priv, auth.RS256, []byte("this is not a key"), auth.ErrKeyMismatch},
		{"empty", priv, auth.RS256, nil, auth.ErrKeyMismatch},
		{"DER without PEM", priv, auth.RS256, x509.MarshalPKCS1PrivateKey(rsaKey), auth.ErrKeyMismatch},
		{"no END line", priv, auth.RS256, pkcs1[:len(pkcs1)-30], auth.ErrKeyMismatch},
		{"encrypted PEM", priv, auth.RS256, encrypted, auth.ErrKeyMismatch},
		{"certificate block", priv, auth.RS256, pemBlock("CERTIFICATE", x509.MarshalPKCS1PrivateKey(rsaKey)), auth.ErrKeyMismatch},
		{"corrupt DER", priv, auth.RS256, corrupt, auth.ErrKeyMismatch},
		{"EC PARAMETERS only", priv, auth.ES256, ecParameters(t, oidP256), auth.ErrKeyMismatch},
		{"1024-bit RSA", priv, auth.RS256, pemBlock("RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(rawKey(t, "rsa1024").(*rsa.PrivateKey))), auth.ErrWeakKey},

		{"RSA public for ES256", pub, auth.ES256, mustSPKI(t, rsaKey.Public()), auth.ErrKeyMismatch},
		{"P-384 public for ES256", pub, auth.ES256, mustSPKI(t, p384.Public()), auth.ErrKeyMismatch},
		{"Ed25519 public for RS256", pub, auth.RS256, mustSPKI(t, edKey.Public()), auth.ErrKeyMismatch},
		{"X25519 public", pub, auth.EdDSA, mustSPKI(t, x25519.PublicKey()), auth.ErrKeyMismatch},
		{"two public keys", pub, auth.RS256, concat(mustSPKI(t, rsaKey.Public()), mustSPKI(t, rsaKey2.Public())), auth.ErrKeyMismatch},
		{"public garbage", pub, auth.RS256, []byte("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n"), auth.ErrKeyMismatch},
		{"public empty", pub, auth.RS256, nil, auth.ErrKeyMismatch},
		{"1024-bit RSA public", pub, auth.RS256, mustSPKI(t, rawKey(t, "rsa1024").Public()), auth.ErrWeakKey},
	}
	for _, tt := range tests {
		t.Run(tt.kind+"/"+tt.name, func(t *testing.T) {
			t.Parallel()
			k, err := auth.ParseKeyPEM(tt.alg, tt.pem)
			if !errors.Is(err, tt.want) || !errors.Is(err, auth.ErrConfig) || k != nil {
				t.Errorf("ParseKeyPEM(%s, %s %s) = %v, %v; want nil, %v", tt.alg, tt.kind, tt.name, k, err, tt.want)
			}
		})
	}
}

// otherSigner is a crypto.Signer of a type the library does not know.
type otherSigner struct{ crypto.Signer }

func TestKeyConstructorsRefuse(t *testing.T) {
	t.Parallel()
	rsaKey := rawKey(t, "rsa-a").(*rsa.PrivateKey)
	rsaKey2 := rawKey(t, "rsa-b").(*rsa.PrivateKey)
	p256 := rawKey(t, "p256-a").(*ecdsa.PrivateKey)
	p256b := rawKey(t, "p256-b").(*ecdsa.PrivateKey)
	edKey := rawKey(t, "ed-a").(ed25519.PrivateKey)
	edKey2 := rawKey(t, "ed-b").(ed25519.PrivateKey)
	weak := rawKey(t, "rsa1024").(*rsa.PrivateKey)

	// Private keys whose halves do not belong together.
	edMixed := concat(edKey[:32], edKey2[32:])
	ecMixed := &ecdsa.PrivateKey{PublicKey: p256.PublicKey, D: p256b.D}
	rsaMixed := *rsaKey
	rsaMixed.D = rsaKey2.D
	rsaMixed.Precomputed = rsa.PrecomputedValues{}
	ecNoD := &ecdsa.PrivateKey{PublicKey: p256.PublicKey}

	tests := []struct {
		name  string
		build func() (*auth.Key, error)
		want  error
	}{
		// Weak keys.
		{"HMAC nil secret", func() (*auth.Key, error) { return auth.NewHMACKey(auth.HS256, nil) }, auth.ErrWeakKey},
		{"HMAC empty secret", func() (*auth.Key, error) { return auth.NewHMACKey(auth.HS256, []byte{}) }, auth.ErrWeakKey},
		{"HS256 31 bytes", func() (*auth.Key, error) { return auth.NewHMACKey(auth.HS256, fxSecret[:31]) }, auth.ErrWeakKey},
		{"HS384 47 bytes", func() (*auth.Key, error) { return auth.NewHMACKey(auth.HS384, fxSecret[:47]) }, auth.ErrWeakKey},
		{"HS512 63 bytes", func() (*auth.Key, error) { return auth.NewHMACKey(auth.HS512, fxSecret[:63]) }, auth.ErrWeakKey},
		{"RS256 1024 bits", func() (*auth.Key, error) { return auth.NewPrivateKey(auth.RS256, weak) }, auth.ErrWeakKey},
		{"PS256 1024 bits", func() (*auth.Key, error) { return auth.NewPrivateKey(auth.PS256, weak) }, auth.ErrWeakKey},
		{"RS256 1024-bit public", func() (*auth.Key, error) { return auth.NewPublicKey(auth.RS256, weak.Public()) }, auth.ErrWeakKey},
		{"RSA exponent 1", func() (*auth.Key, error) {
			return auth.NewPublicKey(auth.RS256, &rsa.PublicKey{N: rsaKey.N, E: 1})
		}, auth.ErrWeakKey},
		{"RSA even exponent", func() (*auth.Key, error) {
			return auth.NewPublicKey(auth.RS256, &rsa.PublicKey{N: rsaKey.N, E: 65536})
		}, auth.ErrWeakKey},

		// Keys of the wrong kind.
		{"HMAC with RS256", func() (*auth.Key, error) { return auth.NewHMACKey(auth.RS256, fxSecret) }, auth.ErrKeyMismatch},
		{"RSA key for HS256", func() (*auth.Key, error) { return auth.NewPrivateKey(auth.HS256, rsaKey) }, auth.ErrKeyMismatch},
		{"RSA public for HS256", func() (*auth.Key, error) { return auth.NewPublicKey(auth.HS256, rsaKey.Public()) }, auth.ErrKeyMismatch},
		{"EC key for RS256", func() (*auth.Key, error) { return auth.NewPrivateKey(auth.RS256, p256) }, auth.ErrKeyMismatch},
		{"Ed25519 key for ES256", func() (*auth.Key, error) { return auth.NewPrivateKey(auth.ES256, edKey) }, auth.ErrKeyMismatch},
		{"RSA key for EdDSA", func() (*auth.Key, error) { return auth.NewPrivateKey(auth.EdDSA, rsaKey) }, auth.ErrKeyMismatch},
		{"P-256 public for ES384", func() (*auth.Key, error) { return auth.NewPublicKey(auth.ES384, p256.Public()) }, auth.ErrKeyMismatch},
		{"secret bytes as public key", func() (*auth.Key, error) { return auth.NewPublicKey(auth.EdDSA, fxSecret[:32]) }, auth.ErrKeyMismatch},
		{"external signer with an EC key for RS256", func() (*auth.Key, error) { return auth.NewPrivateKey(auth.RS256, otherSigner{p256}) }, auth.ErrKeyMismatch},
		{"external signer with a weak RSA key", func() (*auth.Key, error) { return auth.NewPrivateKey(auth.RS256, otherSigner{weak}) }, auth.ErrWeakKey},
		{"nil private key", func() (*auth.Key, error) { return auth.NewPrivateKey(auth.RS256, nil) }, auth.ErrKeyMismatch},
		{"nil public key", func() (*auth.Key, error) { return auth.NewPublicKey(auth.RS256, nil) }, auth.ErrKeyMismatch},

		// Broken key material: refused with an error, never a panic.
		{"nil *rsa.PrivateKey", func() (*auth.Key, error) { return auth.NewPrivateKey(auth.RS256, (*rsa.PrivateKey)(nil)) }, auth.ErrKeyMismatch},
		{"zero rsa.PrivateKey", func() (*auth.Key, error) { return auth.NewPrivateKey(auth.RS256, &rsa.PrivateKey{}) }, auth.ErrKeyMismatch},
		{"RSA halves of two keys", func() (*auth.Key, error) { return auth.NewPrivateKey(auth.RS256, &rsaMixed) }, auth.ErrKeyMismatch},
		{"nil *rsa.PublicKey", func() (*auth.Key, error) { return auth.NewPublicKey(auth.RS256, (*rsa.PublicKey)(nil)) }, auth.ErrKeyMismatch},
		{"zero rsa.PublicKey", func() (*auth.Key, error) { return auth.NewPublicKey(auth.RS256, &rsa.PublicKey{}) }, auth.ErrKeyMismatch},
		{"nil *ecdsa.PrivateKey", func() (*auth.Key, error) { return auth.NewPrivateKey(auth.ES256, (*ecdsa.PrivateKey)(nil)) }, auth.ErrKeyMismatch},
		{"zero ecdsa.PrivateKey", func() (*auth.Key, error) { return auth.NewPrivateKey(auth.ES256, &ecdsa.PrivateKey{}) }, auth.ErrKeyMismatch},
		{"ECDSA key without D", func() (*auth.Key, error) { return auth.NewPrivateKey(auth.ES256, ecNoD) }, auth.ErrKeyMismatch},
		{"ECDSA D of another key", func() (*auth.Key, error) { return auth.NewPrivateKey(auth.ES256, ecMixed) }, auth.ErrKeyMismatch},
		{"nil *ecdsa.PublicKey", func() (*auth.Key, error) { return auth.NewPublicKey(auth.ES256, (*ecdsa.PublicKey)(nil)) }, auth.ErrKeyMismatch},
		{"zero ecdsa.PublicKey", func() (*auth.Key, error) { return auth.NewPublicKey(auth.ES256, &ecdsa.PublicKey{}) }, auth.ErrKeyMismatch},
		{"ECDSA point without coordinates", func() (*auth.Key, error) {
			return auth.NewPublicKey(auth.ES256, &ecdsa.PublicKey{Curve: elliptic.P256()})
		}, auth.ErrKeyMismatch},
		{"ECDSA point off the curve", func() (*auth.Key, error) {
			return auth.NewPublicKey(auth.ES256, &ecdsa.PublicKey{Curve: elliptic.P256(), X: big.NewInt(1), Y: big.NewInt(1)})
		}, auth.ErrKeyMismatch},
		{"short Ed25519 private key", func() (*auth.Key, error) { return auth.NewPrivateKey(auth.EdDSA, ed25519.PrivateKey{1, 2, 3}) }, auth.ErrKeyMismatch},
		{"empty Ed25519 private key", func() (*auth.Key, error) { return auth.NewPrivateKey(auth.EdDSA, ed25519.PrivateKey(nil)) }, auth.ErrKeyMismatch},
		{"Ed25519 halves of two keys", func() (*auth.Key, error) { return auth.NewPrivateKey(auth.EdDSA, ed25519.PrivateKey(edMixed)) }, auth.ErrKeyMismatch},
		{"short Ed25519 public key", func() (*auth.Key, error) { return auth.NewPublicKey(auth.EdDSA, ed25519.PublicKey{1, 2, 3}) }, auth.ErrKeyMismatch},

		// Unknown algorithms.
		{"HMAC with none", func() (*auth.Key, error) { return auth.NewHMACKey("none", fxSecret) }, auth.ErrConfig},
		{"private key with none", func() (*auth.Key, error) { return auth.NewPrivateKey("none", rsaKey) }, auth.ErrConfig},
		{"public key with hs256", func() (*auth.Key, error) { return auth.NewPublicKey("hs256", rsaKey.Public()) }, auth.ErrConfig},
		{"generate none", func() (*auth.Key, error) { return auth.GenerateKey(nil, "none") }, auth.ErrConfig},
		{"generate with a failing reader", func() (*auth.Key, error) { return auth.GenerateKey(failingReader{}, auth.HS256) }, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var (
				k   *auth.Key
				err error
			)
			func() {
				defer func() {
					if r := recover(); r != nil {
						t.Fatalf("panic: %v; want an error", r)
					}
				}()
				k, err = tt.build()
			}()
			if tt.want == nil {
				if err == nil || k != nil {
					t.Errorf("%s = %v, %v; want nil and an error", tt.name, k, err)
				}
				return
			}
			if !errors.Is(err, tt.want) || !errors.Is(err, auth.ErrConfig) || k != nil {
				t.Errorf("%s = %v, %v; want nil, %v", tt.name, k, err, tt.want)
			}
		})
	}
}

type failingReader struct{}

func (failingReader) Read([]byte) (int, error) { return 0, io.ErrUnexpectedEOF }

func TestHMACSecretLengths(t *testing.T) {
	t.Parallel()
	for alg, n := range map[auth.Algorithm]int{auth.HS256: 32, auth.HS384: 48, auth.HS512: 64} {
		if _, err := auth.NewHMACKey(alg, fxSecret[:n-1]); !errors.Is(err, auth.ErrWeakKey) {
			t.Errorf("NewHMACKey(%s, %d bytes) = %v; want %v", alg, n-1, err, auth.ErrWeakKey)
		}
		if _, err := auth.NewHMACKey(alg, fxSecret[:n]); err != nil {
			t.Errorf("NewHMACKey(%s, %d bytes) = %v; want nil", alg, n, err)
		}
	}
}

// TestHMACKeyCopiesSecret shows a key keeps its own copy: a caller that
// reuses or wipes its buffer changes nothing.
func TestHMACKeyCopiesSecret(t *testing.T) {
	t.Parallel()
	buf := bytes.Clone(fxSecret[:32])
	k := mustKey(t)(auth.NewHMACKey(auth.HS256, buf))
	a := newAuth(t, k)
	at, err := a.Issue(context.Background(), auth.Claims{Subject: "u"})
	if err != nil {
		t.Fatal(err)
	}
	clear(buf)
	checkVerify(t, a, at.Token, nil)
	s := signer{key: k, method: jwtMethod(t, auth.HS256), secret: fxSecret[:32]}
	checkVerify(t, a, forge(t, headerFor(s), validClaims(), s), nil)
}

func TestGenerateKey(t *testing.T) {
	t.Parallel()
	for _, alg := range []auth.Algorithm{auth.HS256, auth.HS384, auth.HS512, auth.RS256, auth.ES256, auth.ES384, auth.ES512, auth.EdDSA} {
		t.Run(string(alg), func(t *testing.T) {
			t.Parallel()
			k, err := auth.GenerateKey(nil, alg)
			if err != nil {
				t.Fatalf("GenerateKey(nil, %s) = %v", alg, err)
			}
			if k.Algorithm() != alg || !auth.CanSign(k) || k.ID() == "" {
				t.Errorf("GenerateKey(nil, %s) = %s, CanSign %v, kid %q", alg, k.Algorithm(), auth.CanSign(k), k.ID())
			}
			k2, err := auth.GenerateKey(nil, alg)
			if err != nil {
				t.Fatal(err)
			}
			if k2.ID() == k.ID() {
				t.Errorf("two GenerateKey(nil, %s) share kid %q", alg, k.ID())
			}
			checkSignsFor(t, k, auth.VerifyOnly(k))
		})
	}
	// The same random bytes give the same HMAC key, hence the same kid.
	a := mustKey(t)(auth.GenerateKey(bytes.NewReader(fxSecret), auth.HS256))
	b := mustKey(t)(auth.GenerateKey(bytes.NewReader(fxSecret), auth.HS256))
	c := mustKey(t)(auth.NewHMACKey(auth.HS256, fxSecret[:32]))
	if a.ID() != b.ID() || a.ID() != c.ID() {
		t.Errorf("GenerateKey from the same bytes: kids %q, %q, NewHMACKey %q; want all equal", a.ID(), b.ID(), c.ID())
	}
}

func TestKeyIDDerivation(t *testing.T) {
	t.Parallel()
	type build func(t testing.TB) *auth.Key
	priv := func(alg auth.Algorithm, name string) build {
		return func(t testing.TB) *auth.Key { return mustKey(t)(auth.NewPrivateKey(alg, rawKey(t, name))) }
	}
	pub := func(alg auth.Algorithm, name string) build {
		return func(t testing.TB) *auth.Key { return mustKey(t)(auth.NewPublicKey(alg, rawKey(t, name).Public())) }
	}
	secret := func(alg auth.Algorithm, s []byte) build {
		return func(t testing.TB) *auth.Key { return mustKey(t)(auth.NewHMACKey(alg, s)) }
	}
	tests := []struct {
		name           string
		a, same, other build
	}{
		{"RSA", priv(auth.RS256, "rsa-a"), pub(auth.RS256, "rsa-a"), priv(auth.RS256, "rsa-b")},
		{"EC P-256", priv(auth.ES256, "p256-a"), pub(auth.ES256, "p256-a"), priv(auth.ES256, "p256-b")},
		{"EC P-384", priv(auth.ES384, "p384-a"), pub(auth.ES384, "p384-a"), priv(auth.ES384, "p384-b")},
		{"Ed25519", priv(auth.EdDSA, "ed-a"), pub(auth.EdDSA, "ed-a"), priv(auth.EdDSA, "ed-b")},
		{"HMAC", secret(auth.HS256, fxSecret[:32]), secret(auth.HS256, bytes.Clone(fxSecret[:32])), secret(auth.HS256, fxOtherSecret[:32])},
		{"HMAC one byte apart", secret(auth.HS256, fxSecret[:32]), secret(auth.HS256, fxSecret[:32]), secret(auth.HS256, append(bytes.Clone(fxSecret[:31]), fxSecret[31]^1))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			a, again, same, other := tt.a(t), tt.a(t), tt.same(t), tt.other(t)
			if a.ID() == "" || a.ID() != again.ID() || a.ID() != same.ID() || a.ID() != auth.VerifyOnly(a).ID() {
				t.Errorf("kid %q, again %q, from the public key %q, verify-only %q; want all equal and non-empty", a.ID(), again.ID(), same.ID(), auth.VerifyOnly(a).ID())
			}
			if other.ID() == a.ID() {
				t.Errorf("two different keys share kid %q", a.ID())
			}
			if err := checkKeyIDSyntax(a.ID()); err != nil {
				t.Errorf("kid %q: %v", a.ID(), err)
			}
			if a.Public() != nil {
				if th := auth.Thumbprint(a); th != a.ID() {
					t.Errorf("Thumbprint = %q; want the derived kid %q", th, a.ID())
				}
			}
		})
	}
}

// checkKeyIDSyntax reports whether kid is base64url without padding.
func checkKeyIDSyntax(kid string) error {
	_, err := base64.RawURLEncoding.Strict().DecodeString(kid)
	return err
}

func TestThumbprintRFC7638(t *testing.T) {
	t.Parallel()
	// RFC 7638 §3.1: the example RSA key and its thumbprint.
	const (
		n    = "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw"
		e    = "AQAB"
		want = "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"
	)
	nb, err := base64.RawURLEncoding.DecodeString(n)
	if err != nil {
		t.Fatal(err)
	}
	eb, err := base64.RawURLEncoding.DecodeString(e)
	if err != nil {
		t.Fatal(err)
	}
	pub := &rsa.PublicKey{N: new(big.Int).SetBytes(nb), E: int(new(big.Int).SetBytes(eb).Int64())}
	k := mustKey(t)(auth.NewPublicKey(auth.RS256, pub))
	if got := auth.Thumbprint(k); got != want {
		t.Errorf("Thumbprint(RFC 7638 key) = %q; want %q", got, want)
	}
	if k.ID() != want {
		t.Errorf("derived kid = %q; want the thumbprint %q", k.ID(), want)
	}
	// The JWK the key publishes carries the same n and e.
	var j map[string]any
	if err := json.Unmarshal(mustJSON(t, k), &j); err != nil {
		t.Fatal(err)
	}
	if j["n"] != n || j["e"] != e || j["kty"] != "RSA" {
		t.Errorf("JWK = %v; want kty RSA and the RFC's n and e", j)
	}
	// A kid chosen with WithKeyID does not change the thumbprint.
	named := mustKey(t)(auth.NewPublicKey(auth.RS256, pub, auth.WithKeyID("2011-04-29")))
	if named.ID() != "2011-04-29" || auth.Thumbprint(named) != want {
		t.Errorf("WithKeyID: kid %q, thumbprint %q; want 2011-04-29, %q", named.ID(), auth.Thumbprint(named), want)
	}
}

func TestHMACKeyIDHidesSecret(t *testing.T) {
	t.Parallel()
	for _, alg := range []auth.Algorithm{auth.HS256, auth.HS384, auth.HS512} {
		n := map[auth.Algorithm]int{auth.HS256: 32, auth.HS384: 48, auth.HS512: 64}[alg]
		secret := fxSecret[:n]
		k := mustKey(t)(auth.NewHMACKey(alg, secret))
		kid := k.ID()
		sum := sha256.Sum256(secret)
		obvious := []string{
			base64.RawURLEncoding.EncodeToString(sum[:]),
			base64.StdEncoding.EncodeToString(sum[:]),
			hex.EncodeToString(sum[:]),
			base64.RawURLEncoding.EncodeToString(secret),
			hex.EncodeToString(secret),
			string(secret),
		}
		for _, o := range obvious {
			if strings.HasPrefix(o, kid) || strings.HasPrefix(kid, o[:8]) || strings.Contains(o, kid) {
				t.Errorf("%s kid %q is derived in the open from the secret (%q)", alg, kid, o)
			}
		}
		raw, err := base64.RawURLEncoding.DecodeString(kid)
		if err != nil {
			t.Fatalf("%s kid %q is not base64url: %v", alg, kid, err)
		}
		for _, hay := range [][]byte{[]byte(kid), raw} {
			for i := 0; i+4 <= len(secret); i++ {
				if bytes.Contains(hay, secret[i:i+4]) {
					t.Errorf("%s kid %q holds secret bytes %q", alg, kid, secret[i:i+4])
				}
			}
		}
		if auth.Thumbprint(k) != "" || k.Public() != nil {
			t.Errorf("%s key: Thumbprint %q, Public %v; want \"\", nil", alg, auth.Thumbprint(k), k.Public())
		}
		if b, err := json.Marshal(k); err == nil {
			t.Errorf("json.Marshal(%s key) = %s; want an error, a secret has no public form", alg, b)
		}
	}
}

func TestWithKeyID(t *testing.T) {
	t.Parallel()
	rsaKey := rawKey(t, "rsa-a")
	sec1 := mustSEC1(t, rawKey(t, "p256-a").(*ecdsa.PrivateKey))
	constructors := map[string]func(opt auth.KeyOption) (*auth.Key, error){
		"NewHMACKey":    func(o auth.KeyOption) (*auth.Key, error) { return auth.NewHMACKey(auth.HS256, fxSecret[:32], o) },
		"NewPrivateKey": func(o auth.KeyOption) (*auth.Key, error) { return auth.NewPrivateKey(auth.RS256, rsaKey, o) },
		"NewPublicKey":  func(o auth.KeyOption) (*auth.Key, error) { return auth.NewPublicKey(auth.RS256, rsaKey.Public(), o) },
		"ParsePrivateKeyPEM": func(o auth.KeyOption) (*auth.Key, error) {
			return auth.ParseKeyPEM(auth.ES256, sec1, o)
		},
		"GenerateKey": func(o auth.KeyOption) (*auth.Key, error) { return auth.GenerateKey(nil, auth.EdDSA, o) },
	}
	good := []string{"a", "key-2030-06", "2011-04-29", strings.Repeat("k", 128), "!~#$%&'()*+,-./:;<=>?@[]^_`{|}", `"quoted"`}
	bad := []string{"", strings.Repeat("k", 129), "a b", "a\tb", "tab\t", "new\nline", "k\u00e9", "\x7f", "\x00", "nul\x00", "ünïcode"}
	for name, build := range constructors {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			for _, kid := range good {
				k, err := build(auth.WithKeyID(kid))
				if err != nil || k.ID() != kid {
					t.Errorf("%s(WithKeyID(%q)) = %v, %v; want kid %q", name, kid, k, err, kid)
				}
			}
			for _, kid := range bad {
				k, err := build(auth.WithKeyID(kid))
				if !errors.Is(err, auth.ErrConfig) || k != nil {
					t.Errorf("%s(WithKeyID(%q)) = %v, %v; want nil, %v", name, kid, k, err, auth.ErrConfig)
				}
			}
		})
	}
	// A chosen kid travels in the header and is what the verifier looks up.
	k := mustKey(t)(auth.NewHMACKey(auth.HS256, fxSecret[:32], auth.WithKeyID("primary")))
	a := newAuth(t, k)
	at, err := a.Issue(context.Background(), auth.Claims{Subject: "u"})
	if err != nil {
		t.Fatal(err)
	}
	if h := decodeHeader(t, at.Token); h["kid"] != "primary" {
		t.Errorf("header kid = %v; want primary", h["kid"])
	}
	checkVerify(t, a, at.Token, nil)
}

func TestVerifyOnlyKey(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		alg  auth.Algorithm
		name string
	}{{auth.RS256, "rsa-a"}, {auth.ES256, "p256-a"}, {auth.EdDSA, "ed-a"}} {
		k := mustKey(t)(auth.NewPrivateKey(tt.alg, rawKey(t, tt.name)))
		v := auth.VerifyOnly(k)
		if auth.CanSign(v) || !auth.CanSign(k) || v.ID() != k.ID() || v.Algorithm() != k.Algorithm() || v.Public() == nil {
			t.Errorf("%s VerifyOnly: CanSign %v (original %v), kid %q (%q); want false (true), same kid", tt.alg, auth.CanSign(v), auth.CanSign(k), v.ID(), k.ID())
		}
		// A verify-only key cannot sign: a key set refuses it as signing key.
		if _, err := auth.NewKeySet(v); !errors.Is(err, auth.ErrNoSigningKey) {
			t.Errorf("NewKeySet(%s verify-only) = %v; want %v", tt.alg, err, auth.ErrNoSigningKey)
		}
		// Its JWK has no private member, whether built from the private key
		// or not.
		for _, key := range []*auth.Key{k, v} {
			checkPublicJWK(t, mustJSON(t, key))
		}
	}
	// An HMAC key has no public half: VerifyOnly keeps the secret, which is
	// what verifies.
	h := mustKey(t)(auth.NewHMACKey(auth.HS256, fxSecret[:32]))
	if !auth.CanSign(auth.VerifyOnly(h)) {
		t.Errorf("HMAC VerifyOnly().CanSign() = false; want true")
	}
}

// privateJWKMembers are the JWK members that hold private or secret key
// material (RFC 7518 §6.2.2, §6.3.2, §6.4.1).
var privateJWKMembers = []string{"d", "p", "q", "dp", "dq", "qi", "oth", "k"}

// checkPublicJWK checks that b is a JSON object with no private member.
func checkPublicJWK(t *testing.T, b []byte) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("JWK %s: %v", b, err)
	}
	for _, p := range privateJWKMembers {
		if _, ok := m[p]; ok {
			t.Errorf("JWK %s has private member %q", b, p)
		}
	}
	return m
}
