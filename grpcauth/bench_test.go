package grpcauth_test

import (
	"context"
	"testing"

	"google.golang.org/grpc"

	"github.com/jwtkit/auth"
)

// The three benchmarks measure one token: a unary call over loopback
// without any interceptor (the metadata is sent but not read), the same call
// behind the interceptor (a rule that needs any valid HS256 token), and
// Auth.Verify of that token alone. The interceptor should cost about what
// Verify costs.

func benchSetup(b *testing.B) (*auth.Auth, string) {
	b.Helper()
	a := newAuth(b, newClock())
	return a, issue(b, a, auth.Claims{Subject: "ada", Role: "user"}).Token
}

func benchCall(b *testing.B, conn *grpc.ClientConn, ctx context.Context) {
	b.Helper()
	if _, err := call(ctx, conn, methodEcho); err != nil {
		b.Fatalf("Echo: %v", err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, err := call(ctx, conn, methodEcho); err != nil {
			b.Fatalf("Echo: %v", err)
		}
	}
}

func BenchmarkUnaryBare(b *testing.B) {
	_, tok := benchSetup(b)
	addr, _ := serve(b)
	benchCall(b, dial(b, addr), withToken(context.Background(), tok))
}

func BenchmarkUnaryInterceptor(b *testing.B) {
	a, tok := benchSetup(b)
	addr, _ := serveGuarded(b, a, testPolicy)
	benchCall(b, dial(b, addr), withToken(context.Background(), tok))
}

func BenchmarkVerify(b *testing.B) {
	a, tok := benchSetup(b)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := a.Verify(ctx, tok); err != nil {
			b.Fatalf("Verify: %v", err)
		}
	}
}
