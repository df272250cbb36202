// Package audit describes the security events that packages auth and
// account emit: sign-ins and their failures, session starts, rotations,
// reuse (theft) detection, revocations, password resets and changes, and
// e-mail verification. An application receives them through
// auth.WithEvents, in the goroutine of the request that caused them, and
// auth.WithLogger logs them at info level. No event carries a token, a
// password or a login name.
package audit

import (
	"context"
	"log/slog"
	"time"
)

// Kind names a security event.
type Kind string

// The events package auth emits.
const (
	// SessionStarted: a session started (a sign-in).
	SessionStarted Kind = "session_started"
	// Rotated: a refresh token was rotated. Reason is "grace" when the
	// immediate predecessor was presented within the grace window.
	Rotated Kind = "refresh_rotated"
	// ReuseDetected: an already-rotated refresh token was presented; its
	// session has been revoked. Reason is "reuse".
	ReuseDetected Kind = "refresh_reuse_detected"
	// SessionRevoked: a session was revoked; Reason says why ("logout",
	// "user_not_found").
	SessionRevoked Kind = "session_revoked"
	// UserRevoked: every session and access token of a user was revoked
	// (logout everywhere, a deleted account). Reason counts the sessions.
	UserRevoked Kind = "user_revoked"
	// AccessTokenRevoked: one access token's id (jti) was denied.
	AccessTokenRevoked Kind = "access_token_revoked"
	// LoginSucceeded: a login started a session.
	LoginSucceeded Kind = "login_succeeded"
	// LoginFailed: a login failed (unknown login or wrong password; UserID
	// is set when the account exists).
	LoginFailed Kind = "login_failed"
	// LoginThrottled: a login was refused by throttling.
	LoginThrottled Kind = "login_throttled"
	// ResetRequested: a password-reset link was sent to an account's
	// address (package account). Nothing is emitted for an unknown address.
	ResetRequested Kind = "password_reset_requested"
	// PasswordReset: a password was replaced through a reset link; every
	// session of the user was revoked.
	PasswordReset Kind = "password_reset"
	// PasswordChanged: a signed-in user changed the password; every other
	// session was revoked.
	PasswordChanged Kind = "password_changed"
	// EmailVerified: a verification link confirmed a user's e-mail
	// address.
	EmailVerified Kind = "email_verified"
	// KeyCreated: this instance made the next signing key and added it to
	// the shared key store (package keyrotation). Reason is its kid.
	KeyCreated Kind = "key_created"
	// KeyActivated: this instance started signing with another key of the
	// shared key store. Reason is its kid.
	KeyActivated Kind = "key_activated"
)

// Event is one security event.
type Event struct {
	Kind Kind
	Time time.Time
	// UserID and SessionID identify the user and the session, when known.
	UserID    string
	SessionID string
	// Reason qualifies Kind (see each Kind).
	Reason string
	// UserAgent and Address describe the request's client, when known.
	UserAgent string
	Address   string
}

// Log writes ev to l at info level, as packages auth and account log their
// events: the message "auth: " + Kind, with the user, session, reason and
// client address when set. A nil l logs nothing.
func Log(ctx context.Context, l *slog.Logger, ev Event) {
	if l == nil || !l.Enabled(ctx, slog.LevelInfo) {
		return
	}
	attrs := []slog.Attr{slog.String("event", string(ev.Kind))}
	if ev.UserID != "" {
		attrs = append(attrs, slog.String("user_id", ev.UserID))
	}
	if ev.SessionID != "" {
		attrs = append(attrs, slog.String("session_id", ev.SessionID))
	}
	if ev.Reason != "" {
		attrs = append(attrs, slog.String("reason", ev.Reason))
	}
	if ev.Address != "" {
		attrs = append(attrs, slog.String("client_addr", ev.Address))
	}
	l.LogAttrs(ctx, slog.LevelInfo, "auth: "+string(ev.Kind), attrs...)
}
