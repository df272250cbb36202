package auth_test

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/jwtkit/auth"
)

// fixedClock and zeroRandom make the examples' tokens deterministic; real
// code leaves the defaults (time.Now, crypto/rand).
var fixedClock = func() time.Time { return time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC) }

type zeroRandom struct{}

func (zeroRandom) Read(p []byte) (int, error) { clear(p); return len(p), nil }

func exampleAuth() *auth.Auth {
	key, err := auth.NewHMACKey(auth.HS256, []byte("an example secret of 32+ bytes!!"))
	if err != nil {
		panic(err)
	}
	keys, err := auth.NewKeySet(key)
	if err != nil {
		panic(err)
	}
	a, err := auth.New(
		auth.WithKeys(keys),
		auth.WithIssuer("https://id.example.com"),
		auth.WithAudience("example-api"),
		auth.WithClock(fixedClock),
		auth.WithRandom(zeroRandom{}),
	)
	if err != nil {
		panic(err)
	}
	return a
}

func ExampleNew() {
	key, err := auth.NewHMACKey(auth.HS256, []byte("too short"))
	fmt.Println(errors.Is(err, auth.ErrWeakKey))

	key, _ = auth.NewHMACKey(auth.HS256, []byte("an example secret of 32+ bytes!!"))
	keys, _ := auth.NewKeySet(key)
	_, err = auth.New(auth.WithKeys(keys), auth.WithAudience("api"))
	fmt.Println(err)

	a, err := auth.New(auth.WithKeys(keys), auth.WithIssuer("https://id.example.com"), auth.WithAudience("api"))
	fmt.Println(a != nil, err)
	// Output:
	// true
	// auth: invalid configuration: empty issuer
	// true <nil>
}

func ExampleAuth_Issue() {
	a := exampleAuth()
	at, err := a.Issue(context.Background(), auth.Claims{Subject: "user-42", Role: "admin", Email: "ada@example.com"})
	if err != nil {
		panic(err)
	}
	fmt.Println(at.Claims.ID)
	fmt.Println(at.Claims.ExpiresAt.UTC(), at.ExpiresIn())
	header, _ := base64.RawURLEncoding.DecodeString(strings.Split(at.Token, ".")[0])
	fmt.Println(string(header))
	// Output:
	// 00000000-0000-4000-8000-000000000000
	// 2026-03-01 12:15:00 +0000 UTC 15m0s
	// {"alg":"HS256","kid":"7ApedIMBR3zj3kgVBTyfp7PD","typ":"at+jwt"}
}

func ExampleAuth_Verify() {
	a := exampleAuth()
	at, _ := a.Issue(context.Background(), auth.Claims{Subject: "user-42", Role: "admin"})

	c, err := a.Verify(context.Background(), at.Token)
	fmt.Println(c.Subject, c.Role, err)

	_, err = a.Verify(context.Background(), at.Token+"x")
	fmt.Println(errors.Is(err, auth.ErrInvalidToken), errors.Is(err, auth.ErrTokenSignature))
	// Output:
	// user-42 admin <nil>
	// true true
}

func ExampleClaims_Decode() {
	a := exampleAuth()
	type tenantClaims struct {
		Tenant string `json:"tenant"`
		Plan   string `json:"plan"`
	}
	at, _ := a.Issue(context.Background(), auth.Claims{
		Subject: "user-42",
		Extra:   tenantClaims{Tenant: "acme", Plan: "pro"},
	})
	c, _ := a.Verify(context.Background(), at.Token)
	var tc tenantClaims
	if err := c.Decode(&tc); err != nil {
		panic(err)
	}
	fmt.Println(tc.Tenant, tc.Plan)
	// Output: acme pro
}

func ExampleAuth_Require() {
	a := exampleAuth()
	mux := http.NewServeMux()
	mux.Handle("GET /api/me", a.Require(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, _ := auth.ClaimsFromContext(r.Context())
		fmt.Fprintf(w, "hello %s", c.Subject)
	})))

	req := httptest.NewRequest("GET", "/api/me", nil)
	w := httptest.NewRecorder()
	mux.ServeHTTP(w, req)
	fmt.Println(w.Code, w.Header().Get("WWW-Authenticate"), w.Body.String())

	at, _ := a.Issue(context.Background(), auth.Claims{Subject: "user-42"})
	req.Header.Set("Authorization", "Bearer "+at.Token)
	w = httptest.NewRecorder()
	mux.ServeHTTP(w, req)
	fmt.Println(w.Code, w.Body.String())
	// Output:
	// 401 Bearer {"error":"authentication required","code":"NO_TOKEN"}
	//
	// 200 hello user-42
}

func ExampleAuth_RequireRole() {
	a := exampleAuth()
	admin := a.RequireRole("admin")(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, "welcome")
	}))
	for _, role := range []string{"user", "admin"} {
		at, _ := a.Issue(context.Background(), auth.Claims{Subject: "u", Role: role})
		req := httptest.NewRequest("DELETE", "/api/users/7", nil)
		req.Header.Set("Authorization", "Bearer "+at.Token)
		w := httptest.NewRecorder()
		admin.ServeHTTP(w, req)
		fmt.Println(role, w.Code, w.Body.String())
	}
	// Output:
	// user 403 {"error":"insufficient role","code":"INSUFFICIENT_ROLE"}
	//
	// admin 200 welcome
}

func ExampleKeySet_Promote() {
	oldKey, _ := auth.GenerateKey(nil, auth.EdDSA)
	keys, _ := auth.NewKeySet(oldKey)
	a, _ := auth.New(auth.WithKeys(keys), auth.WithIssuer("iss"), auth.WithAudience("aud"))
	before, _ := a.Issue(context.Background(), auth.Claims{Subject: "u"})

	// 1. Publish the next key; 2. once verifiers have refreshed the JWK Set,
	// sign with it; 3. once the old key's tokens have expired, retire it.
	next, _ := auth.GenerateKey(nil, auth.EdDSA)
	_ = keys.Add(next)
	_ = keys.Promote(next)
	_, err := a.Verify(context.Background(), before.Token)
	fmt.Println("old token after promote:", err)

	_ = keys.Retire(oldKey.ID())
	_, err = a.Verify(context.Background(), before.Token)
	fmt.Println("old token after retire:", errors.Is(err, auth.ErrTokenUnknownKey))
	// Output:
	// old token after promote: <nil>
	// old token after retire: true
}

func ExampleNewRemoteKeySet() {
	// The issuer: signs tokens and serves its JWK Set.
	key, _ := auth.GenerateKey(nil, auth.EdDSA)
	keys, _ := auth.NewKeySet(key)
	issuer, _ := auth.New(auth.WithKeys(keys), auth.WithIssuer("https://id.example.com"), auth.WithAudience("api"))
	srv := httptest.NewServer(keys)
	defer srv.Close()

	// Another service: verifies with the JWK Set only.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel() // stops the background refresh
	jwks, err := auth.NewRemoteKeySet(srv.URL + "/.well-known/jwks.json")
	if err != nil {
		panic(err)
	}
	if err := jwks.Start(ctx); err != nil {
		fmt.Println("first fetch failed:", err) // requests get ErrUnavailable until one succeeds
	}
	api, _ := auth.New(auth.WithKeySource(jwks), auth.WithIssuer("https://id.example.com"), auth.WithAudience("api"))

	at, _ := issuer.Issue(ctx, auth.Claims{Subject: "user-42"})
	c, err := api.Verify(ctx, at.Token)
	fmt.Println(c.Subject, err)

	_, err = api.Issue(ctx, auth.Claims{Subject: "user-42"})
	fmt.Println(errors.Is(err, auth.ErrNoSigningKey))
	// Output:
	// user-42 <nil>
	// true
}
