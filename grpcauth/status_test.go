package grpcauth_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/jwtkit/auth"
	"github.com/jwtkit/auth/grpcauth"
)

func TestStatusCode(t *testing.T) {
	t.Parallel()
	tests := []struct {
		err  error
		want codes.Code
	}{
		{auth.ErrNoToken, codes.Unauthenticated},
		{auth.ErrInvalidToken, codes.Unauthenticated},
		{auth.ErrTokenExpired, codes.Unauthenticated},
		{auth.ErrTokenRevoked, codes.Unauthenticated},
		{fmt.Errorf("wrapped: %w", auth.ErrTokenSignature), codes.Unauthenticated},
		{auth.ErrInsufficientRole, codes.PermissionDenied},
		{auth.ErrInsufficientScope, codes.PermissionDenied},
		{grpcauth.ErrUnlistedMethod, codes.PermissionDenied},
		{fmt.Errorf("%w: revocation check: down", auth.ErrUnavailable), codes.Unavailable},
		{errors.New("something else"), codes.Internal},
	}
	for _, tt := range tests {
		t.Run(tt.err.Error(), func(t *testing.T) {
			t.Parallel()
			if got := grpcauth.StatusCode(tt.err); got != tt.want {
				t.Fatalf("StatusCode(%v) = %v; want %v", tt.err, got, tt.want)
			}
		})
	}
}

func TestCodeOfOtherErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		err  error
	}{
		{"nil", nil},
		{"not a status", errors.New("plain")},
		{"status without details", status.Error(codes.Unauthenticated, "no")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := grpcauth.Code(tt.err); got != "" {
				t.Fatalf("Code(%v) = %q; want \"\"", tt.err, got)
			}
		})
	}
}

// TestLoggerNeverHoldsToken checks that a refusal is logged with its method
// and reason, and without the token.
func TestLoggerNeverHoldsToken(t *testing.T) {
	t.Parallel()
	clk := newClock()
	a := newAuth(t, clk)
	var buf bytes.Buffer
	l := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	i, err := grpcauth.New(a, testPolicy, grpcauth.WithLogger(l))
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	at := issue(t, a, auth.Claims{Subject: "ada", Role: "user"})
	ctx := metadata.NewIncomingContext(context.Background(), metadata.Pairs("authorization", "Bearer "+at.Token))
	_, err = i.Unary()(ctx, nil, &grpc.UnaryServerInfo{FullMethod: methodAdmin}, func(context.Context, any) (any, error) { return nil, nil })
	if status.Code(err) != codes.PermissionDenied {
		t.Fatalf("Unary(%s) = %v; want PermissionDenied", methodAdmin, err)
	}
	out := buf.String()
	if !strings.Contains(out, methodAdmin) || !strings.Contains(out, "insufficient role") {
		t.Errorf("log = %q; want the method and the reason", out)
	}
	if strings.Contains(out, at.Token) || strings.Contains(out, at.Token[strings.LastIndexByte(at.Token, '.')+1:]) {
		t.Errorf("log = %q holds the token", out)
	}
}
