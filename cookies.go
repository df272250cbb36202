package auth

import (
	"net/http"
	"strings"
	"time"
)

// CookieConfig describes the refresh-token cookie (see [WithRefreshCookie]).
// A zero field takes its default, so CookieConfig{} is the default cookie:
// "refreshToken", HttpOnly, Secure, SameSite=Strict, Path=/api/auth.
//
// A name with the "__Host-" prefix, such as "__Host-refreshToken", is the
// stronger choice where the application can serve its routes under any
// path: browsers then accept the cookie only host-only, Secure and with
// Path=/, so no sibling subdomain can plant or shadow one. Its Path
// defaults to "/", and a Domain, another Path or Insecure is refused.
type CookieConfig struct {
	// Name of the cookie. Default "refreshToken".
	Name string
	// Path limits the cookie to the routes that need it. Default
	// "/api/auth" ("/" for a "__Host-" name).
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
		if strings.HasPrefix(c.Name, hostPrefix) {
			c.Path = "/"
		}
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
	if strings.HasPrefix(c.Name, hostPrefix) && (c.Path != "/" || c.Domain != "" || c.Insecure) {
		return configError("WithRefreshCookie", "a %s cookie needs Path=/, no Domain and Secure", hostPrefix)
	}
	if strings.HasPrefix(c.Name, "__Secure-") && c.Insecure {
		return configError("WithRefreshCookie", "a __Secure- cookie needs Secure")
	}
	return nil
}

// hostPrefix is the cookie name prefix of host-only, Secure, Path=/ cookies
// (RFC 6265bis, section 4.1.3.2).
const hostPrefix = "__Host-"

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

// refreshCookies returns the values of r's refresh cookies: none, one, or
// several when a cookie of the same name was set for a parent domain or
// another path (a sibling subdomain can plant one, which browsers send
// first). At most maxRefreshCookies are returned.
func (a *Auth) refreshCookies(r *http.Request) []string {
	var vals []string
	for _, c := range r.CookiesNamed(a.cfg.cookie.Name) {
		if len(vals) == maxRefreshCookies {
			break
		}
		vals = append(vals, c.Value)
	}
	return vals
}

// maxRefreshCookies bounds the refresh cookies of one request that logout
// revokes.
const maxRefreshCookies = 4
