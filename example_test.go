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
	"github.com/jwtkit/auth/authstore"
	"github.com/jwtkit/auth/memstore"
	"github.com/jwtkit/auth/password"
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
	// auth: invalid configuration: WithIssuer is required
	// true <nil>
}

func ExampleAuth_Issue() {
	a := exampleAuth()
	at, err := a.Issue(context.Background(), auth.Claims{Subject: "user-42", Role: "admin", Email: "ada@example.com"})
	if err != nil {
		panic(err)
	}
	fmt.Println(at.Claims.ID)
	fmt.Println(at.Claims.ExpiresAt.UTC(), at.ExpiresIn)
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

// accounts is an application's account table, as Auth.Login sees it.
type accounts map[string]auth.Credentials

func (m accounts) Credentials(_ context.Context, login string) (auth.Credentials, error) {
	c, ok := m[login]
	if !ok {
		return auth.Credentials{}, auth.ErrUserNotFound
	}
	return c, nil
}

func (m accounts) SetPasswordHash(_ context.Context, userID string, hash []byte) error { return nil }

// Claims implements auth.ClaimsLoader for the accounts.
func (m accounts) Claims(_ context.Context, userID string) (auth.Claims, error) {
	for _, c := range m {
		if c.UserID == userID {
			return c.Claims, nil
		}
	}
	return auth.Claims{}, auth.ErrUserNotFound
}

func ExampleAuth_Login() {
	ctx := context.Background()
	key, _ := auth.NewHMACKey(auth.HS256, []byte("an example secret of 32+ bytes!!"))
	keys, _ := auth.NewKeySet(key)
	hasher, _ := password.NewBcrypt(password.WithCost(password.MinCost))
	hash, _ := hasher.Hash(ctx, "correct horse battery")
	users := accounts{"ada@example.com": {UserID: "user-42", Hash: hash, Claims: auth.Claims{Role: "admin"}}}
	a, _ := auth.New(auth.WithKeys(keys), auth.WithIssuer("https://id.example.com"), auth.WithAudience("api"),
		auth.WithCredentials(users), auth.WithClaimsLoader(users.Claims), auth.WithPasswords(hasher))

	t, err := a.Login(ctx, "ada@example.com", "correct horse battery", auth.Client{UserAgent: "example"})
	fmt.Println(err, t.Access.Claims.Subject, t.Access.Claims.Role, len(t.RefreshToken))

	_, err = a.Login(ctx, "ada@example.com", "wrong horse battery", auth.Client{})
	fmt.Println(err, auth.ErrorStatus(err), auth.ErrorCode(err))
	_, err = a.Login(ctx, "bob@example.com", "correct horse battery", auth.Client{})
	fmt.Println(err, auth.ErrorStatus(err), auth.ErrorCode(err))
	// Output:
	// <nil> user-42 admin 55
	// auth: invalid credentials 401 INVALID_CREDENTIALS
	// auth: invalid credentials 401 INVALID_CREDENTIALS
}

func ExampleAuth_Refresh() {
	ctx := context.Background()
	users := accounts{"ada@example.com": {UserID: "user-42", Claims: auth.Claims{Role: "user"}}}
	key, _ := auth.NewHMACKey(auth.HS256, []byte("an example secret of 32+ bytes!!"))
	keys, _ := auth.NewKeySet(key)
	a, _ := auth.New(auth.WithKeys(keys), auth.WithIssuer("https://id.example.com"), auth.WithAudience("api"),
		auth.WithClaimsLoader(users.Claims))

	first, _ := a.StartSession(ctx, auth.Claims{Subject: "user-42", Role: "user"}, auth.Client{})
	second, err := a.Refresh(ctx, first.RefreshToken, auth.Client{})
	fmt.Println("rotated:", err, second.SessionID == first.SessionID, second.RefreshToken != first.RefreshToken)

	// The first token was spent: presenting it again is theft, and the
	// whole session dies, the newest token included.
	_, err = a.Refresh(ctx, first.RefreshToken, auth.Client{})
	fmt.Println("replayed:", errors.Is(err, auth.ErrRefreshTokenReused), auth.ErrorCode(err))
	_, err = a.Refresh(ctx, second.RefreshToken, auth.Client{})
	fmt.Println("newest after the replay:", errors.Is(err, auth.ErrRefreshTokenRevoked))
	// Output:
	// rotated: <nil> true true
	// replayed: true INVALID_REFRESH_TOKEN
	// newest after the replay: true
}

func ExampleAuth_RevokeRefreshToken() {
	ctx := context.Background()
	a := exampleAuth()
	t, _ := a.StartSession(ctx, auth.Claims{Subject: "user-42"}, auth.Client{UserAgent: "laptop"})
	sessions, _ := a.Sessions(ctx, "user-42")
	fmt.Println("sessions:", len(sessions), sessions[0].UserAgent)

	// Logout: the session's refresh tokens die, and so does the access
	// token the client presented.
	_ = a.RevokeRefreshToken(ctx, t.RefreshToken)
	_ = a.RevokeAccessToken(ctx, t.Access.Claims)
	sessions, _ = a.Sessions(ctx, "user-42")
	_, err := a.Verify(ctx, t.Access.Token)
	fmt.Println("sessions:", len(sessions), errors.Is(err, auth.ErrTokenRevoked))
	// Output:
	// sessions: 1 laptop
	// sessions: 0 true
}

// countingStore is a store built from the contract: it wraps another
// authstore.RefreshStore and counts rotations, as a metrics layer would.
type countingStore struct {
	authstore.RefreshStore
	rotations int
}

func (s *countingStore) Rotate(ctx context.Context, route string, old, expect authstore.TokenHash, next authstore.RefreshRecord) (bool, error) {
	ok, err := s.RefreshStore.Rotate(ctx, route, old, expect, next)
	if ok {
		s.rotations++
	}
	return ok, err
}

func ExampleWithRefreshStore() {
	ctx := context.Background()
	mem, _ := memstore.New()
	store := &countingStore{RefreshStore: mem}
	key, _ := auth.NewHMACKey(auth.HS256, []byte("an example secret of 32+ bytes!!"))
	keys, _ := auth.NewKeySet(key)
	a, _ := auth.New(auth.WithKeys(keys), auth.WithIssuer("https://id.example.com"), auth.WithAudience("api"),
		auth.WithRefreshStore(store), auth.WithRevocation(mem),
		auth.WithClaimsLoader(func(context.Context, string) (auth.Claims, error) { return auth.Claims{}, nil }))

	t, _ := a.StartSession(ctx, auth.Claims{Subject: "user-42"}, auth.Client{})
	for range 3 {
		t, _ = a.Refresh(ctx, t.RefreshToken, auth.Client{})
	}
	fmt.Println("rotations:", store.rotations)
	// Output: rotations: 3
}
