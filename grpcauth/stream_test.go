package grpcauth_test

import (
	"context"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/jwtkit/auth"
	"github.com/jwtkit/auth/grpcauth"
)

// TestStreamAuthorizedAtStart checks that a stream is admitted or refused
// when it starts, that its handler sees the claims, and that a stream
// outlives the expiry and the revocation of its token while a new stream
// with that token is refused.
func TestStreamAuthorizedAtStart(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		end     func(t *testing.T, a *auth.Auth, clk *clock, at *auth.AccessToken)
		wantWhy string
	}{
		{
			name: "revoked",
			end: func(t *testing.T, a *auth.Auth, _ *clock, at *auth.AccessToken) {
				if err := a.RevokeAccessToken(context.Background(), at.Claims); err != nil {
					t.Fatalf("RevokeAccessToken: %v", err)
				}
			},
			wantWhy: "TOKEN_REVOKED",
		},
		{
			name: "expired",
			end: func(_ *testing.T, _ *auth.Auth, clk *clock, at *auth.AccessToken) {
				clk.Advance(at.ExpiresIn + time.Second)
			},
			wantWhy: "TOKEN_EXPIRED",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			clk := newClock()
			a := newAuth(t, clk)
			addr, srv := serveGuarded(t, a, testPolicy)
			conn := dial(t, addr)
			at := issue(t, a, auth.Claims{Subject: "ada"})
			ctx, cancel := context.WithCancel(withToken(context.Background(), at.Token))
			defer cancel()

			cs, first, err := watch(ctx, conn)
			if err != nil || first != "hello ada" {
				t.Fatalf("Watch first message = %q, %v; want %q", first, err, "hello ada")
			}
			tt.end(t, a, clk, at)
			for _, v := range []string{"one", "two"} {
				srv.feed <- v
				if got, err := recv(cs); err != nil || got != v {
					t.Fatalf("Watch message after the token ended = %q, %v; want %q", got, err, v)
				}
			}
			_, _, err = watch(ctx, conn)
			if status.Code(err) != codes.Unauthenticated || grpcauth.Code(err) != tt.wantWhy {
				t.Fatalf("new Watch = %v (%s); want Unauthenticated %s", err, grpcauth.Code(err), tt.wantWhy)
			}
		})
	}
}

// TestStreamRefusals checks the refusals of a stream at its start.
func TestStreamRefusals(t *testing.T) {
	t.Parallel()
	clk := newClock()
	a := newAuth(t, clk)
	addr, _ := serveGuarded(t, a, grpcauth.Policy{methodWatch: {Roles: []string{"admin"}}})
	conn := dial(t, addr)
	tests := []struct {
		name     string
		ctx      context.Context
		want     string
		wantCode codes.Code
		wantWhy  string
	}{
		{name: "no token", ctx: context.Background(), wantCode: codes.Unauthenticated, wantWhy: "NO_TOKEN"},
		{name: "invalid", ctx: withToken(context.Background(), "x.y.z"), wantCode: codes.Unauthenticated, wantWhy: "INVALID_TOKEN"},
		{name: "wrong role", ctx: withToken(context.Background(), issue(t, a, auth.Claims{Subject: "ada", Role: "user"}).Token), wantCode: codes.PermissionDenied, wantWhy: "INSUFFICIENT_ROLE"},
		{name: "role", ctx: withToken(context.Background(), issue(t, a, auth.Claims{Subject: "grace", Role: "admin"}).Token), want: "hello grace"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithCancel(tt.ctx)
			defer cancel()
			_, first, err := watch(ctx, conn)
			if status.Code(err) != tt.wantCode || grpcauth.Code(err) != tt.wantWhy || first != tt.want {
				t.Fatalf("Watch = %q, %v (%s); want %q, %v %s", first, err, grpcauth.Code(err), tt.want, tt.wantCode, tt.wantWhy)
			}
		})
	}
}
