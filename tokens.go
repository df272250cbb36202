package auth

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"hash/maphash"
	"io"
	"strings"
	"sync/atomic"
	"time"

	"github.com/jwtkit/auth/authstore"

	"github.com/google/uuid"
)

// tokenType is the JWS "typ" of access tokens (RFC 9068). Verification
// accepts it, or "application/at+jwt", case-insensitively, and nothing else,
// so no other kind of JWT signed by the same key passes as an access token.
const tokenType = "at+jwt"

// b64url decodes base64url without padding and with zero trailing bits.
// Verify also checks the alphabet first, since the decoder skips newlines.
var b64url = base64.RawURLEncoding.Strict()

// AccessToken is a signed access token and the claims it carries.
type AccessToken struct {
	// Token is the compact JWS to send as "Authorization: Bearer <Token>".
	Token string
	// Claims are the claims as signed: iss, aud, iat, exp and jti filled in.
	Claims *Claims
	// ExpiresIn is the token's lifetime from issuance in whole seconds
	// (the "expires_in" of OAuth responses): exp minus iat, the configured
	// lifetime ([WithAccessTTL]) rounded up to the second.
	ExpiresIn time.Duration
}

// Issue signs an access token for the claims c. The caller sets Subject (the
// user id; required) and any of Role, Email, Scope, NotBefore and Extra.
// Issue sets Issuer and Audience from configuration, IssuedAt to now, ID to a
// new random UUID and ExpiresAt so that exp is exactly iat plus the access
// token lifetime ([WithAccessTTL], rounded up to the second) on the wire, as
// other JWT libraries issue them, overwriting what c held. The header carries the signing
// key's kid and typ "at+jwt".
func (a *Auth) Issue(ctx context.Context, c Claims) (*AccessToken, error) {
	key := a.signingKey()
	if key == nil {
		return nil, errNoSigningKey
	}
	if c.Subject == "" {
		return nil, fmt.Errorf("%w: subject is required", errInvalidClaims)
	}
	if c.Roles != nil {
		return nil, fmt.Errorf("%w: Roles cannot be issued; set Role", errInvalidClaims)
	}
	id, err := uuid.NewRandomFromReader(a.cfg.random)
	if err != nil {
		return nil, fmt.Errorf("auth: token id: %w", err)
	}
	now := a.cfg.now().Truncate(time.Microsecond)
	c.Issuer = a.cfg.issuer
	c.Audience = []string{a.cfg.audience}
	c.IssuedAt = now
	// iat and exp have whole seconds on the wire (iat_us keeps the
	// microseconds of iat): exp - iat is the lifetime, to the second.
	c.ExpiresAt = time.Unix(now.Unix(), 0).Add((a.cfg.accessTTL + time.Second - 1).Truncate(time.Second))
	c.ID = id.String()
	payload, err := encodeClaims(&c)
	if err != nil {
		return nil, err
	}
	c.raw = payload
	c.Extra = nil
	tok, err := sign(key, payload)
	if err != nil {
		return nil, err
	}
	return &AccessToken{Token: tok, Claims: &c, ExpiresIn: c.ExpiresAt.Sub(time.Unix(c.IssuedAt.Unix(), 0))}, nil
}

// header is the JOSE header of tokens the library issues, in a fixed order.
type header struct {
	Alg string `json:"alg"`
	Kid string `json:"kid"`
	Typ string `json:"typ"`
}

// headerSegment returns the base64url JOSE header of tokens k signs:
// {"alg":...,"kid":...,"typ":"at+jwt"}, in that order.
func headerSegment(k *Key) string {
	h, _ := json.Marshal(header{Alg: string(k.alg), Kid: k.id, Typ: tokenType}) // strings only: cannot fail
	return b64url.EncodeToString(h)
}

func sign(key *Key, payload []byte) (string, error) {
	hl, pl := len(key.header), b64url.EncodedLen(len(payload))
	buf := make([]byte, hl+1+pl, hl+1+pl+1+b64url.EncodedLen(512))
	copy(buf, key.header)
	buf[hl] = '.'
	b64url.Encode(buf[hl+1:], payload)
	sig, err := key.sign(string(buf))
	if err != nil {
		return "", fmt.Errorf("auth: sign: %w", err)
	}
	buf = append(buf, '.')
	buf = b64url.AppendEncode(buf, sig)
	return string(buf), nil
}

// headerIn is the part of a received JOSE header that verification reads.
type headerIn struct {
	Alg, Kid, Typ string
}

// b64urlAlphabet marks the bytes allowed in a compact JWS segment.
var b64urlAlphabet = func() (t [256]bool) {
	for _, c := range "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_" {
		t[c] = true
	}
	return t
}()

// Verify checks token and returns its claims. It refuses, with an error
// matching [ErrInvalidToken] and a more precise sentinel:
//   - a token over the size cap ([WithMaxTokenSize]), before any decoding;
//   - anything but three strict base64url segments;
//   - a header whose alg is not the one algorithm of the key its kid names
//     (so "none" in any spelling and algorithm confusion), an unknown or
//     missing kid, a typ other than at+jwt (or than those of the
//     [Profile], [WithProfile]), or any jku, x5u, x5c, jwk or crit member
//     (none is ever followed);
//   - a bad signature (checked before the payload is parsed);
//   - claims of the wrong JSON type, absurd dates, a missing exp, iat, iss,
//     aud, sub or jti (unless the profile makes jti optional), a wrong iss
//     or aud, and what the profile checks (azp, its scope and role claims);
//   - an exp at or before now, an nbf or iat after now (each with the
//     configured leeway);
//   - a token the revocation check ([WithRevocation]) refuses
//     ([ErrTokenRevoked]).
//
// When the key source or the revocation check fails, Verify returns an
// error matching [ErrUnavailable] instead: the token was not judged.
func (a *Auth) Verify(ctx context.Context, token string) (*Claims, error) {
	if o := a.cfg.observer; o != nil {
		ctx, done := o(ctx, "verify")
		c, err := a.verify(ctx, token)
		done(err)
		return c, err
	}
	return a.verify(ctx, token)
}

// verify is Verify without the observer.
func (a *Auth) verify(ctx context.Context, token string) (*Claims, error) {
	if len(token) > a.cfg.maxTokenSize {
		return nil, errTokenTooLarge
	}
	if token == "" {
		return nil, ErrNoToken
	}
	if tc := a.cache; tc != nil {
		if e := tc.get(token); e != nil {
			if c, err := a.verifyCached(ctx, token, e); err != errCacheStale {
				return c, err
			}
		}
	}
	hSeg, pSeg, sSeg, err := splitToken(token)
	if err != nil {
		return nil, err
	}
	payload, key, err := a.verifySignature(ctx, token[:len(hSeg)+1+len(pSeg)], hSeg, pSeg, sSeg)
	if err != nil {
		return nil, err
	}
	c, err := decodeClaims(payload)
	if err != nil {
		return nil, err
	}
	if p := a.cfg.profile; p != nil {
		if err := p.apply(c); err != nil {
			return nil, err
		}
	}
	if err := a.validate(c); err != nil {
		return nil, err
	}
	if err := a.checkRevoked(ctx, c); err != nil {
		return nil, err
	}
	if tc := a.cache; tc != nil {
		tc.put(token, c, key, a.cfg.now())
	}
	return c, nil
}

// errCacheStale is verifyCached's answer for an entry that no longer
// stands; it never leaves the package.
var errCacheStale = errors.New("auth: cache entry stale")

// verifyCached answers for token from its cache entry e: the key that
// verified it must still be the one its kid names, and the checks that
// depend on time or on revocation run again. When the entry no longer
// stands (its key was retired or replaced) it is dropped and verifyCached
// returns errCacheStale: the token must be verified in full.
func (a *Auth) verifyCached(ctx context.Context, token string, e *cacheEntry) (*Claims, error) {
	if k, err := a.cfg.keys.VerificationKey(ctx, e.key.id); err != nil || k != e.key {
		a.cache.remove(token, e)
		return nil, errCacheStale
	}
	if err := a.validateTime(&e.claims); err != nil {
		if errors.Is(err, ErrTokenExpired) {
			a.cache.remove(token, e)
		}
		return nil, err
	}
	c := new(Claims)
	*c = e.claims
	c.Audience = append([]string(nil), e.claims.Audience...)
	if e.claims.Roles != nil {
		c.Roles = append([]string(nil), e.claims.Roles...)
	}
	if err := a.checkRevoked(ctx, c); err != nil {
		return nil, err
	}
	return c, nil
}

// splitToken returns the three segments of a compact JWS, checking in one
// pass the base64url alphabet and that there are exactly two dots. The
// signature may be empty (an unsecured JWS, "alg":"none"): such a token is
// refused later for its alg, or as a bad signature, so the error names what
// the token tried.
func splitToken(token string) (hSeg, pSeg, sSeg string, err error) {
	d1, d2 := -1, -1
	for i := 0; i < len(token); i++ {
		c := token[i]
		if c == '.' {
			switch {
			case d1 < 0:
				d1 = i
			case d2 < 0:
				d2 = i
			default:
				return "", "", "", fmt.Errorf("%w: more than three segments", ErrTokenMalformed)
			}
			continue
		}
		if !b64urlAlphabet[c] {
			return "", "", "", fmt.Errorf("%w: not base64url", ErrTokenMalformed)
		}
	}
	if d2 < 0 || d1 == 0 || d2 == d1+1 {
		return "", "", "", fmt.Errorf("%w: not three segments with a header and a payload", ErrTokenMalformed)
	}
	return token[:d1], token[d1+1 : d2], token[d2+1:], nil
}

// verifySignature finds the key that the header names, checks the
// signature over input (the header and payload segments) and returns the
// decoded payload. The payload is decoded only once the signature verified.
func (a *Auth) verifySignature(ctx context.Context, input, hSeg, pSeg, sSeg string) ([]byte, *Key, error) {
	key, learnKid, err := a.headerKey(ctx, hSeg)
	if err != nil {
		return nil, nil, err
	}
	// One buffer for the decoded payload and signature.
	pn, sn := b64url.DecodedLen(len(pSeg)), b64url.DecodedLen(len(sSeg))
	buf := make([]byte, pn+sn)
	sb, err := b64url.Decode(buf[pn:], []byte(sSeg))
	if err != nil {
		return nil, nil, fmt.Errorf("%w: signature is not base64url", ErrTokenMalformed)
	}
	if err := key.verifySignature(input, buf[pn:pn+sb]); err != nil {
		return nil, nil, ErrTokenSignature
	}
	if learnKid != "" {
		// Only a key holder can get a header this far, so the cache
		// cannot be filled with headers that no key signed.
		a.headers.put(hSeg, learnKid, key.alg)
	}
	pb, err := b64url.Decode(buf[:pn], []byte(pSeg))
	if err != nil {
		return nil, nil, fmt.Errorf("%w: payload is not base64url", ErrTokenMalformed)
	}
	return buf[:pb:pb], key, nil
}

// checkRevoked asks the revocation check about the verified claims c.
func (a *Auth) checkRevoked(ctx context.Context, c *Claims) error {
	rc := a.cfg.revocation
	if rc == nil {
		return nil
	}
	revoked, err := rc.Revoked(ctx, c.Subject, c.SessionID, c.ID, c.IssuedAt)
	if err != nil {
		return unavailable("revocation check", err)
	}
	if revoked {
		return ErrTokenRevoked
	}
	return nil
}

// headerKey returns the key that verifies a token with header segment hSeg.
// A header the library wrote itself, byte for byte, names its key directly;
// a header that verified before (see [headerCache]) names its kid and alg
// without being decoded again; any other header is decoded strictly (see
// parseHeader) and must name a known kid whose one algorithm is its alg. In
// that last case learnKid is the header's kid, for Verify to remember the
// header once the signature verified; otherwise it is "".
func (a *Auth) headerKey(ctx context.Context, hSeg string) (key *Key, learnKid string, err error) {
	if ks, ok := a.cfg.keys.(*KeySet); ok && a.cfg.profile == nil {
		if k := ks.snap.Load().byHeader[hSeg]; k != nil {
			return k, "", nil
		}
	}
	if e := a.headers.get(hSeg); e != nil {
		key, err := a.lookupKey(ctx, e.kid, e.alg)
		return key, "", err
	}
	raw, err := b64url.DecodeString(hSeg)
	if err != nil {
		return nil, "", fmt.Errorf("%w: header is not base64url", ErrTokenMalformed)
	}
	h, err := parseHeader(raw)
	if err != nil {
		return nil, "", err
	}
	if strings.EqualFold(h.Alg, "none") {
		return nil, "", fmt.Errorf("%w: alg none", ErrTokenHeader)
	}
	if !a.acceptsType(h.Typ) {
		return nil, "", fmt.Errorf("%w: typ is not one the verifier accepts", ErrTokenHeader)
	}
	if h.Kid == "" {
		return nil, "", fmt.Errorf("%w: no kid", ErrTokenUnknownKey)
	}
	// No key can have a kid that WithKeyID refuses: do not hand a key
	// source (which may query a store or a URL with it) such a string.
	if checkKeyID(h.Kid) != nil {
		return nil, "", fmt.Errorf("%w: kid is not a valid key id", ErrTokenUnknownKey)
	}
	key, err = a.lookupKey(ctx, h.Kid, Algorithm(h.Alg))
	if err != nil {
		return nil, "", err
	}
	return key, h.Kid, nil
}

// lookupKey asks the key source for kid and checks that the key's one
// algorithm is alg, the header's.
func (a *Auth) lookupKey(ctx context.Context, kid string, alg Algorithm) (*Key, error) {
	key, err := a.cfg.keys.VerificationKey(ctx, kid)
	if err != nil {
		if errors.Is(err, ErrTokenUnknownKey) {
			return nil, err
		}
		return nil, unavailable("key source", err)
	}
	if key == nil || key.info.method == nil {
		return nil, fmt.Errorf("%w: key source returned no key and no error", ErrUnavailable)
	}
	if alg != key.alg {
		return nil, fmt.Errorf("%w: alg does not match the key", ErrTokenHeader)
	}
	return key, nil
}

// Bounds of the verified-header cache.
const (
	// headerCacheSlots is the number of entries, in pairs; a power of two.
	headerCacheSlots = 256
	// maxCachedHeader is the longest header segment remembered. The
	// headers of real issuers are about a hundred bytes.
	maxCachedHeader = 512
)

// headerCache remembers header segments that passed the strict header
// checks and belonged to a token whose signature verified, with the kid and
// alg they carry, so that verifying the next token with the same header
// skips decoding it. It holds no key: every hit still asks the key source
// for the kid and checks the key's algorithm, so a key that was rotated out
// or retired is refused exactly as without the cache. What it remembers
// depends on the header bytes alone. Each [Auth] has its own.
//
// It is a two-way set-associative table of fixed size: a header lives in
// one of the two slots its hash selects, and a new header takes an empty one
// or replaces one of the two. So the cache never grows, a lookup is one
// hash and at most two string comparisons without allocating, no insertion
// evicts more than one entry, and two headers in use at once (a key and its
// successor) never push each other out. A header enters only after a
// signature verified (see [Auth.Verify]), so only key holders can make it
// churn. Build one with newHeaderCache; it is safe for concurrent use, each
// slot being an atomic pointer to an immutable entry.
type headerCache struct {
	seed  maphash.Seed // picks a header's slots
	slots [headerCacheSlots]atomic.Pointer[headerEntry]
}

func newHeaderCache() *headerCache { return &headerCache{seed: maphash.MakeSeed()} }

type headerEntry struct {
	seg string // the header segment, a copy
	kid string
	alg Algorithm
}

// set returns the two slots where seg may live, and the hash bit that picks
// the one to replace.
func (c *headerCache) set(seg string) (*atomic.Pointer[headerEntry], *atomic.Pointer[headerEntry], uint64) {
	h := maphash.String(c.seed, seg)
	i := h & (headerCacheSlots - 2)
	return &c.slots[i], &c.slots[i+1], h >> 63
}

// get returns the entry for seg, or nil.
func (c *headerCache) get(seg string) *headerEntry {
	if len(seg) > maxCachedHeader {
		return nil
	}
	s0, s1, _ := c.set(seg)
	if e := s0.Load(); e != nil && e.seg == seg {
		return e
	}
	if e := s1.Load(); e != nil && e.seg == seg {
		return e
	}
	return nil
}

// put remembers that seg names kid and alg.
func (c *headerCache) put(seg, kid string, alg Algorithm) {
	if len(seg) > maxCachedHeader {
		return
	}
	s0, s1, bit := c.set(seg)
	e0, e1 := s0.Load(), s1.Load()
	// Copies, so the entry does not keep the whole token alive.
	e := &headerEntry{seg: strings.Clone(seg), kid: strings.Clone(kid), alg: alg}
	switch {
	case e0 == nil:
		s0.Store(e)
	case e1 == nil:
		s1.Store(e)
	case bit == 0:
		s0.Store(e)
	default:
		s1.Store(e)
	}
}

// headerMembers are the header members verification reads or refuses.
var headerMembers = [...]string{"alg", "kid", "typ", "jku", "x5u", "x5c", "jwk", "crit"}

// parseHeader decodes a JOSE header strictly: a JSON object whose alg, kid
// and typ, when present, are strings given once each, in exactly that
// spelling. Any jku, x5u, x5c, jwk or crit member, a duplicate, or another
// letter case of one of these names (which some decoders would honour and
// others ignore) is refused with [ErrTokenHeader]; other members are
// skipped.
func parseHeader(raw []byte) (headerIn, error) {
	var h headerIn
	malformed := fmt.Errorf("%w: header is not a JSON object of the right types", ErrTokenMalformed)
	dec := json.NewDecoder(bytes.NewReader(raw))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return h, malformed
	}
	var seen [3]bool
	for dec.More() {
		t, err := dec.Token()
		name, ok := t.(string)
		if err != nil || !ok {
			return h, malformed
		}
		var dst *string
		var i int
		switch name {
		case "alg":
			dst, i = &h.Alg, 0
		case "kid":
			dst, i = &h.Kid, 1
		case "typ":
			dst, i = &h.Typ, 2
		case "jku", "x5u", "x5c", "jwk", "crit":
			return h, fmt.Errorf("%w: jku, x5u, x5c, jwk and crit are never accepted", ErrTokenHeader)
		default:
			for _, m := range headerMembers {
				if strings.EqualFold(name, m) {
					return h, fmt.Errorf("%w: header member %q in another letter case", ErrTokenHeader, m)
				}
			}
			var skip json.RawMessage
			if err := dec.Decode(&skip); err != nil {
				return h, malformed
			}
			continue
		}
		if seen[i] {
			return h, fmt.Errorf("%w: duplicate header member %q", ErrTokenHeader, name)
		}
		seen[i] = true
		if err := dec.Decode(dst); err != nil {
			return h, malformed
		}
	}
	if t, err := dec.Token(); err != nil || t != json.Delim('}') {
		return h, malformed
	}
	if _, err := dec.Token(); err != io.EOF {
		return h, malformed
	}
	return h, nil
}

func validTyp(t string) bool {
	return strings.EqualFold(t, tokenType) || strings.EqualFold(t, "application/"+tokenType)
}

// validate checks the claims of a token whose signature verified.
func (a *Auth) validate(c *Claims) error {
	switch {
	case c.ExpiresAt.IsZero():
		return fmt.Errorf("%w: exp is required", ErrTokenClaims)
	case c.IssuedAt.IsZero():
		return fmt.Errorf("%w: iat is required", ErrTokenClaims)
	case c.Subject == "":
		return fmt.Errorf("%w: sub is required", ErrTokenClaims)
	case c.ID == "" && (a.cfg.profile == nil || !a.cfg.profile.optionalID):
		return fmt.Errorf("%w: jti is required", ErrTokenClaims)
	case c.Issuer != a.cfg.issuer:
		return fmt.Errorf("%w: wrong iss", ErrTokenClaims)
	case !c.hasAudience(a.cfg.audience):
		return fmt.Errorf("%w: wrong aud", ErrTokenClaims)
	}
	// Revocation stores keep a cutoff for authstore.MaxAccessTTL: a longer-lived token
	// could outlive its revocation.
	if c.ExpiresAt.Sub(c.IssuedAt) > authstore.MaxAccessTTL+time.Second {
		return fmt.Errorf("%w: lifetime longer than %v", ErrTokenClaims, authstore.MaxAccessTTL)
	}
	return a.validateTime(c)
}

// validateTime runs the checks of claims c that depend on the time: exp,
// nbf and iat against now, with the leeway.
func (a *Auth) validateTime(c *Claims) error {
	now := a.cfg.now()
	leeway := a.cfg.leeway
	if !now.Before(c.ExpiresAt.Add(leeway)) {
		return ErrTokenExpired
	}
	if !c.NotBefore.IsZero() && now.Add(leeway).Before(c.NotBefore) {
		return fmt.Errorf("%w: nbf is in the future", errTokenNotYetValid)
	}
	// iat has second resolution on the wire: compare whole seconds so a token
	// is never refused for the fraction the clock has not reached yet.
	if now.Add(leeway).Unix() < c.IssuedAt.Unix() {
		return fmt.Errorf("%w: iat is in the future", errTokenNotYetValid)
	}
	return nil
}
