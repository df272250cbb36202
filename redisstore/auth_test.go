package redisstore_test

import (
	"context"
	"errors"
	"testing"

	"github.com/jwtkit/auth"
)

// TestAuth runs the library's session flows on a Store: sign-in, refresh,
// reuse detection, logout of one access token and logout everywhere.
func TestAuth(t *testing.T) {
	ctx := t.Context()
	s := newStore(t, newClient(t))
	key, err := auth.NewHMACKey(auth.HS256, []byte("a test secret of at least 32 bytes"))
	if err != nil {
		t.Fatal(err)
	}
	keys, err := auth.NewKeySet(key)
	if err != nil {
		t.Fatal(err)
	}
	a, err := auth.New(
		auth.WithKeys(keys), auth.WithIssuer("https://id.example.com"), auth.WithAudience("api"),
		auth.WithRefreshStore(s), auth.WithRevocation(s),
		auth.WithClaimsLoader(func(_ context.Context, userID string) (auth.Claims, error) {
			return auth.Claims{Subject: userID}, nil
		}),
	)
	if err != nil {
		t.Fatal(err)
	}
	const user = "user-42"
	first, err := a.StartSession(ctx, auth.Claims{Subject: user}, auth.Client{UserAgent: "test"})
	if err != nil {
		t.Fatalf("StartSession = %v", err)
	}
	second, err := a.Refresh(ctx, first.RefreshToken, auth.Client{})
	if err != nil {
		t.Fatalf("Refresh = %v", err)
	}
	if _, err := a.Verify(ctx, second.Access.Token); err != nil {
		t.Fatalf("Verify(refreshed access token) = %v; want nil", err)
	}
	if _, err := a.Refresh(ctx, first.RefreshToken, auth.Client{}); !errors.Is(err, auth.ErrRefreshTokenReused) {
		t.Fatalf("Refresh(rotated token) = %v; want ErrRefreshTokenReused", err)
	}
	if _, err := a.Refresh(ctx, second.RefreshToken, auth.Client{}); !errors.Is(err, auth.ErrRefreshTokenRevoked) {
		t.Fatalf("Refresh(token of a revoked session) = %v; want ErrRefreshTokenRevoked", err)
	}

	third, err := a.StartSession(ctx, auth.Claims{Subject: user}, auth.Client{})
	if err != nil {
		t.Fatal(err)
	}
	if sessions, err := a.Sessions(ctx, user); err != nil || len(sessions) != 1 || sessions[0].ID != third.SessionID {
		t.Fatalf("Sessions = %v, %v; want the one live session %s", sessions, err, third.SessionID)
	}
	c, err := a.Verify(ctx, third.Access.Token)
	if err != nil {
		t.Fatal(err)
	}
	if err := a.RevokeAccessToken(ctx, c); err != nil {
		t.Fatalf("RevokeAccessToken = %v", err)
	}
	if _, err := a.Verify(ctx, third.Access.Token); !errors.Is(err, auth.ErrTokenRevoked) {
		t.Fatalf("Verify(denied token) = %v; want ErrTokenRevoked", err)
	}
	fourth, err := a.Refresh(ctx, third.RefreshToken, auth.Client{})
	if err != nil {
		t.Fatal(err)
	}
	if err := a.RevokeUser(ctx, user); err != nil {
		t.Fatalf("RevokeUser = %v", err)
	}
	if _, err := a.Verify(ctx, fourth.Access.Token); !errors.Is(err, auth.ErrTokenRevoked) {
		t.Fatalf("Verify(token issued before RevokeUser) = %v; want ErrTokenRevoked", err)
	}
	if _, err := a.Refresh(ctx, fourth.RefreshToken, auth.Client{}); !errors.Is(err, auth.ErrRefreshTokenRevoked) {
		t.Fatalf("Refresh after RevokeUser = %v; want ErrRefreshTokenRevoked", err)
	}
	fifth, err := a.StartSession(ctx, auth.Claims{Subject: user}, auth.Client{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.Verify(ctx, fifth.Access.Token); err != nil {
		t.Fatalf("Verify(sign-in after RevokeUser) = %v; want nil", err)
	}
	if n, err := a.Purge(ctx); err != nil || n != 2 {
		t.Fatalf("Purge = %d, %v; want the 2 revoked sessions", n, err)
	}
}
