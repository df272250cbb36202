package oidc_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/jwtkit/auth"
	"github.com/jwtkit/auth/oidc"
)

func ExampleDiscover() {
	// A stand-in for a Keycloak realm: its discovery document, its JWK Set,
	// and an access token as Keycloak shapes them.
	pub, priv, _ := ed25519.GenerateKey(rand.Reader)
	mux := http.NewServeMux()
	srv := httptest.NewServer(mux)
	defer srv.Close()
	issuer := srv.URL + "/realms/shop"
	mux.HandleFunc("/realms/shop/.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		json.NewEncoder(w).Encode(map[string]string{"issuer": issuer, "jwks_uri": issuer + "/protocol/openid-connect/certs"})
	})
	mux.HandleFunc("/realms/shop/protocol/openid-connect/certs", func(w http.ResponseWriter, r *http.Request) {
		x := base64.RawURLEncoding.EncodeToString(pub)
		json.NewEncoder(w).Encode(map[string]any{"keys": []any{map[string]string{"kty": "OKP", "crv": "Ed25519", "alg": "EdDSA", "kid": "k1", "x": x}}})
	})
	tok := jwt.NewWithClaims(jwt.SigningMethodEdDSA, jwt.MapClaims{
		"iss": issuer, "aud": "shop-api", "sub": "ada", "azp": "shop-web", "jti": "t1",
		"iat": time.Now().Unix(), "exp": time.Now().Add(5 * time.Minute).Unix(),
		"realm_access": map[string]any{"roles": []string{"clerk"}}, "scope": "openid orders",
	})
	tok.Header["kid"] = "k1"
	token, _ := tok.SignedString(priv)

	// The service: its verifier comes from the issuer URL alone.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel() // stops the key set's background refresh
	p, err := oidc.Discover(ctx, issuer)
	if err != nil {
		panic(err)
	}
	if err := p.Keys.Start(ctx); err != nil {
		panic(err)
	}
	a, err := auth.New(p.Options("shop-api", oidc.Keycloak("shop-web"))...)
	if err != nil {
		panic(err)
	}
	c, err := a.Verify(ctx, token)
	fmt.Println(c.Subject, c.Roles, c.HasRole("clerk"), c.HasScope("orders"), err)
	// Output:
	// ada [clerk] true true <nil>
}
