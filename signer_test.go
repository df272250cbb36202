package auth

// Signing with keys the process never holds: a "cloud KMS" on a loopback
// HTTP listener holds the private keys and signs slowly; the process has
// only the adapter of the README (kmsClient, kmsSigner, newKMSSigner, and
// kmsSetup for its use), which the tests run against it.

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
	"crypto/x509"
	"encoding/asn1"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// --- The adapter of the README, verbatim (its snippet "kms-signer"). ---

// snippet: kms-signer
// kmsClient is the part of a cloud KMS's SDK that the adapter needs. Wrap
// the SDK's client in a type of the application with these two methods;
// the auth module never imports the SDK.
type kmsClient interface {
	// PublicKeyDER returns the public key of the key keyID as a DER
	// SubjectPublicKeyInfo, as the KMS's get-public-key call does.
	PublicKeyDER(ctx context.Context, keyID string) ([]byte, error)
	// AsymmetricSign signs digest (for Ed25519, the message itself) with
	// the key keyID and the KMS's signing algorithm named algorithm. It
	// returns the signature: PKCS #1 v1.5 or PSS for RSA, ASN.1 DER for
	// ECDSA, 64 bytes for Ed25519.
	AsymmetricSign(ctx context.Context, keyID, algorithm string, digest []byte) ([]byte, error)
}

// kmsSigner is a crypto.Signer whose private key never leaves the KMS.
type kmsSigner struct {
	client    kmsClient
	keyID     string
	algorithm string        // the KMS's name of the one algorithm, e.g. "ECDSA_SHA_256" for auth.ES256
	timeout   time.Duration // bounds each Sign: crypto.Signer has no context
	public    crypto.PublicKey
}

// newKMSSigner returns the signer of the KMS key keyID. It fetches the
// public key once, here, at start.
func newKMSSigner(ctx context.Context, client kmsClient, keyID, algorithm string, timeout time.Duration) (*kmsSigner, error) {
	der, err := client.PublicKeyDER(ctx, keyID)
	if err != nil {
		return nil, fmt.Errorf("kms: public key of %s: %w", keyID, err)
	}
	pub, err := x509.ParsePKIXPublicKey(der)
	if err != nil {
		return nil, fmt.Errorf("kms: public key of %s: %w", keyID, err)
	}
	return &kmsSigner{client: client, keyID: keyID, algorithm: algorithm, timeout: timeout, public: pub}, nil
}

// Public returns the public key fetched at start, without calling the KMS.
func (s *kmsSigner) Public() crypto.PublicKey { return s.public }

// Sign asks the KMS to sign digest, giving up after s.timeout.
func (s *kmsSigner) Sign(_ io.Reader, digest []byte, _ crypto.SignerOpts) ([]byte, error) {
	ctx, cancel := context.WithTimeout(context.Background(), s.timeout)
	defer cancel()
	return s.client.AsymmetricSign(ctx, s.keyID, s.algorithm, digest)
}

// snippet end

// kmsSetup is the start-up that the README describes: the public key
// fetched once, then the key, the key set and the Auth (in the README, with
// the qualifier auth.).
func kmsSetup(ctx context.Context, client kmsClient) (*Auth, *KeySet, error) {
	signer, err := newKMSSigner(ctx, client, "token-signing-key", "ECDSA_SHA_256", 2*time.Second)
	if err != nil {
		return nil, nil, err
	}
	key, err := NewPrivateKey(ES256, signer) // calls signer.Public only
	if err != nil {
		return nil, nil, err
	}
	keys, err := NewKeySet(key) // serve keys at /.well-known/jwks.json
	if err != nil {
		return nil, nil, err
	}
	a, err := New(WithKeys(keys), WithIssuer("https://id.example.com"), WithAudience("example-api"))
	return a, keys, err
}

// --- The loopback KMS. ---

// kmsKeys are the private keys of the loopback KMS, made once.
var kmsKeys = sync.OnceValues(func() (map[string]crypto.Signer, error) {
	keys := map[string]crypto.Signer{}
	var err error
	if keys["rsa"], err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
		return nil, err
	}
	if keys["rsa1024"], err = rsa.GenerateKey(rand.Reader, 1024); err != nil {
		return nil, err
	}
	for name, curve := range map[string]elliptic.Curve{"p256": elliptic.P256(), "p256-other": elliptic.P256(), "p384": elliptic.P384(), "p521": elliptic.P521()} {
		if keys[name], err = ecdsa.GenerateKey(curve, rand.Reader); err != nil {
			return nil, err
		}
	}
	if _, keys["ed25519"], err = ed25519.GenerateKey(rand.Reader); err != nil {
		return nil, err
	}
	return keys, nil
})

func kmsKey(t testing.TB, name string) crypto.Signer {
	t.Helper()
	keys, err := kmsKeys()
	if err != nil {
		t.Fatal(err)
	}
	k, ok := keys[name]
	if !ok {
		t.Fatalf("no test key %q", name)
	}
	return k
}

// kmsServer is the "cloud KMS" of the tests: an HTTP service on a loopback
// listener that holds the private keys and signs digests, slowly. A key id
// is the name of a key of kmsKeys, optionally followed by "/" and a fault:
// "fail" answers 500, "hang" never answers (until the client gives up),
// "garbage" returns bytes that are no signature, "other" signs with
// another P-256 key than the one whose public key it serves.
type kmsServer struct {
	srv     *httptest.Server
	delay   time.Duration // each sign call sleeps this long first
	signs   atomic.Int64  // sign calls received
	release chan struct{} // closed at cleanup: ends "hang" calls
}

type kmsPublicKeyRequest struct {
	KeyID string `json:"keyId"`
}

type kmsPublicKeyResponse struct {
	SPKI []byte `json:"spki"`
}

type kmsSignRequest struct {
	KeyID     string `json:"keyId"`
	Algorithm string `json:"algorithm"`
	Digest    []byte `json:"digest"`
}

type kmsSignResponse struct {
	Signature []byte `json:"signature"`
}

// newKMSServer starts a loopback KMS whose sign calls each take delay.
func newKMSServer(t testing.TB, delay time.Duration) *kmsServer {
	t.Helper()
	kmsKey(t, "rsa") // make the keys before serving
	k := &kmsServer{delay: delay, release: make(chan struct{})}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /publickey", k.publicKey)
	mux.HandleFunc("POST /sign", k.sign)
	k.srv = httptest.NewServer(mux)
	t.Cleanup(func() {
		close(k.release)
		k.srv.Close()
	})
	return k
}

// client returns a client of the KMS, as an application would write one
// around the KMS's SDK.
func (k *kmsServer) client() *kmsHTTPClient {
	return &kmsHTTPClient{url: k.srv.URL, hc: k.srv.Client()}
}

// lookup returns the key and the fault that id names.
func (k *kmsServer) lookup(id string) (crypto.Signer, string, bool) {
	name, fault, _ := strings.Cut(id, "/")
	keys, err := kmsKeys()
	if err != nil {
		return nil, "", false
	}
	key, ok := keys[name]
	return key, fault, ok
}

func (k *kmsServer) publicKey(w http.ResponseWriter, r *http.Request) {
	var req kmsPublicKeyRequest
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	key, _, ok := k.lookup(req.KeyID)
	if !ok {
		http.Error(w, "no such key", http.StatusNotFound)
		return
	}
	der, err := x509.MarshalPKIXPublicKey(key.Public())
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	kmsWriteJSON(w, kmsPublicKeyResponse{SPKI: der})
}

// kmsAlgorithms maps the KMS's algorithm names to the options its keys
// sign with.
var kmsAlgorithms = map[string]crypto.SignerOpts{
	"RSASSA_PKCS1_V1_5_SHA_256": crypto.SHA256,
	"RSASSA_PSS_SHA_256":        &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash, Hash: crypto.SHA256},
	"ECDSA_SHA_256":             crypto.SHA256,
	"ECDSA_SHA_384":             crypto.SHA384,
	"ECDSA_SHA_512":             crypto.SHA512,
	"ED25519":                   crypto.Hash(0),
}

func (k *kmsServer) sign(w http.ResponseWriter, r *http.Request) {
	k.signs.Add(1)
	var req kmsSignRequest
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	key, fault, ok := k.lookup(req.KeyID)
	opts, known := kmsAlgorithms[req.Algorithm]
	switch {
	case !ok:
		http.Error(w, "no such key", http.StatusNotFound)
		return
	case !known || (opts.HashFunc() != 0 && len(req.Digest) != opts.HashFunc().Size()):
		http.Error(w, "bad algorithm or digest", http.StatusBadRequest)
		return
	}
	time.Sleep(k.delay) // a slow KMS
	switch fault {
	case "fail":
		http.Error(w, "internal failure", http.StatusInternalServerError)
		return
	case "hang":
		select {
		case <-r.Context().Done():
		case <-k.release:
		}
		http.Error(w, "gave up", http.StatusServiceUnavailable)
		return
	case "garbage":
		kmsWriteJSON(w, kmsSignResponse{Signature: []byte("not a signature")})
		return
	case "other":
		keys, _ := kmsKeys()
		key = keys["p256-other"]
	}
	sig, err := key.Sign(rand.Reader, req.Digest, opts)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	kmsWriteJSON(w, kmsSignResponse{Signature: sig})
}

func kmsWriteJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}

// kmsHTTPClient is the application's wrapper of the KMS's SDK: here, calls
// to the loopback KMS. It implements kmsClient.
type kmsHTTPClient struct {
	url string
	hc  *http.Client
}

func (c *kmsHTTPClient) call(ctx context.Context, path string, in, out any) error {
	body, err := json.Marshal(in)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.url+path, bytes.NewReader(body))
	if err != nil {
		return err
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		return fmt.Errorf("kms %s: %s: %s", path, resp.Status, bytes.TrimSpace(msg))
	}
	return json.NewDecoder(resp.Body).Decode(out)
}

// PublicKeyDER implements kmsClient.
func (c *kmsHTTPClient) PublicKeyDER(ctx context.Context, keyID string) ([]byte, error) {
	var resp kmsPublicKeyResponse
	if err := c.call(ctx, "/publickey", kmsPublicKeyRequest{KeyID: keyID}, &resp); err != nil {
		return nil, err
	}
	return resp.SPKI, nil
}

// AsymmetricSign implements kmsClient.
func (c *kmsHTTPClient) AsymmetricSign(ctx context.Context, keyID, algorithm string, digest []byte) ([]byte, error) {
	var resp kmsSignResponse
	if err := c.call(ctx, "/sign", kmsSignRequest{KeyID: keyID, Algorithm: algorithm, Digest: digest}, &resp); err != nil {
		return nil, err
	}
	return resp.Signature, nil
}

// --- Helpers. ---

// kmsAuth returns an Auth that signs with key.
func kmsAuth(t testing.TB, key *Key) (*Auth, *KeySet) {
	t.Helper()
	ks, err := NewKeySet(key)
	if err != nil {
		t.Fatal(err)
	}
	a, err := New(WithKeys(ks), WithIssuer("https://issuer.test"), WithAudience("api"), WithClock(func() time.Time { return testNow }))
	if err != nil {
		t.Fatal(err)
	}
	return a, ks
}

// kmsVerifier returns an Auth that only verifies, with keys.
func kmsVerifier(t testing.TB, keys ...*Key) *Auth {
	t.Helper()
	ks, err := NewKeySet(nil, keys...)
	if err != nil {
		t.Fatal(err)
	}
	a, err := New(WithKeySource(ks), WithIssuer("https://issuer.test"), WithAudience("api"), WithClock(func() time.Time { return testNow }))
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// kmsJWKSKeys returns the keys of the JWK Set that ks serves, parsed back
// with ParseJWK, as another service would.
func kmsJWKSKeys(t testing.TB, ks *KeySet) []*Key {
	t.Helper()
	w := httptest.NewRecorder()
	ks.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/.well-known/jwks.json", nil))
	var set struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := json.Unmarshal(w.Body.Bytes(), &set); err != nil || len(set.Keys) == 0 {
		t.Fatalf("JWK Set %q: %v, %d keys", w.Body.String(), err, len(set.Keys))
	}
	keys := make([]*Key, 0, len(set.Keys))
	for _, raw := range set.Keys {
		k, err := ParseJWK(raw)
		if err != nil {
			t.Fatalf("ParseJWK(%s): %v", raw, err)
		}
		keys = append(keys, k)
	}
	return keys
}

// kmsVerifyStdlib checks the signature of token with the standard library
// alone, as the JWS specification defines it for alg.
func kmsVerifyStdlib(t testing.TB, alg Algorithm, pub crypto.PublicKey, token string) {
	t.Helper()
	dot := strings.LastIndexByte(token, '.')
	input := token[:dot]
	sig, err := base64.RawURLEncoding.DecodeString(token[dot+1:])
	if err != nil {
		t.Fatalf("signature of %s is not base64url: %v", alg, err)
	}
	hashes := map[Algorithm]crypto.Hash{
		RS256: crypto.SHA256, RS384: crypto.SHA384, RS512: crypto.SHA512,
		PS256: crypto.SHA256, PS384: crypto.SHA384, PS512: crypto.SHA512,
		ES256: crypto.SHA256, ES384: crypto.SHA384, ES512: crypto.SHA512,
	}
	h := hashes[alg]
	var digest []byte
	if h != 0 {
		hh := h.New()
		hh.Write([]byte(input))
		digest = hh.Sum(nil)
	}
	switch alg {
	case RS256, RS384, RS512:
		err = rsa.VerifyPKCS1v15(pub.(*rsa.PublicKey), h, digest, sig)
	case PS256, PS384, PS512:
		err = rsa.VerifyPSS(pub.(*rsa.PublicKey), h, digest, sig, &rsa.PSSOptions{SaltLength: h.Size()})
	case ES256, ES384, ES512:
		p := pub.(*ecdsa.PublicKey)
		size := (p.Curve.Params().BitSize + 7) / 8
		if len(sig) != 2*size || !ecdsa.Verify(p, digest, new(big.Int).SetBytes(sig[:size]), new(big.Int).SetBytes(sig[size:])) {
			err = fmt.Errorf("%d-byte signature does not verify", len(sig))
		}
	case EdDSA:
		if !ed25519.Verify(pub.(ed25519.PublicKey), []byte(input), sig) {
			err = errors.New("does not verify")
		}
	default:
		t.Fatalf("no check for %s", alg)
	}
	if err != nil {
		t.Errorf("%s signature by the standard library: %v", alg, err)
	}
}

// kmsCheckToken verifies token with each verifier and the standard
// library.
func kmsCheckToken(t testing.TB, alg Algorithm, pub crypto.PublicKey, token, subject string, verifiers map[string]*Auth) {
	t.Helper()
	for name, v := range verifiers {
		c, err := v.Verify(context.Background(), token)
		if err != nil || c.Subject != subject {
			t.Errorf("%s: Verify(%s token) = %v, %v; want subject %q", name, alg, c, err, subject)
		}
	}
	kmsVerifyStdlib(t, alg, pub, token)
}

// kmsCase is one algorithm signed by the loopback KMS.
type kmsCase struct {
	alg          Algorithm
	key          string // the KMS key id
	kmsAlgorithm string
}

var kmsCases = []kmsCase{
	{RS256, "rsa", "RSASSA_PKCS1_V1_5_SHA_256"},
	{PS256, "rsa", "RSASSA_PSS_SHA_256"},
	{ES256, "p256", "ECDSA_SHA_256"},
	{ES384, "p384", "ECDSA_SHA_384"},
	{ES512, "p521", "ECDSA_SHA_512"},
	{EdDSA, "ed25519", "ED25519"},
}

// --- Tests. ---

// TestRemoteSignerIssuesStandardTokens signs access and device tokens with
// keys that only the loopback KMS holds, and verifies them with the
// signing Auth, with an Auth holding only the public key, with one that
// learnt the key from the JWK Set, and with the standard library.
func TestRemoteSignerIssuesStandardTokens(t *testing.T) {
	t.Parallel()
	for _, tc := range kmsCases {
		t.Run(string(tc.alg), func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			kms := newKMSServer(t, 3*time.Millisecond)
			signer, err := newKMSSigner(ctx, kms.client(), tc.key, tc.kmsAlgorithm, 10*time.Second)
			if err != nil {
				t.Fatal(err)
			}
			key, err := NewPrivateKey(tc.alg, signer)
			if err != nil {
				t.Fatalf("NewPrivateKey(%s, KMS signer) = %v", tc.alg, err)
			}
			if n := kms.signs.Load(); n != 0 {
				t.Errorf("NewPrivateKey called the KMS %d times; want no call", n)
			}
			pubKey, err := NewPublicKey(tc.alg, kmsKey(t, tc.key).Public())
			if err != nil {
				t.Fatal(err)
			}
			if key.ID() != pubKey.ID() || !key.canSign() || key.Algorithm() != tc.alg {
				t.Errorf("key = kid %q, canSign %v, %s; want kid %q (the thumbprint), true, %s", key.ID(), key.canSign(), key.Algorithm(), pubKey.ID(), tc.alg)
			}

			a, ks := kmsAuth(t, key)
			at, err := a.Issue(ctx, Claims{Subject: "user-1", Role: "admin"})
			if err != nil {
				t.Fatalf("Issue: %v", err)
			}
			verifiers := map[string]*Auth{
				"signer":     a,
				"public key": kmsVerifier(t, pubKey),
				"JWK Set":    kmsVerifier(t, kmsJWKSKeys(t, ks)...),
			}
			kmsCheckToken(t, tc.alg, signer.Public(), at.Token, "user-1", verifiers)

			device, _, err := a.issueDevice("account-1", testNow)
			if err != nil {
				t.Fatalf("issueDevice: %v", err)
			}
			if a.deviceID(ctx, device, "account-1", testNow) == "" {
				t.Errorf("the device token signed by the KMS is not a known device")
			}
			if v := verifiers["JWK Set"]; v.deviceID(ctx, device, "account-1", testNow) == "" {
				t.Errorf("the device token signed by the KMS does not verify with the JWK Set")
			}
			if n := kms.signs.Load(); n != 2 {
				t.Errorf("the KMS signed %d times; want 2 (one access token, one device token)", n)
			}
		})
	}
}

// TestRemoteSignerReadmeSetup runs the README's setup against the loopback
// KMS.
func TestRemoteSignerReadmeSetup(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	kms := newKMSServer(t, time.Millisecond)
	if _, _, err := kmsSetup(ctx, kms.client()); err == nil {
		t.Fatal("kmsSetup with a key the KMS does not have succeeded; want an error")
	}
	// The README's key id names no key of the loopback KMS: alias it.
	a, ks, err := kmsSetup(ctx, kmsAlias{kms.client(), "token-signing-key", "p256"})
	if err != nil {
		t.Fatal(err)
	}
	at, err := a.Issue(ctx, Claims{Subject: "user-1"})
	if err != nil {
		t.Fatal(err)
	}
	set, err := NewKeySet(nil, kmsJWKSKeys(t, ks)...)
	if err != nil {
		t.Fatal(err)
	}
	v, err := New(WithKeySource(set), WithIssuer("https://id.example.com"), WithAudience("example-api"))
	if err != nil {
		t.Fatal(err)
	}
	kmsCheckToken(t, ES256, kmsKey(t, "p256").Public(), at.Token, "user-1", map[string]*Auth{"signer": a, "JWK Set": v})
}

// kmsAlias is a kmsClient that calls key id alias by the name key.
type kmsAlias struct {
	*kmsHTTPClient
	alias, key string
}

func (c kmsAlias) id(keyID string) string {
	if keyID == c.alias {
		return c.key
	}
	return keyID
}

func (c kmsAlias) PublicKeyDER(ctx context.Context, keyID string) ([]byte, error) {
	return c.kmsHTTPClient.PublicKeyDER(ctx, c.id(keyID))
}

func (c kmsAlias) AsymmetricSign(ctx context.Context, keyID, algorithm string, digest []byte) ([]byte, error) {
	return c.kmsHTTPClient.AsymmetricSign(ctx, c.id(keyID), algorithm, digest)
}

// extSigner hides the type of an in-memory key, so the key signs as an
// external signer through its Sign method.
type extSigner struct{ crypto.Signer }

// TestExternalSignerEveryAlgorithm signs with every public-key algorithm
// through an external signer and checks the token verifies as one signed
// by the same key in memory does.
func TestExternalSignerEveryAlgorithm(t *testing.T) {
	t.Parallel()
	for alg, name := range map[Algorithm]string{
		RS256: "rsa", RS384: "rsa", RS512: "rsa", PS256: "rsa", PS384: "rsa", PS512: "rsa",
		ES256: "p256", ES384: "p384", ES512: "p521", EdDSA: "ed25519",
	} {
		t.Run(string(alg), func(t *testing.T) {
			t.Parallel()
			raw := kmsKey(t, name)
			ext, err := NewPrivateKey(alg, extSigner{raw})
			if err != nil {
				t.Fatalf("NewPrivateKey(%s, external) = %v", alg, err)
			}
			mem, err := NewPrivateKey(alg, raw)
			if err != nil {
				t.Fatal(err)
			}
			if ext.ID() != mem.ID() {
				t.Errorf("external kid %q != in-memory kid %q", ext.ID(), mem.ID())
			}
			a, _ := kmsAuth(t, ext)
			// Several tokens, so that r or s with leading zero bytes
			// (padded to the curve size) occur now and then.
			for i := range 8 {
				at, err := a.Issue(context.Background(), Claims{Subject: fmt.Sprint("user-", i)})
				if err != nil {
					t.Fatalf("Issue: %v", err)
				}
				kmsCheckToken(t, alg, raw.Public(), at.Token, fmt.Sprint("user-", i), map[string]*Auth{
					"signer":    a,
					"in memory": kmsVerifier(t, mem),
				})
			}
		})
	}
}

// kmsFixedSigner is a signer with a given public key that counts its Sign
// calls and fails them with err (or errors.ErrUnsupported).
type kmsFixedSigner struct {
	pub   crypto.PublicKey
	sig   []byte // returned when err is nil
	err   error
	calls *atomic.Int64
}

func (s kmsFixedSigner) Public() crypto.PublicKey { return s.pub }

func (s kmsFixedSigner) Sign(io.Reader, []byte, crypto.SignerOpts) ([]byte, error) {
	if s.calls != nil {
		s.calls.Add(1)
	}
	if s.err == nil && s.sig == nil {
		return nil, errors.ErrUnsupported
	}
	return s.sig, s.err
}

// TestRemoteSignerRefusedAtConstruction checks that a signer whose public
// key does not fit the algorithm is refused as today's key types are, and
// that NewPrivateKey never calls its Sign.
func TestRemoteSignerRefusedAtConstruction(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	rsaPub := kmsKey(t, "rsa").Public().(*rsa.PublicKey)
	p256 := kmsKey(t, "p256").Public()
	p384 := kmsKey(t, "p384").Public()
	ed := kmsKey(t, "ed25519").Public()
	weak := kmsKey(t, "rsa1024").Public()
	x25519, err := ecdh.X25519().GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	var calls atomic.Int64
	fixed := func(pub crypto.PublicKey) crypto.Signer { return kmsFixedSigner{pub: pub, calls: &calls} }

	kms := newKMSServer(t, time.Millisecond)
	remote := func(key string) crypto.Signer {
		s, err := newKMSSigner(ctx, kms.client(), key, "ECDSA_SHA_256", 10*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}

	tests := []struct {
		name   string
		alg    Algorithm
		signer crypto.Signer
		want   error
	}{
		{"RSA signer for ES256", ES256, fixed(rsaPub), ErrKeyMismatch},
		{"remote RSA signer for ES256", ES256, remote("rsa"), ErrKeyMismatch},
		{"P-384 signer for ES256", ES256, fixed(p384), ErrKeyMismatch},
		{"remote P-384 signer for ES256", ES256, remote("p384"), ErrKeyMismatch},
		{"P-256 signer for ES384", ES384, fixed(p256), ErrKeyMismatch},
		{"P-256 signer for ES512", ES512, fixed(p256), ErrKeyMismatch},
		{"1024-bit RSA signer for RS256", RS256, fixed(weak), ErrWeakKey},
		{"remote 1024-bit RSA signer for PS256", PS256, remote("rsa1024"), ErrWeakKey},
		{"RSA signer with exponent 1", RS256, fixed(&rsa.PublicKey{N: rsaPub.N, E: 1}), ErrWeakKey},
		{"Ed25519 signer for RS256", RS256, fixed(ed), ErrKeyMismatch},
		{"P-256 signer for EdDSA", EdDSA, fixed(p256), ErrKeyMismatch},
		{"remote Ed25519 signer for ES256", ES256, remote("ed25519"), ErrKeyMismatch},
		{"RSA signer for HS256", HS256, fixed(rsaPub), ErrKeyMismatch},
		{"X25519 public key for EdDSA", EdDSA, fixed(x25519.PublicKey()), ErrKeyMismatch},
		{"short Ed25519 public key", EdDSA, fixed(ed25519.PublicKey{1, 2, 3}), ErrKeyMismatch},
		{"ECDSA point off the curve", ES256, fixed(&ecdsa.PublicKey{Curve: elliptic.P256(), X: big.NewInt(1), Y: big.NewInt(1)}), ErrKeyMismatch},
		{"nil public key", ES256, fixed(nil), ErrKeyMismatch},
		{"a private key as public key", RS256, fixed(kmsKey(t, "rsa")), ErrKeyMismatch},
		{"unknown algorithm", "none", fixed(p256), ErrConfig},
	}
	for _, tt := range tests {
		k, err := NewPrivateKey(tt.alg, tt.signer)
		if !errors.Is(err, tt.want) || !errors.Is(err, ErrConfig) || k != nil {
			t.Errorf("%s: NewPrivateKey = %v, %v; want nil, %v", tt.name, k, err, tt.want)
		}
	}
	if n, m := calls.Load(), kms.signs.Load(); n != 0 || m != 0 {
		t.Errorf("NewPrivateKey called Sign %d times and the KMS %d times; want none", n, m)
	}
}

// TestRemoteSignerFailure checks that a signer that fails, hangs or
// returns a bad signature issues nothing and fails with ErrUnavailable
// (HTTP 503), for access tokens, sessions and device tokens alike.
func TestRemoteSignerFailure(t *testing.T) {
	t.Parallel()
	kms := newKMSServer(t, 2*time.Millisecond)
	p256 := kmsKey(t, "p256").Public()
	remote := func(key string, timeout time.Duration) crypto.Signer {
		s, err := newKMSSigner(context.Background(), kms.client(), key, "ECDSA_SHA_256", timeout)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	// A valid signature of another message: well-formed, does not verify.
	der, err := kmsKey(t, "p256").Sign(rand.Reader, make([]byte, 32), crypto.SHA256)
	if err != nil {
		t.Fatal(err)
	}
	errKMS := errors.New("kms: access denied")

	tests := []struct {
		name   string
		signer crypto.Signer
		cause  error // also matched, when set
	}{
		{"KMS answers 500", remote("p256/fail", 10*time.Second), nil},
		{"KMS never answers", remote("p256/hang", 20*time.Millisecond), context.DeadlineExceeded},
		{"KMS returns garbage", remote("p256/garbage", 10*time.Second), nil},
		{"KMS signs with another key", remote("p256/other", 10*time.Second), errSignatureMismatch},
		{"signer error", kmsFixedSigner{pub: p256, err: errKMS}, errKMS},
		{"signer error of a class", kmsFixedSigner{pub: p256, err: ErrTokenExpired}, nil},
		{"signature of another message", kmsFixedSigner{pub: p256, sig: der}, errSignatureMismatch},
		{"signer returns nothing", kmsFixedSigner{pub: p256, sig: []byte{}}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			key, err := NewPrivateKey(ES256, tt.signer)
			if err != nil {
				t.Fatalf("NewPrivateKey: %v", err)
			}
			a, _ := kmsAuth(t, key)
			check := func(what string, err error) {
				t.Helper()
				if !errors.Is(err, ErrUnavailable) || ErrorStatus(err) != http.StatusServiceUnavailable || ErrorCode(err) != "UNAVAILABLE" {
					t.Errorf("%s: error %v, status %d, code %q; want ErrUnavailable, 503 UNAVAILABLE", what, err, ErrorStatus(err), ErrorCode(err))
				}
				if errors.Is(err, ErrConfig) || errors.Is(err, ErrInvalidToken) {
					t.Errorf("%s: error %v matches another class than ErrUnavailable", what, err)
				}
				if tt.cause != nil && !errors.Is(err, tt.cause) {
					t.Errorf("%s: error %v does not match its cause %v", what, err, tt.cause)
				}
			}

			at, err := a.Issue(ctx, Claims{Subject: "user-1"})
			if at != nil {
				t.Errorf("Issue = %+v; want no token", at)
			}
			check("Issue", err)
			w := httptest.NewRecorder()
			WriteError(w, httptest.NewRequest(http.MethodPost, "/api/auth/login", nil), err)
			if w.Code != http.StatusServiceUnavailable {
				t.Errorf("WriteError(Issue error) answered %d; want 503", w.Code)
			}

			tokens, err := a.StartSession(ctx, Claims{Subject: "user-1"}, Client{UserAgent: "test"})
			if tokens != nil {
				t.Errorf("StartSession = %+v; want nothing issued", tokens)
			}
			check("StartSession", err)
			if list, err := a.Sessions(ctx, "user-1"); err != nil || len(list) != 0 {
				t.Errorf("Sessions after a failed StartSession = %v, %v; want none", list, err)
			}

			device, _, err := a.issueDevice("account-1", testNow)
			if device != "" {
				t.Errorf("issueDevice = %q; want no token", device)
			}
			check("issueDevice", err)
		})
	}
}

// TestRemoteSignerConcurrent issues tokens from 20 goroutines at once
// through the slow loopback KMS; every one must verify.
func TestRemoteSignerConcurrent(t *testing.T) {
	t.Parallel()
	for _, tc := range []kmsCase{kmsCases[0], kmsCases[2], kmsCases[5]} {
		t.Run(string(tc.alg), func(t *testing.T) {
			t.Parallel()
			const n = 20
			ctx := context.Background()
			kms := newKMSServer(t, 5*time.Millisecond)
			signer, err := newKMSSigner(ctx, kms.client(), tc.key, tc.kmsAlgorithm, 30*time.Second)
			if err != nil {
				t.Fatal(err)
			}
			key, err := NewPrivateKey(tc.alg, signer)
			if err != nil {
				t.Fatal(err)
			}
			a, ks := kmsAuth(t, key)
			var (
				wg     sync.WaitGroup
				tokens [n]string
				errs   [n]error
			)
			for i := range n {
				wg.Go(func() {
					at, err := a.Issue(ctx, Claims{Subject: fmt.Sprint("user-", i)})
					if err == nil {
						tokens[i] = at.Token
					}
					errs[i] = err
				})
			}
			wg.Wait()
			jwks := kmsVerifier(t, kmsJWKSKeys(t, ks)...)
			ids := map[string]bool{}
			for i := range n {
				if errs[i] != nil {
					t.Errorf("Issue %d: %v", i, errs[i])
					continue
				}
				c, err := jwks.Verify(ctx, tokens[i])
				if err != nil || c.Subject != fmt.Sprint("user-", i) {
					t.Errorf("token %d: Verify = %v, %v", i, c, err)
					continue
				}
				ids[c.ID] = true
				kmsVerifyStdlib(t, tc.alg, signer.Public(), tokens[i])
			}
			if len(ids) != n {
				t.Errorf("%d distinct token ids; want %d", len(ids), n)
			}
			if got := kms.signs.Load(); got != n {
				t.Errorf("the KMS signed %d times; want %d", got, n)
			}
		})
	}
}

// TestECDSAJWSSignature checks the conversion of DER ECDSA signatures to
// the JWS form, and that anything but strict DER of two in-range integers
// is refused.
func TestECDSAJWSSignature(t *testing.T) {
	t.Parallel()
	marshal := func(r, s *big.Int) []byte {
		b, err := asn1.Marshal(struct{ R, S *big.Int }{r, s})
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	p256, p521 := elliptic.P256(), elliptic.P521()
	n256, n521 := p256.Params().N, p521.Params().N
	one, two := big.NewInt(1), big.NewInt(2)
	minus1 := func(n *big.Int) *big.Int { return new(big.Int).Sub(n, one) }

	good := []struct {
		name  string
		curve elliptic.Curve
		der   []byte
		r, s  *big.Int
	}{
		{"small values padded", p256, marshal(one, two), one, two},
		{"largest values P-256", p256, marshal(minus1(n256), minus1(n256)), minus1(n256), minus1(n256)},
		{"small values P-521", p521, marshal(two, one), two, one},
		{"largest values P-521", p521, marshal(minus1(n521), minus1(n521)), minus1(n521), minus1(n521)},
	}
	for _, tt := range good {
		got, err := ecdsaJWSSignature(tt.der, tt.curve)
		size := (tt.curve.Params().BitSize + 7) / 8
		want := make([]byte, 2*size)
		tt.r.FillBytes(want[:size])
		tt.s.FillBytes(want[size:])
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("%s: = %x, %v; want %x", tt.name, got, err, want)
		}
	}

	valid := marshal(one, two)
	bad := []struct {
		name  string
		curve elliptic.Curve
		der   []byte
	}{
		{"empty", p256, nil},
		{"raw r||s", p256, append(bytes.Repeat([]byte{0x01}, 32), bytes.Repeat([]byte{0x02}, 32)...)},
		{"trailing byte", p256, append(append([]byte(nil), valid...), 0)},
		{"truncated", p256, valid[:len(valid)-1]},
		{"three integers", p256, []byte{0x30, 0x09, 0x02, 0x01, 0x01, 0x02, 0x01, 0x02, 0x02, 0x01, 0x03}},
		{"one integer", p256, []byte{0x30, 0x03, 0x02, 0x01, 0x01}},
		{"non-minimal integer", p256, []byte{0x30, 0x07, 0x02, 0x02, 0x00, 0x01, 0x02, 0x01, 0x02}},
		{"non-minimal length", p256, []byte{0x30, 0x81, 0x06, 0x02, 0x01, 0x01, 0x02, 0x01, 0x02}},
		{"indefinite length", p256, []byte{0x30, 0x80, 0x02, 0x01, 0x01, 0x02, 0x01, 0x02, 0x00, 0x00}},
		{"SET instead of SEQUENCE", p256, []byte{0x31, 0x06, 0x02, 0x01, 0x01, 0x02, 0x01, 0x02}},
		{"octet strings", p256, []byte{0x30, 0x06, 0x04, 0x01, 0x01, 0x04, 0x01, 0x02}},
		{"empty integer", p256, []byte{0x30, 0x05, 0x02, 0x00, 0x02, 0x01, 0x02}},
		{"negative r", p256, []byte{0x30, 0x06, 0x02, 0x01, 0xff, 0x02, 0x01, 0x02}},
		{"zero s", p256, []byte{0x30, 0x06, 0x02, 0x01, 0x01, 0x02, 0x01, 0x00}},
		{"r equal to N", p256, marshal(n256, one)},
		{"s above N", p256, marshal(one, new(big.Int).Add(n256, one))},
		{"P-521 values for P-256", p256, marshal(minus1(n521), one)},
	}
	for _, tt := range bad {
		if got, err := ecdsaJWSSignature(tt.der, tt.curve); err == nil {
			t.Errorf("%s: = %x, nil; want an error", tt.name, got)
		}
	}
}
