// Command grpcapi is a gRPC service that accepts the access tokens of the
// auth service of examples/microservices. Like that example's HTTP API it
// verifies them with the auth service's JWK Set alone, fetched over HTTP by
// jwks.RemoteKeySet, and never holds a key that can sign. Package
// github.com/jwtkit/auth/grpcauth guards its methods:
//
//	/greeter.v1.Greeter/Hello   any valid token  -> "hello ada"
//	/greeter.v1.Greeter/Admin   role admin       -> "welcome, ada"
//
// A session, next to the auth service (from the repository's root; the
// grpcapi module is in go.work):
//
//	$ go run ./examples/microservices &
//	microservices: auth service on http://127.0.0.1:8081 (EdDSA), API on http://127.0.0.1:8082
//
//	$ go run ./examples/microservices/grpcapi &
//	grpcapi: greeter.v1.Greeter on 127.0.0.1:8083, keys from http://127.0.0.1:8081/.well-known/jwks.json
//
//	$ TOKEN=$(curl -s -X POST localhost:8081/token -d '{"user":"ada"}' | sed 's/.*"accessToken":"\([^"]*\)".*/\1/')
//	$ TOKEN=$TOKEN go run ./examples/microservices/grpcapi call Hello
//	hello ada
//	$ TOKEN=$TOKEN go run ./examples/microservices/grpcapi call Admin
//	grpcapi: PermissionDenied INSUFFICIENT_ROLE
//	$ go run ./examples/microservices/grpcapi call Hello
//	grpcapi: Unauthenticated NO_TOKEN
//
// The service has no .proto file: its descriptor is written by hand in
// greeter.go with well-known messages, so "grpcapi call" is the client.
// It sends the token with grpcauth.PerRPC over plain TCP, which only
// grpcauth.AllowInsecure permits, because both ends are on loopback; across
// machines use TLS.
//
// Configuration comes from the environment: JWKS_URL (default
// http://127.0.0.1:8081/.well-known/jwks.json), AUTH_ISSUER (default
// http://127.0.0.1:8081, the issuer of the microservices auth service),
// AUTH_AUDIENCE (default api) and GRPC_ADDR (default 127.0.0.1:8083, a
// loopback address). "call" reads GRPC_ADDR and TOKEN.
//
// Outside this repository, build it against published versions: drop the
// replace lines of its go.mod and require github.com/jwtkit/auth and
// github.com/jwtkit/auth/grpcauth at their released versions.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"os/signal"
	"syscall"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/jwtkit/auth/client"
	"github.com/jwtkit/auth/grpcauth"
)

// The defaults match examples/microservices.
const (
	defaultJWKSURL  = "http://127.0.0.1:8081/.well-known/jwks.json"
	defaultIssuer   = "http://127.0.0.1:8081"
	defaultAudience = "api"
	defaultAddr     = "127.0.0.1:8083"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var err error
	if len(os.Args) == 3 && os.Args[1] == "call" {
		err = callMethod(ctx, os.Getenv, os.Args[2], os.Stdout)
	} else if len(os.Args) == 1 {
		err = run(ctx, os.Getenv, os.Stderr)
	} else {
		err = errors.New("usage: grpcapi [call Hello|Admin]")
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "grpcapi:", err)
		os.Exit(1)
	}
}

// run serves the greeter until ctx ends.
func run(ctx context.Context, getenv func(string) string, stderr io.Writer) error {
	logger := slog.New(slog.NewTextHandler(stderr, nil))
	addr := envOr(getenv, "GRPC_ADDR", defaultAddr)
	if err := checkLoopback(addr); err != nil {
		return err
	}
	jwksURL := envOr(getenv, "JWKS_URL", defaultJWKSURL)
	g, err := newGreeter(jwksURL, envOr(getenv, "AUTH_ISSUER", defaultIssuer), envOr(getenv, "AUTH_AUDIENCE", defaultAudience), logger)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	if err := g.Start(ctx); err != nil {
		logger.Warn("first JWK Set fetch failed; retrying in the background", "error", err)
	}
	srv := g.Server()
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	fmt.Fprintf(stderr, "grpcapi: %s on %s, keys from %s\n", serviceName, ln.Addr(), jwksURL)
	select {
	case err = <-errc:
	case <-ctx.Done():
		done := make(chan struct{})
		go func() { srv.GracefulStop(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			srv.Stop()
		}
	}
	return err
}

// checkLoopback refuses a listen address that is not on loopback: the
// service speaks plain TCP.
func checkLoopback(addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("GRPC_ADDR: %w", err)
	}
	if ip, err := netip.ParseAddr(host); host != "localhost" && (err != nil || !ip.IsLoopback()) {
		return fmt.Errorf("GRPC_ADDR: %q is not a loopback address; this example has no TLS", addr)
	}
	return nil
}

// callMethod calls the method name ("Hello" or "Admin") of the greeter at
// GRPC_ADDR with the token in TOKEN, and prints the answer to out, or
// returns the refusal's gRPC code and stable code.
func callMethod(ctx context.Context, getenv func(string) string, name string, out io.Writer) error {
	conn, err := grpc.NewClient("passthrough:///"+envOr(getenv, "GRPC_ADDR", defaultAddr),
		grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		return err
	}
	defer conn.Close()
	var opts []grpc.CallOption
	if tok := getenv("TOKEN"); tok != "" {
		opts = append(opts, grpc.PerRPCCredentials(grpcauth.PerRPC(staticToken(tok), grpcauth.AllowInsecure())))
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	reply := new(wrapperspb.StringValue)
	if err := conn.Invoke(ctx, "/"+serviceName+"/"+name, wrapperspb.String(""), reply, opts...); err != nil {
		if code := grpcauth.Code(err); code != "" {
			return fmt.Errorf("%v %s", status.Code(err), code)
		}
		return err
	}
	_, err = fmt.Fprintln(out, reply.GetValue())
	return err
}

// staticToken is a grpcauth.TokenSource of one token; an application that
// signs in gives a *client.Client instead, which refreshes its token.
type staticToken string

func (t staticToken) Token(context.Context) (*client.Token, error) {
	return &client.Token{AccessToken: string(t)}, nil
}

func envOr(getenv func(string) string, name, def string) string {
	if v := getenv(name); v != "" {
		return v
	}
	return def
}
