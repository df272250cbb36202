package grpcauth_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"math/big"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/jwtkit/auth"
	"github.com/jwtkit/auth/client"
	"github.com/jwtkit/auth/grpcauth"
)

// The fixed instant of the tests, and the issuer and audience of their
// tokens.
var testNow = time.Date(2026, 3, 14, 15, 9, 26, 0, time.UTC)

const (
	testIssuer   = "https://id.example.com"
	testAudience = "api"
	testSecret   = "0123456789abcdef0123456789abcdef"
)

// The methods of the hand-written test service test.Echo.
const (
	methodEcho   = "/test.Echo/Echo"
	methodAdmin  = "/test.Echo/Admin"
	methodScoped = "/test.Echo/Scoped"
	methodPublic = "/test.Echo/Public"
	methodHidden = "/test.Echo/Hidden"
	methodWatch  = "/test.Echo/Watch"
)

// testPolicy guards test.Echo; Hidden is left out on purpose.
var testPolicy = grpcauth.Policy{
	methodEcho:   {},
	methodAdmin:  {Roles: []string{"admin", "ops"}},
	methodScoped: {Scopes: []string{"echo:read", "echo:write"}},
	methodPublic: {Public: true},
	methodWatch:  {},
}

// clock is the one fake clock of the tests.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func newClock() *clock { return &clock{now: testNow} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// newKeys returns an HS256 key set on secret.
func newKeys(t testing.TB, secret string) *auth.KeySet {
	t.Helper()
	k, err := auth.NewHMACKey(auth.HS256, []byte(secret))
	if err != nil {
		t.Fatalf("NewHMACKey: %v", err)
	}
	ks, err := auth.NewKeySet(k)
	if err != nil {
		t.Fatalf("NewKeySet: %v", err)
	}
	return ks
}

// newAuth returns an Auth on the test key with the clock clk and opts.
func newAuth(t testing.TB, clk *clock, opts ...auth.Option) *auth.Auth {
	t.Helper()
	return newAuthKeys(t, clk, newKeys(t, testSecret), opts...)
}

// newAuthKeys returns an Auth on ks with the clock clk and opts.
func newAuthKeys(t testing.TB, clk *clock, ks *auth.KeySet, opts ...auth.Option) *auth.Auth {
	t.Helper()
	opts = append([]auth.Option{
		auth.WithKeys(ks),
		auth.WithIssuer(testIssuer),
		auth.WithAudience(testAudience),
		auth.WithClock(clk.Now),
	}, opts...)
	a, err := auth.New(opts...)
	if err != nil {
		t.Fatalf("auth.New: %v", err)
	}
	return a
}

// issue returns a token of a for c.
func issue(t testing.TB, a *auth.Auth, c auth.Claims) *auth.AccessToken {
	t.Helper()
	at, err := a.Issue(context.Background(), c)
	if err != nil {
		t.Fatalf("Issue: %v", err)
	}
	return at
}

// echoServer implements test.Echo. Every unary method answers "hello " and
// the caller's subject, or "anonymous"; Watch sends one message when it
// starts and then one per value of feed, until the stream ends.
type echoServer struct {
	feed chan string
}

func greeting(ctx context.Context) string {
	if c, ok := auth.ClaimsFromContext(ctx); ok {
		return "hello " + c.Subject
	}
	return "hello anonymous"
}

// unary returns the descriptor of a method named name that answers greeting.
func unary(name string) grpc.MethodDesc {
	full := "/test.Echo/" + name
	return grpc.MethodDesc{
		MethodName: name,
		Handler: func(srv any, ctx context.Context, dec func(any) error, icpt grpc.UnaryServerInterceptor) (any, error) {
			in := new(wrapperspb.StringValue)
			if err := dec(in); err != nil {
				return nil, err
			}
			h := func(ctx context.Context, _ any) (any, error) {
				return wrapperspb.String(greeting(ctx)), nil
			}
			if icpt == nil {
				return h(ctx, in)
			}
			return icpt(ctx, in, &grpc.UnaryServerInfo{Server: srv, FullMethod: full}, h)
		},
	}
}

var echoDesc = grpc.ServiceDesc{
	ServiceName: "test.Echo",
	HandlerType: (*any)(nil),
	Methods:     []grpc.MethodDesc{unary("Echo"), unary("Admin"), unary("Scoped"), unary("Public"), unary("Hidden")},
	Streams: []grpc.StreamDesc{{
		StreamName:    "Watch",
		ServerStreams: true,
		Handler: func(srv any, ss grpc.ServerStream) error {
			in := new(wrapperspb.StringValue)
			if err := ss.RecvMsg(in); err != nil {
				return err
			}
			if err := ss.SendMsg(wrapperspb.String(greeting(ss.Context()))); err != nil {
				return err
			}
			feed := srv.(*echoServer).feed
			for {
				select {
				case v := <-feed:
					if err := ss.SendMsg(wrapperspb.String(v)); err != nil {
						return err
					}
				case <-ss.Context().Done():
					return nil
				}
			}
		},
	}},
}

// serve starts test.Echo on a loopback listener with the server options
// opts and returns its address and the server; it stops at the test's end.
func serve(t testing.TB, opts ...grpc.ServerOption) (string, *echoServer) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("Listen: %v", err)
	}
	s := grpc.NewServer(opts...)
	impl := &echoServer{feed: make(chan string)}
	s.RegisterService(&echoDesc, impl)
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = s.Serve(ln)
	}()
	t.Cleanup(func() {
		s.Stop()
		<-done
	})
	return ln.Addr().String(), impl
}

// serveGuarded starts test.Echo behind an interceptor of a and p.
func serveGuarded(t testing.TB, a *auth.Auth, p grpcauth.Policy) (string, *echoServer) {
	t.Helper()
	i, err := grpcauth.New(a, p)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return serve(t, grpc.UnaryInterceptor(i.Unary()), grpc.StreamInterceptor(i.Stream()))
}

// dial connects to addr with opts (insecure transport unless opts set one)
// and closes the connection at the test's end.
func dial(t testing.TB, addr string, opts ...grpc.DialOption) *grpc.ClientConn {
	t.Helper()
	opts = append([]grpc.DialOption{grpc.WithTransportCredentials(insecure.NewCredentials())}, opts...)
	conn, err := grpc.NewClient("passthrough:///"+addr, opts...)
	if err != nil {
		t.Fatalf("NewClient(%s): %v", addr, err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

// withToken returns ctx sending tok as a bearer token.
func withToken(ctx context.Context, tok string) context.Context {
	return metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+tok)
}

// call makes one unary call of method and returns the answer.
func call(ctx context.Context, conn *grpc.ClientConn, method string) (string, error) {
	out := new(wrapperspb.StringValue)
	if err := conn.Invoke(ctx, method, wrapperspb.String("hi"), out); err != nil {
		return "", err
	}
	return out.GetValue(), nil
}

// watch opens a Watch stream and returns it after its first message.
func watch(ctx context.Context, conn *grpc.ClientConn) (grpc.ClientStream, string, error) {
	cs, err := conn.NewStream(ctx, &grpc.StreamDesc{StreamName: "Watch", ServerStreams: true}, methodWatch)
	if err != nil {
		return nil, "", err
	}
	if err := cs.SendMsg(wrapperspb.String("hi")); err != nil {
		return nil, "", err
	}
	if err := cs.CloseSend(); err != nil {
		return nil, "", err
	}
	first, err := recv(cs)
	return cs, first, err
}

func recv(cs grpc.ClientStream) (string, error) {
	out := new(wrapperspb.StringValue)
	if err := cs.RecvMsg(out); err != nil {
		return "", err
	}
	return out.GetValue(), nil
}

// staticSource is a TokenSource of one token, or of one error.
type staticSource struct {
	token string
	err   error
}

func (s staticSource) Token(context.Context) (*client.Token, error) {
	if s.err != nil {
		return nil, s.err
	}
	return &client.Token{AccessToken: s.token, Expiry: testNow.Add(time.Hour)}, nil
}

// failingRevocation is a revocation check whose store is down.
type failingRevocation struct{}

var errStoreDown = errors.New("revocation store down")

func (failingRevocation) Revoked(context.Context, string, string, string, time.Time) (bool, error) {
	return false, errStoreDown
}

// failingKeys is a key source whose fetches fail.
type failingKeys struct{}

func (failingKeys) VerificationKey(context.Context, string) (*auth.Key, error) {
	return nil, errors.New("key source down")
}

// selfSigned returns a TLS certificate for 127.0.0.1 and a pool that
// trusts it.
func selfSigned(t testing.TB) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatalf("GenerateKey: %v", err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "127.0.0.1"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1)},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatalf("CreateCertificate: %v", err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatalf("ParseCertificate: %v", err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(leaf)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, pool
}

// tlsCreds returns server and client transport credentials over a fresh
// self-signed certificate.
func tlsCreds(t testing.TB) (server, client credentials.TransportCredentials) {
	t.Helper()
	cert, pool := selfSigned(t)
	server = credentials.NewTLS(&tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12})
	client = credentials.NewTLS(&tls.Config{RootCAs: pool, ServerName: "127.0.0.1", MinVersion: tls.VersionTLS12})
	return server, client
}

// tamper returns tok with the signature of other: a bad signature.
func tamper(tok, other string) string {
	i, j := strings.LastIndexByte(tok, '.'), strings.LastIndexByte(other, '.')
	return tok[:i] + other[j:]
}
