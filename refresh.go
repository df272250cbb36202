package auth

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"reflect"
	"time"

	"github.com/google/uuid"
)

// Refresh-token defaults and limits.
const (
	// DefaultRefreshTTL is the default lifetime of each refresh token,
	// renewed at every rotation (sliding).
	DefaultRefreshTTL = 7 * 24 * time.Hour
	// DefaultFamilyTTL is the default absolute lifetime of a session: after
	// it, the user must sign in again however often the token was rotated.
	DefaultFamilyTTL = 30 * 24 * time.Hour
	// MaxReuseGrace is the longest reuse grace window accepted.
	MaxReuseGrace = 5 * time.Minute

	refreshSecretBytes = 32
	refreshTokenLen    = RouteLen + 43 // base64url of 32 bytes has 43 characters
	maxRotateAttempts  = 8
)

// ClaimsLoader returns the current claims of userID at each refresh, so that
// a role change or a disabled account takes effect at the next refresh. It
// returns [ErrUserNotFound] for a user that is gone or may no longer sign
// in: the refresh then revokes the session. Any other error is a system
// failure: the refresh fails with [ErrUnavailable] and nothing changes.
// Subject is set from userID whatever the loader returns.
type ClaimsLoader func(ctx context.Context, userID string) (Claims, error)

// Session is the pair of tokens that starting or refreshing a session
// returns.
type Session struct {
	// Access is the new access token.
	Access *AccessToken
	// RefreshToken is the new opaque refresh token: give it to the client
	// (in an HttpOnly cookie or the response body) and never log it.
	RefreshToken string
	// RefreshExpiresAt is when RefreshToken expires unless rotated first.
	RefreshExpiresAt time.Time
	// FamilyID identifies the session in events and session lists.
	FamilyID string
}

// newRefreshToken returns a token for userID: its routing key followed by
// 256 random bits, all base64url.
func newRefreshToken(r io.Reader, userID string) (string, error) {
	var secret [refreshSecretBytes]byte
	if _, err := io.ReadFull(r, secret[:]); err != nil {
		return "", fmt.Errorf("auth: refresh token: %w", err)
	}
	return RouteFor(userID) + base64.RawURLEncoding.EncodeToString(secret[:]), nil
}

// parseRefreshToken checks the shape of a presented token and returns its
// routing key and hash.
func parseRefreshToken(token string) (string, TokenHash, bool) {
	if len(token) != refreshTokenLen {
		return "", TokenHash{}, false
	}
	for i := 0; i < len(token); i++ {
		if !b64urlAlphabet[token[i]] {
			return "", TokenHash{}, false
		}
	}
	return token[:RouteLen], HashRefreshToken(token), true
}

// StartSession starts a session for a user whose credentials the
// application has just checked: it issues an access token for c (see
// [Auth.Issue]) and the first refresh token of a new family. client
// describes the client for session lists. A store failure returns an error
// matching [ErrUnavailable] and issues nothing.
func (a *Auth) StartSession(ctx context.Context, c Claims, client Client) (*Session, error) {
	at, err := a.Issue(ctx, c)
	if err != nil {
		return nil, err
	}
	now := at.Claims.IssuedAt
	tok, err := newRefreshToken(a.cfg.random, c.Subject)
	if err != nil {
		return nil, err
	}
	fid, err := uuid.NewRandomFromReader(a.cfg.random)
	if err != nil {
		return nil, fmt.Errorf("auth: family id: %w", err)
	}
	client = client.clipped()
	fam := Family{
		ID:          fid.String(),
		UserID:      c.Subject,
		CreatedAt:   now,
		ExpiresAt:   now.Add(a.cfg.familyTTL),
		RefreshedAt: now,
		UserAgent:   client.UserAgent,
		Address:     client.Address,
	}
	rec := RefreshRecord{
		Hash:      HashRefreshToken(tok),
		FamilyID:  fam.ID,
		UserID:    c.Subject,
		IssuedAt:  now,
		ExpiresAt: minTime(now.Add(a.cfg.refreshTTL), fam.ExpiresAt),
	}
	if err := a.cfg.refreshStore.CreateFamily(ctx, fam, rec); err != nil {
		return nil, unavailable("create session", err)
	}
	a.emit(ctx, Event{Kind: EventFamilyCreated, Time: now, UserID: fam.UserID, FamilyID: fam.ID, Client: client})
	return &Session{Access: at, RefreshToken: tok, RefreshExpiresAt: rec.ExpiresAt, FamilyID: fam.ID}, nil
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

// Refresh rotates the refresh token: it returns a new access token, with
// claims reloaded through the [ClaimsLoader], and a successor refresh token
// in the same family, and the presented token stops working.
//
// It refuses, with an error matching [ErrInvalidRefreshToken], a token that
// is malformed or unknown ([ErrRefreshTokenUnknown]), expired or past its
// family's absolute lifetime ([ErrRefreshTokenExpired]), or revoked
// ([ErrRefreshTokenRevoked]). Presenting a token that was already rotated
// is theft or a replay: the whole family is revoked, the legitimate holder's
// newest token included, an [EventReuseDetected] is emitted and the error
// matches [ErrRefreshTokenReused]. Within the grace window
// ([WithReuseGrace]) the immediate predecessor of the newest token may be
// presented again while the newest is still unused: that yields a fresh
// successor and the unused one stops working, so a family never has two
// live tokens.
//
// A store or loader failure returns an error matching [ErrUnavailable] and
// issues nothing: the presented token keeps its state.
func (a *Auth) Refresh(ctx context.Context, token string, client Client) (*Session, error) {
	if a.cfg.claimsLoader == nil {
		return nil, fmt.Errorf("%w: refresh needs a claims loader (WithClaimsLoader)", ErrConfig)
	}
	route, h, ok := parseRefreshToken(token)
	if !ok {
		return nil, ErrRefreshTokenUnknown
	}
	client = client.clipped()
	store := a.cfg.refreshStore
	for attempt := 0; attempt < maxRotateAttempts; attempt++ {
		rec, fam, found, err := store.Lookup(ctx, route, h)
		if err != nil {
			return nil, unavailable("refresh lookup", err)
		}
		if !found || RouteFor(rec.UserID) != route {
			return nil, ErrRefreshTokenUnknown
		}
		now := a.cfg.now().Truncate(time.Microsecond)
		if !fam.RevokedAt.IsZero() {
			return nil, ErrRefreshTokenRevoked
		}
		if !now.Before(rec.ExpiresAt) || !now.Before(fam.ExpiresAt) {
			return nil, ErrRefreshTokenExpired
		}
		var expect TokenHash
		if rec.Used() {
			if expect, err = a.graceSuccessor(ctx, route, &rec, now); err != nil {
				return nil, err
			}
			if expect == (TokenHash{}) {
				return nil, a.reuseDetected(ctx, &fam, now, client)
			}
		}
		c, err := a.cfg.claimsLoader(ctx, rec.UserID)
		if errors.Is(err, ErrUserNotFound) {
			if _, err := store.RevokeFamily(ctx, fam.UserID, fam.ID, now); err != nil {
				return nil, unavailable("revoke session", err)
			}
			a.emit(ctx, Event{Kind: EventFamilyRevoked, Time: now, UserID: fam.UserID, FamilyID: fam.ID, Reason: "user_not_found", Client: client})
			return nil, ErrRefreshTokenRevoked
		}
		if err != nil {
			return nil, unavailable("load claims", err)
		}
		c.Subject = rec.UserID
		at, err := a.Issue(ctx, c)
		if err != nil {
			return nil, err
		}
		next, err := newRefreshToken(a.cfg.random, rec.UserID)
		if err != nil {
			return nil, err
		}
		issued := at.Claims.IssuedAt
		nextRec := RefreshRecord{
			Hash:      HashRefreshToken(next),
			FamilyID:  fam.ID,
			UserID:    fam.UserID,
			IssuedAt:  issued,
			ExpiresAt: minTime(issued.Add(a.cfg.refreshTTL), fam.ExpiresAt),
		}
		swapped, err := store.Rotate(ctx, route, h, expect, nextRec)
		if err != nil {
			return nil, unavailable("rotate", err)
		}
		if !swapped {
			continue // someone else changed the family first: judge again
		}
		ev := Event{Kind: EventRotated, Time: issued, UserID: fam.UserID, FamilyID: fam.ID, Client: client}
		if expect != (TokenHash{}) {
			ev.Reason = "grace"
		}
		a.emit(ctx, ev)
		return &Session{Access: at, RefreshToken: next, RefreshExpiresAt: nextRec.ExpiresAt, FamilyID: fam.ID}, nil
	}
	return nil, fmt.Errorf("%w: refresh token contended", ErrUnavailable)
}

// graceSuccessor returns the successor that a replay of rec may replace
// within the grace window, or the zero hash when the replay is reuse.
func (a *Auth) graceSuccessor(ctx context.Context, route string, rec *RefreshRecord, now time.Time) (TokenHash, error) {
	if a.cfg.reuseGrace <= 0 || !rec.HasSuccessor() || now.Sub(rec.UsedAt) > a.cfg.reuseGrace {
		return TokenHash{}, nil
	}
	succ, _, found, err := a.cfg.refreshStore.Lookup(ctx, route, rec.Successor)
	if err != nil {
		return TokenHash{}, unavailable("refresh lookup", err)
	}
	if !found || succ.Used() {
		return TokenHash{}, nil
	}
	return rec.Successor, nil
}

// reuseDetected revokes the family of a replayed token.
func (a *Auth) reuseDetected(ctx context.Context, fam *Family, now time.Time, client Client) error {
	if _, err := a.cfg.refreshStore.RevokeFamily(ctx, fam.UserID, fam.ID, now); err != nil {
		return unavailable("revoke reused session", err)
	}
	a.emit(ctx, Event{Kind: EventReuseDetected, Time: now, UserID: fam.UserID, FamilyID: fam.ID, Reason: "reuse", Client: client})
	return ErrRefreshTokenReused
}

// RevokeRefreshToken revokes the session (the whole family) of a refresh
// token: logout. It is idempotent: a malformed, unknown or already revoked
// token is not an error. Only a store failure is ([ErrUnavailable]).
func (a *Auth) RevokeRefreshToken(ctx context.Context, token string) error {
	route, h, ok := parseRefreshToken(token)
	if !ok {
		return nil
	}
	rec, fam, found, err := a.cfg.refreshStore.Lookup(ctx, route, h)
	if err != nil {
		return unavailable("refresh lookup", err)
	}
	if !found || !fam.RevokedAt.IsZero() {
		return nil
	}
	return a.RevokeSession(ctx, rec.UserID, rec.FamilyID)
}

// RevokeSession revokes the session familyID of userID, as a "sign out this
// device" button does. An unknown session is not an error.
func (a *Auth) RevokeSession(ctx context.Context, userID, familyID string) error {
	now := a.cfg.now()
	found, err := a.cfg.refreshStore.RevokeFamily(ctx, userID, familyID, now)
	if err != nil {
		return unavailable("revoke session", err)
	}
	if found {
		a.emit(ctx, Event{Kind: EventFamilyRevoked, Time: now, UserID: userID, FamilyID: familyID, Reason: "logout"})
	}
	return nil
}

// RevokeAccessToken denies the access token c (a verified token's claims)
// until it expires, on every instance that shares the revocation store.
func (a *Auth) RevokeAccessToken(ctx context.Context, c *Claims) error {
	rs, err := a.revocationStore()
	if err != nil {
		return err
	}
	if err := rs.DenyToken(ctx, c.Subject, c.ID, c.ExpiresAt); err != nil {
		return unavailable("deny access token", err)
	}
	a.emit(ctx, Event{Kind: EventAccessTokenRevoked, UserID: c.Subject})
	return nil
}

// RevokeUser signs userID out everywhere: every session is revoked and
// every access token issued to the user before now stops working. A
// sign-in right after it works. On a store failure it returns an error
// matching [ErrUnavailable]; it is idempotent, so the caller may retry.
func (a *Auth) RevokeUser(ctx context.Context, userID string) error {
	rs, err := a.revocationStore()
	if err != nil {
		return err
	}
	n, err := a.cfg.refreshStore.RevokeUser(ctx, userID, a.cfg.now())
	if err != nil {
		return unavailable("revoke sessions", err)
	}
	// The cutoff is taken after the sessions are revoked, so that a refresh
	// that committed just before them issued its access token before the
	// cutoff; and it is rounded up to the next microsecond, the precision of
	// IssuedAt and of the stores.
	cut := a.cfg.now().Truncate(time.Microsecond).Add(time.Microsecond)
	if err := rs.CutOff(ctx, userID, cut); err != nil {
		return unavailable("access token cutoff", err)
	}
	a.emit(ctx, Event{Kind: EventUserRevoked, Time: cut, UserID: userID, Reason: fmt.Sprintf("%d sessions", n)})
	return nil
}

// Sessions returns the live sessions of userID, newest first.
func (a *Auth) Sessions(ctx context.Context, userID string) ([]Family, error) {
	fams, err := a.cfg.refreshStore.Families(ctx, userID, a.cfg.now())
	if err != nil {
		return nil, unavailable("list sessions", err)
	}
	return fams, nil
}

// purgeBatch is the batch size of [Auth.Purge].
const purgeBatch = 1000

// purger is a store that deletes what can never be honoured again, in
// batches: every [RefreshStore], and revocation stores that keep rows.
type purger interface {
	Purge(ctx context.Context, now time.Time, limit int) (int, error)
}

// Purge deletes expired and revoked sessions from the refresh store, and
// stale entries from the revocation store when it has a Purge method of the
// same form and is another store, in batches of 1000, and returns how many
// items it deleted. Run it periodically (every few minutes, on one instance
// or on all: it is idempotent).
func (a *Auth) Purge(ctx context.Context) (int, error) {
	stores := []purger{a.cfg.refreshStore}
	if p, ok := a.cfg.revocation.(purger); ok && !sameValue(p, a.cfg.refreshStore) {
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

func (a *Auth) revocationStore() (RevocationStore, error) {
	rs, ok := a.cfg.revocation.(RevocationStore)
	if !ok {
		return nil, fmt.Errorf("%w: the revocation check cannot record revocations; give WithRevocation a RevocationStore", ErrConfig)
	}
	return rs, nil
}
