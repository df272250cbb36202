package auth

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"strings"
)

// maxBodyBytes caps the JSON body the handlers read.
const maxBodyBytes = 64 << 10

// DecodeJSON decodes the body of r into v strictly: one JSON value of at
// most [maxBodyBytes], no unknown member, no member twice in one object,
// member names spelled exactly as v's json tags (encoding/json alone
// matches them case-insensitively), nothing after the value. It returns an
// error matching [ErrInvalidInput] or [ErrBodyTooLarge].
func DecodeJSON(w http.ResponseWriter, r *http.Request, v any) error {
	return decodeJSON(w, r, v, false)
}

func decodeJSON(w http.ResponseWriter, r *http.Request, v any, emptyOK bool) error {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBodyBytes))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return ErrBodyTooLarge
		}
		return fmt.Errorf("%w: %v", ErrInvalidInput, err)
	}
	if len(bytes.TrimSpace(body)) == 0 {
		if emptyOK {
			return nil
		}
		return fmt.Errorf("%w: empty body", ErrInvalidInput)
	}
	if err := checkMembers(body, memberNames(v)); err != nil {
		return fmt.Errorf("%w: %v", ErrInvalidInput, err)
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("%w: %v", ErrInvalidInput, err)
	}
	if _, extra := dec.Token(); extra != io.EOF {
		return fmt.Errorf("%w: data after the JSON value", ErrInvalidInput)
	}
	return nil
}

// maxJSONDepth bounds the nesting of a request body.
const maxJSONDepth = 32

// memberNames returns the exact JSON member names of the struct v points
// to (its fields' json tags, or their names), or nil when v is not a
// pointer to a struct.
func memberNames(v any) map[string]bool {
	t := reflect.TypeOf(v)
	if t == nil || t.Kind() != reflect.Pointer || t.Elem().Kind() != reflect.Struct {
		return nil
	}
	names := map[string]bool{}
	var add func(reflect.Type)
	add = func(t reflect.Type) {
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			tag, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			switch {
			case tag == "-":
			case f.Anonymous && tag == "" && f.Type.Kind() == reflect.Struct:
				add(f.Type)
			case !f.IsExported():
			case tag != "":
				names[tag] = true
			default:
				names[f.Name] = true
			}
		}
	}
	add(t.Elem())
	return names
}

// checkMembers refuses what encoding/json would let through: a member
// that appears twice in one object (the last would win), and, in the
// top-level object, a member whose name is not exactly one of names
// (encoding/json matches names case-insensitively). A nil names checks
// duplicates only.
func checkMembers(body []byte, names map[string]bool) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	return checkValue(dec, names, 0)
}

func checkValue(dec *json.Decoder, names map[string]bool, depth int) error {
	if depth > maxJSONDepth {
		return errors.New("JSON nested too deeply")
	}
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	switch tok {
	case json.Delim('{'):
		seen := map[string]bool{}
		for dec.More() {
			kt, err := dec.Token()
			if err != nil {
				return err
			}
			key, _ := kt.(string)
			if seen[key] {
				return fmt.Errorf("member %q appears twice", key)
			}
			seen[key] = true
			if names != nil && !names[key] {
				return fmt.Errorf("unknown member %q (names are case-sensitive)", key)
			}
			if err := checkValue(dec, nil, depth+1); err != nil {
				return err
			}
		}
		_, err = dec.Token()
		return err
	case json.Delim('['):
		for dec.More() {
			if err := checkValue(dec, nil, depth+1); err != nil {
				return err
			}
		}
		_, err = dec.Token()
		return err
	}
	return nil
}

// RefreshTransfer says how a refresh token travels to the client.
type RefreshTransfer string

// The transfers. Browsers keep the refresh token in an HttpOnly cookie;
// clients that cannot keep cookies ask for it in the body with
// "refreshTransfer": "body".
const (
	TransferCookie RefreshTransfer = "cookie"
	TransferBody   RefreshTransfer = "body"
)

// ParseTransfer returns the transfer named s: "" or "cookie" for
// [TransferCookie], "body" for [TransferBody], and an error matching
// [ErrInvalidInput] otherwise.
func ParseTransfer(s string) (RefreshTransfer, error) {
	switch RefreshTransfer(s) {
	case "", TransferCookie:
		return TransferCookie, nil
	case TransferBody:
		return TransferBody, nil
	}
	return "", fmt.Errorf("%w: refreshTransfer must be \"cookie\" or \"body\"", ErrInvalidInput)
}

// WriteTokens writes a response that carries the tokens s of a sign-in or
// a refresh: a JSON object with fields, "accessToken" and "expiresIn"
// (seconds), and the refresh token either in the refresh cookie or, for
// [TransferBody], as "refreshToken" in the body (then no cookie is set).
// A device token (from [Auth.Login]) goes the same way: the "deviceToken"
// cookie, or "deviceToken" in the body. The response has Cache-Control:
// no-store.
func (a *Auth) WriteTokens(w http.ResponseWriter, status int, s *Tokens, transfer RefreshTransfer, fields map[string]any) {
	body := make(map[string]any, len(fields)+3)
	for k, v := range fields {
		body[k] = v
	}
	body["accessToken"] = s.Access.Token
	body["expiresIn"] = int64(s.Access.ExpiresIn.Seconds())
	if transfer == TransferBody {
		body["refreshToken"] = s.RefreshToken
		if s.DeviceToken != "" {
			body["deviceToken"] = s.DeviceToken
		}
	} else {
		a.setRefreshCookie(w, s.RefreshToken, s.RefreshExpiresAt)
		if s.DeviceToken != "" {
			a.setDeviceCookie(w, s.DeviceToken, s.DeviceExpiresAt)
		}
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, status, body)
}

// errSeveralRefreshCookies refuses a request that carries more than one
// refresh cookie: which one is the holder's cannot be told.
var errSeveralRefreshCookies = kind("auth: several refresh cookies", ErrInvalidRefreshToken)

// presentedRefresh returns the refresh tokens of a refresh or logout
// request: "refreshToken" in the JSON body (an empty body is fine), else
// the refresh cookies (usually one; none is an empty list).
func (a *Auth) presentedRefresh(w http.ResponseWriter, r *http.Request) ([]string, RefreshTransfer, error) {
	var in struct {
		RefreshToken *string `json:"refreshToken"`
	}
	if err := decodeJSON(w, r, &in, true); err != nil {
		return nil, "", err
	}
	if in.RefreshToken != nil {
		return []string{*in.RefreshToken}, TransferBody, nil
	}
	return a.refreshCookies(r), TransferCookie, nil
}

// RefreshHandler returns the handler of POST /api/auth/refresh. It takes the
// refresh token from {"refreshToken": "..."} in the body or from the refresh
// cookie, rotates it ([Auth.Refresh]) and answers 200 {accessToken,
// expiresIn} with the rotated token where the old one came from (the body,
// or the cookie). A refused token answers 401 INVALID_REFRESH_TOKEN and
// clears the cookie; a store failure answers 503 and leaves the cookie. A
// request with several refresh cookies (one planted for a parent domain or
// another path) answers 401 INVALID_REFRESH_TOKEN without using any of them
// or clearing the cookie, so the holder's own cookie survives.
// Mount it behind [Auth.CrossOriginProtection]; a handler mounted
// elsewhere than under /api/auth needs the cookie's Path changed to match
// ([WithRefreshCookie]). It returns an error matching [ErrConfig] when the
// Auth has no [WithClaimsLoader], which every refresh needs.
func (a *Auth) RefreshHandler() (http.Handler, error) {
	if a.cfg.claimsLoader == nil {
		return nil, errNoClaimsLoader
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		toks, transfer, err := a.presentedRefresh(w, r)
		if err != nil {
			WriteError(w, r, err)
			return
		}
		if len(toks) > 1 {
			a.writeFailure(w, r, errSeveralRefreshCookies)
			return
		}
		tok := ""
		if len(toks) == 1 {
			tok = toks[0]
		}
		s, err := a.Refresh(r.Context(), tok, a.ClientFrom(r))
		if err != nil {
			if errors.Is(err, ErrInvalidRefreshToken) {
				a.clearRefreshCookie(w)
			}
			a.writeFailure(w, r, err)
			return
		}
		a.WriteTokens(w, http.StatusOK, s, transfer, nil)
	}), nil
}

// LogoutHandler returns the handler of POST /api/auth/logout. It revokes
// the session of the refresh token (body or cookie) and, when a valid
// bearer access token is sent, the session of that token (its sid; a token
// issued outside a session is denied on its own), clears the cookie and answers 200
// {"message": ...}. It is idempotent: a missing, unknown or revoked token
// still answers 200. With several refresh cookies, it revokes the session
// of each (up to four). A store failure answers 503 and leaves the cookie. Like
// every handler that reads the refresh cookie, it needs the cookie's Path
// to cover where it is mounted (default /api/auth, see [CookieConfig]).
func (a *Auth) LogoutHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		toks, _, err := a.presentedRefresh(w, r)
		if err != nil {
			WriteError(w, r, err)
			return
		}
		if bearer, err := a.extract(r); err == nil {
			c, err := a.Verify(r.Context(), bearer)
			switch {
			case err == nil && c.SessionID != "":
				// The bearer's session ends, and with it every access
				// token of the session: one revocation entry per session,
				// however many tokens it had.
				if err := a.RevokeSession(r.Context(), c.Subject, c.SessionID); err != nil {
					a.writeFailure(w, r, err)
					return
				}
			case err == nil:
				if err := a.RevokeAccessToken(r.Context(), c); err != nil {
					a.writeFailure(w, r, err)
					return
				}
			case errors.Is(err, ErrUnavailable):
				a.writeFailure(w, r, err)
				return
			}
		}
		for _, tok := range toks {
			if err := a.RevokeRefreshToken(r.Context(), tok); err != nil {
				a.writeFailure(w, r, err)
				return
			}
		}
		a.clearRefreshCookie(w)
		writeJSON(w, http.StatusOK, map[string]string{"message": "logged out"})
	})
}

// LogoutAllHandler returns the handler of POST /api/auth/logout-all, which
// needs a valid bearer token: every session of its user is revoked and every
// access token issued to the user before now stops working ([Auth.RevokeUser]);
// it clears the cookie and answers 200 {"message": ...}.
func (a *Auth) LogoutAllHandler() http.Handler {
	return a.Require(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, _ := ClaimsFromContext(r.Context())
		if err := a.RevokeUser(r.Context(), c.Subject); err != nil {
			a.writeFailure(w, r, err)
			return
		}
		a.clearRefreshCookie(w)
		writeJSON(w, http.StatusOK, map[string]string{"message": "logged out everywhere"})
	}))
}

// CrossOriginProtection wraps h in the standard library's
// [http.CrossOriginProtection]: state-changing cross-origin browser requests
// (judged by Sec-Fetch-Site and Origin) are refused with 403 CROSS_ORIGIN in
// the JSON error shape. Wrap every state-changing route that a cookie
// authenticates, and login and registration too (against login CSRF).
// Origins added with [WithTrustedOrigins] are let through.
func (a *Auth) CrossOriginProtection(h http.Handler) http.Handler {
	cop := http.NewCrossOriginProtection()
	for _, o := range a.cfg.trustedOrigins {
		_ = cop.AddTrustedOrigin(o) // validated in New
	}
	cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		WriteError(w, r, ErrCrossOrigin)
	}))
	return cop.Handler(h)
}

// writeFailure logs what the client is not told, then writes the error.
// writeFailure answers err, after logging it once at error level when it
// is a failure of the server (a 5xx), never with a token or password.
func (a *Auth) writeFailure(w http.ResponseWriter, r *http.Request, err error) {
	if l := a.cfg.logger; l != nil && ErrorStatus(err) >= 500 {
		l.ErrorContext(r.Context(), "auth: request failed", "method", r.Method, "path", r.URL.Path, "code", ErrorCode(err), "err", err.Error())
	}
	WriteError(w, r, err)
}
