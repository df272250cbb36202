package auth

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/google/uuid"
)

// Device tokens implement the device-cookie scheme of OWASP's
// authentication guidance, so that failed logins cannot lock an account's
// owner out. A successful login hands the client a device token bound to
// the account (Tokens.DeviceToken: the device cookie, or "deviceToken" in a
// body-transfer response). A later login that presents a valid device
// token of the same account is throttled on that device's own budget;
// every other attempt on the account shares one budget for unknown
// clients. When guesses from elsewhere spend that budget, the owner's
// known device still signs in, and a device that guesses wrong itself is
// throttled on its own.
//
// A device token is a JWS signed by the signing key, with typ
// "device+jwt" (so it never passes as an access token, and an access token
// never passes as a device token) and the claims iss, aud, sub (a digest
// of the login name, never the name itself), jti (the device's throttle
// key), iat and exp. Every instance that shares the keys accepts the
// others' device tokens.
const (
	deviceTokenType = "device+jwt"
	// deviceTTL is the lifetime of a device token; each successful login
	// from the device renews it.
	deviceTTL = 90 * 24 * time.Hour
	// deviceCookieName names the device cookie. It has the refresh
	// cookie's path, domain and attributes ([WithRefreshCookie]).
	deviceCookieName = "deviceToken"
	// maxDeviceToken bounds a presented device token: a longer one is not
	// even parsed.
	maxDeviceToken = 2048
)

// deviceClaims are the claims of a device token.
type deviceClaims struct {
	Issuer   string `json:"iss"`
	Audience string `json:"aud"`
	Subject  string `json:"sub"`
	ID       string `json:"jti"`
	IssuedAt int64  `json:"iat"`
	Expires  int64  `json:"exp"`
}

// issueDevice signs a new device token bound to the account key account.
func (a *Auth) issueDevice(account string, now time.Time) (string, time.Time, error) {
	key := a.signingKey()
	if key == nil {
		return "", time.Time{}, errNoSigningKey
	}
	id, err := uuid.NewRandomFromReader(a.cfg.random)
	if err != nil {
		return "", time.Time{}, fmt.Errorf("auth: device id: %w", err)
	}
	exp := time.Unix(now.Unix(), 0).Add(deviceTTL)
	h, _ := json.Marshal(header{Alg: string(key.alg), Kid: key.id, Typ: deviceTokenType}) // strings only
	p, _ := json.Marshal(deviceClaims{a.cfg.issuer, a.cfg.audience, account, id.String(), now.Unix(), exp.Unix()})
	input := b64url.EncodeToString(h) + "." + b64url.EncodeToString(p)
	sig, err := key.sign(input)
	if err != nil {
		return "", time.Time{}, fmt.Errorf("auth: sign device token: %w", err)
	}
	return input + "." + b64url.EncodeToString(sig), exp, nil
}

// deviceID returns the id of token when it is a valid, unexpired device
// token of the account key account, and "" otherwise: a device token that
// fails any check is simply not a known device.
func (a *Auth) deviceID(ctx context.Context, token, account string, now time.Time) string {
	if token == "" || len(token) > maxDeviceToken {
		return ""
	}
	hSeg, pSeg, sSeg, err := splitToken(token)
	if err != nil {
		return ""
	}
	raw, err := b64url.DecodeString(hSeg)
	if err != nil {
		return ""
	}
	var h headerIn
	if json.Unmarshal(raw, &h) != nil || h.Typ != deviceTokenType || checkKeyID(h.Kid) != nil {
		return ""
	}
	key, err := a.lookupKey(ctx, h.Kid, Algorithm(h.Alg))
	if err != nil {
		return ""
	}
	sig, err := b64url.DecodeString(sSeg)
	if err != nil || key.verifySignature(token[:len(hSeg)+1+len(pSeg)], sig) != nil {
		return ""
	}
	payload, err := b64url.DecodeString(pSeg)
	if err != nil {
		return ""
	}
	var c deviceClaims
	if json.Unmarshal(payload, &c) != nil {
		return ""
	}
	if c.Issuer != a.cfg.issuer || c.Audience != a.cfg.audience || c.Subject != account || c.ID == "" ||
		!now.Before(time.Unix(c.Expires, 0)) || now.Add(a.cfg.leeway).Before(time.Unix(c.IssuedAt, 0)) {
		return ""
	}
	return c.ID
}

// setDeviceCookie sets the device cookie to token, with the refresh
// cookie's path, domain and attributes.
func (a *Auth) setDeviceCookie(w http.ResponseWriter, token string, expires time.Time) {
	c := a.cfg.cookie
	c.Name = a.deviceCookieName()
	http.SetCookie(w, c.cookie(token, max(int(expires.Sub(a.cfg.now()).Seconds()), 1)))
}

// deviceCookieName is the device cookie's name: "deviceToken", with the
// "__Host-" prefix when the refresh cookie has it.
func (a *Auth) deviceCookieName() string {
	if strings.HasPrefix(a.cfg.cookie.Name, hostPrefix) {
		return hostPrefix + deviceCookieName
	}
	return deviceCookieName
}

// deviceCookie returns the device token in r's cookie, or "" when there is
// none or several (one of which may have been planted).
func (a *Auth) deviceCookie(r *http.Request) string {
	cs := r.CookiesNamed(a.deviceCookieName())
	if len(cs) != 1 {
		return ""
	}
	return cs[0].Value
}
