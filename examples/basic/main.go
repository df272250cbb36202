// Command basic is the reference server: register, log in and call a
// protected route with a bearer access token.
//
// Run it and talk to it with curl:
//
//	$ go run ./examples/basic
//	basic: listening on http://127.0.0.1:8080
//
//	$ curl -s -X POST localhost:8080/api/auth/register \
//	    -d '{"email":"ada@example.com","password":"correct horse battery","name":"Ada"}'
//	{"user":{"id":"…","email":"ada@example.com","name":"Ada","role":"user"},"accessToken":"eyJ…","expiresIn":900}
//
//	$ curl -s -X POST localhost:8080/api/auth/login \
//	    -d '{"email":"ada@example.com","password":"correct horse battery"}'
//	$ TOKEN=eyJ…   # the accessToken from the answer
//	$ curl -s localhost:8080/api/auth/me -H "Authorization: Bearer $TOKEN"
//	{"user":{"id":"…","email":"ada@example.com","name":"Ada","role":"user"}}
//
//	$ curl -s localhost:8080/.well-known/jwks.json
//	{"keys":[]}
//
// Configuration comes from the environment (ADDR, AUTH_ALG, AUTH_SECRET,
// AUTH_PRIVATE_KEY_FILE, AUTH_ISSUER, AUTH_AUDIENCE, AUTH_ACCESS_TTL,
// ADMIN_EMAIL, ADMIN_PASSWORD); bad configuration stops the start with one
// line on stderr.
package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"
)

func main() {
	if err := run(context.Background(), os.Getenv, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "basic:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, getenv func(string) string, stderr *os.File) error {
	logger := slog.New(slog.NewTextHandler(stderr, nil))
	cfg, err := loadConfig(getenv, logger)
	if err != nil {
		return err
	}
	srv, err := newServer(cfg, logger)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", cfg.addr)
	if err != nil {
		return err
	}
	hs := &http.Server{
		Handler:           srv,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       15 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    32 << 10,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	fmt.Fprintf(stderr, "basic: listening on http://%s\n", ln.Addr())

	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := hs.Shutdown(shutdownCtx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
