package auth

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"testing"
	"time"

	"github.com/jwtkit/auth/authstore"
)

// BenchmarkRotate measures one refresh-token rotation on the memory store:
// the store's part alone (Lookup, then the Rotate compare-and-swap), and a
// whole Auth.Refresh, which also reloads the claims and signs the new access
// token.
func BenchmarkRotate(b *testing.B) {
	ctx := context.Background()
	b.Run("memory-store", func(b *testing.B) {
		s := newMemStore(b)
		now := time.Now().UTC().Truncate(time.Microsecond)
		tok := func() (string, authstore.TokenHash) {
			var r [32]byte
			_, _ = rand.Read(r[:])
			t := authstore.RouteFor("alice") + base64.RawURLEncoding.EncodeToString(r[:])
			return t, authstore.HashToken(t)
		}
		_, h := tok()
		fam := authstore.Session{ID: "fam-1", UserID: "alice", CreatedAt: now, ExpiresAt: now.Add(defaultSessionTTL), RefreshedAt: now}
		if err := s.CreateSession(ctx, fam, authstore.RefreshRecord{Hash: h, SessionID: fam.ID, UserID: "alice", IssuedAt: now, ExpiresAt: now.Add(defaultRefreshTTL)}); err != nil {
			b.Fatal(err)
		}
		route := authstore.RouteFor("alice")
		b.ReportAllocs()
		for b.Loop() {
			rec, _, found, err := s.Lookup(ctx, route, h)
			if err != nil || !found || rec.Used() {
				b.Fatalf("Lookup = %v, %v, used %v", found, err, rec.Used())
			}
			_, next := tok()
			ok, err := s.Rotate(ctx, route, h, authstore.TokenHash{}, authstore.RefreshRecord{Hash: next, SessionID: fam.ID, UserID: "alice", IssuedAt: now, ExpiresAt: now.Add(defaultRefreshTTL)})
			if err != nil || !ok {
				b.Fatalf("Rotate = %v, %v", ok, err)
			}
			h = next
		}
	})
	for _, alg := range []Algorithm{HS256, EdDSA} {
		b.Run("refresh-"+string(alg), func(b *testing.B) {
			key, err := GenerateKey(nil, alg)
			if err != nil {
				b.Fatal(err)
			}
			ks, _ := NewKeySet(key)
			a, err := New(WithKeys(ks), WithIssuer("iss"), WithAudience("aud"),
				WithClaimsLoader(func(context.Context, string) (Claims, error) { return Claims{Role: "user"}, nil }))
			if err != nil {
				b.Fatal(err)
			}
			s, err := a.StartSession(ctx, Claims{Subject: "alice"}, Client{})
			if err != nil {
				b.Fatal(err)
			}
			tok := s.RefreshToken
			b.ReportAllocs()
			for b.Loop() {
				s, err := a.Refresh(ctx, tok, Client{})
				if err != nil {
					b.Fatal(err)
				}
				tok = s.RefreshToken
			}
		})
	}
}
