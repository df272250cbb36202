package client_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"log/slog"
	"net/http"
	"net/http/httptest"

	"github.com/jwtkit/auth/client"
	"github.com/jwtkit/auth/examples/refserver"
	"github.com/jwtkit/auth/password"
)

// startServer starts the reference server on loopback for the example.
func startServer() *httptest.Server {
	logger := slog.New(slog.DiscardHandler)
	cfg, err := refserver.LoadConfig(func(k string) string {
		return map[string]string{"AUTH_COOKIE_SECURE": "false"}[k]
	}, logger)
	if err != nil {
		log.Fatal(err)
	}
	cfg.BcryptCost = password.MinCost
	s, err := refserver.New(context.Background(), cfg, logger, refserver.Backend{})
	if err != nil {
		log.Fatal(err)
	}
	return httptest.NewServer(s)
}

func Example() {
	srv := startServer()
	defer srv.Close()
	ctx := context.Background()

	c, err := client.New(srv.URL) // add client.WithTokenStore(fileStore) to outlive the process
	if err != nil {
		log.Fatal(err)
	}
	u, err := c.Register(ctx, "ada@example.com", "correct horse battery", "Ada")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("signed in as", u.Email)

	// Every request to the server carries the access token, refreshed as
	// it nears its expiry.
	api := &http.Client{Transport: c.Transport(nil)}
	resp, err := api.Get(srv.URL + "/api/auth/me")
	if err != nil {
		log.Fatal(err)
	}
	resp.Body.Close()
	fmt.Println("GET /api/auth/me:", resp.StatusCode)

	if err := c.Logout(ctx); err != nil {
		log.Fatal(err)
	}
	_, err = api.Get(srv.URL + "/api/auth/me")
	fmt.Println("after logout, signed out:", errors.Is(err, client.ErrSignedOut))
	// Output:
	// signed in as ada@example.com
	// GET /api/auth/me: 200
	// after logout, signed out: true
}

func ExampleNewFileStore() {
	store, err := client.NewFileStore("/home/ada/.config/example/session") // mode 0600, written atomically
	if err != nil {
		log.Fatal(err)
	}
	c, err := client.New("https://id.example.com", client.WithTokenStore(store))
	if err != nil {
		log.Fatal(err)
	}
	// The first request after a restart refreshes with the stored token;
	// ErrSignedOut means it is time to sign in again.
	if _, err := c.Token(context.Background()); errors.Is(err, client.ErrSignedOut) {
		fmt.Println("please sign in")
	}
}
