package grpcauth

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"

	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"

	"github.com/jwtkit/auth"
)

// ErrUnlistedMethod means the policy names neither the called method nor its
// service: the call is refused with codes.PermissionDenied and the reason
// UNLISTED_METHOD, before any token is looked at. It matches
// [auth.ErrForbidden].
var ErrUnlistedMethod = fmt.Errorf("grpcauth: method not in policy: %w", auth.ErrForbidden)

// Interceptor authenticates and authorizes the calls of a gRPC server: each
// call's bearer token is verified by an [auth.Auth] and checked against a
// [Policy]. Build one with [New]; it is immutable and safe for concurrent
// use. Install both halves:
//
//	grpc.NewServer(grpc.UnaryInterceptor(i.Unary()), grpc.StreamInterceptor(i.Stream()))
type Interceptor struct {
	auth   *auth.Auth
	policy *compiled
	logger *slog.Logger
}

// Option configures an [Interceptor] in [New].
type Option func(*config) error

type config struct {
	logger *slog.Logger
}

// WithLogger sets the logger of refused calls: one debug record per refusal
// with the method and the reason, never the token. Default: no logging.
func WithLogger(l *slog.Logger) Option {
	return func(c *config) error {
		if l == nil {
			return fmt.Errorf("grpcauth: WithLogger: nil logger: %w", auth.ErrConfig)
		}
		c.logger = l
		return nil
	}
}

// New returns an Interceptor that verifies tokens with a and authorizes
// calls by p. It returns an error matching [auth.ErrConfig] for a nil a,
// an empty policy, a key that is not a full method name
// ("/pkg.Service/Method") or a service wildcard ("/pkg.Service/*"), a rule
// that is Public and names roles or scopes, an empty role, an empty scope or
// one with a space, and a bad option. The policy is copied: changing p
// afterwards changes nothing.
func New(a *auth.Auth, p Policy, opts ...Option) (*Interceptor, error) {
	if a == nil {
		return nil, fmt.Errorf("grpcauth: nil *auth.Auth: %w", auth.ErrConfig)
	}
	cp, err := compile(p)
	if err != nil {
		return nil, err
	}
	var cfg config
	for _, o := range opts {
		if o == nil {
			return nil, fmt.Errorf("grpcauth: nil option: %w", auth.ErrConfig)
		}
		if err := o(&cfg); err != nil {
			return nil, err
		}
	}
	return &Interceptor{auth: a, policy: cp, logger: cfg.logger}, nil
}

// Unary returns the unary server interceptor. A refused call never reaches
// the handler; its error is a status as [Code] describes.
func (i *Interceptor) Unary() grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		c, err := i.authorize(ctx, info.FullMethod)
		if err != nil {
			return nil, err
		}
		if c != nil {
			ctx = auth.NewContext(ctx, c)
		}
		return handler(ctx, req)
	}
}

// Stream returns the stream server interceptor. A stream is authorized once,
// when it starts; the handler's stream then has a Context carrying the
// claims. A stream that was admitted keeps running after its token expires
// or is revoked; only the next stream is checked again. Services whose
// streams live long should end them on their own schedule (a deadline, or a
// periodic check of [auth.ClaimsFromContext]'s ExpiresAt) so that clients
// reconnect with a fresh token.
func (i *Interceptor) Stream() grpc.StreamServerInterceptor {
	return func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
		c, err := i.authorize(ss.Context(), info.FullMethod)
		if err != nil {
			return err
		}
		if c == nil {
			return handler(srv, ss)
		}
		return handler(srv, &serverStream{ServerStream: ss, ctx: auth.NewContext(ss.Context(), c)})
	}
}

// serverStream is a grpc.ServerStream whose Context carries the claims.
type serverStream struct {
	grpc.ServerStream
	ctx context.Context
}

// Context returns the stream's context with the verified claims.
func (s *serverStream) Context() context.Context { return s.ctx }

// authorize applies the policy to one call of fullMethod and returns the
// verified claims, or nil claims and a nil error for a public method.
func (i *Interceptor) authorize(ctx context.Context, fullMethod string) (*auth.Claims, error) {
	r := i.policy.lookup(fullMethod)
	if r == nil {
		return nil, i.refuse(ctx, fullMethod, ErrUnlistedMethod)
	}
	if r.public {
		return nil, nil
	}
	tok, err := bearer(ctx)
	if err != nil {
		return nil, i.refuse(ctx, fullMethod, err)
	}
	c, err := i.auth.Verify(ctx, tok)
	if err != nil {
		return nil, i.refuse(ctx, fullMethod, err)
	}
	if err := r.check(c); err != nil {
		return nil, i.refuse(ctx, fullMethod, err)
	}
	return c, nil
}

// refuse logs err when a logger is set and returns its status error.
func (i *Interceptor) refuse(ctx context.Context, fullMethod string, err error) error {
	if l := i.logger; l != nil && l.Enabled(ctx, slog.LevelDebug) {
		l.LogAttrs(ctx, slog.LevelDebug, "grpcauth: call refused",
			slog.String("reason", err.Error()), slog.String("method", fullMethod))
	}
	return statusError(err)
}

// bearer returns the bearer token of the call's "authorization" metadata,
// read as the HTTP middleware reads the Authorization header: exactly one
// value with the scheme Bearer in any letter case. No value, or one of
// another scheme, is [auth.ErrNoToken]; several values, or "Bearer" without
// a token, is [auth.ErrTokenMalformed].
func bearer(ctx context.Context) (string, error) {
	vals := metadata.ValueFromIncomingContext(ctx, "authorization")
	switch len(vals) {
	case 0:
		return "", auth.ErrNoToken
	case 1:
	default:
		return "", auth.ErrTokenMalformed
	}
	v := vals[0]
	if len(v) >= 7 && strings.EqualFold(v[:6], "bearer") && (v[6] == ' ' || v[6] == '\t') {
		if tok := strings.Trim(v[7:], " \t"); tok != "" {
			return tok, nil
		}
		return "", auth.ErrTokenMalformed
	}
	if strings.EqualFold(strings.TrimSpace(v), "bearer") {
		return "", auth.ErrTokenMalformed
	}
	return "", auth.ErrNoToken
}

// isUnlisted reports whether err is the refusal of an unlisted method.
func isUnlisted(err error) bool { return errors.Is(err, ErrUnlistedMethod) }
