package password

import "errors"

// Errors of the package.
var (
	// ErrInvalid means a password to be stored breaks the rules: 8 to 72
	// bytes of valid UTF-8 without NUL. Nothing else is demanded of it.
	// Package auth answers it with 400 INVALID_INPUT.
	ErrInvalid = errors.New("password: must be 8 to 72 bytes of UTF-8 without NUL")
	// ErrBusy means a hash or check was refused because too many callers
	// already wait for a slot (see [WithQueue]), or the caller's context
	// ended while it waited. Package auth answers it with 503.
	ErrBusy = errors.New("password: too busy, retry later")
	// ErrConfig is the class of the errors of [NewBcrypt], [NewArgon2id]
	// and [NewPolicy].
	ErrConfig = errors.New("password: invalid configuration")
)
