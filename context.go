package auth

import "context"

// claimsKey is the context key for verified claims.
type claimsKey struct{}

// NewContext returns a copy of ctx carrying c. The middleware calls it; tests
// of handlers can too.
func NewContext(ctx context.Context, c *Claims) context.Context {
	return context.WithValue(ctx, claimsKey{}, c)
}

// ClaimsFromContext returns the verified claims the middleware attached to
// ctx, and false when there are none (no middleware, or an anonymous request
// through [Auth.Optional]).
func ClaimsFromContext(ctx context.Context) (*Claims, bool) {
	c, ok := ctx.Value(claimsKey{}).(*Claims)
	return c, ok && c != nil
}
