package auth

import (
	"encoding/json"
	"net/http"
	"strconv"
	"time"
)

// Stable error codes of the JSON error shape {"error": "...", "code": "..."}.
const (
	codeNoToken            = "NO_TOKEN"
	codeInvalidToken       = "INVALID_TOKEN"
	codeTokenExpired       = "TOKEN_EXPIRED"
	codeTokenRevoked       = "TOKEN_REVOKED"
	codeInsufficientRole   = "INSUFFICIENT_ROLE"
	codeInsufficientScope  = "INSUFFICIENT_SCOPE"
	codeUnavailable        = "UNAVAILABLE"
	codeInvalidRefresh     = "INVALID_REFRESH_TOKEN"
	codeInvalidCredentials = "INVALID_CREDENTIALS"
	codeTooManyAttempts    = "TOO_MANY_ATTEMPTS"
	codeInvalidInput       = "INVALID_INPUT"
	codeBodyTooLarge       = "BODY_TOO_LARGE"
	codeCrossOrigin        = "CROSS_ORIGIN"
	codeInternal           = "INTERNAL"
)

// retryAfterSeconds is the Retry-After sent with 503 UNAVAILABLE.
const retryAfterSeconds = "5"

// ErrorCode returns the stable code for err: NO_TOKEN, INVALID_TOKEN,
// TOKEN_EXPIRED, TOKEN_REVOKED, INVALID_REFRESH_TOKEN, INVALID_CREDENTIALS,
// TOO_MANY_ATTEMPTS, INVALID_INPUT, BODY_TOO_LARGE, CROSS_ORIGIN,
// INSUFFICIENT_SCOPE, INSUFFICIENT_ROLE, UNAVAILABLE, the code of an
// error that names its own (package account's, such as
// INVALID_RESET_TOKEN, with methods HTTPStatus, ErrorCode and
// ErrorMessage), and INTERNAL for an error of no class (a configuration
// error included).
func ErrorCode(err error) string { return classOf(err).code }

// ErrorStatus returns the HTTP status for err: 400 for [ErrInvalidInput],
// 401 for token, refresh-token and credential failures, 403 for permission
// and cross-origin refusals, 413 for [ErrBodyTooLarge], 429 for
// [ErrTooManyAttempts], 503 for [ErrUnavailable], the status of an error
// that names its own (see [ErrorCode]), and 500 otherwise.
func ErrorStatus(err error) int { return classOf(err).status }

// WriteError is the default error handler ([WithErrorHandler]). It writes
// the status of [ErrorStatus] and a JSON body {"error": sentence, "code":
// [ErrorCode]} that never says more than the code and never echoes a token,
// with an RFC 6750 WWW-Authenticate header on 401 and 403, and Retry-After
// on 429 ([RetryAfter]) and 503.
func WriteError(w http.ResponseWriter, _ *http.Request, err error) {
	p := classOf(err)
	if p.wwwAuth != "" {
		w.Header().Set("WWW-Authenticate", p.wwwAuth)
	}
	if p.status == http.StatusServiceUnavailable {
		w.Header().Set("Retry-After", retryAfterSeconds)
	}
	if wait := RetryAfter(err); wait > 0 {
		secs := int64((wait + time.Second - 1) / time.Second)
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
