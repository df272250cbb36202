// Package grpcauth guards gRPC services with the access tokens of package
// github.com/jwtkit/auth, and puts those tokens on the calls of gRPC
// clients. It is a module of its own, so that the core module has no gRPC
// dependency.
//
// # Server
//
// An [Interceptor] verifies the bearer token of every call with an
// [auth.Auth] and checks it against a [Policy], a table of [Rule] values by
// full method name, with an optional wildcard per service:
//
//	i, err := grpcauth.New(a, grpcauth.Policy{
//		"/shop.v1.Orders/*":            {},                                // any valid token
//		"/shop.v1.Orders/Cancel":       {Roles: []string{"admin", "ops"}}, // any of the roles
//		"/shop.v1.Orders/Export":       {Scopes: []string{"orders:read"}}, // all of the scopes
//		"/grpc.health.v1.Health/Check": {Public: true},                    // no token needed
//	})
//	if err != nil { ... }
//	srv := grpc.NewServer(grpc.UnaryInterceptor(i.Unary()), grpc.StreamInterceptor(i.Stream()))
//
// The token is read from the metadata "authorization: Bearer <token>" as the
// HTTP middleware reads the Authorization header: the scheme in any letter
// case, exactly one value. No value, or one of another scheme, is refused as
// NO_TOKEN; several values, or "Bearer" without a token, as INVALID_TOKEN.
// Handlers read the verified claims with
// [auth.ClaimsFromContext], as HTTP handlers do.
//
// A method that the policy does not name, neither exactly nor by its
// service's wildcard, is refused with codes.PermissionDenied before any
// token is looked at ([ErrUnlistedMethod]): a method added to a service
// stays closed until the policy names it. A public method ignores the token
// entirely, even an invalid one, and its handler finds no claims.
//
// # Refusals
//
// Refusals follow the HTTP middleware's classes (see [StatusCode]):
//
//	no token, malformed, bad signature, expired, revoked   codes.Unauthenticated
//	role or scope missing, unlisted method                 codes.PermissionDenied
//	revocation check or key source failed                  codes.Unavailable
//
// The status message is "CODE: sentence" and the status details hold an
// errdetails.ErrorInfo whose Reason is the library's stable code (the one
// [auth.ErrorCode] gives, such as TOKEN_EXPIRED) and whose Domain is
// [Domain]; [Code] reads it back on the client. No message and no log
// record ever holds the token.
//
// # Streams
//
// A stream is authorized once, when it starts. A stream that was admitted
// outlives its token: it keeps running after the token expires or is
// revoked, and only the next stream is checked again. Services with
// long-lived streams should end them on a schedule of their own (a
// deadline, or a look at the claims' ExpiresAt) so that clients come back
// with a fresh token.
//
// # Client
//
// [PerRPC] turns a [TokenSource], such as a *client.Client of package
// github.com/jwtkit/auth/client, into gRPC per-call credentials:
//
//	conn, err := grpc.NewClient(addr,
//		grpc.WithTransportCredentials(credentials.NewTLS(tlsConfig)),
//		grpc.WithPerRPCCredentials(grpcauth.PerRPC(c)),
//	)
//
// They send the token only over a connection with privacy and integrity
// (TLS) unless [AllowInsecure] is given.
package grpcauth
