package auth

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Profile describes the access tokens of an identity provider that is not
// this library: which typ header values it uses, where its scopes and roles
// are, and which client a token must have been issued to. Give one to
// [WithProfile] when verifying the tokens of Keycloak, Auth0, Microsoft
// Entra ID or another OpenID Connect provider; package
// github.com/jwtkit/auth/oidc has profiles for these three and finds the
// provider's keys from its issuer URL.
//
// Without a profile, verification is as strict as for the library's own
// tokens: typ at+jwt, scopes in a "scope" string, one role in "role", and a
// jti. A profile relaxes only what it names; every other check (the one
// algorithm of each key, the signature, iss, aud, exp, nbf, iat, sub, the
// lifetime cap, revocation) stays.
type Profile struct {
	// Types are the accepted values of the header's typ, compared without
	// regard to letter case and with or without an "application/" prefix;
	// "" accepts a header without typ. Many providers send "JWT". When
	// Types is empty only "at+jwt" (RFC 9068) is accepted.
	Types []string
	// ScopeClaim is the claim that holds the scopes: a space-separated
	// string ("scope" in RFC 8693, "scp" at Microsoft Entra ID) or an
	// array of strings ("scp" at Okta). The scopes are put into
	// [Claims.Scope], space-separated, for [Claims.HasScope]. When empty,
	// the "scope" claim is read as a string, as for the library's own
	// tokens.
	ScopeClaim string
	// RoleClaims are JSON Pointers (RFC 6901) to the claims that hold the
	// roles, each a string or an array of strings: "/roles" (Microsoft
	// Entra ID), "/realm_access/roles" (Keycloak), or a namespaced claim
	// such as "/https:~1~1example.com~1roles" (Auth0). The roles of all of
	// them are put into [Claims.Roles], and [Claims.Role] is then left
	// empty, so that only the named claims grant a role. A claim that is
	// absent grants nothing; one of another type refuses the token. When
	// empty, the "role" claim is read as for the library's own tokens.
	RoleClaims []string
	// AuthorizedParty, when not empty, is the client the token must have
	// been issued to: its azp claim (OpenID Connect), or when it has none
	// its client_id claim (RFC 9068), must equal it. A token with neither
	// is refused.
	AuthorizedParty string
	// OptionalID accepts a token without jti. Microsoft Entra ID and Auth0
	// issue access tokens without one; such a token cannot be revoked on
	// its own ([Auth.RevokeAccessToken]), only by revoking its user.
	OptionalID bool
}

// profile is a checked [Profile].
type profile struct {
	types      []string // lower case, without "application/"
	scopeClaim string
	roles      [][]string // decoded JSON Pointers
	azp        string
	optionalID bool
}

// compile checks p and returns it in the form verification uses.
func (p Profile) compile() (*profile, error) {
	c := &profile{scopeClaim: p.ScopeClaim, azp: p.AuthorizedParty, optionalID: p.OptionalID}
	for _, t := range p.Types {
		t = strings.ToLower(t)
		t = strings.TrimPrefix(t, "application/")
		if strings.ContainsAny(t, " \t\r\n\"") {
			return nil, configError("WithProfile", "typ %q is not a media type", t)
		}
		c.types = append(c.types, t)
	}
	if len(c.types) == 0 {
		c.types = []string{tokenType}
	}
	if p.ScopeClaim != "" && !printable(p.ScopeClaim) {
		return nil, configError("WithProfile", "scope claim %q is not printable", p.ScopeClaim)
	}
	for _, ptr := range p.RoleClaims {
		path, err := parsePointer(ptr)
		if err != nil {
			return nil, configError("WithProfile", "role claim %q: %v", ptr, err)
		}
		c.roles = append(c.roles, path)
	}
	if p.AuthorizedParty != "" && !printable(p.AuthorizedParty) {
		return nil, configError("WithProfile", "authorized party %q is not printable", p.AuthorizedParty)
	}
	return c, nil
}

// printable reports whether s is printable ASCII without spaces at its ends.
func printable(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] > 0x7e {
			return false
		}
	}
	return strings.TrimSpace(s) == s
}

// parsePointer decodes a JSON Pointer (RFC 6901) to a member path. Only
// object members can be named: the whole document ("") and array indexes
// are not claims.
func parsePointer(ptr string) ([]string, error) {
	if !strings.HasPrefix(ptr, "/") {
		return nil, errors.New(`a JSON Pointer starts with "/"`)
	}
	var path []string
	for _, tok := range strings.Split(ptr[1:], "/") {
		var b strings.Builder
		for i := 0; i < len(tok); i++ {
			if tok[i] != '~' {
				b.WriteByte(tok[i])
				continue
			}
			if i+1 == len(tok) || (tok[i+1] != '0' && tok[i+1] != '1') {
				return nil, errors.New(`"~" must be followed by "0" or "1"`)
			}
			if tok[i+1] == '0' {
				b.WriteByte('~')
			} else {
				b.WriteByte('/')
			}
			i++
		}
		if b.Len() == 0 {
			return nil, errors.New("empty member name")
		}
		path = append(path, b.String())
	}
	return path, nil
}

// acceptsType reports whether the header's typ t is one the profile (or,
// without one, the library) accepts.
func (a *Auth) acceptsType(t string) bool {
	p := a.cfg.profile
	if p == nil {
		return validTyp(t)
	}
	t = strings.ToLower(t)
	t = strings.TrimPrefix(t, "application/")
	for _, want := range p.types {
		if t == want {
			return true
		}
	}
	return false
}

// apply reads the claims the profile names from the signed payload of c.
func (p *profile) apply(c *Claims) error {
	if p.scopeClaim == "" && len(p.roles) == 0 && p.azp == "" {
		return nil
	}
	top, err := members(c.raw)
	if err != nil {
		return err
	}
	if p.scopeClaim != "" {
		scopes, err := stringsAt(top, []string{p.scopeClaim}, true)
		if err != nil {
			return err
		}
		c.Scope = strings.Join(scopes, " ")
	}
	if len(p.roles) > 0 {
		c.Role = ""
		c.Roles = nil
		for _, path := range p.roles {
			roles, err := stringsAt(top, path, false)
			if err != nil {
				return err
			}
			c.Roles = append(c.Roles, roles...)
		}
	}
	if p.azp != "" {
		party, ok, err := stringMember(top, "azp")
		if err != nil {
			return err
		}
		if !ok {
			party, ok, err = stringMember(top, "client_id")
			if err != nil {
				return err
			}
		}
		if !ok || party != p.azp {
			return fmt.Errorf("%w: wrong or missing azp", ErrTokenClaims)
		}
	}
	return nil
}

// members decodes a JSON object of the payload into its members (see
// [objectMembers]), as [ErrTokenMalformed].
func members(raw []byte) (map[string]json.RawMessage, error) {
	m, err := objectMembers(raw)
	if err != nil {
		return nil, fmt.Errorf("%w: claims: %v", ErrTokenMalformed, err)
	}
	return m, nil
}

// stringMember returns the string member name of m.
func stringMember(m map[string]json.RawMessage, name string) (string, bool, error) {
	v, ok := m[name]
	if !ok {
		return "", false, nil
	}
	var s string
	if err := json.Unmarshal(v, &s); err != nil {
		return "", false, fmt.Errorf("%w: claims: %s is not a string", ErrTokenMalformed, name)
	}
	return s, true, nil
}

// stringsAt returns the strings at path below m: an array of strings, or
// one string (split at spaces when split is true). An absent member yields
// nothing; a member of another type, or an intermediate member that is not
// an object, is an error.
func stringsAt(m map[string]json.RawMessage, path []string, split bool) ([]string, error) {
	where := "/" + strings.Join(path, "/")
	for i, name := range path {
		v, ok := m[name]
		if !ok || bytes.Equal(v, []byte("null")) {
			return nil, nil
		}
		if i < len(path)-1 {
			next, err := members(v)
			if err != nil {
				return nil, fmt.Errorf("%w: claims: %s is not an object", ErrTokenMalformed, strconv.Quote(where))
			}
			m = next
			continue
		}
		var s string
		if json.Unmarshal(v, &s) == nil {
			if split {
				return strings.Fields(s), nil
			}
			if s == "" {
				return nil, nil
			}
			return []string{s}, nil
		}
		var list []string
		if err := json.Unmarshal(v, &list); err != nil {
			return nil, fmt.Errorf("%w: claims: %s is neither a string nor an array of strings", ErrTokenMalformed, strconv.Quote(where))
		}
		out := list[:0]
		for _, s := range list {
			if s != "" {
				out = append(out, s)
			}
		}
		return out, nil
	}
	return nil, nil
}
