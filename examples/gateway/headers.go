package main

import (
	"net/http"
	"strings"

	"github.com/jwtkit/auth"
)

// The headers the gateway sets on every request it forwards, from the
// verified token. A header whose claim is empty is absent.
const (
	headerSubject = "X-Auth-Subject" // sub
	headerRoles   = "X-Auth-Roles"   // role (and the roles of a profile), comma-separated
	headerScope   = "X-Auth-Scope"   // scope, space-separated
	headerEmail   = "X-Auth-Email"   // email
)

// identityHeaders are headers that upstreams commonly take as an identity
// vouched for by a proxy in front of them: those of oauth2-proxy,
// Authelia, Apache and Kubernetes' front proxy, Kong, Grafana's auth proxy
// and cloud load balancers. They are compared in lower case, with '_'
// read as '-'.
var identityHeaders = []string{
	"x-forwarded-user",
	"x-forwarded-email",
	"x-forwarded-groups",
	"x-forwarded-preferred-username",
	"x-forwarded-access-token",
	"x-user",
	"x-user-id",
	"x-email",
	"x-webauth-user",
	"x-authenticated-user",
	"x-authenticated-userid",
	"x-consumer-id",
	"x-consumer-username",
	"x-userinfo",
}

// identityPrefixes are prefixes of identity headers, compared like
// identityHeaders: the gateway's own X-Auth-*, X-Remote-User and its kin
// (X-Remote-Group, X-Remote-Extra-*), Remote-User and its kin, Google IAP's,
// AWS ALB's, Azure App Service's and Cloudflare Access's.
var identityPrefixes = []string{
	"x-auth-",
	"x-remote-",
	"remote-",
	"x-goog-authenticated-",
	"x-goog-iap-",
	"x-amzn-oidc-",
	"x-ms-client-principal",
	"cf-access-",
}

// isIdentityHeader reports whether a header named name, in any case and
// with '_' for '-' (which CGI-style servers read as the same header), is
// one of identityHeaders or starts with one of identityPrefixes.
func isIdentityHeader(name string) bool {
	n := strings.ReplaceAll(strings.ToLower(name), "_", "-")
	for _, h := range identityHeaders {
		if n == h {
			return true
		}
	}
	for _, p := range identityPrefixes {
		if strings.HasPrefix(n, p) {
			return true
		}
	}
	return false
}

// stripIdentity deletes every identity header from h, every value of it,
// whatever the spelling of its name.
func stripIdentity(h http.Header) {
	for name := range h {
		if isIdentityHeader(name) {
			delete(h, name)
		}
	}
}

// setIdentity sets the X-Auth-* headers from the verified claims c. The
// library's tokens carry one role; a token verified with a profile may
// carry several, joined with commas.
func setIdentity(h http.Header, c *auth.Claims) {
	set := func(name, v string) {
		if v != "" {
			h.Set(name, v)
		}
	}
	roles := c.Roles
	if c.Role != "" {
		roles = append([]string{c.Role}, roles...)
	}
	set(headerSubject, c.Subject)
	set(headerRoles, strings.Join(roles, ","))
	set(headerScope, c.Scope)
	set(headerEmail, c.Email)
}

// headerSafe reports whether the claims c fit in header values as they
// are: no control character (CR and LF above all) in any of them, and no
// comma in a role. A token whose claims do not fit is refused rather than
// forwarded with a mangled identity.
func headerSafe(c *auth.Claims) bool {
	ok := func(s string) bool {
		return !strings.ContainsFunc(s, func(r rune) bool { return r < 0x20 && r != '\t' || r == 0x7f })
	}
	for _, r := range append([]string{c.Role}, c.Roles...) {
		if !ok(r) || strings.Contains(r, ",") {
			return false
		}
	}
	return ok(c.Subject) && ok(c.Scope) && ok(c.Email)
}
