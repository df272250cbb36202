package grpcauth

import (
	"fmt"
	"strings"

	"github.com/jwtkit/auth"
)

// Rule says who may call one method, or every method of a service.
//
// The zero Rule admits any caller with a valid access token. Roles and
// Scopes narrow it; Public opens it to everyone.
type Rule struct {
	// Public admits every call, with or without a token. A public method
	// ignores the token entirely: it is not verified, an invalid or expired
	// one is not refused, and the handler finds no claims in its context
	// ([auth.ClaimsFromContext] reports false). Public cannot be combined
	// with Roles or Scopes.
	Public bool
	// Roles, when not empty, admits only tokens whose role is one of them
	// (any of them, as [auth.Claims.HasRole] decides).
	Roles []string
	// Scopes, when not empty, admits only tokens whose scope claim holds
	// every one of them (as [auth.Claims.HasScope] decides).
	Scopes []string
}

// Policy maps full gRPC method names, such as "/shop.v1.Orders/Get", to the
// [Rule] that guards them. A key of the form "/shop.v1.Orders/*" is the rule
// of every method of that service that has no entry of its own: an exact
// method name always wins over its service's wildcard. A method that
// matches neither is refused (see [ErrUnlistedMethod]), so a method added to
// a service stays closed until the policy names it.
type Policy map[string]Rule

// rule is a validated Rule, copied so that the caller's slices may change.
type rule struct {
	public bool
	roles  []string
	scopes []string
}

// compiled is a validated Policy, split for lookups that never allocate.
type compiled struct {
	methods  map[string]*rule // by full method name
	services map[string]*rule // by "/pkg.Service", from "/pkg.Service/*"
}

// compile validates p and returns it in lookup form.
func compile(p Policy) (*compiled, error) {
	if len(p) == 0 {
		return nil, fmt.Errorf("grpcauth: policy is empty: %w", auth.ErrConfig)
	}
	c := &compiled{methods: make(map[string]*rule), services: make(map[string]*rule)}
	for name, r := range p {
		service, method, err := splitMethod(name)
		if err != nil {
			return nil, err
		}
		cr, err := compileRule(name, r)
		if err != nil {
			return nil, err
		}
		if method == "*" {
			c.services["/"+service] = cr
		} else {
			c.methods[name] = cr
		}
	}
	return c, nil
}

// splitMethod checks a policy key, "/service/method" or "/service/*".
func splitMethod(name string) (service, method string, err error) {
	rest, ok := strings.CutPrefix(name, "/")
	if ok {
		service, method, ok = strings.Cut(rest, "/")
	}
	if !ok || service == "" || method == "" || strings.Contains(method, "/") ||
		strings.Contains(service, "*") || (method != "*" && strings.Contains(method, "*")) ||
		!printable(name) {
		return "", "", fmt.Errorf("grpcauth: policy key %q is not a method name of the form /pkg.Service/Method or /pkg.Service/*: %w", name, auth.ErrConfig)
	}
	return service, method, nil
}

// printable reports whether s holds only printable ASCII other than space.
func printable(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] <= ' ' || s[i] > '~' {
			return false
		}
	}
	return true
}

func compileRule(name string, r Rule) (*rule, error) {
	if r.Public && (len(r.Roles) > 0 || len(r.Scopes) > 0) {
		return nil, fmt.Errorf("grpcauth: rule of %q is Public and also names roles or scopes: %w", name, auth.ErrConfig)
	}
	for _, role := range r.Roles {
		if role == "" {
			return nil, fmt.Errorf("grpcauth: rule of %q has an empty role: %w", name, auth.ErrConfig)
		}
	}
	for _, s := range r.Scopes {
		if s == "" || strings.ContainsAny(s, " \t\r\n") {
			return nil, fmt.Errorf("grpcauth: rule of %q has an empty scope or one with a space: %w", name, auth.ErrConfig)
		}
	}
	return &rule{
		public: r.Public,
		roles:  append([]string(nil), r.Roles...),
		scopes: append([]string(nil), r.Scopes...),
	}, nil
}

// lookup returns the rule of the full method name, or nil when the policy
// names neither the method nor its service.
func (c *compiled) lookup(fullMethod string) *rule {
	if r, ok := c.methods[fullMethod]; ok {
		return r
	}
	if i := strings.LastIndexByte(fullMethod, '/'); i > 0 {
		return c.services[fullMethod[:i]]
	}
	return nil
}

// check returns nil when the claims c satisfy r, else the permission error.
func (r *rule) check(c *auth.Claims) error {
	if len(r.roles) > 0 && !c.HasRole(r.roles...) {
		return auth.ErrInsufficientRole
	}
	for _, s := range r.scopes {
		if !c.HasScope(s) {
			return auth.ErrInsufficientScope
		}
	}
	return nil
}
