package auth

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

// FuzzPayloadMembers checks checkPayloadMembers against encoding/json: it
// never panics, and when it accepts a JSON object, no two of the object's
// member names are equal under case folding, so every decoder reads the
// same members from it.
func FuzzPayloadMembers(f *testing.F) {
	for _, s := range []string{
		`{}`, `{"sub":"a"}`, `{"sub":"a","Sub":"b"}`, `{"\u0073ub":1,"sub":2}`,
		`{"a":{"b":[1,"]}",{"c":null}]},"d":true}`, `{"ſub":1}`, `{"K":1,"k":2}`,
		`{"a":1,}`, `{"a" 1}`, `[1]`, `{"a":"\"}"}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		err := checkPayloadMembers(b)
		if !json.Valid(b) {
			return
		}
		dec := json.NewDecoder(bytes.NewReader(b))
		if tok, _ := dec.Token(); tok != json.Delim('{') {
			return
		}
		var names []string
		clash := ""
		for dec.More() {
			tok, terr := dec.Token()
			if terr != nil {
				t.Fatalf("Token() on valid JSON %q: %v", b, terr)
			}
			name := tok.(string)
			for _, n := range names {
				if strings.EqualFold(n, name) {
					clash = n + " and " + name
				}
			}
			for _, r := range reservedClaims {
				if name != r && strings.EqualFold(name, r) {
					clash = name + " for " + r
				}
			}
			names = append(names, name)
			var skip json.RawMessage
			if derr := dec.Decode(&skip); derr != nil {
				t.Fatalf("Decode() on valid JSON %q: %v", b, derr)
			}
		}
		switch {
		case err == nil && clash != "":
			t.Fatalf("checkPayloadMembers(%q) = nil; but %s", b, clash)
		case err != nil && clash == "":
			t.Fatalf("checkPayloadMembers(%q) = %v; want nil for a valid object of distinct names", b, err)
		}
	})
}
