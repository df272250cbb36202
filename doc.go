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
// # Other services
//
// A service that only verifies gives [WithKeySource] a [RemoteKeySet]: it
// fetches the issuer's JWK Set from one configured URL (never from a
// token), caches it within bounds, refreshes it in the background
// ([RemoteKeySet.Start]), refetches at most once per cooldown for an
// unknown kid, keeps the last good set when a fetch fails, and takes each
// key's algorithm from its JWK's alg, which must fit the key.
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
// # Sessions and refresh tokens
//
// [Auth.StartSession] issues an access token and the first opaque refresh
// token of a new family; [Auth.Refresh] rotates it, reloading the claims
// through a [ClaimsLoader]. Presenting a token that was already rotated
// revokes the whole family ([ErrRefreshTokenReused]); a grace window
// ([WithReuseGrace]) tolerates two tabs refreshing at once. Tokens are kept
// only as SHA-256 hashes in a [RefreshStore]: the [MemoryStore] by default,
// or one of the PostgreSQL, SQLite and Redis stores of the sqlstore and
// redisstore modules, or the application's own, checked with the
// conformance suite of package authtest.
//
// # Revocation
//
// A [RevocationChecker] is consulted after every successful verification:
// [Auth.RevokeAccessToken] denies one jti until it expires, and
// [Auth.RevokeUser] sets a per-user cutoff and revokes every session. When
// the check fails the request is refused with [ErrUnavailable] (HTTP 503):
// the library fails closed.
//
// # Login and browser flows
//
// [Auth.Login] throttles attempts per account and per client address
// ([Throttle]), checks the password with bcrypt ([Passwords]) at the same
// cost for unknown users, and starts a session. [Auth.RefreshHandler],
// [Auth.LogoutHandler] and [Auth.LogoutAllHandler] serve the refresh-token
// routes; [Auth.WriteSession] answers with the tokens and the HttpOnly
// refresh cookie; [Auth.CrossOriginProtection] refuses cross-origin browser
// requests. Every security event is a structured [Event].
package auth
