package oidc

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/jwtkit/auth"
	"github.com/jwtkit/auth/jwks"
)

// Errors of [Discover]. Each failure matches ErrDiscovery; a document
// naming another issuer also matches ErrIssuerMismatch.
var (
	// ErrDiscovery means the provider's discovery document could not be
	// fetched or is not usable: the provider was not configured.
	ErrDiscovery = errors.New("oidc: discovery failed")
	// ErrIssuerMismatch means the discovery document names an issuer other
	// than the configured one, byte for byte (OpenID Connect Discovery
	// 1.0, section 4.3).
	ErrIssuerMismatch = errors.New("oidc: discovery document names another issuer")
)

// Limits of discovery.
const (
	// DefaultTimeout bounds the fetch of the discovery document.
	DefaultTimeout = 5 * time.Second
	// maxDocumentSize caps the discovery document; real ones are a few KiB.
	maxDocumentSize = 256 << 10
)

// Provider is an OpenID Connect provider as its discovery document
// describes it. Build one with [Discover]; verify its access tokens with the
// options of [Provider.Options].
type Provider struct {
	// Issuer is the issuer identifier: the configured one, which the
	// document confirmed exactly.
	Issuer string
	// JWKSURI is the document's jwks_uri, the provider's JWK Set.
	JWKSURI string
	// Keys fetches and caches the JWK Set at JWKSURI. Call its Start
	// method at startup; until the first fetch succeeds, verification
	// answers [auth.ErrUnavailable].
	Keys *jwks.RemoteKeySet
}

// Option configures [Discover].
type Option func(*config)

type config struct {
	client  *http.Client
	keyOpts []jwks.Option
}

// WithHTTPClient sets the HTTP client for the discovery document and the
// JWK Set. The default is a client with a [DefaultTimeout] timeout that
// follows no redirect: a redirect is a failed fetch.
func WithHTTPClient(c *http.Client) Option {
	return func(cfg *config) { cfg.client = c }
}

// WithKeySetOptions passes opts to [jwks.NewRemoteKeySet] when the JWK Set
// is configured: cache bounds, a logger, a clock. They come after the
// options that Discover sets itself (the HTTP client, and the algorithm
// of JWKs without "alg" when the document names exactly one), so they can
// replace them.
func WithKeySetOptions(opts ...jwks.Option) Option {
	return func(cfg *config) { cfg.keyOpts = append(cfg.keyOpts, opts...) }
}

// Discover fetches the discovery document of the provider whose issuer
// identifier is issuer, issuer without a trailing "/" followed by
// "/.well-known/openid-configuration" (OpenID Connect Discovery 1.0), and
// returns the provider it describes. It refuses, with an error matching
// [ErrDiscovery]:
//   - an issuer that is not an absolute https URL without query or
//     fragment (plain http is accepted for a loopback host only, for tests
//     and development), with an error that also matches [auth.ErrConfig];
//   - a failed fetch, a status other than 200, a document over 256 KiB,
//     not a JSON object, or naming a member twice;
//   - a document whose "issuer" is not exactly issuer ([ErrIssuerMismatch]):
//     a provider cannot vouch for another issuer's tokens;
//   - a "jwks_uri" that is missing or not an https URL (http for a loopback
//     host only when the issuer is one too).
//
// The keys are those of the document's jwks_uri, fetched by a
// [jwks.RemoteKeySet]: every JWK names its one algorithm, or, when the
// document lists exactly one public-key algorithm in
// id_token_signing_alg_values_supported, a JWK without "alg" takes that one
// (Microsoft Entra ID publishes its keys so). Discover does not fetch the
// keys; call Start on [Provider.Keys].
func Discover(ctx context.Context, issuer string, opts ...Option) (*Provider, error) {
	iu, err := checkURL(issuer, true)
	if err != nil {
		return nil, fmt.Errorf("%w: %w: issuer: %v", ErrDiscovery, auth.ErrConfig, err)
	}
	cfg := config{}
	for _, o := range opts {
		o(&cfg)
	}
	if cfg.client == nil {
		cfg.client = &http.Client{
			Timeout: DefaultTimeout,
			CheckRedirect: func(*http.Request, []*http.Request) error {
				return http.ErrUseLastResponse
			},
		}
	}
	doc, err := fetchDocument(ctx, cfg.client, strings.TrimSuffix(issuer, "/")+"/.well-known/openid-configuration")
	if err != nil {
		return nil, err
	}
	if doc.Issuer != issuer {
		return nil, fmt.Errorf("%w: %w: configured %q", ErrDiscovery, ErrIssuerMismatch, issuer)
	}
	if doc.JWKSURI == "" {
		return nil, fmt.Errorf("%w: the document has no jwks_uri", ErrDiscovery)
	}
	if _, err := checkURL(doc.JWKSURI, iu.Scheme == "http"); err != nil {
		return nil, fmt.Errorf("%w: jwks_uri: %v", ErrDiscovery, err)
	}
	keyOpts := []jwks.Option{jwks.WithHTTPClient(cfg.client)}
	if alg, ok := onlyAlgorithm(doc.Algorithms); ok {
		keyOpts = append(keyOpts, jwks.WithAlgorithm(alg))
	}
	keys, err := jwks.NewRemoteKeySet(doc.JWKSURI, append(keyOpts, cfg.keyOpts...)...)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrDiscovery, err)
	}
	return &Provider{Issuer: issuer, JWKSURI: doc.JWKSURI, Keys: keys}, nil
}

// Options returns the [auth.New] options that verify the provider's access
// tokens for audience, shaped as profile describes them: its keys, its
// issuer, the audience and the profile. Add others (a leeway, a
// revocation check, a logger) after them.
func (p *Provider) Options(audience string, profile auth.Profile) []auth.Option {
	return []auth.Option{
		auth.WithKeySource(p.Keys),
		auth.WithIssuer(p.Issuer),
		auth.WithAudience(audience),
		auth.WithProfile(profile),
	}
}

// document holds the members of a discovery document that are used.
type document struct {
	Issuer     string   `json:"issuer"`
	JWKSURI    string   `json:"jwks_uri"`
	Algorithms []string `json:"id_token_signing_alg_values_supported"`
}

// fetchDocument fetches and decodes the discovery document at rawURL.
func fetchDocument(ctx context.Context, client *http.Client, rawURL string) (*document, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, rawURL, nil)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrDiscovery, err)
	}
	req.Header.Set("Accept", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrDiscovery, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%w: %s answered %d", ErrDiscovery, rawURL, resp.StatusCode)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxDocumentSize+1))
	if err != nil {
		return nil, fmt.Errorf("%w: read %s: %v", ErrDiscovery, rawURL, err)
	}
	if len(body) > maxDocumentSize {
		return nil, fmt.Errorf("%w: the document is over %d bytes", ErrDiscovery, maxDocumentSize)
	}
	if err := distinctMembers(body); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrDiscovery, err)
	}
	var doc document
	if err := json.Unmarshal(body, &doc); err != nil {
		return nil, fmt.Errorf("%w: the document is not a JSON object of the right types", ErrDiscovery)
	}
	return &doc, nil
}

// distinctMembers refuses a document that is not a JSON object or names a
// member twice, or one of issuer and jwks_uri in another letter case (which
// encoding/json would take for it).
func distinctMembers(body []byte) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return errors.New("the document is not a JSON object")
	}
	seen := map[string]bool{}
	for dec.More() {
		t, err := dec.Token()
		name, ok := t.(string)
		if err != nil || !ok {
			return errors.New("the document is not a JSON object")
		}
		folded := strings.ToLower(name)
		if seen[folded] {
			return fmt.Errorf("the document names %q twice", name)
		}
		seen[folded] = true
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			return errors.New("the document is not a JSON object")
		}
	}
	return nil
}

// checkURL checks that raw is an absolute https URL without user, query or
// fragment, or, when httpLoopback, such an http URL on a loopback host.
func checkURL(raw string, httpLoopback bool) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" || strings.HasSuffix(raw, "?") || strings.HasSuffix(raw, "#") {
		return nil, errors.New("not an absolute URL without user, query or fragment")
	}
	switch u.Scheme {
	case "https":
		return u, nil
	case "http":
		if httpLoopback && loopback(u.Hostname()) {
			return u, nil
		}
		return nil, errors.New("plain http is accepted for a loopback host only")
	}
	return nil, errors.New("not an https URL")
}

// loopback reports whether host names the loopback interface.
func loopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// onlyAlgorithm returns the one public-key algorithm of algs, when there is
// exactly one ("none" and HMAC names aside).
func onlyAlgorithm(algs []string) (auth.Algorithm, bool) {
	var only auth.Algorithm
	n := 0
	for _, a := range algs {
		switch auth.Algorithm(a) {
		case auth.RS256, auth.RS384, auth.RS512, auth.PS256, auth.PS384, auth.PS512, auth.ES256, auth.ES384, auth.ES512, auth.EdDSA:
			if auth.Algorithm(a) != only {
				only = auth.Algorithm(a)
				n++
			}
		}
	}
	return only, n == 1
}
