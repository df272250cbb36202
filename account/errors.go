package account

import (
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/jwtkit/auth"
)

// Errors of the flows. Each names its HTTP answer, which auth.WriteError,
// auth.ErrorStatus and auth.ErrorCode use.
var (
	// ErrInvalidResetToken means a reset link's token is unknown, used,
	// expired, revoked by a later password change, of another purpose, or
	// of a user that is gone. HTTP answers 400 INVALID_RESET_TOKEN.
	ErrInvalidResetToken error = &codedError{http.StatusBadRequest, "INVALID_RESET_TOKEN", "invalid or expired reset link"}
	// ErrInvalidVerifyToken means a verification link's token is unknown,
	// used, expired or of another purpose. HTTP answers 400
	// INVALID_VERIFY_TOKEN.
	ErrInvalidVerifyToken error = &codedError{http.StatusBadRequest, "INVALID_VERIFY_TOKEN", "invalid or expired verification link"}
	// ErrEmailNotVerified is the refusal (auth.Credentials.Refusal) of a
	// sign-in whose account has not verified its e-mail address. HTTP
	// answers 403 EMAIL_NOT_VERIFIED.
	ErrEmailNotVerified error = &codedError{http.StatusForbidden, "EMAIL_NOT_VERIFIED", "e-mail address not verified"}
)

// codedError is an error with an HTTP answer of its own.
type codedError struct {
	status        int
	code, message string
}

func (e *codedError) Error() string { return "account: " + e.message }

// HTTPStatus returns the status of the error's HTTP answer.
func (e *codedError) HTTPStatus() int { return e.status }

// ErrorCode returns the stable code of the error's HTTP answer.
func (e *codedError) ErrorCode() string { return e.code }

// ErrorMessage returns the sentence of the error's HTTP answer.
func (e *codedError) ErrorMessage() string { return e.message }

// throttledError is a flow refused by throttling: it matches
// auth.ErrTooManyAttempts and carries the wait (auth.RetryAfter).
type throttledError struct{ wait time.Duration }

func (e *throttledError) Error() string {
	return fmt.Sprintf("account: too many attempts, retry after %v", e.wait.Round(time.Second))
}

func (e *throttledError) Is(target error) bool { return target == auth.ErrTooManyAttempts }

// RetryAfter returns the wait, for auth.RetryAfter.
func (e *throttledError) RetryAfter() time.Duration { return e.wait }

// errConfig is the class of the errors of [New]: auth.ErrConfig.
func configError(option, format string, args ...any) error {
	return fmt.Errorf("%w: %s: %s", auth.ErrConfig, option, fmt.Sprintf(format, args...))
}

// unavailable wraps the failure of a store or a mailer in
// auth.ErrUnavailable.
func unavailable(what string, err error) error {
	if errors.Is(err, auth.ErrUnavailable) {
		return err
	}
	return fmt.Errorf("%w: account: %s: %w", auth.ErrUnavailable, what, err)
}
