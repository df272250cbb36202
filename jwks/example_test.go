package jwks_test

import (
	"context"
	"errors"
	"fmt"
	"net/http/httptest"

	"github.com/jwtkit/auth"
	"github.com/jwtkit/auth/jwks"
)

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
	remote, err := jwks.NewRemoteKeySet(srv.URL + "/.well-known/jwks.json")
	if err != nil {
		panic(err)
	}
	if err := remote.Start(ctx); err != nil {
		fmt.Println("first fetch failed:", err) // requests get ErrUnavailable until one succeeds
	}
	api, _ := auth.New(auth.WithKeySource(remote), auth.WithIssuer("https://id.example.com"), auth.WithAudience("api"))

	at, _ := issuer.Issue(ctx, auth.Claims{Subject: "user-42"})
	c, err := api.Verify(ctx, at.Token)
	fmt.Println(c.Subject, err)

	_, err = api.Issue(ctx, auth.Claims{Subject: "user-42"})
	fmt.Println(errors.Is(err, auth.ErrConfig))
	// Output:
	// user-42 <nil>
	// true
}
