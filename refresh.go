package auth

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/jwtkit/auth/audit"
	"github.com/jwtkit/auth/authstore"
)

// maxRotateAttempts bounds how often [Auth.Refresh] judges a token again
// after losing a race to another rotation of the same session.
const maxRotateAttempts = 8

// ClaimsLoader returns the current claims of userID at each refresh, so that
// a role change or a disabled account takes effect at the next refresh. It
// returns [ErrUserNotFound] for a user that is gone or may no longer sign
// in: the refresh then revokes the session. Any other error is a system
// failure: the refresh fails with [ErrUnavailable] and nothing changes.
// Subject is set from userID whatever the loader returns.
type ClaimsLoader func(ctx context.Context, userID string) (Claims, error)

// Tokens are what a sign-in or a refresh hands out: an access token and
// the session's new refresh token.
type Tokens struct {
	// Access is the new access token.
	Access *AccessToken
	// RefreshToken is the new opaque refresh token: give it to the client
	// (in an HttpOnly cookie or the response body) and never log it.
	RefreshToken string
	// RefreshExpiresAt is when RefreshToken expires unless rotated first.
	RefreshExpiresAt time.Time
	// SessionID identifies the session in events and session lists.
	SessionID string
	// DeviceToken, set by [Auth.Login] only, is the client's new device
	// token, valid until DeviceExpiresAt: give it to the client as
	// [Auth.WriteTokens] does, and never log it.
	DeviceToken     string
	DeviceExpiresAt time.Time
}

// parseRefreshToken checks the shape of a presented token and returns its
// routing key and hash.
func parseRefreshToken(token string) (string, authstore.TokenHash, bool) {
	if len(token) != refreshTokenLen {
		return "", authstore.TokenHash{}, false
	}
	for i := 0; i < len(token); i++ {
		if !b64urlAlphabet[token[i]] {
			return "", authstore.TokenHash{}, false
		}
	}
	return token[:authstore.RouteLen], authstore.HashToken(token), true
}

// StartSession starts a session for a user whose credentials the
// application has just checked: it issues an access token for c (see
// [Auth.Issue]) and the first refresh token of a new session. client
// describes the client for session lists. A store failure returns an error
// matching [ErrUnavailable] and issues nothing.
func (a *Auth) StartSession(ctx context.Context, c Claims, client Client) (*Tokens, error) {
	id, err := uuid.NewRandomFromReader(a.cfg.random)
	if err != nil {
		return nil, fmt.Errorf("auth: session id: %w", err)
	}
	c.SessionID = id.String()
	at, err := a.Issue(ctx, c)
	if err != nil {
		return nil, err
	}
	client = client.clipped()
	sess := a.newSession(c.SessionID, c.Subject, at.Claims.IssuedAt, client)
	tok, rec, err := a.newRefreshRecord(&sess, at.Claims.IssuedAt)
	if err != nil {
		return nil, err
	}
	if err := a.cfg.refreshStore.CreateSession(ctx, sess, rec); err != nil {
		return nil, unavailable("create session", err)
	}
	a.emit(ctx, audit.Event{Kind: audit.SessionStarted, Time: sess.CreatedAt, UserID: sess.UserID, SessionID: sess.ID, UserAgent: client.UserAgent, Address: client.Address})
	return &Tokens{Access: at, RefreshToken: tok, RefreshExpiresAt: rec.ExpiresAt, SessionID: sess.ID}, nil
}

// newSession returns the new session id of userID started at now.
func (a *Auth) newSession(id, userID string, now time.Time, client Client) authstore.Session {
	return authstore.Session{
		ID:          id,
		UserID:      userID,
		CreatedAt:   now,
		ExpiresAt:   now.Add(a.cfg.sessionTTL),
		RefreshedAt: now,
		UserAgent:   client.UserAgent,
		Address:     client.Address,
	}
}

// newRefreshRecord returns a new refresh token of sess issued at issued,
// and its record: it lives the refresh lifetime, never past the session.
func (a *Auth) newRefreshRecord(sess *authstore.Session, issued time.Time) (string, authstore.RefreshRecord, error) {
	tok, err := newRefreshToken(a.cfg.random, sess.UserID)
	if err != nil {
		return "", authstore.RefreshRecord{}, err
	}
	return tok, authstore.RefreshRecord{
		Hash:      authstore.HashToken(tok),
		SessionID: sess.ID,
		UserID:    sess.UserID,
		IssuedAt:  issued,
		ExpiresAt: minTime(issued.Add(a.cfg.refreshTTL), sess.ExpiresAt),
	}, nil
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

// Refresh rotates the refresh token: it returns a new access token, with
// claims reloaded through the [ClaimsLoader], and a successor refresh token
// in the same session, and the presented token stops working.
//
// It refuses, with an error matching [ErrInvalidRefreshToken], a token that
// is malformed or unknown ([ErrRefreshTokenUnknown]), expired or past its
// session's absolute lifetime ([ErrRefreshTokenExpired]), or revoked
// ([ErrRefreshTokenRevoked]). Presenting a token that was already rotated
// is theft or a replay: the whole session is revoked, the legitimate
// holder's newest token included, an [audit.ReuseDetected] event is emitted and
// the error matches [ErrRefreshTokenReused]. Within the grace window
// ([WithReuseGrace]) the immediate predecessor of the newest token may be
// presented again while the newest is still unused: that yields a fresh
// successor and the unused one stops working, so a session never has two
// live tokens.
//
// A store or loader failure returns an error matching [ErrUnavailable] and
// issues nothing: the presented token keeps its state. Without
// [WithClaimsLoader] it returns an error matching [ErrConfig].
func (a *Auth) Refresh(ctx context.Context, token string, client Client) (*Tokens, error) {
	if o := a.cfg.observer; o != nil {
		ctx, done := o(ctx, "refresh")
		t, err := a.refresh(ctx, token, client)
		done(err)
		return t, err
	}
	return a.refresh(ctx, token, client)
}

// refresh is Refresh without the observer.
func (a *Auth) refresh(ctx context.Context, token string, client Client) (*Tokens, error) {
	if a.cfg.claimsLoader == nil {
		return nil, errNoClaimsLoader
	}
	route, h, ok := parseRefreshToken(token)
	if !ok {
		return nil, ErrRefreshTokenUnknown
	}
	client = client.clipped()
	for attempt := 0; attempt < maxRotateAttempts; attempt++ {
		rec, sess, expect, err := a.judge(ctx, route, h, client)
		if err != nil {
			return nil, err
		}
		key := "refresh:sess:" + sess.ID
		now := a.cfg.now()
		wait, err := a.cfg.refreshLimit.Check(ctx, key, now)
		if err != nil {
			return nil, unavailable("refresh throttle", err)
		}
		if wait > 0 {
			return nil, &throttledError{wait: wait}
		}
		t, err := a.rotate(ctx, route, h, expect, &rec, &sess, client)
		if err == nil && t != nil {
			// The rotation is done: a throttle failure now must not lose
			// the new token, so it is logged, not returned.
			if _, err := a.cfg.refreshLimit.Fail(ctx, key, now); err != nil {
				a.logWarn(ctx, "auth: refresh throttle not recorded", err)
			}
		}
		if err != nil || t != nil {
			return t, err
		}
		// Another rotation of the session won the race: judge again.
	}
	return nil, fmt.Errorf("%w: refresh token contended", ErrUnavailable)
}

// judge looks up the presented token and decides whether it may be
// rotated: it returns its record and session, and the unused successor
// that a replay within the grace window replaces (the zero hash for a
// normal rotation). A replay outside the grace window revokes the session.
func (a *Auth) judge(ctx context.Context, route string, h authstore.TokenHash, client Client) (authstore.RefreshRecord, authstore.Session, authstore.TokenHash, error) {
	var none authstore.TokenHash
	rec, sess, found, err := a.cfg.refreshStore.Lookup(ctx, route, h)
	switch {
	case err != nil:
		return rec, sess, none, unavailable("refresh lookup", err)
	case !found || authstore.RouteFor(rec.UserID) != route:
		return rec, sess, none, ErrRefreshTokenUnknown
	case !sess.RevokedAt.IsZero():
		return rec, sess, none, ErrRefreshTokenRevoked
	}
	now := a.cfg.now().Truncate(time.Microsecond)
	if !now.Before(rec.ExpiresAt) || !now.Before(sess.ExpiresAt) {
		return rec, sess, none, ErrRefreshTokenExpired
	}
	if !rec.Used() {
		return rec, sess, none, nil
	}
	expect, err := a.graceSuccessor(ctx, route, &rec, now)
	if err != nil {
		return rec, sess, none, err
	}
	if expect == none {
		return rec, sess, none, a.reuseDetected(ctx, &sess, now, client)
	}
	return rec, sess, expect, nil
}

// rotate reloads the user's claims, issues the next tokens and swaps the
// presented token for the next one in the store. It returns nil tokens
// and a nil error when another rotation changed the session first.
func (a *Auth) rotate(ctx context.Context, route string, h, expect authstore.TokenHash, rec *authstore.RefreshRecord, sess *authstore.Session, client Client) (*Tokens, error) {
	c, err := a.reloadClaims(ctx, rec.UserID, sess, client)
	if err != nil {
		return nil, err
	}
	at, err := a.Issue(ctx, c)
	if err != nil {
		return nil, err
	}
	next, nextRec, err := a.newRefreshRecord(sess, at.Claims.IssuedAt)
	if err != nil {
		return nil, err
	}
	swapped, err := a.cfg.refreshStore.Rotate(ctx, route, h, expect, nextRec)
	if err != nil {
		return nil, unavailable("rotate", err)
	}
	if !swapped {
		return nil, nil
	}
	ev := audit.Event{Kind: audit.Rotated, Time: nextRec.IssuedAt, UserID: sess.UserID, SessionID: sess.ID, UserAgent: client.UserAgent, Address: client.Address}
	if expect != (authstore.TokenHash{}) {
		ev.Reason = "grace"
	}
	a.emit(ctx, ev)
	return &Tokens{Access: at, RefreshToken: next, RefreshExpiresAt: nextRec.ExpiresAt, SessionID: sess.ID}, nil
}

// reloadClaims returns the current claims of userID through the claims
// loader; a user that is gone has the session revoked.
func (a *Auth) reloadClaims(ctx context.Context, userID string, sess *authstore.Session, client Client) (Claims, error) {
	c, err := a.cfg.claimsLoader(ctx, userID)
	if errors.Is(err, ErrUserNotFound) {
		now := a.cfg.now()
		if _, err := a.cfg.refreshStore.RevokeSession(ctx, sess.UserID, sess.ID, now); err != nil {
			return Claims{}, unavailable("revoke session", err)
		}
		if err := a.denySession(ctx, sess.UserID, sess.ID, now); err != nil {
			return Claims{}, err
		}
		a.emit(ctx, audit.Event{Kind: audit.SessionRevoked, Time: now, UserID: sess.UserID, SessionID: sess.ID, Reason: "user_not_found", UserAgent: client.UserAgent, Address: client.Address})
		return Claims{}, ErrRefreshTokenRevoked
	}
	if err != nil {
		return Claims{}, unavailable("load claims", err)
	}
	c.Subject, c.SessionID = userID, sess.ID
	return c, nil
}

// graceSuccessor returns the successor that a replay of rec may replace
// within the grace window, or the zero hash when the replay is reuse.
func (a *Auth) graceSuccessor(ctx context.Context, route string, rec *authstore.RefreshRecord, now time.Time) (authstore.TokenHash, error) {
	if a.cfg.reuseGrace <= 0 || !rec.HasSuccessor() || now.Sub(rec.UsedAt) > a.cfg.reuseGrace {
		return authstore.TokenHash{}, nil
	}
	succ, _, found, err := a.cfg.refreshStore.Lookup(ctx, route, rec.Successor)
	if err != nil {
		return authstore.TokenHash{}, unavailable("refresh lookup", err)
	}
	if !found || succ.Used() {
		return authstore.TokenHash{}, nil
	}
	// A few replays of one predecessor are tabs racing; more are not.
	wait, err := a.cfg.graceLimit.Take(ctx, "grace:"+hex.EncodeToString(rec.Hash[:]), now)
	if err != nil {
		return authstore.TokenHash{}, unavailable("grace replays", err)
	}
	if wait > 0 {
		return authstore.TokenHash{}, nil
	}
	return rec.Successor, nil
}

// reuseDetected revokes the session of a replayed token.
func (a *Auth) reuseDetected(ctx context.Context, sess *authstore.Session, now time.Time, client Client) error {
	if _, err := a.cfg.refreshStore.RevokeSession(ctx, sess.UserID, sess.ID, now); err != nil {
		return unavailable("revoke reused session", err)
	}
	if err := a.denySession(ctx, sess.UserID, sess.ID, now); err != nil {
		return err
	}
	a.emit(ctx, audit.Event{Kind: audit.ReuseDetected, Time: now, UserID: sess.UserID, SessionID: sess.ID, Reason: "reuse", UserAgent: client.UserAgent, Address: client.Address})
	return ErrRefreshTokenReused
}

// RevokeRefreshToken revokes the session of a refresh token, all its
// tokens at once: logout. It is idempotent: a malformed, unknown or already revoked
// token is not an error. Only a store failure is ([ErrUnavailable]).
func (a *Auth) RevokeRefreshToken(ctx context.Context, token string) error {
	route, h, ok := parseRefreshToken(token)
	if !ok {
		return nil
	}
	rec, sess, found, err := a.cfg.refreshStore.Lookup(ctx, route, h)
	if err != nil {
		return unavailable("refresh lookup", err)
	}
	if !found || !sess.RevokedAt.IsZero() {
		return nil
	}
	return a.RevokeSession(ctx, rec.UserID, rec.SessionID)
}

// RevokeSession revokes the session sessionID of userID, as a "sign out
// this device" button does: its refresh tokens die, and so do its access
// tokens (their sid is denied in the revocation store). An unknown session,
// or one of another user, is not an error and changes nothing.
func (a *Auth) RevokeSession(ctx context.Context, userID, sessionID string) error {
	_, err := a.revokeSession(ctx, userID, sessionID)
	return err
}

// revokeSession is [Auth.RevokeSession], reporting whether userID has the
// session.
func (a *Auth) revokeSession(ctx context.Context, userID, sessionID string) (bool, error) {
	now := a.cfg.now()
	found, err := a.cfg.refreshStore.RevokeSession(ctx, userID, sessionID, now)
	if err != nil {
		return false, unavailable("revoke session", err)
	}
	if !found {
		return false, nil
	}
	if err := a.denySession(ctx, userID, sessionID, now); err != nil {
		return true, err
	}
	a.emit(ctx, audit.Event{Kind: audit.SessionRevoked, Time: now, UserID: userID, SessionID: sessionID, Reason: "logout"})
	return true, nil
}

// denySession refuses, from now on, every access token of the session
// sessionID issued so far: their sid is denied in the revocation store for
// as long as one of them can live. A read-only revocation check cannot
// record it: then the session's access tokens live out their lifetime.
func (a *Auth) denySession(ctx context.Context, userID, sessionID string, now time.Time) error {
	rs, ok := a.cfg.revocation.(authstore.RevocationStore)
	if !ok {
		return nil
	}
	if err := rs.Deny(ctx, userID, sessionID, now.Add(a.cfg.accessTTL+time.Second)); err != nil {
		return unavailable("deny session", err)
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
	if err := rs.Deny(ctx, c.Subject, c.ID, c.ExpiresAt); err != nil {
		return unavailable("deny access token", err)
	}
	a.emit(ctx, audit.Event{Kind: audit.AccessTokenRevoked, UserID: c.Subject})
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
	a.emit(ctx, audit.Event{Kind: audit.UserRevoked, Time: cut, UserID: userID, Reason: fmt.Sprintf("%d sessions", n)})
	// Return only once the clock has passed the cutoff (a microsecond at
	// most), so that a sign-in that starts after RevokeUser returned, a new
	// session of a password change say, issues tokens at or after it.
	if d := cut.Sub(a.cfg.now()); d > 0 {
		time.Sleep(d)
	}
	return nil
}
