// Package auth issues and verifies JWT access tokens and guards net/http
// handlers with them, safely by default.
//
// # Keys
//
// A [Key] has exactly one [Algorithm] (HS256, RS256, ES256, EdDSA and their
// siblings) and a key id (kid) derived from the key itself, so every
// instance that shares a key, and every restart, agrees on it. Weak keys are
// refused when built: HMAC secrets shorter than the hash, RSA keys under
// 2048 bits. A [KeySet] holds the signing key and verify-only older keys, so
// keys rotate without failing a request, and serves the public keys as a JWK
// Set.
//
// # Tokens
//
// [New] builds an [Auth] from functional options; the issuer and audience
// are required. [Auth.Issue] signs an access token with typ "at+jwt", a kid,
// iss, aud, sub, iat, exp and a random jti. [Auth.Verify] is strict: the
// algorithm comes from the key that kid names, never from the header;
// "none", unknown kids, jku, x5u, x5c, jwk and crit are refused; exp, iat,
// iss, aud, sub and jti are required; dates are range-checked; a token over
// the size cap is refused before any decoding. Every failure matches a
// sentinel error with [errors.Is]: the classes [ErrNoToken],
// [ErrInvalidToken], [ErrForbidden] and [ErrUnavailable], and precise ones
// such as [ErrTokenExpired] or [ErrTokenSignature].
//
// # Middleware
//
// [Auth.Require], [Auth.Optional], [Auth.RequireRole] and
// [Auth.RequireScope] have the form func(http.Handler) http.Handler and work
// with the standard [http.ServeMux] or any router. Handlers read the claims
// with [ClaimsFromContext]. Refusals follow one JSON shape, {"error",
// "code"}, with RFC 6750 WWW-Authenticate headers (see [WriteError]); one
// option, [WithErrorHandler], hands them to the application instead.
//
// # Revocation
//
// A [RevocationChecker] is consulted after every successful verification
// (a jti denylist, a per-user cutoff). When it fails the request is refused
// with [ErrUnavailable] (HTTP 503): the library fails closed.
package auth
