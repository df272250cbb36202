package auth

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"time"
)

// Stable error codes of the JSON error shape {"error": "...", "code": "..."}.
const (
	CodeNoToken           = "NO_TOKEN"
	CodeInvalidToken      = "INVALID_TOKEN"
	CodeTokenExpired      = "TOKEN_EXPIRED"
	CodeTokenRevoked      = "TOKEN_REVOKED"
	CodeInsufficientRole  = "INSUFFICIENT_ROLE"
	CodeInsufficientScope = "INSUFFICIENT_SCOPE"
	CodeUnavailable       = "UNAVAILABLE"
	CodeInvalidRefresh    = "INVALID_REFRESH_TOKEN"
	CodeInvalidCreds      = "INVALID_CREDENTIALS"
	CodeTooManyAttempts   = "TOO_MANY_ATTEMPTS"
	CodeInvalidInput      = "INVALID_INPUT"
	CodeBodyTooLarge      = "BODY_TOO_LARGE"
	CodeCrossOrigin       = "CROSS_ORIGIN"
	CodeInternal          = "INTERNAL"
)

// RetryAfterSeconds is the Retry-After sent with 503 UNAVAILABLE.
const RetryAfterSeconds = "5"

type problem struct {
	status  int
	code    string
	msg     string
	wwwAuth string
}

func problemFor(err error) problem {
	switch {
	case errors.Is(err, ErrNoToken):
		return problem{http.StatusUnauthorized, CodeNoToken, "authentication required", `Bearer`}
	case errors.Is(err, ErrUnavailable):
		return problem{http.StatusServiceUnavailable, CodeUnavailable, "service temporarily unavailable, retry later", ""}
	case errors.Is(err, ErrTokenExpired):
		return problem{http.StatusUnauthorized, CodeTokenExpired, "access token expired", `Bearer error="invalid_token", error_description="the access token expired"`}
	case errors.Is(err, ErrTokenRevoked):
		return problem{http.StatusUnauthorized, CodeTokenRevoked, "access token revoked", `Bearer error="invalid_token", error_description="the access token was revoked"`}
	case errors.Is(err, ErrInvalidToken):
		return problem{http.StatusUnauthorized, CodeInvalidToken, "invalid access token", `Bearer error="invalid_token"`}
	case errors.Is(err, ErrInvalidCredentials):
		return problem{http.StatusUnauthorized, CodeInvalidCreds, "invalid email or password", ""}
	case errors.Is(err, ErrTooManyAttempts):
		return problem{http.StatusTooManyRequests, CodeTooManyAttempts, "too many attempts, retry later", ""}
	case errors.Is(err, ErrInvalidInput), errors.Is(err, ErrInvalidPassword):
		return problem{http.StatusBadRequest, CodeInvalidInput, "invalid input", ""}
	case errors.Is(err, ErrBodyTooLarge):
		return problem{http.StatusRequestEntityTooLarge, CodeBodyTooLarge, "request body too large", ""}
	case errors.Is(err, ErrCrossOrigin):
		return problem{http.StatusForbidden, CodeCrossOrigin, "cross-origin request refused", ""}
	case errors.Is(err, ErrInvalidRefreshToken):
		return problem{http.StatusUnauthorized, CodeInvalidRefresh, "invalid refresh token", ""}
	case errors.Is(err, ErrInsufficientScope):
		return problem{http.StatusForbidden, CodeInsufficientScope, "insufficient scope", `Bearer error="insufficient_scope"`}
	case errors.Is(err, ErrInsufficientRole), errors.Is(err, ErrForbidden):
		return problem{http.StatusForbidden, CodeInsufficientRole, "insufficient role", `Bearer error="insufficient_scope"`}
	}
	return problem{http.StatusInternalServerError, CodeInternal, "internal error", ""}
}

// ErrorCode returns the stable code for err (for example "TOKEN_EXPIRED"),
// and "INTERNAL" for an error that is not the library's.
func ErrorCode(err error) string { return problemFor(err).code }

// ErrorStatus returns the HTTP status for err: 401 for token failures, 403
// for permission failures, 503 for [ErrUnavailable], 500 otherwise.
func ErrorStatus(err error) int { return problemFor(err).status }

// WriteError is the default [ErrorHandler]. It writes the status of
// [ErrorStatus] and a JSON body {"error": sentence, "code": [ErrorCode]}
// that never says more than the code and never echoes a token, with an RFC
// 6750 WWW-Authenticate header on 401 and 403 and Retry-After on 503.
func WriteError(w http.ResponseWriter, _ *http.Request, err error) {
	p := problemFor(err)
	if p.wwwAuth != "" {
		w.Header().Set("WWW-Authenticate", p.wwwAuth)
	}
	if p.status == http.StatusServiceUnavailable {
		w.Header().Set("Retry-After", RetryAfterSeconds)
	}
	var te *ThrottledError
	if errors.As(err, &te) {
		secs := int64((te.RetryAfter + time.Second - 1) / time.Second)
		w.Header().Set("Retry-After", strconv.FormatInt(max(secs, 1), 10))
	}
	writeJSONError(w, p.status, p.code, p.msg)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func writeJSONError(w http.ResponseWriter, status int, code, msg string) {
	writeJSON(w, status, struct {
		Error string `json:"error"`
		Code  string `json:"code"`
	}{msg, code})
}
