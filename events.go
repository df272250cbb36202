package auth

import (
	"context"
	"log/slog"

	"github.com/jwtkit/auth/audit"
)

// emit delivers ev to the event handler and the logger.
func (a *Auth) emit(ctx context.Context, ev audit.Event) {
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
}
