package password

import (
	"strings"
	"unicode/utf8"
)

// Password limits. bcrypt reads at most 72 bytes, and golang.org/x/crypto
// accepts any suffix past them, so longer passwords are refused rather than
// silently cut; the same rule holds under every policy, so that switching
// policies never locks anyone out.
const (
	MinBytes = 8
	MaxBytes = 72
)

// Check reports whether password may be stored: 8 to 72 bytes of
// valid UTF-8 without NUL. It returns [ErrInvalid] otherwise.
func Check(password string) error {
	if len(password) < MinBytes || len(password) > MaxBytes ||
		!utf8.ValidString(password) || strings.IndexByte(password, 0) >= 0 {
		return ErrInvalid
	}
	return nil
}
