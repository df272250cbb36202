package grpcauth_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/jwtkit/auth"
	"github.com/jwtkit/auth/grpcauth"
)

// TestInterceptorUnary makes real calls over loopback and checks the answer,
// or the gRPC code and the stable code of each refusal.
func TestInterceptorUnary(t *testing.T) {
	t.Parallel()
	clk := newClock()
	a := newAuth(t, clk)
	addr, _ := serveGuarded(t, a, testPolicy)
	conn := dial(t, addr)

	user := issue(t, a, auth.Claims{Subject: "ada", Role: "user", Scope: "echo:read"}).Token
	admin := issue(t, a, auth.Claims{Subject: "grace", Role: "ops", Scope: "echo:read echo:write"}).Token
	other := newAuthKeys(t, clk, newKeys(t, "another secret of 32 bytes or so!"))
	foreign := issue(t, other, auth.Claims{Subject: "ada"}).Token
	badSig := tamper(user, admin)

	expClk := newClock()
	expAuth := newAuth(t, expClk)
	expTok := issue(t, expAuth, auth.Claims{Subject: "ada"}).Token
	expClk.Advance(time.Hour)
	expAddr, _ := serveGuarded(t, expAuth, testPolicy)
	expConn := dial(t, expAddr)

	revoked := issue(t, a, auth.Claims{Subject: "ada"})
	if err := a.RevokeAccessToken(context.Background(), revoked.Claims); err != nil {
		t.Fatalf("RevokeAccessToken: %v", err)
	}

	down := newAuth(t, clk, auth.WithRevocation(failingRevocation{}))
	downAddr, _ := serveGuarded(t, down, testPolicy)
	downConn := dial(t, downAddr)
	downTok := issue(t, down, auth.Claims{Subject: "ada"}).Token

	noKeys, err := auth.New(auth.WithKeySource(failingKeys{}), auth.WithIssuer(testIssuer), auth.WithAudience(testAudience), auth.WithClock(clk.Now))
	if err != nil {
		t.Fatalf("auth.New: %v", err)
	}
	noKeysAddr, _ := serveGuarded(t, noKeys, testPolicy)
	noKeysConn := dial(t, noKeysAddr)

	type header []string // authorization values; nil sends none
	bearer := func(tok string) header { return header{"Bearer " + tok} }
	tests := []struct {
		name     string
		method   string
		auth     header
		want     string
		wantCode codes.Code
		wantWhy  string
	}{
		{name: "valid token", method: methodEcho, auth: bearer(user), want: "hello ada"},
		{name: "scheme in lower case", method: methodEcho, auth: header{"bearer " + user}, want: "hello ada"},
		{name: "scheme in upper case", method: methodEcho, auth: header{"BEARER " + user}, want: "hello ada"},
		{name: "no token", method: methodEcho, wantCode: codes.Unauthenticated, wantWhy: "NO_TOKEN"},
		{name: "other scheme", method: methodEcho, auth: header{"Basic YWRhOnB3"}, wantCode: codes.Unauthenticated, wantWhy: "NO_TOKEN"},
		{name: "bearer without token", method: methodEcho, auth: header{"Bearer"}, wantCode: codes.Unauthenticated, wantWhy: "INVALID_TOKEN"},
		{name: "bearer and blanks", method: methodEcho, auth: header{"Bearer   "}, wantCode: codes.Unauthenticated, wantWhy: "INVALID_TOKEN"},
		{name: "two values", method: methodEcho, auth: header{"Bearer " + user, "Bearer " + user}, wantCode: codes.Unauthenticated, wantWhy: "INVALID_TOKEN"},
		{name: "not a JWT", method: methodEcho, auth: bearer("not-a-jwt"), wantCode: codes.Unauthenticated, wantWhy: "INVALID_TOKEN"},
		{name: "bad signature", method: methodEcho, auth: bearer(badSig), wantCode: codes.Unauthenticated, wantWhy: "INVALID_TOKEN"},
		{name: "another key", method: methodEcho, auth: bearer(foreign), wantCode: codes.Unauthenticated, wantWhy: "INVALID_TOKEN"},
		{name: "revoked", method: methodEcho, auth: bearer(revoked.Token), wantCode: codes.Unauthenticated, wantWhy: "TOKEN_REVOKED"},
		{name: "role any of", method: methodAdmin, auth: bearer(admin), want: "hello grace"},
		{name: "wrong role", method: methodAdmin, auth: bearer(user), wantCode: codes.PermissionDenied, wantWhy: "INSUFFICIENT_ROLE"},
		{name: "all scopes", method: methodScoped, auth: bearer(admin), want: "hello grace"},
		{name: "missing scope", method: methodScoped, auth: bearer(user), wantCode: codes.PermissionDenied, wantWhy: "INSUFFICIENT_SCOPE"},
		{name: "unlisted method with token", method: methodHidden, auth: bearer(admin), wantCode: codes.PermissionDenied, wantWhy: "UNLISTED_METHOD"},
		{name: "unlisted method without token", method: methodHidden, wantCode: codes.PermissionDenied, wantWhy: "UNLISTED_METHOD"},
		{name: "unknown method", method: "/test.Echo/Nope", auth: bearer(admin), wantCode: codes.Unimplemented},
		{name: "public without token", method: methodPublic, want: "hello anonymous"},
		{name: "public ignores a bad token", method: methodPublic, auth: bearer("not-a-jwt"), want: "hello anonymous"},
		{name: "public ignores a valid token", method: methodPublic, auth: bearer(user), want: "hello anonymous"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			checkCall(t, conn, tt.method, tt.auth, tt.want, tt.wantCode, tt.wantWhy)
		})
	}
	t.Run("expired", func(t *testing.T) {
		t.Parallel()
		checkCall(t, expConn, methodEcho, bearer(expTok), "", codes.Unauthenticated, "TOKEN_EXPIRED")
	})
	t.Run("key source down", func(t *testing.T) {
		t.Parallel()
		checkCall(t, noKeysConn, methodEcho, bearer(user), "", codes.Unavailable, "UNAVAILABLE")
	})
	t.Run("revocation store down", func(t *testing.T) {
		t.Parallel()
		checkCall(t, downConn, methodEcho, bearer(downTok), "", codes.Unavailable, "UNAVAILABLE")
	})
}

// checkCall calls method over conn with the authorization values hdr and
// checks the answer want, or the refusal's gRPC code and stable code.
func checkCall(t *testing.T, conn *grpc.ClientConn, method string, hdr []string, want string, wantCode codes.Code, wantWhy string) {
	t.Helper()
	ctx := context.Background()
	for _, v := range hdr {
		ctx = metadata.AppendToOutgoingContext(ctx, "authorization", v)
	}
	got, err := call(ctx, conn, method)
	if wantCode == codes.OK {
		if err != nil || got != want {
			t.Fatalf("%s = %q, %v; want %q", method, got, err, want)
		}
		return
	}
	if status.Code(err) != wantCode {
		t.Fatalf("%s = %q, %v; want code %v", method, got, err, wantCode)
	}
	if why := grpcauth.Code(err); why != wantWhy {
		t.Errorf("Code(%v) = %q; want %q", err, why, wantWhy)
	}
	if wantWhy != "" && !strings.HasPrefix(status.Convert(err).Message(), wantWhy+": ") {
		t.Errorf("message %q does not start with %q", status.Convert(err).Message(), wantWhy)
	}
	for _, v := range hdr {
		if tok := strings.TrimSpace(v[min(len(v), 6):]); len(tok) > 8 && strings.Contains(status.Convert(err).Message(), tok) {
			t.Errorf("message %q holds the token", status.Convert(err).Message())
		}
	}
}
