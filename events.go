package auth

import (
	"context"

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
	audit.Log(ctx, a.cfg.logger, ev)
}
