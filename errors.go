package auth

import (
	"errors"
	"fmt"
	"time"

	"github.com/jwtkit/auth/password"
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
func (e *kindError) Is(target error) bool {
	return e.class != nil && (target == e.class || errors.Is(e.class, target))
}

func kind(msg string, class error) error { return &kindError{msg: msg, class: class} }

// Failure classes. Every error that the library returns matches exactly one
// class with [errors.Is]: [ErrNoToken], [ErrInvalidToken],
// [ErrInvalidRefreshToken], [ErrForbidden], [ErrInvalidCredentials],
// [ErrTooManyAttempts], [ErrInvalidInput], [ErrBodyTooLarge],
// [ErrCrossOrigin], [ErrUnavailable] or [ErrConfig]. [ErrorStatus] and
// [ErrorCode] map each class to its HTTP status and stable code.
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
	// with JSON header and claims of the expected types, or exceeds the
	// size cap ([WithMaxTokenSize]) and was refused before any decoding.
	ErrTokenMalformed = kind("auth: malformed token", ErrInvalidToken)
	// ErrTokenUnknownKey means no verification key has the token's kid, or
	// the token has none.
	ErrTokenUnknownKey = kind("auth: unknown key id", ErrInvalidToken)
	// ErrTokenHeader means the header names an algorithm other than the one
	// of the key its kid names ("none" in any spelling included), carries a
	// member that is never accepted (jku, x5u, x5c, jwk, crit), or a typ
	// other than at+jwt.
	ErrTokenHeader = kind("auth: header not allowed", ErrInvalidToken)
	// ErrTokenSignature means the signature does not verify.
	ErrTokenSignature = kind("auth: signature invalid", ErrInvalidToken)
	// ErrTokenClaims means a required claim is missing or a claim has a wrong
	// value: iss, aud, sub, jti, iat, exp, an absurd date, or nbf or iat in
	// the future (the token is not valid yet).
	ErrTokenClaims = kind("auth: invalid claims", ErrInvalidToken)
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
	// ErrRefreshTokenExpired means the token, or its session, has expired.
	ErrRefreshTokenExpired = kind("auth: refresh token expired", ErrInvalidRefreshToken)
	// ErrRefreshTokenRevoked means the token's session was revoked (logout,
	// logout everywhere, a user that is gone).
	ErrRefreshTokenRevoked = kind("auth: refresh token revoked", ErrInvalidRefreshToken)
	// ErrRefreshTokenReused means an already-rotated token was presented:
	// the whole session has been revoked.
	ErrRefreshTokenReused = kind("auth: refresh token reused", ErrInvalidRefreshToken)
)

// ErrUserNotFound is returned by a [ClaimsLoader] or a [CredentialStore]
// for a user that does not exist or may no longer sign in; a refresh then
// revokes the session, and a login answers [ErrInvalidCredentials].
var ErrUserNotFound = errors.New("auth: user not found")

// Login failures. Each is a class of its own.
var (
	// ErrInvalidCredentials means the login name is unknown or the password
	// wrong; the two are never told apart. HTTP answers 401
	// INVALID_CREDENTIALS.
	ErrInvalidCredentials = errors.New("auth: invalid credentials")
	// ErrTooManyAttempts means login throttling refused the attempt;
	// [RetryAfter] tells the wait. HTTP answers 429
	// TOO_MANY_ATTEMPTS with Retry-After.
	ErrTooManyAttempts = errors.New("auth: too many attempts")
)

// throttledError is the error of a throttled login: it matches
// [ErrTooManyAttempts] and carries the wait ([RetryAfter]).
type throttledError struct{ wait time.Duration }

func (e *throttledError) Error() string {
	return fmt.Sprintf("auth: too many attempts, retry after %v", e.wait.Round(time.Second))
}

func (e *throttledError) Is(target error) bool { return target == ErrTooManyAttempts }

// RetryAfter returns the wait, for [RetryAfter].
func (e *throttledError) RetryAfter() time.Duration { return e.wait }

// RetryAfter returns how long the client of a request refused with err
// must wait before trying again: the throttle's wait for an error matching
// [ErrTooManyAttempts], and 0 for any other error. [WriteError] sends it as
// Retry-After.
//
// An error of another package may carry a wait too, with a method
// RetryAfter() time.Duration (package account's throttle errors do).
func RetryAfter(err error) time.Duration {
	var te interface{ RetryAfter() time.Duration }
	if errors.As(err, &te) {
		return te.RetryAfter()
	}
	return 0
}

// Request failures of the HTTP helpers. Each is a class of its own.
var (
	// ErrInvalidInput means a request body is not the expected JSON (bad
	// syntax, unknown or mistyped fields, trailing data), a field breaks a
	// rule (a password, see [password.Check]), or claims given to
	// [Auth.Issue] cannot be issued (no subject, Extra claims that are not
	// a JSON object or reuse a reserved name). HTTP answers 400
	// INVALID_INPUT.
	ErrInvalidInput = errors.New("auth: invalid input")
	// ErrBodyTooLarge means a request body exceeds 64 KiB. HTTP answers
	// 413 BODY_TOO_LARGE.
	ErrBodyTooLarge = errors.New("auth: request body too large")
	// ErrCrossOrigin means [Auth.CrossOriginProtection] refused a
	// cross-origin browser request. HTTP answers 403 CROSS_ORIGIN.
	ErrCrossOrigin = errors.New("auth: cross-origin request refused")
)

// Unexported precise errors, each of a class above.
var (
	// errInvalidClaims means claims given to [Auth.Issue] cannot be issued.
	// It is the caller's mistake, not a bad token.
	errInvalidClaims = kind("auth: claims cannot be issued", ErrInvalidInput)
	// errNoSigningKey means a token was to be issued by an [Auth] built
	// with verification keys only, or a key set was given a signing key
	// without private material.
	errNoSigningKey = kind("auth: no signing key", ErrConfig)
	// errNoClaimsLoader is the error of a refresh without a claims loader.
	errNoClaimsLoader = fmt.Errorf("%w: WithClaimsLoader is required to refresh", ErrConfig)
	// errNoCredentials is the error of a login without a credential store.
	errNoCredentials = fmt.Errorf("%w: WithCredentials is required to log in", ErrConfig)
	// errTokenNotYetValid means nbf or iat lies in the future.
	errTokenNotYetValid = kind("auth: token not valid yet", ErrTokenClaims)
	// errTokenTooLarge is the error of a token over the size cap, made once
	// so that refusing one allocates nothing.
	errTokenTooLarge = fmt.Errorf("%w: token too large", ErrTokenMalformed)
)

// errorClass is one failure class and its HTTP answer.
type errorClass struct {
	class   error
	status  int
	code    string
	msg     string
	wwwAuth string // WWW-Authenticate (RFC 6750), if any
}

// errorClasses is the one table of failure classes, in the order they are
// tried: precise sentinels that have an answer of their own come before
// their class. It feeds [ErrorStatus], [ErrorCode], [WriteError] and the
// wrapping helpers.
var errorClasses = [...]errorClass{
	{ErrNoToken, 401, codeNoToken, "authentication required", `Bearer`},
	{ErrUnavailable, 503, codeUnavailable, "service temporarily unavailable, retry later", ""},
	{ErrTokenExpired, 401, codeTokenExpired, "access token expired", `Bearer error="invalid_token", error_description="the access token expired"`},
	{ErrTokenRevoked, 401, codeTokenRevoked, "access token revoked", `Bearer error="invalid_token", error_description="the access token was revoked"`},
	{ErrInvalidToken, 401, codeInvalidToken, "invalid access token", `Bearer error="invalid_token"`},
	{ErrInvalidRefreshToken, 401, codeInvalidRefresh, "invalid refresh token", ""},
	{ErrInvalidCredentials, 401, codeInvalidCredentials, "invalid email or password", ""},
	{ErrTooManyAttempts, 429, codeTooManyAttempts, "too many attempts, retry later", ""},
	{ErrInvalidInput, 400, codeInvalidInput, "invalid input", ""},
	{ErrBodyTooLarge, 413, codeBodyTooLarge, "request body too large", ""},
	{ErrCrossOrigin, 403, codeCrossOrigin, "cross-origin request refused", ""},
	{ErrInsufficientScope, 403, codeInsufficientScope, "insufficient scope", `Bearer error="insufficient_scope"`},
	{ErrForbidden, 403, codeInsufficientRole, "insufficient role", `Bearer error="insufficient_scope"`},
}

// internalError is the answer to an error of no class, ErrConfig included.
var internalError = errorClass{nil, 500, codeInternal, "internal error", ""}

// answerer is an error of another package that names its own HTTP answer
// (package account's errors do): a class of its own, after every class of
// the table.
type answerer interface {
	error
	HTTPStatus() int
	ErrorCode() string
	// ErrorMessage is the human sentence of the JSON body.
	ErrorMessage() string
}

// classOf returns the answer to err.
func classOf(err error) *errorClass {
	for i := range errorClasses {
		if errors.Is(err, errorClasses[i].class) {
			return &errorClasses[i]
		}
	}
	var ans answerer
	if errors.As(err, &ans) && ans.HTTPStatus() >= 400 && ans.HTTPStatus() <= 599 {
		return &errorClass{class: ans, status: ans.HTTPStatus(), code: ans.ErrorCode(), msg: ans.ErrorMessage()}
	}
	return &internalError
}

// unavailable wraps the failure of a store, key source or revocation check
// in [ErrUnavailable]. The cause stays reachable with [errors.Is] unless it
// matches another failure class itself (a checker that returned
// [ErrTokenRevoked] as its error, say): the result must match exactly one
// class, and that class is ErrUnavailable.
func unavailable(what string, err error) error {
	if c := classOf(err); (c.class != nil && c.class != ErrUnavailable) || errors.Is(err, ErrConfig) {
		return fmt.Errorf("%w: %s: %v", ErrUnavailable, what, err)
	}
	return fmt.Errorf("%w: %s: %w", ErrUnavailable, what, err)
}

// passwordError puts an error of package password into its class: a
// password that breaks the rules is [ErrInvalidInput], a full hashing
// queue [ErrUnavailable].
func passwordError(err error) error {
	switch {
	case errors.Is(err, password.ErrInvalid):
		return fmt.Errorf("%w: %w", ErrInvalidInput, err)
	case errors.Is(err, password.ErrBusy):
		return fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	return unavailable("password hashing", err)
}
