package auth

import (
	"errors"
	"log/slog"
	"net/http"
	"strings"
)

// Require is middleware that admits only requests with a valid access token,
// attaching its claims to the request context (see [ClaimsFromContext]).
// Other requests go to the error handler ([WithErrorHandler]) with an error
// matching [ErrNoToken], [ErrInvalidToken] or [ErrUnavailable].
func (a *Auth) Require(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, r, ok := a.authenticate(w, r, true)
		if ok {
			next.ServeHTTP(w, r)
		}
	})
}

// Optional is middleware that attaches the claims of a valid access token
// when one is sent and lets requests without a token through anonymously. A
// token that is sent but invalid is refused like [Auth.Require] does, so a
// client learns that it must refresh; a failed revocation check is refused
// with [ErrUnavailable].
func (a *Auth) Optional(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, r, ok := a.authenticate(w, r, false)
		if ok {
			next.ServeHTTP(w, r)
		}
	})
}

// RequireRole returns middleware that admits only requests whose token's
// role is one of roles (any of them). It reuses claims attached by an outer
// [Auth.Require] or [Auth.Optional] and otherwise verifies the token itself,
// so it can stand alone. Without roles it refuses every request.
func (a *Auth) RequireRole(roles ...string) func(http.Handler) http.Handler {
	roles = append([]string(nil), roles...)
	return a.requireClaims(func(c *Claims) bool { return c.HasRole(roles...) }, ErrInsufficientRole)
}

// RequireScope returns middleware that admits only requests whose token's
// scope claim contains every one of scopes. Like [Auth.RequireRole] it
// verifies the token itself when no outer middleware did. Without scopes
// it refuses every request.
func (a *Auth) RequireScope(scopes ...string) func(http.Handler) http.Handler {
	scopes = append([]string(nil), scopes...)
	return a.requireClaims(func(c *Claims) bool {
		for _, s := range scopes {
			if !c.HasScope(s) {
				return false
			}
		}
		return len(scopes) > 0
	}, ErrInsufficientScope)
}

func (a *Auth) requireClaims(allow func(*Claims) bool, deny error) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			c, ok := ClaimsFromContext(r.Context())
			if !ok {
				if c, r, ok = a.authenticate(w, r, true); !ok {
					return
				}
			}
			if !allow(c) {
				a.fail(w, r, deny)
				return
			}
			next.ServeHTTP(w, r)
		})
	}
}

// authenticate verifies the request's token and returns the request with
// the claims attached. On failure it has written the response and ok is
// false. With required false, a request without a token passes unchanged.
func (a *Auth) authenticate(w http.ResponseWriter, r *http.Request, required bool) (*Claims, *http.Request, bool) {
	tok, err := a.extract(r)
	if err == nil {
		var c *Claims
		if c, err = a.Verify(r.Context(), tok); err == nil {
			return c, r.WithContext(NewContext(r.Context(), c)), true
		}
	}
	if !required && errors.Is(err, ErrNoToken) {
		return nil, r, true
	}
	a.fail(w, r, err)
	return nil, r, false
}

func (a *Auth) fail(w http.ResponseWriter, r *http.Request, err error) {
	if l := a.cfg.logger; l != nil && l.Enabled(r.Context(), slog.LevelDebug) {
		l.LogAttrs(r.Context(), slog.LevelDebug, "auth: request refused",
			slog.String("reason", err.Error()), slog.String("method", r.Method), slog.String("path", r.URL.Path))
	}
	a.cfg.errorHandler(w, r, err)
}

// extract returns the bearer token of r: from the one Authorization header
// with scheme Bearer (any case), else from the cookie when [WithCookie] is
// set. It returns [ErrNoToken] when there is none and [ErrTokenMalformed]
// for an ambiguous or empty one.
func (a *Auth) extract(r *http.Request) (string, error) {
	switch vals := r.Header["Authorization"]; len(vals) {
	case 0:
	case 1:
		v := vals[0]
		if len(v) >= 7 && strings.EqualFold(v[:6], "bearer") && (v[6] == ' ' || v[6] == '\t') {
			tok := strings.Trim(v[7:], " \t")
			if tok == "" {
				return "", ErrTokenMalformed
			}
			return tok, nil
		}
		if strings.EqualFold(strings.TrimSpace(v), "bearer") {
			return "", ErrTokenMalformed
		}
	default:
		return "", ErrTokenMalformed
	}
	if a.cfg.accessCookie != "" {
		if ck, err := r.Cookie(a.cfg.accessCookie); err == nil && ck.Value != "" {
			return ck.Value, nil
		}
	}
	return "", ErrNoToken
}
