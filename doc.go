// Package auth issues and verifies JWT access tokens, keeps sign-ins alive
// with rotating refresh tokens, and guards net/http handlers, safely by
// default.
//
// # Words
//
// A session is one sign-in and its chain of refresh tokens; revoking it
// kills all of them at once. Tokens ([Tokens]) are what a sign-in or a
// refresh hands out: a short-lived access token (a JWT) and the session's
// new opaque refresh token.
//
// # Keys
//
// A [Key] has exactly one [Algorithm] (HS256, RS256, ES256, EdDSA and their
// siblings) and a key id (kid) derived from the key itself, so every
// instance that shares a key, and every restart, agrees on it. Weak keys are
// refused when built: HMAC secrets shorter than the hash, RSA keys under
// 2048 bits. A [KeySet] holds the signing key and verify-only older keys, so
// keys rotate without failing a request, and serves the public keys as a JWK
// Set ([KeySet.ServeHTTP]).
//
// # Tokens
//
// [New] builds an [Auth] from functional options; the issuer and audience
// are required, and every option refuses a value out of its range with an
// error that names it. [Auth.Issue] signs an access token with typ
// "at+jwt", a kid, iss, aud, sub, iat, exp (exactly iat plus the lifetime)
// and a random jti. [Auth.Verify] is strict: the algorithm comes from the
// key that kid names, never from the header; "none", unknown kids, jku,
// x5u, x5c, jwk and crit are refused; exp, iat, iss, aud, sub and jti are
// required; dates are range-checked; a token over the size cap is refused
// before any decoding. Every failure matches one class with [errors.Is]
// ([ErrNoToken], [ErrInvalidToken], [ErrForbidden], [ErrUnavailable], ...)
// and often a precise sentinel such as [ErrTokenExpired]; [ErrorStatus] and
// [ErrorCode] give its HTTP answer.
//
// A service that only verifies gives [WithKeySource] the issuer's JWK Set
// through package github.com/jwtkit/auth/jwks.
//
// Tokens of another identity provider (Keycloak, Auth0, Microsoft Entra ID)
// are verified with a [Profile] ([WithProfile]) that says where their scopes
// and roles are; package github.com/jwtkit/auth/oidc finds the provider's
// keys from its issuer URL and has their profiles.
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
// [Auth.Login] (or [Auth.StartSession], after the application checked the
// credentials itself) starts a session; [Auth.Refresh] rotates its refresh
// token, reloading the claims through a [ClaimsLoader]. Presenting a token
// that was already rotated revokes the whole session
// ([ErrRefreshTokenReused]); a grace window ([WithReuseGrace]) tolerates two
// tabs refreshing at once. [Auth.Sessions] lists a user's sessions and
// [Auth.RevokeSession] ends one. Refresh tokens are kept only as SHA-256
// hashes in a store whose contract is package
// github.com/jwtkit/auth/authstore: in memory by default
// (github.com/jwtkit/auth/memstore), or PostgreSQL, SQLite and Redis
// through the sqlstore and redisstore modules, or the application's own,
// checked with the conformance suite of package
// github.com/jwtkit/auth/authtest.
//
// # Revocation
//
// A revocation check is consulted after every successful verification:
// [Auth.RevokeAccessToken] denies one token until it expires, and
// [Auth.RevokeUser] sets a per-user cutoff and revokes every session. When
// the check fails the request is refused with [ErrUnavailable] (HTTP 503):
// the library fails closed.
//
// # Login and browser flows
//
// [Auth.Login] throttles attempts per account and per client address,
// checks the password (package github.com/jwtkit/auth/password) at the same
// cost for unknown users, and starts a session. [Auth.RefreshHandler],
// [Auth.LogoutHandler] and [Auth.LogoutAllHandler] serve the refresh-token
// routes; [Auth.WriteTokens] answers with the tokens and the HttpOnly
// refresh cookie; [Auth.CrossOriginProtection] refuses cross-origin browser
// requests. Every security event goes to [WithEvents] and [WithLogger] (see
// package github.com/jwtkit/auth/audit).
package auth
