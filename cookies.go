package auth

import (
	"fmt"
	"net/http"
	"strings"
	"time"
)

// CookieConfig describes the refresh-token cookie.
type CookieConfig struct {
	// Name of the cookie. Default "refreshToken".
	Name string
	// Path limits the cookie to the routes that need it. Default
	// "/api/auth".
	Path string
	// Domain, when set, widens the cookie to subdomains. Default none
	// (host-only).
	Domain string
	// Insecure drops the Secure attribute; only for plain-HTTP development
	// off localhost. Default false: the cookie is Secure.
	Insecure bool
	// SameSite defaults to Strict.
	SameSite http.SameSite
}

// DefaultCookie returns the default refresh cookie: "refreshToken",
// HttpOnly, Secure, SameSite=Strict, Path=/api/auth.
func DefaultCookie() CookieConfig {
	return CookieConfig{Name: "refreshToken", Path: "/api/auth", SameSite: http.SameSiteStrictMode}
}

func (c CookieConfig) validate() error {
	if c.Name == "" || strings.ContainsAny(c.Name, " \t\r\n;,=") {
		return fmt.Errorf("%w: invalid refresh cookie name %q", ErrConfig, c.Name)
	}
	if c.Path == "" || c.Path[0] != '/' {
		return fmt.Errorf("%w: refresh cookie path must start with /", ErrConfig)
	}
	if c.SameSite == http.SameSiteNoneMode && c.Insecure {
		return fmt.Errorf("%w: SameSite=None needs a Secure cookie", ErrConfig)
	}
	return nil
}

func (c CookieConfig) cookie(value string, maxAge int) *http.Cookie {
	ss := c.SameSite
	if ss == 0 || ss == http.SameSiteDefaultMode {
		ss = http.SameSiteStrictMode
	}
	return &http.Cookie{
		Name:     c.Name,
		Value:    value,
		Path:     c.Path,
		Domain:   c.Domain,
		MaxAge:   maxAge,
		HttpOnly: true,
		Secure:   !c.Insecure,
		SameSite: ss,
	}
}

// SetRefreshCookie sets the refresh cookie to token, with Max-Age equal to
// the token's remaining lifetime.
func (a *Auth) SetRefreshCookie(w http.ResponseWriter, token string, expires time.Time) {
	maxAge := int(expires.Sub(a.cfg.now()).Seconds())
	if maxAge < 1 {
		maxAge = 1
	}
	http.SetCookie(w, a.cfg.cookie.cookie(token, maxAge))
}

// ClearRefreshCookie clears the refresh cookie: same name and path,
// Max-Age=0.
func (a *Auth) ClearRefreshCookie(w http.ResponseWriter) {
	c := a.cfg.cookie.cookie("", 0)
	c.MaxAge = -1 // net/http writes Max-Age=0 for a negative MaxAge
	http.SetCookie(w, c)
}

// refreshCookie returns the refresh token in r's cookie, or "".
func (a *Auth) refreshCookie(r *http.Request) string {
	c, err := r.Cookie(a.cfg.cookie.Name)
	if err != nil {
		return ""
	}
	return c.Value
}
