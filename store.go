package auth

import (
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"reflect"
	"time"

	"github.com/jwtkit/auth/authstore"
)

// How the library uses its stores (package authstore holds their
// contracts). A refresh token is its user's routing key followed by 256
// random bits, all base64url; the store keeps only its SHA-256.

const (
	refreshSecretBytes = 32
	refreshTokenLen    = authstore.RouteLen + 43 // base64url of 32 bytes has 43 characters
)

// newRefreshToken returns a token for userID: its routing key followed by
// 256 random bits, all base64url.
func newRefreshToken(r io.Reader, userID string) (string, error) {
	var secret [refreshSecretBytes]byte
	if _, err := io.ReadFull(r, secret[:]); err != nil {
		return "", fmt.Errorf("auth: refresh token: %w", err)
	}
	return authstore.RouteFor(userID) + base64.RawURLEncoding.EncodeToString(secret[:]), nil
}

// Sessions returns the live sessions of userID, newest first, for a "your
// sessions" screen.
func (a *Auth) Sessions(ctx context.Context, userID string) ([]authstore.Session, error) {
	list, err := a.cfg.refreshStore.Sessions(ctx, userID, a.cfg.now())
	if err != nil {
		return nil, unavailable("list sessions", err)
	}
	return list, nil
}

// purgeBatch is the batch size of [Auth.Purge].
const purgeBatch = 1000

// purger is what both store contracts share: deleting, in batches, what
// can never be honoured again.
type purger interface {
	Purge(ctx context.Context, now time.Time, limit int) (int, error)
}

// Purge deletes expired and revoked sessions from the refresh store, and
// stale entries from the revocation store when it is another store, in
// batches of 1000, and returns how many items it deleted. Run it
// periodically (every few minutes, on one instance or on all: it is
// idempotent).
func (a *Auth) Purge(ctx context.Context) (int, error) {
	stores := []purger{a.cfg.refreshStore}
	if p, ok := a.cfg.revocation.(authstore.RevocationStore); ok && !sameValue(p, a.cfg.refreshStore) {
		stores = append(stores, p)
	}
	total := 0
	for _, s := range stores {
		for {
			n, err := s.Purge(ctx, a.cfg.now(), purgeBatch)
			total += n
			if err != nil {
				return total, unavailable("purge", err)
			}
			if n < purgeBatch {
				break
			}
		}
	}
	return total, nil
}

// sameValue reports whether x and y are the same value, without panicking
// on types that == cannot compare.
func sameValue(x, y any) bool {
	if reflect.TypeOf(x) != reflect.TypeOf(y) || !reflect.TypeOf(x).Comparable() {
		return false
	}
	return x == y
}

// revocationStore returns the revocation store that logout and logout
// everywhere record their revocations in.
func (a *Auth) revocationStore() (authstore.RevocationStore, error) {
	rs, ok := a.cfg.revocation.(authstore.RevocationStore)
	if !ok {
		return nil, fmt.Errorf("%w: WithRevocation: the revocation check cannot record revocations; give it an authstore.RevocationStore", ErrConfig)
	}
	return rs, nil
}
