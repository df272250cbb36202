package grpcauth_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"

	"github.com/jwtkit/auth"
	"github.com/jwtkit/auth/client"
	"github.com/jwtkit/auth/grpcauth"
)

// A *client.Client is a TokenSource.
var _ grpcauth.TokenSource = (*client.Client)(nil)

func TestPerRPCOverTLS(t *testing.T) {
	t.Parallel()
	a := newAuth(t, newClock())
	i, err := grpcauth.New(a, testPolicy)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	serverCreds, clientCreds := tlsCreds(t)
	addr, _ := serve(t, grpc.Creds(serverCreds), grpc.UnaryInterceptor(i.Unary()), grpc.StreamInterceptor(i.Stream()))
	tok := issue(t, a, auth.Claims{Subject: "ada"}).Token
	conn := dial(t, addr, grpc.WithTransportCredentials(clientCreds), grpc.WithPerRPCCredentials(grpcauth.PerRPC(staticSource{token: tok})))

	if got, err := call(context.Background(), conn, methodEcho); err != nil || got != "hello ada" {
		t.Fatalf("Echo over TLS = %q, %v; want %q", got, err, "hello ada")
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if _, first, err := watch(ctx, conn); err != nil || first != "hello ada" {
		t.Fatalf("Watch over TLS = %q, %v; want %q", first, err, "hello ada")
	}
}

func TestPerRPCInsecure(t *testing.T) {
	t.Parallel()
	a := newAuth(t, newClock())
	addr, _ := serveGuarded(t, a, testPolicy)
	tok := issue(t, a, auth.Claims{Subject: "ada"}).Token
	src := staticSource{token: tok}

	t.Run("refused by gRPC", func(t *testing.T) {
		t.Parallel()
		conn, err := grpc.NewClient("passthrough:///"+addr,
			grpc.WithTransportCredentials(insecure.NewCredentials()),
			grpc.WithPerRPCCredentials(grpcauth.PerRPC(src)))
		if err == nil {
			defer conn.Close()
			got, err := call(context.Background(), conn, methodEcho)
			if err == nil {
				t.Fatalf("Echo over an insecure connection = %q, nil; want an error", got)
			}
		}
	})
	t.Run("refused by the credentials", func(t *testing.T) {
		t.Parallel()
		// Credentials that hide their requirement from gRPC: the check of
		// the connection's security level in GetRequestMetadata refuses.
		conn := dial(t, addr, grpc.WithPerRPCCredentials(laxCreds{grpcauth.PerRPC(src)}))
		got, err := call(context.Background(), conn, methodEcho)
		if status.Code(err) != codes.Unauthenticated || !strings.Contains(err.Error(), "grpcauth: connection is not secure") {
			t.Fatalf("Echo over an insecure connection = %q, %v; want Unauthenticated from the credentials", got, err)
		}
		if strings.Contains(err.Error(), tok) {
			t.Fatalf("error %v holds the token", err)
		}
	})
	t.Run("AllowInsecure", func(t *testing.T) {
		t.Parallel()
		conn := dial(t, addr, grpc.WithPerRPCCredentials(grpcauth.PerRPC(src, grpcauth.AllowInsecure())))
		if got, err := call(context.Background(), conn, methodEcho); err != nil || got != "hello ada" {
			t.Fatalf("Echo with AllowInsecure = %q, %v; want %q", got, err, "hello ada")
		}
	})
	t.Run("source error", func(t *testing.T) {
		t.Parallel()
		errSignedOut := client.ErrSignedOut
		conn := dial(t, addr, grpc.WithPerRPCCredentials(grpcauth.PerRPC(staticSource{err: errSignedOut}, grpcauth.AllowInsecure())))
		if _, err := call(context.Background(), conn, methodEcho); status.Code(err) != codes.Unauthenticated {
			t.Fatalf("Echo with a failing source = %v; want Unauthenticated", err)
		}
	})
}

func TestPerRPCGetRequestMetadata(t *testing.T) {
	t.Parallel()
	errSource := errors.New("source failed")
	tests := []struct {
		name    string
		src     grpcauth.TokenSource
		opts    []grpcauth.CredentialsOption
		want    string
		wantErr error
	}{
		{name: "token", src: staticSource{token: "tok"}, opts: []grpcauth.CredentialsOption{grpcauth.AllowInsecure()}, want: "Bearer tok"},
		{name: "no connection information", src: staticSource{token: "tok"}, wantErr: grpcauth.ErrInsecure},
		{name: "source error wrapped", src: staticSource{err: errSource}, opts: []grpcauth.CredentialsOption{grpcauth.AllowInsecure()}, wantErr: errSource},
		{name: "empty token", src: staticSource{}, opts: []grpcauth.CredentialsOption{grpcauth.AllowInsecure()}, wantErr: auth.ErrNoToken},
		{name: "nil source", opts: []grpcauth.CredentialsOption{grpcauth.AllowInsecure()}, wantErr: auth.ErrConfig},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			creds := grpcauth.PerRPC(tt.src, tt.opts...)
			md, err := creds.GetRequestMetadata(context.Background(), "https://127.0.0.1/test.Echo")
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("GetRequestMetadata = %v, %v; want an error matching %v", md, err, tt.wantErr)
				}
				return
			}
			if err != nil || md["authorization"] != tt.want || len(md) != 1 {
				t.Fatalf("GetRequestMetadata = %v, %v; want authorization %q", md, err, tt.want)
			}
		})
	}
	if grpcauth.PerRPC(staticSource{}, grpcauth.AllowInsecure()).RequireTransportSecurity() {
		t.Errorf("RequireTransportSecurity() with AllowInsecure = true; want false")
	}
	if !grpcauth.PerRPC(staticSource{}).RequireTransportSecurity() {
		t.Errorf("RequireTransportSecurity() = false; want true")
	}
}

// laxCreds claims not to need transport security, so that gRPC lets the
// wrapped credentials run on an insecure connection.
type laxCreds struct{ credentials.PerRPCCredentials }

func (laxCreds) RequireTransportSecurity() bool { return false }
