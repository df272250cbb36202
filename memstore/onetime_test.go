package memstore

import (
	"context"
	"testing"
	"time"

	"github.com/jwtkit/auth/authstore"
	"github.com/jwtkit/auth/internal/testclock"
)

// TestOneTimeCap: past the cap of one user and purpose, the token that
// expires first goes; other purposes and users keep theirs.
func TestOneTimeCap(t *testing.T) {
	s, err := New(WithClock(testclock.New().Now))
	if err != nil {
		t.Fatal(err)
	}
	ctx, now := context.Background(), testclock.Instant
	save := func(user, purpose string, i int) authstore.OneTimeToken {
		t.Helper()
		tok := authstore.OneTimeToken{Hash: authstore.HashToken(user + purpose + string(rune('a'+i))), UserID: user, Purpose: purpose, ExpiresAt: now.Add(time.Hour + time.Duration(i)*time.Minute)}
		if err := s.SaveOneTime(ctx, tok); err != nil {
			t.Fatalf("SaveOneTime #%d = %v", i, err)
		}
		return tok
	}
	other := save("u1", "email_verify", 0)
	var toks []authstore.OneTimeToken
	for i := range maxOneTimePerUser + 1 {
		toks = append(toks, save("u1", "password_reset", i))
	}
	if _, found, _ := s.ConsumeOneTime(ctx, authstore.RouteFor("u1"), toks[0].Hash, "password_reset", now); found {
		t.Error("first-expiring token consumed past the cap; want it dropped")
	}
	for _, tok := range append(toks[1:], other) {
		if _, found, _ := s.ConsumeOneTime(ctx, authstore.RouteFor("u1"), tok.Hash, tok.Purpose, now); !found {
			t.Errorf("token expiring at %v not found; want it kept", tok.ExpiresAt)
		}
	}
}

// TestOneTimePurge: Purge deletes expired one-time tokens, counts them and
// keeps the live one. The store's clock lags, so that saving deletes
// nothing on the side.
func TestOneTimePurge(t *testing.T) {
	s, err := New(WithClock(func() time.Time { return testclock.Instant.Add(-2 * time.Hour) }))
	if err != nil {
		t.Fatal(err)
	}
	ctx, now := context.Background(), testclock.Instant
	for i, ttl := range []time.Duration{-time.Minute, -time.Second, time.Hour} {
		tok := authstore.OneTimeToken{Hash: authstore.HashToken(string(rune('a' + i))), UserID: "u", Purpose: "password_reset", ExpiresAt: now.Add(ttl)}
		if err := s.SaveOneTime(ctx, tok); err != nil {
			t.Fatal(err)
		}
	}
	if n, err := s.Purge(ctx, now, 10); err != nil || n != 2 {
		t.Errorf("Purge = %d, %v; want 2, nil", n, err)
	}
	if n, err := s.Purge(ctx, now, 10); err != nil || n != 0 {
		t.Errorf("second Purge = %d, %v; want 0, nil", n, err)
	}
	if _, found, _ := s.ConsumeOneTime(ctx, authstore.RouteFor("u"), authstore.HashToken("c"), "password_reset", now); !found {
		t.Error("live token not found after Purge; want found")
	}
}
