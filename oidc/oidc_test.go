package oidc_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"maps"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/jwtkit/auth"
	"github.com/jwtkit/auth/internal/testclock"
	"github.com/jwtkit/auth/oidc"
)

// The fake providers: each is an httptest server on loopback that serves a
// discovery document and a JWK Set, and signs access tokens shaped as the
// provider's public documentation describes them. Every verifier runs on
// the fixed instant now.
var now = testclock.Instant

// rsaKeys are generated once per test binary: RSA keys take a while.
var rsaKeys = sync.OnceValues(func() ([3]*rsa.PrivateKey, error) {
	var ks [3]*rsa.PrivateKey
	for i := range ks {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			return ks, err
		}
		ks[i] = k
	}
	return ks, nil
})

type provider struct {
	name     string
	srv      *httptest.Server
	issuer   string
	audience string
	client   string
	profile  auth.Profile
	key      *rsa.PrivateKey
	kid      string
	claims   func(p *provider) jwt.MapClaims // a typical access token
	header   map[string]any

	mu  sync.Mutex
	doc map[string]any // the discovery document served
}

func b64int(i *big.Int) string { return base64.RawURLEncoding.EncodeToString(i.Bytes()) }

// newProvider starts a fake provider. issuerPath is the issuer's path on the
// server, jwksPath the JWK Set's; withAlg says whether the JWK names "alg".
func newProvider(t *testing.T, name string, keyIndex int, issuerPath, jwksPath string, withAlg bool) *provider {
	t.Helper()
	keys, err := rsaKeys()
	if err != nil {
		t.Fatal(err)
	}
	p := &provider{name: name, key: keys[keyIndex], kid: name + "-key-1", header: map[string]any{}}
	mux := http.NewServeMux()
	p.srv = httptest.NewServer(mux)
	t.Cleanup(p.srv.Close)
	p.issuer = p.srv.URL + issuerPath
	jwk := map[string]any{"kty": "RSA", "use": "sig", "kid": p.kid, "n": b64int(p.key.N), "e": b64int(big.NewInt(int64(p.key.E)))}
	if withAlg {
		jwk["alg"] = "RS256"
	} else {
		// As Microsoft Entra ID publishes them: no alg, an x5t and a
		// certificate chain, which verification never uses.
		jwk["x5t"] = p.kid
		jwk["x5c"] = []string{"MIIDBTCCAe2gAwIBAgIQ"}
	}
	p.doc = map[string]any{
		"issuer":                                p.issuer,
		"jwks_uri":                              p.srv.URL + jwksPath,
		"authorization_endpoint":                p.issuer + "/authorize",
		"id_token_signing_alg_values_supported": []string{"RS256"},
		"response_types_supported":              []string{"code"},
	}
	mux.HandleFunc("GET "+strings.TrimSuffix(issuerPath, "/")+"/.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		p.mu.Lock()
		defer p.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(p.doc)
	})
	mux.HandleFunc("GET "+jwksPath, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{"keys": []any{jwk}})
	})
	return p
}

// sign returns the access token of claims, signed by the provider's key
// with its header (typ "JWT", as golang-jwt writes it, unless set).
func (p *provider) sign(t *testing.T, claims jwt.MapClaims) string {
	t.Helper()
	tok := jwt.NewWithClaims(jwt.SigningMethodRS256, claims)
	tok.Header["kid"] = p.kid
	for k, v := range p.header {
		tok.Header[k] = v
	}
	s, err := tok.SignedString(p.key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// token returns the provider's typical access token with the members of kv
// (name, value pairs) set; a nil value removes the member.
func (p *provider) token(t *testing.T, kv ...any) string {
	t.Helper()
	c := p.claims(p)
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] == nil {
			delete(c, kv[i].(string))
		} else {
			c[kv[i].(string)] = kv[i+1]
		}
	}
	return p.sign(t, c)
}

// newKeycloak is a Keycloak realm "shop" with the client "shop-web"
// (https://www.keycloak.org/docs/latest/server_admin/: realm and client
// roles in realm_access and resource_access, azp, scope, jti, typ JWT).
func newKeycloak(t *testing.T) *provider {
	p := newProvider(t, "keycloak", 0, "/realms/shop", "/realms/shop/protocol/openid-connect/certs", true)
	p.audience, p.client, p.profile = "shop-api", "shop-web", oidc.Keycloak("shop-web")
	p.claims = func(p *provider) jwt.MapClaims {
		return jwt.MapClaims{
			"exp": now.Unix() + 300, "iat": now.Unix() - 10, "auth_time": now.Unix() - 20,
			"jti": "onrtac:6f0b1c3e-8d1c-4b1e-9f52-3c1d2f7a9e10", "iss": p.issuer,
			"aud": []string{"shop-api", "account"}, "sub": "f1b6c0de-2f0e-4d57-a1a3-7c9f3c2a1b00",
			"typ": "Bearer", "azp": "shop-web", "sid": "a3e1c2d4-5b6f-4a7b-8c9d-0e1f2a3b4c5d",
			"acr": "1", "allowed-origins": []string{"https://shop.example.com"},
			"realm_access":    map[string]any{"roles": []string{"offline_access", "clerk"}},
			"resource_access": map[string]any{"shop-web": map[string]any{"roles": []string{"refunds"}}, "account": map[string]any{"roles": []string{"manage-account"}}},
			"scope":           "openid email profile", "email_verified": true,
			"preferred_username": "ada", "email": "ada@example.com",
		}
	}
	return p
}

// newAuth0 is an Auth0 tenant with an API "https://api.shop.example" and the
// application "aBcD1234" (https://auth0.com/docs/secure/tokens/access-tokens:
// issuer with a trailing slash, aud of the API and userinfo, azp, scope,
// permissions, a namespaced roles claim from an Action, no jti).
func newAuth0(t *testing.T) *provider {
	p := newProvider(t, "auth0", 1, "/", "/.well-known/jwks.json", true)
	p.audience, p.client = "https://api.shop.example", "aBcD1234"
	p.profile = oidc.Auth0("aBcD1234", "https://shop.example/roles")
	p.claims = func(p *provider) jwt.MapClaims {
		return jwt.MapClaims{
			"iss": p.issuer, "sub": "auth0|64b7f0c2a1e3d4f5a6b7c8d9",
			"aud": []string{"https://api.shop.example", p.issuer + "userinfo"},
			"iat": now.Unix() - 10, "exp": now.Unix() - 10 + 86400, "azp": "aBcD1234",
			"scope": "openid profile read:orders", "permissions": []string{"read:orders"},
			"https://shop.example/roles": []string{"clerk"},
		}
	}
	return p
}

// newEntra is a Microsoft Entra ID tenant issuing v2.0 access tokens for
// the API application 6e74172b-be56-4843-9ff4-e66a39bb12e3 to the client
// 7f0a8c2e-... (https://learn.microsoft.com/entra/identity-platform/access-token-claims-reference:
// typ JWT, no alg in the JWK Set, scp as a space-separated string, roles,
// azp, uti instead of jti, nbf, a tenant-specific v2.0 issuer).
func newEntra(t *testing.T) *provider {
	const tenant = "9188040d-6c67-4c5b-b112-36a304b66dad"
	p := newProvider(t, "entra", 2, "/"+tenant+"/v2.0", "/"+tenant+"/discovery/v2.0/keys", false)
	p.audience, p.client = "6e74172b-be56-4843-9ff4-e66a39bb12e3", "7f0a8c2e-3b1d-4e5f-9a6b-1c2d3e4f5a6b"
	p.profile = oidc.Entra(p.client)
	p.header["x5t"] = p.kid
	p.claims = func(p *provider) jwt.MapClaims {
		return jwt.MapClaims{
			"aud": p.audience, "iss": p.issuer, "iat": now.Unix() - 10, "nbf": now.Unix() - 10, "exp": now.Unix() + 4500,
			"aio": "AXQAi/8UAAAA", "azp": p.client, "azpacr": "0", "name": "Ada Lovelace",
			"oid": "690222be-ff1a-4d56-abd1-7e4f7d38e474", "preferred_username": "ada@contoso.example",
			"rh": "0.AAAA", "scp": "Orders.Read Orders.Write", "roles": []string{"Clerk"},
			"sub": "MF4f-ggWMEji12KynJUNQZphaUTvLcQug5jdF2nl01Q", "tid": "9188040d-6c67-4c5b-b112-36a304b66dad",
			"uti": "fqiBqXLPj0eQa82S-IYFAA", "ver": "2.0",
		}
	}
	return p
}

// verifier discovers p and returns an Auth for its tokens, with its profile.
func verifier(t *testing.T, p *provider) *auth.Auth {
	t.Helper()
	ctx := t.Context()
	d, err := oidc.Discover(ctx, p.issuer)
	if err != nil {
		t.Fatalf("Discover(%q) = %v", p.issuer, err)
	}
	if err := d.Keys.Start(ctx); err != nil {
		t.Fatalf("%s: Keys.Start() = %v", p.name, err)
	}
	a, err := auth.New(append(d.Options(p.audience, p.profile), auth.WithClock(func() time.Time { return now }))...)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func TestProviders(t *testing.T) {
	tests := []struct {
		p         *provider
		wantRoles []string
		wantScope string
	}{
		{newKeycloak(t), []string{"offline_access", "clerk", "refunds"}, "openid email profile"},
		{newAuth0(t), []string{"clerk"}, "openid profile read:orders"},
		{newEntra(t), []string{"Clerk"}, "Orders.Read Orders.Write"},
	}
	for _, tt := range tests {
		t.Run(tt.p.name, func(t *testing.T) {
			a := verifier(t, tt.p)
			tok := tt.p.token(t)
			c, err := a.Verify(context.Background(), tok)
			if err != nil {
				t.Fatalf("Verify(%s token) = %v; want nil", tt.p.name, err)
			}
			if c.Subject != tt.p.claims(tt.p)["sub"] || strings.Join(c.Roles, ",") != strings.Join(tt.wantRoles, ",") || c.Scope != tt.wantScope {
				t.Errorf("Verify(%s token) = sub %q roles %q scope %q; want %q, %q, %q", tt.p.name, c.Subject, c.Roles, c.Scope, tt.p.claims(tt.p)["sub"], tt.wantRoles, tt.wantScope)
			}
			// The same middleware guards the routes.
			role := tt.wantRoles[len(tt.wantRoles)-1]
			h := a.RequireRole(role)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				c, _ := auth.ClaimsFromContext(r.Context())
				w.Write([]byte(c.Subject))
			}))
			for _, want := range []struct {
				role string
				code int
			}{{role, 200}, {"admin", 403}} {
				h := a.RequireRole(want.role)(h)
				w := httptest.NewRecorder()
				r := httptest.NewRequest("GET", "/orders", nil)
				r.Header.Set("Authorization", "Bearer "+tok)
				h.ServeHTTP(w, r)
				if w.Code != want.code {
					t.Errorf("RequireRole(%q) with a %s token = %d %s; want %d", want.role, tt.p.name, w.Code, w.Body, want.code)
				}
			}
		})
	}
}

// A token of one provider is refused by the verifier of every other one,
// and by a verifier without a profile; each is accepted by its own.
func TestProfilesRefuseEachOther(t *testing.T) {
	ps := []*provider{newKeycloak(t), newAuth0(t), newEntra(t)}
	verifiers := make([]*auth.Auth, len(ps))
	for i, p := range ps {
		verifiers[i] = verifier(t, p)
	}
	for i, p := range ps {
		tok := p.token(t)
		for j, v := range verifiers {
			_, err := v.Verify(context.Background(), tok)
			if i == j && err != nil {
				t.Errorf("%s verifier: Verify(%s token) = %v; want nil", ps[j].name, p.name, err)
			}
			if i != j && !errors.Is(err, auth.ErrInvalidToken) {
				t.Errorf("%s verifier: Verify(%s token) = %v; want ErrInvalidToken", ps[j].name, p.name, err)
			}
		}
	}
	// The same issuer, keys and audience, but the profile of another
	// provider, or none: the token's shape is refused.
	for i, p := range ps {
		d, err := oidc.Discover(context.Background(), p.issuer)
		if err != nil {
			t.Fatal(err)
		}
		if err := d.Keys.Start(t.Context()); err != nil {
			t.Fatal(err)
		}
		other := ps[(i+1)%len(ps)].profile
		opts := d.Options(p.audience, other)
		for name, opts := range map[string][]auth.Option{
			"no profile":                         opts[:3],
			"the profile of " + ps[(i+1)%3].name: opts,
		} {
			a, err := auth.New(append(opts, auth.WithClock(func() time.Time { return now }))...)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := a.Verify(context.Background(), p.token(t)); !errors.Is(err, auth.ErrInvalidToken) {
				t.Errorf("%s verifier with %s: Verify(%s token) = %v; want ErrInvalidToken", p.name, name, p.name, err)
			}
		}
	}
}

// What each profile checks on top of the strict rules, on the tokens of its
// own provider.
func TestProviderRefusals(t *testing.T) {
	kc, a0, en := newKeycloak(t), newAuth0(t), newEntra(t)
	tests := []struct {
		name string
		p    *provider
		kv   []any
		want error
	}{
		{"keycloak: token of another client", kc, []any{"azp", "admin-cli"}, auth.ErrTokenClaims},
		{"keycloak: no jti", kc, []any{"jti", nil}, auth.ErrTokenClaims},
		{"keycloak: realm roles not a list", kc, []any{"realm_access", map[string]any{"roles": true}}, auth.ErrTokenMalformed},
		{"keycloak: audience account only", kc, []any{"aud", "account"}, auth.ErrTokenClaims},
		{"keycloak: expired", kc, []any{"exp", now.Unix() - 1}, auth.ErrTokenExpired},
		{"auth0: token of another application", a0, []any{"azp", "zZzZ9999"}, auth.ErrTokenClaims},
		{"auth0: userinfo audience only", a0, []any{"aud", a0.issuer + "userinfo"}, auth.ErrTokenClaims},
		{"auth0: lifetime over 24 hours", a0, []any{"exp", now.Unix() + 2*86400}, auth.ErrTokenClaims},
		{"entra: token for another client", en, []any{"azp", "00000000-0000-0000-0000-000000000000"}, auth.ErrTokenClaims},
		{"entra: v1 token without azp", en, []any{"azp", nil, "appid", en.client}, auth.ErrTokenClaims},
		{"entra: token of another tenant", en, []any{"iss", "https://login.microsoftonline.com/72f988bf-86f1-41af-91ab-2d7cd011db47/v2.0"}, auth.ErrTokenClaims},
		{"entra: not yet valid", en, []any{"nbf", now.Unix() + 600}, auth.ErrInvalidToken},
	}
	verifiers := map[*provider]*auth.Auth{kc: verifier(t, kc), a0: verifier(t, a0), en: verifier(t, en)}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := verifiers[tt.p].Verify(context.Background(), tt.p.token(t, tt.kv...)); !errors.Is(err, tt.want) {
				t.Errorf("Verify() = %v; want %v", err, tt.want)
			}
		})
	}
	t.Run("keycloak: typ at+jwt also accepted", func(t *testing.T) {
		kc.header["typ"] = "at+jwt"
		defer delete(kc.header, "typ")
		if _, err := verifiers[kc].Verify(context.Background(), kc.token(t)); err != nil {
			t.Errorf("Verify(at+jwt) = %v; want nil", err)
		}
	})
	t.Run("entra: typ at+jwt refused", func(t *testing.T) {
		en.header["typ"] = "at+jwt"
		defer delete(en.header, "typ")
		if _, err := verifiers[en].Verify(context.Background(), en.token(t)); !errors.Is(err, auth.ErrTokenHeader) {
			t.Errorf("Verify(at+jwt) = %v; want ErrTokenHeader", err)
		}
	})
}

func TestDiscoverRefuses(t *testing.T) {
	ctx := context.Background()
	kc := newKeycloak(t)
	set := func(kv ...any) func() {
		return func() {
			kc.mu.Lock()
			defer kc.mu.Unlock()
			for i := 0; i+1 < len(kv); i += 2 {
				if kv[i+1] == nil {
					delete(kc.doc, kv[i].(string))
				} else {
					kc.doc[kv[i].(string)] = kv[i+1]
				}
			}
		}
	}
	orig := maps.Clone(kc.doc)
	tests := []struct {
		name   string
		issuer string
		edit   func()
		want   error
	}{
		{"issuer with a trailing slash", kc.issuer + "/", nil, oidc.ErrDiscovery},
		{"document names another issuer", kc.issuer, set("issuer", "https://evil.example/realms/shop"), oidc.ErrIssuerMismatch},
		{"document issuer differs in case", kc.issuer, set("issuer", strings.ToUpper(kc.issuer)), oidc.ErrIssuerMismatch},
		{"no jwks_uri", kc.issuer, set("jwks_uri", nil), oidc.ErrDiscovery},
		{"jwks_uri not a URL", kc.issuer, set("jwks_uri", "keys"), oidc.ErrDiscovery},
		{"jwks_uri plain http off loopback", kc.issuer, set("jwks_uri", "http://keys.example/jwks"), oidc.ErrDiscovery},
		{"issuer not a string", kc.issuer, set("issuer", 7), oidc.ErrDiscovery},
		{"issuer http off loopback", "http://id.example/realms/shop", nil, auth.ErrConfig},
		{"issuer with a query", kc.issuer + "?realm=shop", nil, auth.ErrConfig},
		{"issuer not absolute", "/realms/shop", nil, auth.ErrConfig},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			kc.mu.Lock()
			clear(kc.doc)
			maps.Copy(kc.doc, orig)
			kc.mu.Unlock()
			if tt.edit != nil {
				tt.edit()
			}
			if _, err := oidc.Discover(ctx, tt.issuer); !errors.Is(err, tt.want) || !errors.Is(err, oidc.ErrDiscovery) {
				t.Errorf("Discover(%q) = %v; want %v", tt.issuer, err, tt.want)
			}
		})
	}
}

// A server that is not a provider: every answer but a good document fails.
func TestDiscoverRefusesDocuments(t *testing.T) {
	var body string
	status := http.StatusOK
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if status == http.StatusFound {
			http.Redirect(w, r, "https://elsewhere.example/", status)
			return
		}
		w.WriteHeader(status)
		w.Write([]byte(body))
	}))
	defer srv.Close()
	good := `{"issuer":"` + srv.URL + `","jwks_uri":"` + srv.URL + `/keys"}`
	tests := []struct {
		name   string
		status int
		body   string
		want   error
	}{
		{"good", 200, good, nil},
		{"not found", 404, good, oidc.ErrDiscovery},
		{"redirect", http.StatusFound, good, oidc.ErrDiscovery},
		{"not JSON", 200, "<html>", oidc.ErrDiscovery},
		{"an array", 200, "[" + good + "]", oidc.ErrDiscovery},
		{"issuer twice", 200, `{"issuer":"https://evil.example","issuer":"` + srv.URL + `","jwks_uri":"` + srv.URL + `/keys"}`, oidc.ErrDiscovery},
		{"issuer in another case", 200, `{"Issuer":"https://evil.example","issuer":"` + srv.URL + `","jwks_uri":"` + srv.URL + `/keys"}`, oidc.ErrDiscovery},
		{"over the size cap", 200, good[:len(good)-1] + `,"pad":"` + strings.Repeat("x", 300<<10) + `"}`, oidc.ErrDiscovery},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, body = tt.status, tt.body
			p, err := oidc.Discover(context.Background(), srv.URL)
			if !errors.Is(err, tt.want) {
				t.Fatalf("Discover() = %v; want %v", err, tt.want)
			}
			if tt.want == nil && (p.Issuer != srv.URL || p.JWKSURI != srv.URL+"/keys" || p.Keys.URL() != srv.URL+"/keys") {
				t.Errorf("Discover() = %+v; want issuer %s and its keys", p, srv.URL)
			}
		})
	}
}

// A JWK without alg is used only when the document names exactly one
// public-key algorithm.
func TestDiscoverAlgorithmOfKeysWithoutAlg(t *testing.T) {
	tests := []struct {
		algs []string
		want error
	}{
		{[]string{"RS256"}, nil},
		{[]string{"RS256", "none"}, nil},
		{[]string{"RS256", "ES256"}, auth.ErrUnavailable}, // no usable key: the set never loads
		{nil, auth.ErrUnavailable},
		{[]string{"ES256"}, auth.ErrUnavailable}, // does not fit an RSA key
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.algs, ","), func(t *testing.T) {
			en := newEntra(t)
			en.mu.Lock()
			en.doc["id_token_signing_alg_values_supported"] = tt.algs
			en.mu.Unlock()
			d, err := oidc.Discover(context.Background(), en.issuer)
			if err != nil {
				t.Fatal(err)
			}
			a, err := auth.New(append(d.Options(en.audience, en.profile), auth.WithClock(func() time.Time { return now }))...)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := a.Verify(context.Background(), en.token(t)); !errors.Is(err, tt.want) {
				t.Errorf("Verify() with algorithms %q = %v; want %v", tt.algs, err, tt.want)
			}
		})
	}
}
