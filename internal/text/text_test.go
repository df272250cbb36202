package text

import (
	"errors"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestClean(t *testing.T) {
	tests := []struct {
		in   string
		max  int
		want string
	}{
		{"curl/8.5", 256, "curl/8.5"},
		{"bad \xff byte", 256, "bad \uFFFD byte"},
		{"nul\x00here", 256, "nul\uFFFDhere"},
		{"tab\tand\nnewline", 256, "tab\uFFFDand\uFFFDnewline"},
		{"over\u202Eride", 256, "over\uFFFDride"},
		{strings.Repeat("é", 200), 256, strings.Repeat("é", 128)},             // 2-byte runes: 128 fit exactly
		{"a" + strings.Repeat("é", 200), 256, "a" + strings.Repeat("é", 127)}, // never half a rune
		{strings.Repeat("€", 100), 10, strings.Repeat("€", 3)},                // 3-byte runes
		{"\xff\xff", 4, "\uFFFD"},                                             // U+FFFD is 3 bytes
	}
	for _, tt := range tests {
		got := Clean(tt.in, tt.max)
		if got != tt.want || len(got) > tt.max || !utf8.ValidString(got) {
			t.Errorf("Clean(%q, %d) = %q; want %q", tt.in, tt.max, got, tt.want)
		}
	}
}

func TestCheck(t *testing.T) {
	for _, s := range []string{"Ada Lovelace", "ada@example.com", "Zoë Ñandú", "李小龍", ""} {
		if err := Check(s); err != nil {
			t.Errorf("Check(%q) = %v; want nil", s, err)
		}
	}
	for _, s := range []string{"a\x00b", "a\xffb", "a\tb", "a\nb", "a\x7fb", "a\u0085b", "evil\u202Egpj.exe", "a\u2066b", "a\u200Fb", "a\u061Cb"} {
		if err := Check(s); !errors.Is(err, ErrInvalid) {
			t.Errorf("Check(%q) = %v; want ErrInvalid", s, err)
		}
	}
}
