package main

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"slices"

	"github.com/jwtkit/auth"
)

// RSA modulus sizes of keygen. auth refuses RSA keys under 2048 bits and
// over 16384 (minRSABits and maxRSABits in keys.go); keygen refuses the
// same sizes up front instead of generating a key the library would not
// take. TestRSABitsMatchLibrary keeps the bounds in step.
const (
	defaultRSABits = 3072
	minRSABits     = 2048
	maxRSABits     = 16384
)

// keygenAlgs are the algorithms keygen makes keys for.
var keygenAlgs = []auth.Algorithm{auth.EdDSA, auth.ES256, auth.RS256}

const keygenAbout = `Keygen generates a private key for -alg and writes it as PKCS#8 PEM
("-----BEGIN PRIVATE KEY-----") to stdout, or to a new file created with
mode 0600; an existing file is never overwritten. An RSA key has 3072 bits
unless -bits says otherwise, and at least 2048, the library's minimum. The
key is read back with auth.ParseKeyPEM before it is written. Its kid is the RFC 7638 thumbprint
of its public key: see jwtkit jwks.`

// keygen is the keygen command.
func (e *env) keygen(args []string) int {
	c := e.newCmd("keygen", "jwtkit keygen -alg EdDSA|ES256|RS256 [-bits 3072] [-o FILE]", keygenAbout)
	alg := c.flags.String("alg", "", "the key's `algorithm`: EdDSA, ES256 or RS256 (required)")
	bits := c.flags.Int("bits", defaultRSABits, fmt.Sprintf("RSA modulus size for RS256, %d to %d", minRSABits, maxRSABits))
	out := c.flags.String("o", "", "write the key to a new `FILE` (mode 0600) instead of stdout")
	if code, done := c.parse(args); done {
		return code
	}
	a := auth.Algorithm(*alg)
	switch {
	case c.flags.NArg() > 0:
		return c.usageError("unexpected argument %q", c.flags.Arg(0))
	case *alg == "":
		return c.usageError("-alg is required")
	case !slices.Contains(keygenAlgs, a):
		return c.usageError("unsupported -alg %q: want %s", *alg, algList(keygenAlgs))
	case c.isSet("bits") && a != auth.RS256:
		return c.usageError("-bits applies to RS256 only")
	case *bits < minRSABits || *bits > maxRSABits:
		return c.usageError("-bits %d: an RSA key has %d to %d bits", *bits, minRSABits, maxRSABits)
	}
	generate := func() ([]byte, error) { return generatePEM(a, *bits) }
	if *out != "" {
		if err := writeNewFile(*out, generate); err != nil {
			return c.fail(err)
		}
		return exitOK
	}
	data, err := generate()
	if err != nil {
		return c.fail(err)
	}
	if _, err := c.stdout.Write(data); err != nil {
		return c.fail(err)
	}
	return exitOK
}

// generatePEM returns a new private key for alg in PKCS#8 PEM, after
// checking that auth.ParseKeyPEM reads it back as a signing key for alg.
func generatePEM(alg auth.Algorithm, rsaBits int) ([]byte, error) {
	priv, err := generateKey(alg, rsaBits)
	if err != nil {
		return nil, fmt.Errorf("generate %s key: %w", alg, err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return nil, fmt.Errorf("encode %s key: %w", alg, err)
	}
	data := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
	if _, err := auth.ParseKeyPEM(alg, data); err != nil {
		return nil, fmt.Errorf("check %s key: %w", alg, err)
	}
	return data, nil
}

// generateKey returns a new private key for alg from crypto/rand: Ed25519
// for EdDSA, P-256 for ES256, RSA of rsaBits for RS256.
func generateKey(alg auth.Algorithm, rsaBits int) (crypto.Signer, error) {
	switch alg {
	case auth.EdDSA:
		_, priv, err := ed25519.GenerateKey(rand.Reader)
		return priv, err
	case auth.ES256:
		return ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case auth.RS256:
		return rsa.GenerateKey(rand.Reader, rsaBits)
	}
	return nil, fmt.Errorf("unsupported algorithm %q", alg)
}

// writeNewFile creates a file at path with mode 0600 and writes to it what
// data returns. It refuses a path that exists, a symbolic link included
// (O_EXCL), before calling data, so that no key is generated for a path
// that cannot take it, and removes the file again when data fails or the
// file could not be written whole.
func writeNewFile(path string, data func() ([]byte, error)) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("%s already exists; refusing to overwrite it", path)
	}
	if err != nil {
		return err
	}
	// The umask can only have cleared bits of 0600: make it exactly 0600.
	err = f.Chmod(0o600)
	var b []byte
	if err == nil {
		b, err = data()
	}
	if err == nil {
		_, err = f.Write(b)
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		_ = os.Remove(path)
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}
