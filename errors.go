package auth

import (
	"errors"
)

// kindError is a sentinel error that also matches its class with
// [errors.Is], so callers can test for a whole class ([ErrInvalidToken]) or
// for one precise failure ([ErrTokenSignature]).
type kindError struct {
	msg   string
	class error
}

func (e *kindError) Error() string { return e.msg }

// Is reports whether target is e's class.
func (e *kindError) Is(target error) bool { return e.class != nil && target == e.class }

func kind(msg string, class error) error { return &kindError{msg: msg, class: class} }

// Failure classes. Every error that the verifier, the middleware and the
// refresh flow return matches exactly one of them with [errors.Is].
var (
	// ErrNoToken means the request carried no bearer token at all.
	ErrNoToken = errors.New("auth: no token")
	// ErrInvalidToken is the class of every token that must be refused:
	// malformed, badly signed, of the wrong type, with missing or wrong
	// claims, expired or revoked. The more precise sentinels below all match
	// it too.
	ErrInvalidToken = errors.New("auth: invalid token")
	// ErrUnavailable means the answer depends on a store or key source that
	// failed. The request must be refused (fail closed), but the token was
	// not judged bad: HTTP answers 503.
	ErrUnavailable = errors.New("auth: unavailable")
	// ErrForbidden is the class of authenticated requests that lack a
	// permission.
	ErrForbidden = errors.New("auth: forbidden")
	// ErrInvalidClaims means claims given to [Auth.Issue] cannot be issued:
	// no subject, or Extra claims that are not a JSON object or reuse a
	// reserved name. It is the caller's mistake, not a bad token.
	ErrInvalidClaims = errors.New("auth: claims cannot be issued")
	// ErrConfig is the class of configuration errors returned by
	// constructors: weak keys, empty issuer or audience, bad durations.
	ErrConfig = errors.New("auth: invalid configuration")
)

// Precise token failures; each also matches [ErrInvalidToken].
var (
	// ErrTokenExpired means the token's exp has passed.
	ErrTokenExpired = kind("auth: token expired", ErrInvalidToken)
	// ErrTokenRevoked means a revocation check refused the token.
	ErrTokenRevoked = kind("auth: token revoked", ErrInvalidToken)
	// ErrTokenMalformed means the token is not a well-formed compact JWS
	// with JSON header and claims of the expected types.
	ErrTokenMalformed = kind("auth: malformed token", ErrInvalidToken)
	// ErrTokenTooLarge means the token exceeds the size cap and was refused
	// before any decoding.
	ErrTokenTooLarge = kind("auth: token too large", ErrInvalidToken)
	// ErrTokenUnknownKey means no verification key has the token's kid, or
	// the token has none.
	ErrTokenUnknownKey = kind("auth: unknown key id", ErrInvalidToken)
	// ErrTokenAlgorithm means the header's alg is not the one algorithm of
	// the key named by kid (this includes "none" in any spelling).
	ErrTokenAlgorithm = kind("auth: algorithm not allowed", ErrInvalidToken)
	// ErrTokenHeader means the header carries a member that is never
	// accepted (jku, x5u, x5c, jwk, crit) or a typ other than at+jwt.
	ErrTokenHeader = kind("auth: header not allowed", ErrInvalidToken)
	// ErrTokenSignature means the signature does not verify.
	ErrTokenSignature = kind("auth: signature invalid", ErrInvalidToken)
	// ErrTokenClaims means a required claim is missing or a claim has a wrong
	// value: iss, aud, sub, jti, iat, exp, or an absurd date.
	ErrTokenClaims = kind("auth: invalid claims", ErrInvalidToken)
	// ErrTokenNotYetValid means nbf or iat lies in the future.
	ErrTokenNotYetValid = kind("auth: token not valid yet", ErrInvalidToken)
)

// Precise permission failures; each also matches [ErrForbidden].
var (
	// ErrInsufficientRole means the token's role is not one of those
	// required.
	ErrInsufficientRole = kind("auth: insufficient role", ErrForbidden)
	// ErrInsufficientScope means the token lacks a required scope.
	ErrInsufficientScope = kind("auth: insufficient scope", ErrForbidden)
)

// Configuration failures; each also matches [ErrConfig].
var (
	// ErrWeakKey means a key is too short or too small for its algorithm.
	ErrWeakKey = kind("auth: key too weak", ErrConfig)
	// ErrKeyMismatch means a key does not fit the algorithm it was given
	// for, or a PEM block holds no usable key.
	ErrKeyMismatch = kind("auth: key does not fit algorithm", ErrConfig)
	// ErrNoSigningKey means a token was to be issued by an [Auth] built with
	// verification keys only.
	ErrNoSigningKey = kind("auth: no signing key", ErrConfig)
)

// Refresh-token failures. Each precise sentinel also matches
// [ErrInvalidRefreshToken]; HTTP answers 401 INVALID_REFRESH_TOKEN.
var (
	// ErrInvalidRefreshToken is the class of refresh tokens that must be
	// refused.
	ErrInvalidRefreshToken = errors.New("auth: invalid refresh token")
	// ErrRefreshTokenUnknown means the token is malformed or not in the
	// store.
	ErrRefreshTokenUnknown = kind("auth: unknown refresh token", ErrInvalidRefreshToken)
	// ErrRefreshTokenExpired means the token, or its family, has expired.
	ErrRefreshTokenExpired = kind("auth: refresh token expired", ErrInvalidRefreshToken)
	// ErrRefreshTokenRevoked means the token's family was revoked (logout,
	// logout everywhere, a user that is gone).
	ErrRefreshTokenRevoked = kind("auth: refresh token revoked", ErrInvalidRefreshToken)
	// ErrRefreshTokenReused means an already-rotated token was presented:
	// the whole family has been revoked.
	ErrRefreshTokenReused = kind("auth: refresh token reused", ErrInvalidRefreshToken)
)

// ErrUserNotFound is returned by a [ClaimsLoader] for a user that no longer
// exists or may no longer sign in; the refresh then revokes the family.
var ErrUserNotFound = errors.New("auth: user not found")
