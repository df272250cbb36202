package client

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/jwtkit/auth"
)

// The errors of the package. Errors the server answered are [Error]s.
var (
	// ErrSignedOut means the client holds no session: it never signed in,
	// it logged out, or the server refused its refresh token (revoked,
	// expired, or reused) and the client forgot its tokens. The
	// application signs in again.
	ErrSignedOut = errors.New("client: signed out")
)

// Stable codes of the contract that the client acts on.
const (
	codeTokenExpired        = "TOKEN_EXPIRED"
	codeInvalidRefreshToken = "INVALID_REFRESH_TOKEN"
)

// maxErrorBody caps the error body read from a response.
const maxErrorBody = 4 << 10

// Error is an answer of the server other than the success of the route:
// its status and its JSON error body {"error", "code"}. It reaches callers
// wrapped, so take it out with [errors.As]. It matches, with [errors.Is],
// the sentinel of package auth for its code: auth.ErrUnavailable for 503
// UNAVAILABLE, auth.ErrInvalidCredentials for 401 INVALID_CREDENTIALS,
// auth.ErrTooManyAttempts for 429 TOO_MANY_ATTEMPTS, and so on.
type Error struct {
	// StatusCode is the HTTP status, such as 401 or 503.
	StatusCode int
	// Code is the stable code of the body, such as "INVALID_CREDENTIALS",
	// or "" when the body was not the JSON error of the contract.
	Code string
	// Message is the human sentence of the body, or "".
	Message string
	// RetryAfter is the wait the Retry-After header asked for, or 0.
	RetryAfter time.Duration
}

// Error returns the status, the code and the message of e.
func (e *Error) Error() string {
	s := "server answered " + strconv.Itoa(e.StatusCode)
	if e.Code != "" {
		s += " " + e.Code
	} else if t := http.StatusText(e.StatusCode); t != "" {
		s += " " + t
	}
	if e.Message != "" {
		s += ": " + e.Message
	}
	if e.RetryAfter > 0 {
		s += fmt.Sprintf(" (retry after %v)", e.RetryAfter)
	}
	return s
}

// Unwrap returns the sentinel of package auth for e.Code, or nil for a
// code it has none for (EMAIL_TAKEN, say).
func (e *Error) Unwrap() error {
	if e.Code == "" {
		return nil
	}
	for _, s := range serverErrors {
		if auth.ErrorCode(s) == e.Code {
			return s
		}
	}
	return nil
}

// serverErrors are the sentinels of package auth that an [Error] may
// match, one per code; auth.ErrorCode names the code of each, so the two
// packages never disagree.
var serverErrors = [...]error{
	auth.ErrNoToken,
	auth.ErrTokenExpired,
	auth.ErrTokenRevoked,
	auth.ErrInvalidToken,
	auth.ErrInvalidRefreshToken,
	auth.ErrInvalidCredentials,
	auth.ErrTooManyAttempts,
	auth.ErrInvalidInput,
	auth.ErrBodyTooLarge,
	auth.ErrCrossOrigin,
	auth.ErrInsufficientScope,
	auth.ErrForbidden,
	auth.ErrUnavailable,
}

// errorOf returns the [Error] of a response with the body b, which may be
// cut short; now is the clock, for a Retry-After given as a date.
func errorOf(resp *http.Response, b []byte, now time.Time) *Error {
	e := &Error{StatusCode: resp.StatusCode}
	var body struct {
		Error string `json:"error"`
		Code  string `json:"code"`
	}
	if json.Unmarshal(b, &body) == nil {
		e.Code, e.Message = body.Code, body.Error
	}
	if v := resp.Header.Get("Retry-After"); v != "" {
		if secs, err := strconv.ParseInt(v, 10, 32); err == nil && secs > 0 {
			e.RetryAfter = time.Duration(secs) * time.Second
		} else if t, err := http.ParseTime(v); err == nil && t.After(now) {
			e.RetryAfter = t.Sub(now)
		}
	}
	return e
}

// signedOut returns the error of a refresh token that the server refused
// with e.
func signedOut(e *Error) error {
	return fmt.Errorf("%w: the server refused the refresh token: %w", ErrSignedOut, e)
}
