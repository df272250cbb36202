package auth

import "context"

// RevocationChecker decides whether a token that is otherwise valid has been
// revoked: a denied jti, or a per-user cutoff ("every token issued to this
// user before now is invalid"). The verifier consults it on every request,
// after the signature and the claims have been checked.
//
// Revoked returns true when the token must be refused, and a non-nil error
// only when it cannot tell (a store is unreachable). The verifier then
// fails closed: the request is refused with [ErrUnavailable] (HTTP 503),
// never let through and never reported as a bad token. A cutoff must compare
// against [Claims.IssuedAt], which has microsecond precision for tokens the
// library issued, so a token issued in the same second just after the
// cutoff stays valid. Revoked must be safe for concurrent use and fast: it
// runs on every authenticated request.
type RevocationChecker interface {
	Revoked(ctx context.Context, c *Claims) (bool, error)
}

// RevocationFunc adapts a function to [RevocationChecker].
type RevocationFunc func(ctx context.Context, c *Claims) (bool, error)

// Revoked calls f(ctx, c).
func (f RevocationFunc) Revoked(ctx context.Context, c *Claims) (bool, error) { return f(ctx, c) }
