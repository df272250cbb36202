package main

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/jwtkit/auth"
)

// maxPEMSize bounds a PEM key file; an RSA key of 16384 bits takes about
// 12 KiB.
const maxPEMSize = 64 << 10

// publicAlgs are the algorithms -alg may name: those of public keys. An
// HMAC key has no public form, and a secret is never published.
var publicAlgs = []auth.Algorithm{
	auth.RS256, auth.RS384, auth.RS512,
	auth.PS256, auth.PS384, auth.PS512,
	auth.ES256, auth.ES384, auth.ES512,
	auth.EdDSA,
}

const jwksAbout = `Jwks prints the JWK Set ({"keys":[...]}) of the public keys of the given
PEM files, each a private key (PKCS#8, PKCS#1 or SEC 1) or a public key
(SPKI or PKCS#1), in the order given. A private key's private members are
never printed. Each key's algorithm comes from its type: EdDSA for Ed25519,
ES256, ES384 and ES512 for ECDSA on P-256, P-384 and P-521, RS256 for RSA;
-alg gives every key another one (such as PS256 for RSA keys). Each kid is
the RFC 7638 thumbprint of the public key, the kid the library gives the
key, so tokens it signs name a key of this set. Serve the output as
application/jwk-set+json, or give its file to jwtkit verify -jwks.`

// jwks is the jwks command.
func (e *env) jwks(args []string) int {
	c := e.newCmd("jwks", "jwtkit jwks [-alg ALG] KEY.pem...", jwksAbout)
	alg := c.flags.String("alg", "", "the `algorithm` of every key, instead of the one its type implies")
	if code, done := c.parse(args); done {
		return code
	}
	if c.flags.NArg() == 0 {
		return c.usageError("no PEM file given")
	}
	if *alg != "" && !slices.Contains(publicAlgs, auth.Algorithm(*alg)) {
		return c.usageError("unsupported -alg %q: want one of %s", *alg, algList(publicAlgs))
	}
	keys := make([]*auth.Key, 0, c.flags.NArg())
	files := make(map[string]string, c.flags.NArg()) // kid -> file
	for _, path := range c.flags.Args() {
		k, err := readKeyFile(path, auth.Algorithm(*alg))
		if err != nil {
			return c.fail(fmt.Errorf("%s: %w", path, err))
		}
		if prev, dup := files[k.ID()]; dup {
			return c.fail(fmt.Errorf("%s: the same key as %s (kid %s)", path, prev, k.ID()))
		}
		files[k.ID()] = path
		keys = append(keys, k)
	}
	doc, err := jwkSet(keys)
	if err != nil {
		return c.fail(err)
	}
	if _, err := c.stdout.Write(doc); err != nil {
		return c.fail(err)
	}
	return exitOK
}

// algList returns algs as "A, B or C".
func algList(algs []auth.Algorithm) string {
	names := make([]string, len(algs))
	for i, a := range algs {
		names[i] = string(a)
	}
	if len(names) < 2 {
		return strings.Join(names, "")
	}
	return strings.Join(names[:len(names)-1], ", ") + " or " + names[len(names)-1]
}

// jwkSet returns the JWK Set document of the public keys of keys, indented,
// with a final newline. [auth.Key.MarshalJSON] writes the public members
// alone, so no private material can reach it.
func jwkSet(keys []*auth.Key) ([]byte, error) {
	doc, err := json.MarshalIndent(struct {
		Keys []*auth.Key `json:"keys"`
	}{keys}, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("encode JWK Set: %w", err)
	}
	return append(doc, '\n'), nil
}

// readKeyFile returns the key in the PEM file at path, parsed by
// auth.ParseKeyPEM for alg, or for the algorithm of the key's type when alg
// is empty.
func readKeyFile(path string, alg auth.Algorithm) (*auth.Key, error) {
	data, err := readFileLimited(path, maxPEMSize)
	if err != nil {
		return nil, err
	}
	if alg == "" {
		if alg, err = inferAlgorithm(data); err != nil {
			return nil, err
		}
	}
	return auth.ParseKeyPEM(alg, data)
}

// inferAlgorithm returns the algorithm of the key in PEM data by the key's
// type (see [algorithmOf]). It reads the first key block only to learn the
// type: auth.ParseKeyPEM then parses and checks the whole data.
func inferAlgorithm(data []byte) (auth.Algorithm, error) {
	block := firstKeyBlock(data)
	if block == nil {
		return "", errors.New("no PEM block found")
	}
	if len(block.Headers) != 0 {
		return "", errors.New("encrypted or annotated PEM is not supported")
	}
	var key any
	var err error
	switch block.Type {
	case "RSA PRIVATE KEY", "RSA PUBLIC KEY":
		return auth.RS256, nil
	case "EC PRIVATE KEY":
		key, err = x509.ParseECPrivateKey(block.Bytes)
	case "PRIVATE KEY":
		key, err = x509.ParsePKCS8PrivateKey(block.Bytes)
	case "PUBLIC KEY":
		key, err = x509.ParsePKIXPublicKey(block.Bytes)
	default:
		return "", fmt.Errorf("unsupported PEM block %q", block.Type)
	}
	if err != nil {
		return "", fmt.Errorf("parse %s: %w", block.Type, err)
	}
	return algorithmOf(key)
}

// firstKeyBlock returns the first PEM block of data that is not "EC
// PARAMETERS", or nil.
func firstKeyBlock(data []byte) *pem.Block {
	for {
		var b *pem.Block
		b, data = pem.Decode(data)
		if b == nil || b.Type != "EC PARAMETERS" {
			return b
		}
	}
}

// algorithmOf returns the algorithm jwks gives a key of key's type: EdDSA
// for Ed25519, ES256, ES384 and ES512 for ECDSA on P-256, P-384 and P-521,
// RS256 for RSA.
func algorithmOf(key any) (auth.Algorithm, error) {
	var curve elliptic.Curve
	switch k := key.(type) {
	case ed25519.PrivateKey, ed25519.PublicKey:
		return auth.EdDSA, nil
	case *rsa.PrivateKey, *rsa.PublicKey:
		return auth.RS256, nil
	case *ecdsa.PrivateKey:
		curve = k.Curve
	case *ecdsa.PublicKey:
		curve = k.Curve
	default:
		return "", fmt.Errorf("unsupported key type %T", key)
	}
	switch curve {
	case elliptic.P256():
		return auth.ES256, nil
	case elliptic.P384():
		return auth.ES384, nil
	case elliptic.P521():
		return auth.ES512, nil
	}
	return "", fmt.Errorf("unsupported curve %s", curve.Params().Name)
}
