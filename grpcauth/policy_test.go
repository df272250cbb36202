package grpcauth_test

import (
	"context"
	"errors"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/jwtkit/auth"
	"github.com/jwtkit/auth/grpcauth"
)

func TestNewRefusesBadConfiguration(t *testing.T) {
	t.Parallel()
	a := newAuth(t, newClock())
	tests := []struct {
		name string
		a    *auth.Auth
		p    grpcauth.Policy
		opts []grpcauth.Option
	}{
		{name: "nil auth", p: grpcauth.Policy{methodEcho: {}}},
		{name: "nil policy", a: a},
		{name: "empty policy", a: a, p: grpcauth.Policy{}},
		{name: "no leading slash", a: a, p: grpcauth.Policy{"test.Echo/Echo": {}}},
		{name: "no method", a: a, p: grpcauth.Policy{"/test.Echo": {}}},
		{name: "empty method", a: a, p: grpcauth.Policy{"/test.Echo/": {}}},
		{name: "empty service", a: a, p: grpcauth.Policy{"//Echo": {}}},
		{name: "three parts", a: a, p: grpcauth.Policy{"/test/Echo/Echo": {}}},
		{name: "star in service", a: a, p: grpcauth.Policy{"/test.*/Echo": {}}},
		{name: "partial wildcard", a: a, p: grpcauth.Policy{"/test.Echo/Ech*": {}}},
		{name: "space", a: a, p: grpcauth.Policy{"/test.Echo/Echo ": {}}},
		{name: "public with roles", a: a, p: grpcauth.Policy{methodEcho: {Public: true, Roles: []string{"admin"}}}},
		{name: "public with scopes", a: a, p: grpcauth.Policy{methodEcho: {Public: true, Scopes: []string{"read"}}}},
		{name: "empty role", a: a, p: grpcauth.Policy{methodEcho: {Roles: []string{"admin", ""}}}},
		{name: "empty scope", a: a, p: grpcauth.Policy{methodEcho: {Scopes: []string{""}}}},
		{name: "scope with a space", a: a, p: grpcauth.Policy{methodEcho: {Scopes: []string{"read write"}}}},
		{name: "nil option", a: a, p: grpcauth.Policy{methodEcho: {}}, opts: []grpcauth.Option{nil}},
		{name: "nil logger", a: a, p: grpcauth.Policy{methodEcho: {}}, opts: []grpcauth.Option{grpcauth.WithLogger(nil)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			i, err := grpcauth.New(tt.a, tt.p, tt.opts...)
			if !errors.Is(err, auth.ErrConfig) || i != nil {
				t.Fatalf("New(%v) = %v, %v; want nil, an error matching auth.ErrConfig", tt.p, i, err)
			}
		})
	}
}

// TestPolicyLookup calls the unary interceptor directly and checks which
// rule applies: the exact method over its service's wildcard, the wildcard
// over nothing, and nothing for another service.
func TestPolicyLookup(t *testing.T) {
	t.Parallel()
	a := newAuth(t, newClock())
	p := grpcauth.Policy{
		"/shop.Orders/*":      {Roles: []string{"admin"}},
		"/shop.Orders/List":   {},
		"/shop.Orders/Status": {Public: true},
		"/Bare/Get":           {},
	}
	i, err := grpcauth.New(a, p)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	// Changing the policy after New changes nothing.
	p["/shop.Orders/Cancel"] = grpcauth.Rule{Public: true}

	user := issue(t, a, auth.Claims{Subject: "ada", Role: "user"}).Token
	tests := []struct {
		method string
		want   codes.Code
	}{
		{"/shop.Orders/List", codes.OK},
		{"/shop.Orders/Status", codes.OK},
		{"/shop.Orders/Cancel", codes.PermissionDenied},
		{"/shop.Orders/Anything", codes.PermissionDenied},
		{"/Bare/Get", codes.OK},
		{"/Bare/Put", codes.PermissionDenied},
		{"/shop.Invoices/List", codes.PermissionDenied},
		{"/shop.Orders", codes.PermissionDenied},
		{"", codes.PermissionDenied},
	}
	for _, tt := range tests {
		t.Run(tt.method, func(t *testing.T) {
			t.Parallel()
			ctx := metadata.NewIncomingContext(context.Background(), metadata.Pairs("authorization", "Bearer "+user))
			_, err := i.Unary()(ctx, nil, &grpc.UnaryServerInfo{FullMethod: tt.method}, func(context.Context, any) (any, error) { return "ok", nil })
			if status.Code(err) != tt.want {
				t.Fatalf("Unary(%q) = %v; want %v", tt.method, err, tt.want)
			}
		})
	}
}

// TestClaimsInHandler checks that the unary and the stream handler find the
// verified claims with auth.ClaimsFromContext.
func TestClaimsInHandler(t *testing.T) {
	t.Parallel()
	a := newAuth(t, newClock())
	i, err := grpcauth.New(a, grpcauth.Policy{methodEcho: {}, methodWatch: {}})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	at := issue(t, a, auth.Claims{Subject: "ada", Role: "admin", Email: "ada@example.com", Scope: "a b"})
	ctx := metadata.NewIncomingContext(context.Background(), metadata.Pairs("authorization", "Bearer "+at.Token))
	check := func(t *testing.T, ctx context.Context) {
		t.Helper()
		c, ok := auth.ClaimsFromContext(ctx)
		if !ok || c.Subject != "ada" || c.Role != "admin" || c.Email != "ada@example.com" || !c.HasScope("b") || c.ID != at.Claims.ID {
			t.Fatalf("ClaimsFromContext = %+v, %v; want the claims of the token", c, ok)
		}
	}
	t.Run("unary", func(t *testing.T) {
		_, err := i.Unary()(ctx, nil, &grpc.UnaryServerInfo{FullMethod: methodEcho}, func(ctx context.Context, _ any) (any, error) {
			check(t, ctx)
			return nil, nil
		})
		if err != nil {
			t.Fatalf("Unary = %v; want nil", err)
		}
	})
	t.Run("stream", func(t *testing.T) {
		err := i.Stream()(nil, fakeStream{ctx: ctx}, &grpc.StreamServerInfo{FullMethod: methodWatch}, func(_ any, ss grpc.ServerStream) error {
			check(t, ss.Context())
			return nil
		})
		if err != nil {
			t.Fatalf("Stream = %v; want nil", err)
		}
	})
}

// fakeStream is a grpc.ServerStream with only a context.
type fakeStream struct {
	grpc.ServerStream
	ctx context.Context
}

func (s fakeStream) Context() context.Context { return s.ctx }
