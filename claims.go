package auth

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Claims are the claims of an access token. The registered claims follow
// RFC 7519 and RFC 9068; Role, Email, Scope and SessionID are the library's
// own; an
// application adds its own claims with Extra when issuing and reads them
// back with [Claims.Decode] after verification.
type Claims struct {
	Issuer    string    // iss
	Subject   string    // sub: the user id
	Audience  []string  // aud
	ExpiresAt time.Time // exp
	NotBefore time.Time // nbf; zero when absent
	// IssuedAt is when the token was issued. The library issues tokens with
	// iat in seconds plus a private claim "iat_us" with the same instant in
	// microseconds; when both are present IssuedAt has microsecond
	// precision, so a per-user revocation cutoff never confuses a token
	// issued just after it with one issued just before, within one second.
	IssuedAt time.Time
	ID       string // jti: unique per token
	Role     string // role
	Email    string // email
	Scope    string // scope: space-separated scopes (RFC 8693)
	// SessionID is the id of the session the token belongs to (sid): set by
	// [Auth.StartSession], [Auth.Login] and [Auth.Refresh], empty for a
	// token issued outside a session. Revoking the session refuses its
	// access tokens at once.
	SessionID string
	// Roles are the roles of a token verified with a [Profile] that names
	// role claims ([Profile.RoleClaims]); nil otherwise. The library issues
	// one Role per token and never writes Roles: [Auth.Issue] refuses it.
	Roles []string

	// Extra holds the application's own claims when issuing: it must
	// marshal to a JSON object, whose members are added at the top level of
	// the payload. None of them may reuse a name the library sets. Extra is
	// nil in verified claims; use [Claims.Decode].
	Extra any

	raw []byte // the JSON payload as signed
}

// reservedClaims are the payload members the library writes or reads.
var reservedClaims = [...]string{"iss", "sub", "aud", "exp", "nbf", "iat", "iat_us", "jti", "role", "email", "scope", "sid"}

// Decode unmarshals the whole signed payload into v, typically a struct of
// the application's own claims. It fails for claims that did not come from a
// signed token.
func (c *Claims) Decode(v any) error {
	if c.raw == nil {
		return errors.New("auth: claims have no signed payload")
	}
	return json.Unmarshal(c.raw, v)
}

// HasRole reports whether the token's role (Role, or one of Roles) is one
// of roles.
func (c *Claims) HasRole(roles ...string) bool {
	for _, r := range roles {
		if r == "" {
			continue
		}
		if c.Role == r || slices.Contains(c.Roles, r) {
			return true
		}
	}
	return false
}

// HasScope reports whether the space-separated scope claim contains scope.
func (c *Claims) HasScope(scope string) bool {
	if scope == "" {
		return false
	}
	s := c.Scope
	for s != "" {
		var f string
		f, s, _ = strings.Cut(s, " ")
		if f == scope {
			return true
		}
	}
	return false
}

// hasAudience reports whether aud is one of the token's audiences.
func (c *Claims) hasAudience(aud string) bool {
	for _, a := range c.Audience {
		if a == aud {
			return true
		}
	}
	return false
}

// MarshalJSON encodes the claims in their token form.
func (c Claims) MarshalJSON() ([]byte, error) { return encodeClaims(&c) }

// UnmarshalJSON decodes claims from their token form, with the same type and
// range checks as verification (but no signature or validity checks).
func (c *Claims) UnmarshalJSON(b []byte) error {
	d, err := decodeClaims(append([]byte(nil), b...))
	if err != nil {
		return err
	}
	*c = *d
	return nil
}

// maxNumericDate is 9999-12-31T23:59:59Z; later dates are refused as absurd.
const maxNumericDate = 253402300799

var errAbsurdDate = errors.New("date out of range")

// numericDate decodes a JSON NumericDate: a non-negative number of seconds,
// possibly fractional, up to year 9999.
type numericDate struct {
	t   time.Time
	set bool
}

func (d *numericDate) UnmarshalJSON(b []byte) error {
	sec, nsec, err := parseNumericDate(b)
	if err != nil {
		return err
	}
	d.t, d.set = time.Unix(sec, nsec), true
	return nil
}

func parseNumericDate(b []byte) (sec, nsec int64, err error) {
	// Fast path: a plain non-negative integer.
	if n := len(b); n > 0 && n <= 12 {
		var v int64
		ok := true
		for _, ch := range b {
			if ch < '0' || ch > '9' {
				ok = false
				break
			}
			v = v*10 + int64(ch-'0')
		}
		if ok && !(n > 1 && b[0] == '0') {
			if v > maxNumericDate {
				return 0, 0, errAbsurdDate
			}
			return v, 0, nil
		}
	}
	if len(b) == 0 || !(b[0] == '-' || (b[0] >= '0' && b[0] <= '9')) {
		return 0, 0, fmt.Errorf("date is not a number")
	}
	f, err := strconv.ParseFloat(string(b), 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) || f < 0 || f > maxNumericDate {
		return 0, 0, errAbsurdDate
	}
	s, frac := math.Modf(f)
	return int64(s), int64(frac * 1e9), nil
}

// audience decodes aud, a string or an array of strings.
type audience []string

func (a *audience) UnmarshalJSON(b []byte) error {
	// encoding/json has validated b already: a string without escapes is
	// its own content.
	if len(b) >= 2 && b[0] == '"' && bytes.IndexByte(b, '\\') < 0 {
		*a = audience{string(b[1 : len(b)-1])}
		return nil
	}
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*a = audience{s}
		return nil
	}
	if len(b) > 0 && b[0] == '[' {
		var s []string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*a = s
		return nil
	}
	return errors.New("aud is neither a string nor an array of strings")
}

type claimsIn struct {
	Iss   string      `json:"iss"`
	Sub   string      `json:"sub"`
	Aud   audience    `json:"aud"`
	Exp   numericDate `json:"exp"`
	Nbf   numericDate `json:"nbf"`
	Iat   numericDate `json:"iat"`
	IatUS *int64      `json:"iat_us"`
	Jti   string      `json:"jti"`
	Role  string      `json:"role"`
	Email string      `json:"email"`
	Scope string      `json:"scope"`
	Sid   string      `json:"sid"`
}

// decodeClaims decodes a payload it takes ownership of. Errors match
// [ErrTokenMalformed] (not JSON, wrong types) or [ErrTokenClaims] (absurd
// dates, inconsistent iat_us).
func decodeClaims(payload []byte) (*Claims, error) {
	if len(payload) == 0 || payload[0] != '{' {
		return nil, fmt.Errorf("%w: payload is not a JSON object", ErrTokenMalformed)
	}
	if err := checkPayloadMembers(payload); err != nil {
		return nil, fmt.Errorf("%w: claims: %v", ErrTokenMalformed, err)
	}
	var in claimsIn
	if err := json.Unmarshal(payload, &in); err != nil {
		if errors.Is(err, errAbsurdDate) {
			return nil, fmt.Errorf("%w: %v", ErrTokenClaims, err)
		}
		return nil, fmt.Errorf("%w: claims: %v", ErrTokenMalformed, err)
	}
	c := &Claims{
		Issuer:    in.Iss,
		Subject:   in.Sub,
		Audience:  in.Aud,
		ExpiresAt: in.Exp.t,
		NotBefore: in.Nbf.t,
		IssuedAt:  in.Iat.t,
		ID:        in.Jti,
		Role:      in.Role,
		Email:     in.Email,
		Scope:     in.Scope,
		SessionID: in.Sid,
		raw:       payload,
	}
	if in.IatUS != nil {
		us := *in.IatUS
		if !in.Iat.set || us < 0 || us/1e6 != in.Iat.t.Unix() {
			return nil, fmt.Errorf("%w: iat_us disagrees with iat", ErrTokenClaims)
		}
		c.IssuedAt = time.UnixMicro(us)
	}
	return c, nil
}

type claimsOut struct {
	Iss   string `json:"iss,omitempty"`
	Sub   string `json:"sub,omitempty"`
	Aud   any    `json:"aud,omitempty"`
	Exp   int64  `json:"exp,omitempty"`
	Nbf   int64  `json:"nbf,omitempty"`
	Iat   int64  `json:"iat,omitempty"`
	IatUS int64  `json:"iat_us,omitempty"`
	Jti   string `json:"jti,omitempty"`
	Role  string `json:"role,omitempty"`
	Email string `json:"email,omitempty"`
	Scope string `json:"scope,omitempty"`
	Sid   string `json:"sid,omitempty"`
}

func unixOrZero(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.Unix()
}

// encodeClaims returns the payload JSON of c, Extra merged in.
func encodeClaims(c *Claims) ([]byte, error) {
	out := claimsOut{
		Iss: c.Issuer, Sub: c.Subject,
		Exp: unixOrZero(c.ExpiresAt), Nbf: unixOrZero(c.NotBefore), Iat: unixOrZero(c.IssuedAt),
		Jti: c.ID, Role: c.Role, Email: c.Email, Scope: c.Scope, Sid: c.SessionID,
	}
	if !c.IssuedAt.IsZero() {
		out.IatUS = c.IssuedAt.UnixMicro()
	}
	switch len(c.Audience) {
	case 0:
	case 1:
		out.Aud = c.Audience[0]
	default:
		out.Aud = c.Audience
	}
	b, err := json.Marshal(out)
	if err != nil {
		return nil, fmt.Errorf("auth: encode claims: %w", err)
	}
	if c.Extra == nil {
		return b, nil
	}
	extra, err := json.Marshal(c.Extra)
	if err != nil {
		return nil, fmt.Errorf("%w: encode extra claims: %v", errInvalidClaims, err)
	}
	var members map[string]json.RawMessage
	if err := json.Unmarshal(extra, &members); err != nil || members == nil {
		return nil, fmt.Errorf("%w: extra claims must encode as a JSON object", errInvalidClaims)
	}
	// encoding/json matches member names case-insensitively when decoding,
	// so "Sub" would shadow "sub": refuse every spelling.
	for m := range members {
		for _, name := range reservedClaims {
			if strings.EqualFold(m, name) {
				return nil, fmt.Errorf("%w: extra claim %q is reserved", errInvalidClaims, name)
			}
		}
	}
	extra = bytes.TrimSpace(extra)
	if len(members) == 0 {
		return b, nil
	}
	// Splice: {...library members..., ...extra members...}
	merged := make([]byte, 0, len(b)+len(extra))
	merged = append(merged, b[:len(b)-1]...)
	if len(b) > 2 {
		merged = append(merged, ',')
	}
	merged = append(merged, extra[1:]...)
	return merged, nil
}
