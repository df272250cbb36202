package auth

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode"
	"unicode/utf8"
	"unsafe"
)

// errAmbiguousMember is the reason a payload's members are refused: a name
// given twice, or in two spellings that a case-insensitive decoder (such as
// encoding/json) takes for one.
var errAmbiguousMember = errors.New("a member is named twice, or in another letter case than the library's")

// maxScannedMembers bounds the members checkPayloadMembers compares
// pairwise without allocating; a payload with more is checked with a map.
const maxScannedMembers = 24

// checkPayloadMembers checks the top-level members of the JSON object b, so
// that every decoder reads the same claims from it: no two members whose
// names are equal, or equal under Unicode case folding (so "role" and
// "ROLE", or "sub" and "ſub", cannot both be given), and no member that
// folds to one of the claims the library reads without being spelled
// exactly as it (so "Sub" alone is refused rather than taken for "sub").
// Names are compared as decoded, so an escape such as "\u0073ub" is "sub".
// It does not otherwise validate b: the decoder does. It does not allocate
// unless a name holds an escape or there are over maxScannedMembers.
func checkPayloadMembers(b []byte) error {
	var buf [maxScannedMembers]member
	names := buf[:0]
	var many map[string]bool // folded names, past maxScannedMembers
	i := skipSpace(b, 0)
	if i >= len(b) || b[i] != '{' {
		return errors.New("not a JSON object")
	}
	i = skipSpace(b, i+1)
	if i < len(b) && b[i] == '}' {
		return nil
	}
	for {
		if i >= len(b) || b[i] != '"' {
			return errors.New("not a JSON object")
		}
		end, escaped, ok := scanString(b, i)
		if !ok {
			return errors.New("not a JSON object")
		}
		// The name aliases b, which nothing modifies while this runs.
		name := unsafe.String(unsafe.SliceData(b[i+1:end-1]), end-1-i-1)
		if escaped {
			var s string
			if json.Unmarshal(b[i:end], &s) != nil {
				return errors.New("not a JSON object")
			}
			name = s
		}
		m := member{name: name, ascii: isASCII(name)}
		if err := checkReservedSpelling(name, m.ascii); err != nil {
			return err
		}
		switch {
		case many != nil:
			if err := addFolded(many, name); err != nil {
				return err
			}
		case len(names) == maxScannedMembers:
			many = make(map[string]bool, 2*maxScannedMembers)
			for _, n := range names {
				many[strings.ToLower(foldString(n.name))] = true
			}
			if err := addFolded(many, name); err != nil {
				return err
			}
		default:
			for _, n := range names {
				if sameFolded(n, m) {
					return errAmbiguousMember
				}
			}
			names = append(names, m)
		}
		i = skipSpace(b, end)
		if i >= len(b) || b[i] != ':' {
			return errors.New("not a JSON object")
		}
		if i, ok = skipValue(b, skipSpace(b, i+1)); !ok {
			return errors.New("not a JSON object")
		}
		i = skipSpace(b, i)
		if i >= len(b) {
			return errors.New("not a JSON object")
		}
		if b[i] == '}' {
			if skipSpace(b, i+1) != len(b) {
				return errors.New("not a JSON object")
			}
			return nil
		}
		if b[i] != ',' {
			return errors.New("not a JSON object")
		}
		i = skipSpace(b, i+1)
	}
}

// checkReservedSpelling refuses a name that folds to a claim the library
// reads without being spelled as it. The reserved names are lower-case
// ASCII.
func checkReservedSpelling(name string, ascii bool) error {
	if !ascii {
		if len(name) > 3*len("iat_us") {
			return nil // longer than any reserved name can be, even folded
		}
		for _, r := range reservedClaims {
			if strings.EqualFold(name, r) {
				return errAmbiguousMember
			}
		}
		return nil
	}
	if len(name) > len("iat_us") {
		return nil
	}
	var lower [len("iat_us")]byte
	upper := false
	for i := 0; i < len(name); i++ {
		c := name[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
			upper = true
		}
		lower[i] = c
	}
	if !upper {
		return nil // spelled exactly as a reserved name, or as none
	}
	for _, r := range reservedClaims {
		if r == string(lower[:len(name)]) {
			return errAmbiguousMember
		}
	}
	return nil
}

// member is a member name and whether it is ASCII.
type member struct {
	name  string
	ascii bool
}

// sameFolded reports whether a and b are equal under Unicode case folding.
func sameFolded(a, b member) bool {
	if a.ascii && b.ascii {
		return len(a.name) == len(b.name) && asciiEqualFold(a.name, b.name)
	}
	return strings.EqualFold(a.name, b.name)
}

// addFolded adds name to the set of folded names, refusing one already there.
func addFolded(set map[string]bool, name string) error {
	k := strings.ToLower(foldString(name))
	if set[k] {
		return errAmbiguousMember
	}
	set[k] = true
	return nil
}

// foldString maps each rune of s to the smallest rune of its case-folding
// orbit, so that two strings are EqualFold exactly when they fold to the
// same string.
func foldString(s string) string {
	if isASCII(s) {
		return s
	}
	var sb strings.Builder
	for _, r := range s {
		sb.WriteRune(minFold(r))
	}
	return sb.String()
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

func asciiEqualFold(a, b string) bool {
	for i := 0; i < len(a); i++ {
		ca, cb := a[i], b[i]
		if ca == cb {
			continue
		}
		if 'A' <= ca && ca <= 'Z' {
			ca += 'a' - 'A'
		}
		if 'A' <= cb && cb <= 'Z' {
			cb += 'a' - 'A'
		}
		if ca != cb {
			return false
		}
	}
	return true
}

// skipSpace returns the index of the first byte of b at or after i that is
// not JSON whitespace.
func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// scanString returns the index just past the JSON string starting at b[i]
// (a '"'), and whether it holds an escape.
func scanString(b []byte, i int) (end int, escaped, ok bool) {
	for j := i + 1; j < len(b); j++ {
		switch c := b[j]; {
		case c == '"':
			return j + 1, escaped, true
		case c == '\\':
			escaped = true
			j++
		case c < 0x20:
			return 0, false, false
		}
	}
	return 0, false, false
}

// skipValue returns the index just past the JSON value starting at b[i].
// Nested objects and arrays are skipped by counting brackets outside
// strings; their syntax is left to the decoder.
func skipValue(b []byte, i int) (int, bool) {
	if i >= len(b) {
		return 0, false
	}
	switch b[i] {
	case '"':
		end, _, ok := scanString(b, i)
		return end, ok
	case '{', '[':
		depth := 0
		for j := i; j < len(b); j++ {
			switch b[j] {
			case '"':
				end, _, ok := scanString(b, j)
				if !ok {
					return 0, false
				}
				j = end - 1
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return j + 1, true
				}
			}
		}
		return 0, false
	}
	j := i
	for ; j < len(b); j++ {
		if c := b[j]; c == ',' || c == '}' || c == ']' || c == ' ' || c == '\t' || c == '\n' || c == '\r' {
			break
		}
	}
	return j, j > i
}

// minFold returns the smallest rune of r's case-folding orbit.
func minFold(r rune) rune {
	m := r
	for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
		m = min(m, f)
	}
	return m
}

// objectMembers decodes the JSON object raw into its members, refusing
// anything but one object, and an object that names a member twice (which
// decoders disagree on: the first or the last wins). Names are compared as
// decoded, exactly.
func objectMembers(raw []byte) (map[string]json.RawMessage, error) {
	notObject := errors.New("not a JSON object")
	dec := json.NewDecoder(bytes.NewReader(raw))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return nil, notObject
	}
	m := make(map[string]json.RawMessage)
	for dec.More() {
		t, err := dec.Token()
		name, ok := t.(string)
		if err != nil || !ok {
			return nil, notObject
		}
		if _, dup := m[name]; dup {
			return nil, fmt.Errorf("member %q given twice", name)
		}
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, notObject
		}
		m[name] = v
	}
	if t, err := dec.Token(); err != nil || t != json.Delim('}') {
		return nil, notObject
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, notObject
	}
	return m, nil
}
