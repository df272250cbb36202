// Package text holds the checks that keep text from clients storable and
// unambiguous: PostgreSQL refuses invalid UTF-8 and NUL in text columns,
// and control characters or bidirectional overrides in a name or an e-mail
// address make one string display as another.
package text

import (
	"errors"
	"strings"
	"unicode"
	"unicode/utf8"
)

// ErrInvalid is the error of [Check].
var ErrInvalid = errors.New("invalid UTF-8, a control character or a bidirectional override")

// Clean returns s as it may be stored: invalid UTF-8 and control
// characters (NUL included) replaced by U+FFFD, then clipped to at most max
// bytes on a character boundary. It is for client metadata (a user agent,
// an address) that is kept but never trusted.
func Clean(s string, max int) string {
	if clean(s) && len(s) <= max {
		return s
	}
	var b strings.Builder
	for _, r := range s { // invalid bytes arrive as utf8.RuneError
		if r == utf8.RuneError || unicode.IsControl(r) || bidi(r) {
			r = utf8.RuneError
		}
		if b.Len()+utf8.RuneLen(r) > max {
			break
		}
		b.WriteRune(r)
	}
	return b.String()
}

// Check returns [ErrInvalid] when s holds invalid UTF-8, a control character
// (NUL, tab and newline included) or a bidirectional formatting character;
// for names and e-mail addresses.
func Check(s string) error {
	if !clean(s) {
		return ErrInvalid
	}
	return nil
}

// clean reports whether s is valid UTF-8 without control or bidirectional
// formatting characters.
func clean(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c == 0x7f {
			return false
		} else if c >= utf8.RuneSelf {
			for _, r := range s[i:] {
				if r == utf8.RuneError || unicode.IsControl(r) || bidi(r) {
					return false
				}
			}
			return true
		}
	}
	return true
}

// bidi reports whether r is a bidirectional formatting character: the
// embeddings, overrides and isolates (U+202A to U+202E, U+2066 to U+2069)
// and the marks (U+200E, U+200F, U+061C), which reorder how text displays.
func bidi(r rune) bool {
	switch {
	case r >= 0x202a && r <= 0x202e, r >= 0x2066 && r <= 0x2069:
		return true
	case r == 0x200e, r == 0x200f, r == 0x061c:
		return true
	}
	return false
}
