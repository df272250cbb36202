package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/jwtkit/auth"
	"github.com/jwtkit/auth/jwks"
)

const verifyAbout = `Verify checks a token by the library's strict rules (auth.Auth.Verify):
the key its kid names in the JWK Set and that key's one algorithm, typ
at+jwt, the signature, iss, aud, sub, jti, iat and exp, with no leeway. The
JWK Set is an http or https URL, fetched once by package jwks, or a file
holding the JSON document; a JWK that the library cannot use (no alg, a
symmetric or private key, a weak key, a kid that two keys share) is
skipped, as package jwks skips it, with a warning. A valid token's claims
are printed as indented JSON and the exit status is 0; an invalid one
prints the library's error code (auth.ErrorCode: TOKEN_EXPIRED,
INVALID_TOKEN, UNAVAILABLE...) and the error on stderr, and the exit
status is 1. The token is the argument, or is read from stdin when the
argument is "-" or missing.`

// verify is the verify command.
func (e *env) verify(args []string) int {
	c := e.newCmd("verify", "jwtkit verify -jwks URL|FILE -iss ISSUER -aud AUDIENCE [TOKEN | -]", verifyAbout)
	set := c.flags.String("jwks", "", "the JWK Set: an http(s) `URL` or a FILE (required)")
	iss := c.flags.String("iss", "", "the `issuer` the token must name (required)")
	aud := c.flags.String("aud", "", "the `audience` the token must name (required)")
	if code, done := c.parse(args); done {
		return code
	}
	if missing := c.missing("jwks", "iss", "aud"); missing != "" {
		return c.usageError("missing %s (required)", missing)
	}
	token, code, ok := c.token()
	if !ok {
		return code
	}
	src, code, ok := c.keySource(*set)
	if !ok {
		return code
	}
	a, err := auth.New(auth.WithKeySource(src), auth.WithIssuer(*iss), auth.WithAudience(*aud))
	if err != nil {
		return c.fail(err)
	}
	claims, err := a.Verify(context.Background(), token)
	if err != nil {
		fmt.Fprintf(c.stderr, "jwtkit verify: %s: %v\n", auth.ErrorCode(err), err)
		return exitFail
	}
	if err := writeClaims(c.stdout, claims); err != nil {
		return c.fail(err)
	}
	return exitOK
}

// missing returns the flags among names that were left empty, as "-iss,
// -aud", or "".
func (c *cmd) missing(names ...string) string {
	var empty []string
	for _, name := range names {
		if c.flags.Lookup(name).Value.String() == "" {
			empty = append(empty, "-"+name)
		}
	}
	return strings.Join(empty, ", ")
}

// keySource returns the key source that -jwks names: a remote key set of
// package jwks for an http or https URL, else the keys of the JWK Set file
// it names. When ok is false the command must end with code.
func (c *cmd) keySource(set string) (src auth.KeySource, code int, ok bool) {
	if isURL(set) {
		remote, err := jwks.NewRemoteKeySet(set)
		if err != nil {
			return nil, c.usageError("-jwks: %v", err), false
		}
		return remote, exitOK, true
	}
	ks, err := c.fileKeySet(set)
	if err != nil {
		return nil, c.fail(err), false
	}
	return ks, exitOK, true
}

// isURL reports whether -jwks names an http or https URL rather than a
// file.
func isURL(set string) bool {
	lower := strings.ToLower(set)
	return strings.HasPrefix(lower, "http://") || strings.HasPrefix(lower, "https://")
}

// fileKeySet returns a verify-only key set of the keys of the JWK Set file
// at path (see [parseJWKSet]), warning on stderr of each key skipped.
func (c *cmd) fileKeySet(path string) (*auth.KeySet, error) {
	data, err := readFileLimited(path, jwks.DefaultMaxSize)
	if err != nil {
		return nil, err
	}
	keys, err := parseJWKSet(data, func(i int, reason error) {
		fmt.Fprintf(c.stderr, "jwtkit verify: warning: %s: key %d skipped: %v\n", path, i, reason)
	})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return auth.NewKeySet(nil, keys...)
}

// errDuplicateKid is the reason a key whose kid another key of the set
// has is skipped.
var errDuplicateKid = errors.New("another key has the same kid")

// parseJWKSet returns the usable verify-only keys of a JWK Set document
// by the rules of package jwks: each JWK is parsed by auth.ParseJWK, and a
// JWK it refuses, or whose kid another JWK has, is skipped and reported to
// skipped with its index. It fails when the document is not a JWK Set or
// has no usable key.
func parseJWKSet(data []byte, skipped func(index int, reason error)) ([]*auth.Key, error) {
	var doc struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := json.Unmarshal(data, &doc); err != nil || doc.Keys == nil {
		return nil, errors.New(`not a JWK Set: a JSON object with a "keys" array`)
	}
	parsed := make([]*auth.Key, len(doc.Keys))
	count := make(map[string]int, len(doc.Keys)) // kid -> keys with it
	for i, raw := range doc.Keys {
		k, err := auth.ParseJWK(raw)
		if err != nil {
			skipped(i, err)
			continue
		}
		parsed[i] = k
		count[k.ID()]++
	}
	var keys []*auth.Key
	for i, k := range parsed {
		switch {
		case k == nil:
		case count[k.ID()] > 1:
			skipped(i, fmt.Errorf("%w %q", errDuplicateKid, k.ID()))
		default:
			keys = append(keys, k)
		}
	}
	if len(keys) == 0 {
		return nil, fmt.Errorf("no usable key among %d", len(doc.Keys))
	}
	return keys, nil
}

// writeClaims writes the whole signed payload of claims to w as indented
// JSON, members in their order, application claims included.
func writeClaims(w io.Writer, claims *auth.Claims) error {
	var raw json.RawMessage
	if err := claims.Decode(&raw); err != nil {
		return fmt.Errorf("decode claims: %w", err)
	}
	var buf bytes.Buffer
	if err := json.Indent(&buf, raw, "", "  "); err != nil {
		return fmt.Errorf("indent claims: %w", err)
	}
	buf.WriteByte('\n')
	_, err := w.Write(buf.Bytes())
	return err
}
