package auth

import (
	"net/http"
	"strings"
	"time"
)

// CookieConfig describes the refresh-token cookie (see [WithRefreshCookie]).
// A zero field takes its default, so CookieConfig{} is the default cookie:
// "refreshToken", HttpOnly, Secure, SameSite=Strict, Path=/api/auth.
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

// withDefaults returns c with its zero fields set to their defaults.
func (c CookieConfig) withDefaults() CookieConfig {
	if c.Name == "" {
		c.Name = "refreshToken"
	}
	if c.Path == "" {
		c.Path = "/api/auth"
	}
	if c.SameSite == 0 || c.SameSite == http.SameSiteDefaultMode {
		c.SameSite = http.SameSiteStrictMode
	}
	return c
}

func (c CookieConfig) validate() error {
	if !validCookieName(c.Name) {
		return configError("WithRefreshCookie", "invalid cookie name %q", c.Name)
	}
	if c.Path == "" || c.Path[0] != '/' {
		return configError("WithRefreshCookie", "path %q does not start with /", c.Path)
	}
	if c.SameSite == http.SameSiteNoneMode && c.Insecure {
		return configError("WithRefreshCookie", "SameSite=None needs a Secure cookie")
	}
	return nil
}

// validCookieName reports whether name may name a cookie.
func validCookieName(name string) bool {
	return name != "" && !strings.ContainsAny(name, " \t\r\n;,=\"")
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

// setRefreshCookie sets the refresh cookie to token, with Max-Age equal to
// the token's remaining lifetime.
func (a *Auth) setRefreshCookie(w http.ResponseWriter, token string, expires time.Time) {
	maxAge := int(expires.Sub(a.cfg.now()).Seconds())
	if maxAge < 1 {
		maxAge = 1
	}
	http.SetCookie(w, a.cfg.cookie.cookie(token, maxAge))
}

// clearRefreshCookie clears the refresh cookie: same name and path,
// Max-Age=0.
func (a *Auth) clearRefreshCookie(w http.ResponseWriter) {
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
