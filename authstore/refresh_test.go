package authstore_test

import (
	"crypto/sha256"
	"encoding/base64"
	"testing"
	"time"

	"github.com/jwtkit/auth/authstore"
)

func TestRouteFor(t *testing.T) {
	t.Parallel()
	seen := map[string]string{}
	for _, user := range []string{"", "alice", "bob", "Alice", "alice ", "00000000-0000-4000-8000-000000000000"} {
		r := authstore.RouteFor(user)
		if len(r) != authstore.RouteLen {
			t.Errorf("RouteFor(%q) = %q: %d characters; want %d", user, r, len(r), authstore.RouteLen)
		}
		if _, err := base64.RawURLEncoding.Strict().DecodeString(r); err != nil {
			t.Errorf("RouteFor(%q) = %q: not base64url: %v", user, r, err)
		}
		if other, dup := seen[r]; dup {
			t.Errorf("RouteFor(%q) = RouteFor(%q) = %q; want distinct routes", user, other, r)
		}
		seen[r] = user
		if again := authstore.RouteFor(user); again != r {
			t.Errorf("RouteFor(%q) = %q, then %q; want the same", user, r, again)
		}
		// The route is a labelled digest, never the plain hash of the id.
		plain := sha256.Sum256([]byte(user))
		if r == base64.RawURLEncoding.EncodeToString(plain[:9]) {
			t.Errorf("RouteFor(%q) is the unlabelled SHA-256 of the id", user)
		}
	}
}

func TestHashToken(t *testing.T) {
	t.Parallel()
	const tok = "abcdefghijklmnopqrstuvwxyz"
	if got, want := authstore.HashToken(tok), authstore.TokenHash(sha256.Sum256([]byte(tok))); got != want {
		t.Errorf("HashToken(%q) = %x; want its SHA-256 %x", tok, got, want)
	}
	if authstore.HashToken(tok) == authstore.HashToken(tok+"x") {
		t.Errorf("HashToken of two tokens is the same")
	}
}

func TestSessionLive(t *testing.T) {
	t.Parallel()
	now := time.Date(2030, 6, 15, 10, 30, 0, 0, time.UTC)
	for _, tt := range []struct {
		name string
		s    authstore.Session
		want bool
	}{
		{"live", authstore.Session{ExpiresAt: now.Add(time.Microsecond)}, true},
		{"expires now", authstore.Session{ExpiresAt: now}, false},
		{"expired", authstore.Session{ExpiresAt: now.Add(-time.Hour)}, false},
		{"revoked", authstore.Session{ExpiresAt: now.Add(time.Hour), RevokedAt: now.Add(-time.Second)}, false},
		{"revoked later", authstore.Session{ExpiresAt: now.Add(time.Hour), RevokedAt: now.Add(time.Second)}, false},
	} {
		if got := tt.s.Live(now); got != tt.want {
			t.Errorf("%s: Live = %v; want %v", tt.name, got, tt.want)
		}
	}
}

func TestRefreshRecordState(t *testing.T) {
	t.Parallel()
	now := time.Date(2030, 6, 15, 10, 30, 0, 0, time.UTC)
	next := authstore.HashToken("next")
	for _, tt := range []struct {
		name               string
		r                  authstore.RefreshRecord
		used, hasSuccessor bool
	}{
		{"unused", authstore.RefreshRecord{}, false, false},
		{"rotated", authstore.RefreshRecord{UsedAt: now, Successor: next}, true, true},
		{"superseded", authstore.RefreshRecord{UsedAt: now}, true, false},
	} {
		if got := tt.r.Used(); got != tt.used {
			t.Errorf("%s: Used = %v; want %v", tt.name, got, tt.used)
		}
		if got := tt.r.HasSuccessor(); got != tt.hasSuccessor {
			t.Errorf("%s: HasSuccessor = %v; want %v", tt.name, got, tt.hasSuccessor)
		}
	}
}
