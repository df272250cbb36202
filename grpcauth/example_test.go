package grpcauth_test

import (
	"context"
	"errors"
	"fmt"
	"net"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/jwtkit/auth"
	"github.com/jwtkit/auth/grpcauth"
)

// ExampleNew guards a service with a policy and shows the answers a client
// gets: a call with a valid token, one without, and one that lacks a role.
func ExampleNew() {
	key, _ := auth.NewHMACKey(auth.HS256, []byte("an example secret of 32 bytes!!!"))
	keys, _ := auth.NewKeySet(key)
	a, err := auth.New(auth.WithKeys(keys), auth.WithIssuer("https://id.example.com"), auth.WithAudience("api"))
	if err != nil {
		fmt.Println(err)
		return
	}
	i, err := grpcauth.New(a, grpcauth.Policy{
		"/test.Echo/*":     {},                         // any valid token
		"/test.Echo/Admin": {Roles: []string{"admin"}}, // the role admin
	})
	if err != nil {
		fmt.Println(err)
		return
	}

	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	srv := grpc.NewServer(grpc.UnaryInterceptor(i.Unary()), grpc.StreamInterceptor(i.Stream()))
	srv.RegisterService(&echoDesc, &echoServer{})
	go srv.Serve(ln)
	defer srv.Stop()

	conn, _ := grpc.NewClient("passthrough:///"+ln.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	defer conn.Close()
	at, _ := a.Issue(context.Background(), auth.Claims{Subject: "ada", Role: "user"})
	ctx := metadata.AppendToOutgoingContext(context.Background(), "authorization", "Bearer "+at.Token)

	got, err := call(ctx, conn, "/test.Echo/Echo")
	fmt.Println(got, err)
	_, err = call(context.Background(), conn, "/test.Echo/Echo")
	fmt.Println(status.Code(err), grpcauth.Code(err))
	_, err = call(ctx, conn, "/test.Echo/Admin")
	fmt.Println(status.Code(err), grpcauth.Code(err))
	// Output:
	// hello ada <nil>
	// Unauthenticated NO_TOKEN
	// PermissionDenied INSUFFICIENT_ROLE
}

// ExampleNew_configuration shows that New refuses a policy it cannot
// enforce.
func ExampleNew_configuration() {
	key, _ := auth.NewHMACKey(auth.HS256, []byte("an example secret of 32 bytes!!!"))
	keys, _ := auth.NewKeySet(key)
	a, _ := auth.New(auth.WithKeys(keys), auth.WithIssuer("https://id.example.com"), auth.WithAudience("api"))

	_, err := grpcauth.New(a, grpcauth.Policy{"/test.Echo/Health": {Public: true, Roles: []string{"admin"}}})
	fmt.Println(errors.Is(err, auth.ErrConfig))
	_, err = grpcauth.New(a, grpcauth.Policy{"test.Echo.Health": {}})
	fmt.Println(errors.Is(err, auth.ErrConfig))
	// Output:
	// true
	// true
}

// ExampleCode shows how a client tells an expired token, which it should
// refresh, from other refusals.
func ExampleCode() {
	err := fakeRefusal()
	switch {
	case grpcauth.Code(err) == "TOKEN_EXPIRED":
		fmt.Println("refresh the token and call again")
	case status.Code(err) == codes.Unavailable:
		fmt.Println("retry later")
	default:
		fmt.Println("refused:", grpcauth.Code(err))
	}
	// Output:
	// refresh the token and call again
}

// fakeRefusal returns the error a client gets for an expired token.
func fakeRefusal() error {
	key, _ := auth.NewHMACKey(auth.HS256, []byte("an example secret of 32 bytes!!!"))
	keys, _ := auth.NewKeySet(key)
	clk := newClock()
	a, _ := auth.New(auth.WithKeys(keys), auth.WithIssuer("https://id.example.com"), auth.WithAudience("api"), auth.WithClock(clk.Now))
	at, _ := a.Issue(context.Background(), auth.Claims{Subject: "ada"})
	clk.Advance(at.ExpiresIn)
	i, _ := grpcauth.New(a, grpcauth.Policy{"/test.Echo/Echo": {}})
	ctx := metadata.NewIncomingContext(context.Background(), metadata.Pairs("authorization", "Bearer "+at.Token))
	_, err := i.Unary()(ctx, nil, &grpc.UnaryServerInfo{FullMethod: "/test.Echo/Echo"}, nil)
	return err
}

// ExamplePerRPC puts the token of a source on every call of a client.
func ExamplePerRPC() {
	src := staticSource{token: "eyJ..."} // a *client.Client in an application
	creds := grpcauth.PerRPC(src)
	// On a real client:
	//
	//	conn, err := grpc.NewClient(addr,
	//		grpc.WithTransportCredentials(credentials.NewTLS(tlsConfig)),
	//		grpc.WithPerRPCCredentials(creds))
	fmt.Println(creds.RequireTransportSecurity())
	// Output:
	// true
}
