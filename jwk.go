package auth

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"slices"
)

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

// privateJWKMembers are the members of private and symmetric JWKs (RFC 7518
// section 6).
var privateJWKMembers = [...]string{"d", "p", "q", "dp", "dq", "qi", "oth", "k"}

// ParseJWK returns the verify-only key of one public JSON Web Key (RFC 7517,
// 7518, 8037): RSA for RS* and PS*, EC P-256/384/521 for ES*, OKP Ed25519
// for EdDSA. It is the inverse of [Key.MarshalJSON]. The JWK must name its
// one algorithm ("alg", never guessed from the key type), carry a kid of 1
// to 128 printable ASCII characters, and may not be for another use than
// signing. A JWK with private or secret members, a symmetric key (kty
// "oct"), members of the wrong type or length, or a key too small for its
// algorithm is refused with an error matching [ErrKeyMismatch] or
// [ErrWeakKey] that says why.
func ParseJWK(data []byte) (*Key, error) {
	j, err := decodeJWK(data)
	if err != nil {
		return nil, fmt.Errorf("%w: JWK: %w", ErrKeyMismatch, err)
	}
	alg, info, err := j.algorithm()
	if err != nil {
		return nil, fmt.Errorf("%w: JWK: %w", ErrKeyMismatch, err)
	}
	pub, err := j.publicKey(alg, info)
	if err != nil {
		return nil, fmt.Errorf("%w: JWK: %w", ErrKeyMismatch, err)
	}
	k, err := NewPublicKey(alg, pub, WithKeyID(j.Kid))
	if err != nil {
		return nil, fmt.Errorf("JWK: %w", err)
	}
	return k, nil
}

// decodeJWK decodes the members of a JWK strictly: every known member must
// be a string (key_ops a list of strings), and the JWK must be a public
// signing key with a usable kid.
func decodeJWK(data []byte) (jwk, error) {
	m, err := objectMembers(data)
	if err != nil {
		return jwk{}, err
	}
	for _, name := range privateJWKMembers {
		if _, ok := m[name]; ok {
			return jwk{}, fmt.Errorf("private or secret member %q", name)
		}
	}
	var j jwk
	for name, dst := range map[string]*string{"kty": &j.Kty, "kid": &j.Kid, "use": &j.Use, "alg": &j.Alg, "crv": &j.Crv, "n": &j.N, "e": &j.E, "x": &j.X, "y": &j.Y} {
		if v, ok := m[name]; ok {
			if err := json.Unmarshal(v, dst); err != nil {
				return jwk{}, fmt.Errorf("%s is not a string", name)
			}
		}
	}
	if checkKeyID(j.Kid) != nil {
		return jwk{}, errors.New("no kid, or not 1 to 128 printable ASCII characters")
	}
	if j.Kty == "oct" {
		return jwk{}, errors.New("symmetric key (kty oct)")
	}
	if _, ok := m["use"]; ok && j.Use != "sig" {
		return jwk{}, errors.New(`use is not "sig"`)
	}
	if ops, ok := m["key_ops"]; ok {
		var list []string
		if err := json.Unmarshal(ops, &list); err != nil || !slices.Contains(list, "verify") {
			return jwk{}, errors.New(`key_ops lacks "verify"`)
		}
	}
	return j, nil
}

// algorithm returns the JWK's one asymmetric algorithm.
func (j *jwk) algorithm() (Algorithm, algInfo, error) {
	if j.Alg == "" {
		return "", algInfo{}, errors.New("no alg")
	}
	alg := Algorithm(j.Alg)
	info, known := lookupAlg(alg)
	if !known || info.kind == kindHMAC {
		return "", algInfo{}, fmt.Errorf("unsupported alg %q", j.Alg)
	}
	return alg, info, nil
}

// publicKey returns the public key that the JWK's members describe, which
// must be of the key type of alg.
func (j *jwk) publicKey(alg Algorithm, info algInfo) (crypto.PublicKey, error) {
	switch {
	case j.Kty == "RSA" && info.kind == kindRSA:
		return j.rsaKey()
	case j.Kty == "EC" && info.kind == kindEC:
		return j.ecKey(alg, info)
	case j.Kty == "OKP" && info.kind == kindEd25519:
		return j.okpKey(alg)
	}
	return nil, fmt.Errorf("kty %q does not fit alg %s", j.Kty, alg)
}

func (j *jwk) rsaKey() (crypto.PublicKey, error) {
	n, err := jwkBytes("n", j.N)
	if err != nil {
		return nil, err
	}
	e, err := jwkBytes("e", j.E)
	if err != nil {
		return nil, err
	}
	if len(e) == 0 || len(e) > 4 {
		return nil, errors.New("e out of range")
	}
	var exp int
	for _, b := range e {
		exp = exp<<8 | int(b)
	}
	return &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: exp}, nil
}

func (j *jwk) ecKey(alg Algorithm, info algInfo) (crypto.PublicKey, error) {
	params := info.curve.Params()
	if j.Crv != params.Name {
		return nil, fmt.Errorf("crv %q does not fit alg %s", j.Crv, alg)
	}
	x, err := jwkBytes("x", j.X)
	if err != nil {
		return nil, err
	}
	y, err := jwkBytes("y", j.Y)
	if err != nil {
		return nil, err
	}
	size := (params.BitSize + 7) / 8
	if len(x) != size || len(y) != size {
		return nil, errors.New("x or y of the wrong length")
	}
	p, err := ecdsa.ParseUncompressedPublicKey(info.curve, append(append([]byte{4}, x...), y...))
	if err != nil {
		return nil, errors.New("not a point of the curve")
	}
	return p, nil
}

func (j *jwk) okpKey(alg Algorithm) (crypto.PublicKey, error) {
	if j.Crv != "Ed25519" {
		return nil, fmt.Errorf("crv %q does not fit alg %s", j.Crv, alg)
	}
	x, err := jwkBytes("x", j.X)
	if err != nil {
		return nil, err
	}
	if len(x) != ed25519.PublicKeySize {
		return nil, errors.New("x of the wrong length")
	}
	return ed25519.PublicKey(x), nil
}

// jwkBytes decodes the base64url member name, refusing padding and any
// character outside the alphabet.
func jwkBytes(name, s string) ([]byte, error) {
	if s == "" {
		return nil, fmt.Errorf("no %s", name)
	}
	for i := 0; i < len(s); i++ {
		if !b64urlAlphabet[s[i]] {
			return nil, fmt.Errorf("%s is not base64url", name)
		}
	}
	b, err := b64url.DecodeString(s)
	if err != nil {
		return nil, fmt.Errorf("%s is not base64url", name)
	}
	return b, nil
}
