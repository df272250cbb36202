package main

import (
	"context"
	"log/slog"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/jwtkit/auth"
	"github.com/jwtkit/auth/grpcauth"
	"github.com/jwtkit/auth/jwks"
)

// The methods of the service greeter.v1.Greeter. Each takes a
// google.protobuf.StringValue (ignored) and answers one.
const (
	serviceName = "greeter.v1.Greeter"
	methodHello = "/" + serviceName + "/Hello" // any valid token: "hello ada"
	methodAdmin = "/" + serviceName + "/Admin" // role admin: "welcome, ada"
)

// policy guards the service: every method needs a valid token, Admin also
// the role admin. A method added to the service is covered by the wildcard.
var policy = grpcauth.Policy{
	"/" + serviceName + "/*": {},
	methodAdmin:              {Roles: []string{"admin"}},
}

// greeter is a gRPC service that accepts the auth service's tokens. It holds
// no key of its own: it verifies with the auth service's JWK Set, fetched
// over HTTP by a [jwks.RemoteKeySet].
type greeter struct {
	keys        *jwks.RemoteKeySet
	interceptor *grpcauth.Interceptor
}

// newGreeter returns a greeter that verifies tokens of issuer for audience
// with the JWK Set at jwksURL.
func newGreeter(jwksURL, issuer, audience string, logger *slog.Logger, opts ...jwks.Option) (*greeter, error) {
	opts = append([]jwks.Option{jwks.WithLogger(logger)}, opts...)
	keys, err := jwks.NewRemoteKeySet(jwksURL, opts...)
	if err != nil {
		return nil, err
	}
	a, err := auth.New(auth.WithKeySource(keys), auth.WithIssuer(issuer), auth.WithAudience(audience), auth.WithLogger(logger))
	if err != nil {
		return nil, err
	}
	i, err := grpcauth.New(a, policy, grpcauth.WithLogger(logger))
	if err != nil {
		return nil, err
	}
	return &greeter{keys: keys, interceptor: i}, nil
}

// Start fetches the JWK Set and keeps it fresh until ctx ends. A failed
// first fetch is returned but not fatal: calls are refused with
// codes.Unavailable until a fetch succeeds.
func (g *greeter) Start(ctx context.Context) error { return g.keys.Start(ctx) }

// Server returns a gRPC server with the service registered behind the
// interceptor.
func (g *greeter) Server(opts ...grpc.ServerOption) *grpc.Server {
	opts = append([]grpc.ServerOption{
		grpc.UnaryInterceptor(g.interceptor.Unary()),
		grpc.StreamInterceptor(g.interceptor.Stream()),
	}, opts...)
	s := grpc.NewServer(opts...)
	s.RegisterService(&greeterDesc, g)
	return s
}

// greeterDesc describes greeter.v1.Greeter by hand, with well-known
// messages, as generated code would.
var greeterDesc = grpc.ServiceDesc{
	ServiceName: serviceName,
	HandlerType: (*any)(nil),
	Methods: []grpc.MethodDesc{
		unaryMethod("Hello", func(c *auth.Claims) string { return "hello " + c.Subject }),
		unaryMethod("Admin", func(c *auth.Claims) string { return "welcome, " + c.Subject }),
	},
	Metadata: "greeter.proto",
}

// unaryMethod returns the descriptor of a method that answers answer(claims)
// for the claims the interceptor put in the context.
func unaryMethod(name string, answer func(*auth.Claims) string) grpc.MethodDesc {
	full := "/" + serviceName + "/" + name
	return grpc.MethodDesc{
		MethodName: name,
		Handler: func(srv any, ctx context.Context, dec func(any) error, icpt grpc.UnaryServerInterceptor) (any, error) {
			in := new(wrapperspb.StringValue)
			if err := dec(in); err != nil {
				return nil, err
			}
			h := func(ctx context.Context, _ any) (any, error) {
				c, ok := auth.ClaimsFromContext(ctx)
				if !ok { // only without the interceptor: no method is public
					return nil, status.Error(codes.Unauthenticated, "authentication required")
				}
				return wrapperspb.String(answer(c)), nil
			}
			if icpt == nil {
				return h(ctx, in)
			}
			return icpt(ctx, in, &grpc.UnaryServerInfo{Server: srv, FullMethod: full}, h)
		},
	}
}
