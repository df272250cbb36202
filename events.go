package auth

import (
	"context"
	"log/slog"
	"time"
)

// EventKind names a security event.
type EventKind string

// The events the library emits. None carries a token or a password; a
// session is identified by its family id.
const (
	// EventFamilyCreated: a session started (a refresh-token family).
	EventFamilyCreated EventKind = "family_created"
	// EventRotated: a refresh token was rotated. Reason is "grace" when the
	// immediate predecessor was presented within the grace window.
	EventRotated EventKind = "refresh_rotated"
	// EventReuseDetected: an already-rotated refresh token was presented;
	// the family has been revoked.
	EventReuseDetected EventKind = "refresh_reuse_detected"
	// EventFamilyRevoked: a session was revoked; Reason says why ("logout",
	// "reuse", "user_not_found", "revoked").
	EventFamilyRevoked EventKind = "family_revoked"
	// EventUserRevoked: every session and access token of a user was
	// revoked (logout everywhere, a deleted account).
	EventUserRevoked EventKind = "user_revoked"
	// EventAccessTokenRevoked: one access token's jti was denied.
	EventAccessTokenRevoked EventKind = "access_token_revoked"
	// EventLoginSucceeded: a login started a session.
	EventLoginSucceeded EventKind = "login_succeeded"
	// EventLoginFailed: a login failed (unknown login or wrong password;
	// UserID is set when the account exists).
	EventLoginFailed EventKind = "login_failed"
	// EventLoginThrottled: a login was refused by throttling.
	EventLoginThrottled EventKind = "login_throttled"
)

// Event is a security event, delivered to the handler of [WithEvents] and
// logged at info level by the logger of [WithLogger].
type Event struct {
	Kind     EventKind
	Time     time.Time
	UserID   string
	FamilyID string
	Reason   string
	// Client describes the request's client when known.
	Client Client
}

// Client describes the client of a session for "your sessions" screens
// and events. Both fields may be empty.
type Client struct {
	UserAgent string
	Address   string
}

// maxClientField bounds the client details kept with a session.
const maxClientField = 256

func (c Client) clipped() Client {
	if len(c.UserAgent) > maxClientField {
		c.UserAgent = c.UserAgent[:maxClientField]
	}
	if len(c.Address) > maxClientField {
		c.Address = c.Address[:maxClientField]
	}
	return c
}

// emit delivers ev to the event handler and the logger.
func (a *Auth) emit(ctx context.Context, ev Event) {
	if ev.Time.IsZero() {
		ev.Time = a.cfg.now()
	}
	if h := a.cfg.events; h != nil {
		h(ctx, ev)
	}
	if l := a.cfg.logger; l != nil && l.Enabled(ctx, slog.LevelInfo) {
		attrs := []slog.Attr{slog.String("event", string(ev.Kind))}
		if ev.UserID != "" {
			attrs = append(attrs, slog.String("user_id", ev.UserID))
		}
		if ev.FamilyID != "" {
			attrs = append(attrs, slog.String("family_id", ev.FamilyID))
		}
		if ev.Reason != "" {
			attrs = append(attrs, slog.String("reason", ev.Reason))
		}
		if ev.Client.Address != "" {
			attrs = append(attrs, slog.String("client_addr", ev.Client.Address))
		}
		l.LogAttrs(ctx, slog.LevelInfo, "auth: "+string(ev.Kind), attrs...)
	}
}
