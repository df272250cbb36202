package main

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// maxTokenSize bounds a token read from stdin: the largest size cap the
// library can be configured with (auth.WithMaxTokenSize).
const maxTokenSize = 64 << 10

// unverifiedLine is the first line of inspect's output.
const unverifiedLine = "unverified: the signature was not checked; do not trust these claims"

const inspectAbout = `Inspect decodes a compact JWS (a JWT) and prints its header and claims as
indented JSON, {"header": ..., "claims": ...}, under a first line saying
that nothing was verified: the signature, the key, the dates and the
issuer are not checked. Use jwtkit verify to check a token. The token is
the argument, or is read from stdin when the argument is "-" or missing;
surrounding white space and a "Bearer " prefix are ignored.`

// inspect is the inspect command.
func (e *env) inspect(args []string) int {
	c := e.newCmd("inspect", "jwtkit inspect [TOKEN | -]", inspectAbout)
	if code, done := c.parse(args); done {
		return code
	}
	token, code, ok := c.token()
	if !ok {
		return code
	}
	header, claims, err := decodeUnverified(token)
	if err != nil {
		return c.fail(err)
	}
	var doc bytes.Buffer
	doc.WriteString(unverifiedLine + "\n")
	if err := indentObject(&doc, []member{{"header", header}, {"claims", claims}}); err != nil {
		return c.fail(err)
	}
	if _, err := c.stdout.Write(doc.Bytes()); err != nil {
		return c.fail(err)
	}
	return exitOK
}

// token returns the command's one token: its argument, or stdin for "-" or
// no argument, without surrounding white space and "Bearer ". When ok is
// false the command must end with code.
func (c *cmd) token() (token string, code int, ok bool) {
	var arg string
	switch c.flags.NArg() {
	case 0:
		arg = "-"
	case 1:
		arg = c.flags.Arg(0)
	default:
		return "", c.usageError("more than one token given"), false
	}
	if arg == "-" {
		b, err := readLimited(c.stdin, maxTokenSize, "stdin")
		if err != nil {
			return "", c.fail(err), false
		}
		arg = string(b)
	}
	return trimToken(arg), exitOK, true
}

// trimToken strips white space and an Authorization scheme "Bearer " from
// a token as pasted.
func trimToken(s string) string {
	s = strings.TrimSpace(s)
	if len(s) > 7 && strings.EqualFold(s[:7], "bearer ") {
		s = strings.TrimSpace(s[7:])
	}
	return s
}

// errMalformed is the class of inspect's errors about the token itself.
var errMalformed = errors.New("malformed token")

// decodeUnverified returns the JSON header and claims of a compact JWS,
// checking its form (three strict base64url segments, a JSON object in
// the first two) but not its signature.
func decodeUnverified(token string) (header, claims json.RawMessage, err error) {
	if token == "" {
		return nil, nil, fmt.Errorf("%w: empty", errMalformed)
	}
	segs := strings.Split(token, ".")
	switch len(segs) {
	case 3:
	case 5:
		return nil, nil, fmt.Errorf("%w: five segments, an encrypted JWE, not a signed JWT", errMalformed)
	default:
		return nil, nil, fmt.Errorf("%w: %d segments, a signed JWT has three (header.claims.signature)", errMalformed, len(segs))
	}
	if header, err = decodeObject("header", segs[0]); err != nil {
		return nil, nil, err
	}
	if claims, err = decodeObject("claims", segs[1]); err != nil {
		return nil, nil, err
	}
	if _, err := decodeSegment("signature", segs[2]); err != nil {
		return nil, nil, err
	}
	return header, claims, nil
}

// b64url decodes base64url without padding and with zero trailing bits, as
// JWS requires.
var b64url = base64.RawURLEncoding.Strict()

// decodeSegment decodes the base64url segment name. The decoder skips
// newlines, so the alphabet is checked first.
func decodeSegment(name, seg string) ([]byte, error) {
	for i := 0; i < len(seg); i++ {
		if c := seg[i]; !('A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			return nil, fmt.Errorf("%w: %s is not base64url (byte %q at %d)", errMalformed, name, c, i)
		}
	}
	b, err := b64url.DecodeString(seg)
	if err != nil {
		return nil, fmt.Errorf("%w: %s is not base64url: %v", errMalformed, name, err)
	}
	return b, nil
}

// decodeObject decodes the segment name, which must hold a JSON object.
func decodeObject(name, seg string) (json.RawMessage, error) {
	if seg == "" {
		return nil, fmt.Errorf("%w: empty %s", errMalformed, name)
	}
	b, err := decodeSegment(name, seg)
	if err != nil {
		return nil, err
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(b, &obj); err != nil || obj == nil {
		return nil, fmt.Errorf("%w: %s is not a JSON object", errMalformed, name)
	}
	return b, nil
}

// member is one member of a JSON object that indentObject writes.
type member struct {
	name  string
	value json.RawMessage
}

// indentObject writes the object of members to buf, indented by two
// spaces, with a final newline. Each value keeps its members in their
// order and its numbers as written.
func indentObject(buf *bytes.Buffer, members []member) error {
	var raw bytes.Buffer
	raw.WriteByte('{')
	for i, m := range members {
		if i > 0 {
			raw.WriteByte(',')
		}
		name, _ := json.Marshal(m.name) // a string: cannot fail
		raw.Write(name)
		raw.WriteByte(':')
		raw.Write(m.value)
	}
	raw.WriteByte('}')
	if err := json.Indent(buf, raw.Bytes(), "", "  "); err != nil {
		return fmt.Errorf("indent JSON: %w", err)
	}
	buf.WriteByte('\n')
	return nil
}
