package main

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net"
	"net/http/httptest"
	"strings"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/jwtkit/auth"
	"github.com/jwtkit/auth/grpcauth"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

const testIssuer = "https://auth.example.test"

// signer is an auth service in the test's process: a key set served as a
// JWK Set on an httptest server, and an Auth that signs with it.
type signer struct {
	auth    *auth.Auth
	jwksURL string
}

func newSigner(t *testing.T) *signer {
	t.Helper()
	key, err := auth.GenerateKey(nil, auth.EdDSA)
	if err != nil {
		t.Fatalf("GenerateKey: %v", err)
	}
	ks, err := auth.NewKeySet(key)
	if err != nil {
		t.Fatalf("NewKeySet: %v", err)
	}
	a, err := auth.New(auth.WithKeys(ks), auth.WithIssuer(testIssuer), auth.WithAudience(defaultAudience))
	if err != nil {
		t.Fatalf("auth.New: %v", err)
	}
	srv := httptest.NewServer(ks)
	t.Cleanup(srv.Close)
	return &signer{auth: a, jwksURL: srv.URL + "/.well-known/jwks.json"}
}

func (s *signer) token(t *testing.T, c auth.Claims) string {
	t.Helper()
	at, err := s.auth.Issue(context.Background(), c)
	if err != nil {
		t.Fatalf("Issue: %v", err)
	}
	return at.Token
}

// startGreeter runs the greeter, verifying with the JWK Set of s, on a
// loopback listener and returns its address.
func startGreeter(t *testing.T, s *signer) string {
	t.Helper()
	g, err := newGreeter(s.jwksURL, testIssuer, defaultAudience, quiet)
	if err != nil {
		t.Fatalf("newGreeter: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	if err := g.Start(ctx); err != nil {
		t.Fatalf("Start: %v", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("Listen: %v", err)
	}
	srv := g.Server()
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = srv.Serve(ln)
	}()
	t.Cleanup(func() {
		srv.Stop()
		<-done
	})
	return ln.Addr().String()
}

func TestGreeter(t *testing.T) {
	t.Parallel()
	s := newSigner(t)
	addr := startGreeter(t, s)
	conn, err := grpc.NewClient("passthrough:///"+addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatalf("NewClient: %v", err)
	}
	t.Cleanup(func() { conn.Close() })

	ada := s.token(t, auth.Claims{Subject: "ada", Role: "user"})
	grace := s.token(t, auth.Claims{Subject: "grace", Role: "admin"})
	foreign := newSigner(t).token(t, auth.Claims{Subject: "ada", Role: "admin"})
	tests := []struct {
		name     string
		method   string
		token    string
		want     string
		wantCode codes.Code
		wantWhy  string
	}{
		{name: "valid token", method: methodHello, token: ada, want: "hello ada"},
		{name: "admin", method: methodAdmin, token: grace, want: "welcome, grace"},
		{name: "no token", method: methodHello, wantCode: codes.Unauthenticated, wantWhy: "NO_TOKEN"},
		{name: "token of another key", method: methodHello, token: foreign, wantCode: codes.Unauthenticated, wantWhy: "INVALID_TOKEN"},
		{name: "plain user on the admin method", method: methodAdmin, token: ada, wantCode: codes.PermissionDenied, wantWhy: "INSUFFICIENT_ROLE"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var opts []grpc.CallOption
			if tt.token != "" {
				opts = append(opts, grpc.PerRPCCredentials(grpcauth.PerRPC(staticToken(tt.token), grpcauth.AllowInsecure())))
			}
			reply := new(wrapperspb.StringValue)
			err := conn.Invoke(context.Background(), tt.method, wrapperspb.String(""), reply, opts...)
			if status.Code(err) != tt.wantCode || grpcauth.Code(err) != tt.wantWhy || reply.GetValue() != tt.want {
				t.Fatalf("%s = %q, %v (%s); want %q, %v %s", tt.method, reply.GetValue(), err, grpcauth.Code(err), tt.want, tt.wantCode, tt.wantWhy)
			}
		})
	}
}

// TestCallMethod runs the "call" client against the greeter.
func TestCallMethod(t *testing.T) {
	t.Parallel()
	s := newSigner(t)
	addr := startGreeter(t, s)
	ada := s.token(t, auth.Claims{Subject: "ada", Role: "user"})
	tests := []struct {
		name, method, token, want, wantErr string
	}{
		{name: "hello", method: "Hello", token: ada, want: "hello ada\n"},
		{name: "admin refused", method: "Admin", token: ada, wantErr: "PermissionDenied INSUFFICIENT_ROLE"},
		{name: "no token", method: "Hello", wantErr: "Unauthenticated NO_TOKEN"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			env := map[string]string{"GRPC_ADDR": addr, "TOKEN": tt.token}
			var out bytes.Buffer
			err := callMethod(context.Background(), func(k string) string { return env[k] }, tt.method, &out)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("call %s = %v; want %q", tt.method, err, tt.wantErr)
				}
				return
			}
			if err != nil || out.String() != tt.want {
				t.Fatalf("call %s = %q, %v; want %q", tt.method, out.String(), err, tt.want)
			}
		})
	}
}

func TestCheckLoopback(t *testing.T) {
	t.Parallel()
	tests := []struct {
		addr string
		ok   bool
	}{
		{"127.0.0.1:8083", true},
		{"[::1]:8083", true},
		{"localhost:8083", true},
		{"0.0.0.0:8083", false},
		{":8083", false},
		{"192.0.2.1:8083", false},
		{"nonsense", false},
	}
	for _, tt := range tests {
		t.Run(tt.addr, func(t *testing.T) {
			t.Parallel()
			if err := checkLoopback(tt.addr); (err == nil) != tt.ok {
				t.Fatalf("checkLoopback(%q) = %v; want ok %v", tt.addr, err, tt.ok)
			}
		})
	}
}
