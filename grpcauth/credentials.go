package grpcauth

import (
	"context"
	"errors"
	"fmt"

	"google.golang.org/grpc/credentials"

	"github.com/jwtkit/auth"
	"github.com/jwtkit/auth/client"
)

// ErrInsecure means [PerRPC] credentials refused to send a token over a
// connection without privacy and integrity (no TLS, or a transport that
// does not say), which [AllowInsecure] alone permits.
var ErrInsecure = errors.New("grpcauth: connection is not secure enough to send a token")

// TokenSource gives the access token to send with each call. A
// *client.Client is one (see [client.Client.Token]).
//
// Token must be safe for concurrent use. It returns a token that is fresh
// for the call, refreshing it when it must, and an error when it has none;
// it should return promptly when ctx ends.
type TokenSource interface {
	Token(ctx context.Context) (*client.Token, error)
}

// CredentialsOption configures the credentials of [PerRPC].
type CredentialsOption func(*credConfig)

type credConfig struct {
	allowInsecure bool
}

// AllowInsecure lets the credentials send the token over a connection
// without transport security, such as one made with
// insecure.NewCredentials: for tests and for a loopback or sidecar
// connection only. Default off: the token goes only over TLS (or another
// transport of security level PrivacyAndIntegrity).
func AllowInsecure() CredentialsOption {
	return func(c *credConfig) { c.allowInsecure = true }
}

// PerRPC returns credentials that put the access token of src on every call
// as the metadata "authorization: Bearer <token>". Give them to a client
// with grpc.WithPerRPCCredentials, or to one call with grpc.PerRPCCredentials.
//
// Unless [AllowInsecure] is given, they require transport security: gRPC
// refuses to use them on an insecure connection, and they check the
// connection's security level on every call themselves, refusing below
// PrivacyAndIntegrity with an error matching [ErrInsecure]. An error of src
// is returned wrapped, so that errors.Is finds it when GetRequestMetadata is
// called directly; gRPC fails the call with codes.Unauthenticated and the
// error's text in the message (the token never appears in it).
func PerRPC(src TokenSource, opts ...CredentialsOption) credentials.PerRPCCredentials {
	p := &perRPC{src: src}
	for _, o := range opts {
		if o != nil {
			o(&p.cfg)
		}
	}
	return p
}

type perRPC struct {
	src TokenSource
	cfg credConfig
}

// GetRequestMetadata returns the authorization metadata of one call.
func (p *perRPC) GetRequestMetadata(ctx context.Context, _ ...string) (map[string]string, error) {
	if !p.cfg.allowInsecure {
		ri, ok := credentials.RequestInfoFromContext(ctx)
		if !ok {
			return nil, fmt.Errorf("%w: no connection information", ErrInsecure)
		}
		if err := credentials.CheckSecurityLevel(ri.AuthInfo, credentials.PrivacyAndIntegrity); err != nil {
			return nil, fmt.Errorf("%w: %v", ErrInsecure, err)
		}
	}
	if p.src == nil {
		return nil, fmt.Errorf("grpcauth: PerRPC: nil token source: %w", auth.ErrConfig)
	}
	tok, err := p.src.Token(ctx)
	if err != nil {
		return nil, fmt.Errorf("grpcauth: token source: %w", err)
	}
	if tok == nil || tok.AccessToken == "" {
		return nil, fmt.Errorf("grpcauth: token source returned no token: %w", auth.ErrNoToken)
	}
	return map[string]string{"authorization": "Bearer " + tok.AccessToken}, nil
}

// RequireTransportSecurity reports whether the token needs a secure
// connection: true unless [AllowInsecure] was given.
func (p *perRPC) RequireTransportSecurity() bool { return !p.cfg.allowInsecure }
