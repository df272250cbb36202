package password

import (
	"errors"
	"strings"
	"testing"
)

func TestCheckPassword(t *testing.T) {
	t.Parallel()
	tests := []struct {
		pw string
		ok bool
	}{
		{"", false},
		{"1234567", false},
		{"12345678", true},
		{strings.Repeat("a", 72), true},
		{strings.Repeat("a", 73), false},
		{"pass\x00word", false},
		{"pass\xffword", false},
		{"  spaces kept  ", true},
		{"пароль-очень-длинный", true},
		{strings.Repeat("é", 36), true},  // 72 bytes
		{strings.Repeat("é", 37), false}, // 74 bytes
	}
	for _, tt := range tests {
		err := Check(tt.pw)
		if (err == nil) != tt.ok || (err != nil && !errors.Is(err, ErrInvalid)) {
			t.Errorf("Check(%q) = %v; want ok=%v", tt.pw, err, tt.ok)
		}
	}
}
