// Command basic is the reference server of the library's HTTP contract:
// register, log in, stay logged in with rotating refresh tokens, log out,
// with roles, throttling and cross-origin protection.
//
// A curl session (the refresh cookie is Secure; curl keeps it for
// localhost, and AUTH_COOKIE_SECURE=false serves plain HTTP elsewhere):
//
//	$ go run ./examples/basic
//	basic: listening on http://127.0.0.1:8080
//
// Open http://127.0.0.1:8080/ in a browser for the browser app, or talk to
// the API:
//
//	$ curl -s -c jar -X POST localhost:8080/api/auth/register \
//	    -H 'Content-Type: application/json' \
//	    -d '{"email":"ada@example.com","password":"correct horse battery","name":"Ada"}'
//	{"accessToken":"eyJ…","expiresIn":900,"user":{"id":"…","email":"ada@example.com","name":"Ada","role":"user","emailVerified":false}}
//
//	$ TOKEN=eyJ…   # the accessToken above
//	$ curl -s localhost:8080/api/auth/me -H "Authorization: Bearer $TOKEN"
//	{"user":{"id":"…","email":"ada@example.com","name":"Ada","role":"user","emailVerified":false}}
//
//	$ curl -s -b jar -c jar -X POST localhost:8080/api/auth/refresh
//	{"accessToken":"eyJ…","expiresIn":900}
//
//	$ curl -s -b jar -c jar -X POST localhost:8080/api/auth/logout -H "Authorization: Bearer $TOKEN"
//	{"message":"logged out"}
//
//	$ curl -s -b jar -X POST localhost:8080/api/auth/refresh
//	{"error":"invalid refresh token","code":"INVALID_REFRESH_TOKEN"}
//
// Clients without cookies add "refreshTransfer": "body" to the register or
// login JSON and send {"refreshToken": "…"} to /api/auth/refresh.
//
// A forgotten password, with AUTH_DEV_MAILBOX=true AUTH_COOKIE_SECURE=false
// (the mailbox serves the links that a real mailer would send):
//
//	$ curl -s -X POST localhost:8080/api/auth/password/forgot -H 'Content-Type: application/json' \
//	    -d '{"email":"ada@example.com"}'
//	{"message":"if an account has this address, a reset link is on its way"}
//	$ curl -s 'localhost:8080/api/dev/mailbox?to=ada@example.com'
//	[{"to":"ada@example.com","subject":"Password reset","link":"http://127.0.0.1:8080/reset-password?token=…","token":"…"},…]
//	$ curl -s -X POST localhost:8080/api/auth/password/reset -H 'Content-Type: application/json' \
//	    -d '{"token":"…","password":"a new horse battery"}'
//	{"message":"password replaced; every session was signed out"}
//
// Configuration comes from the environment (ADDR, AUTH_ALG, AUTH_SECRET,
// AUTH_PRIVATE_KEY_FILE, AUTH_ISSUER, AUTH_AUDIENCE, AUTH_ACCESS_TTL,
// AUTH_REFRESH_TTL, AUTH_REUSE_GRACE, AUTH_LOGIN_LIMIT, AUTH_REGISTER_LIMIT,
// AUTH_REFRESH_LIMIT, AUTH_COOKIE_SECURE,
// AUTH_PASSWORD_HASH, AUTH_BCRYPT_COST, AUTH_RESET_TTL,
// AUTH_REQUIRE_VERIFIED_EMAIL, AUTH_DEV_MAILBOX, ADMIN_EMAIL,
// ADMIN_PASSWORD); bad configuration stops
// the start with one line on stderr.
//
// # Starting a service of your own
//
// This program is meant to be copied. The server itself is package
// github.com/jwtkit/auth/examples/refserver of the library's module, which
// any module may import, so a copy of this one file (main.go; the tests
// stay behind) builds in a module of your own:
//
//	$ mkdir myservice && cd myservice
//	$ cp ~/src/auth/examples/basic/main.go .     # from a checkout of the library
//	$ go mod init example.com/myservice
//	$ go mod tidy        # adds: require github.com/jwtkit/auth
//	$ go run .
//	basic: listening on http://127.0.0.1:8080
//
// starter_test.go does exactly this in a temporary directory. From there,
// replace refserver.Backend{} with stores of your own, or copy the files of
// refserver into your module to change the routes or the user model.
//
// Without a checkout, from a published version (this program is part of
// the library's module, so it runs as it stands):
//
//	$ go run github.com/jwtkit/auth/examples/basic@v0.1.0
package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"

	"github.com/jwtkit/auth/examples/refserver"
)

func main() {
	if err := run(context.Background(), os.Getenv, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "basic:", err)
		os.Exit(1)
	}
}

// run starts the server that getenv configures on in-memory stores, prints
// its address to stderr and serves until ctx ends or SIGINT/SIGTERM arrives.
func run(ctx context.Context, getenv func(string) string, stderr io.Writer) error {
	logger := slog.New(slog.NewTextHandler(stderr, nil))
	cfg, err := refserver.LoadConfig(getenv, logger)
	if err != nil {
		return err
	}
	srv, err := refserver.New(ctx, cfg, logger, refserver.Backend{})
	if err != nil {
		return err
	}
	return refserver.Serve(ctx, "basic", cfg.Addr, srv, stderr, logger)
}
