package auth

import (
	"net/http"
	"strings"
	"time"

	"github.com/jwtkit/auth/authstore"
)

// sessionJSON is one session in the answer of [Auth.SessionsHandler].
type sessionJSON struct {
	ID         string    `json:"id"`
	CreatedAt  time.Time `json:"createdAt"`
	LastUsedAt time.Time `json:"lastUsedAt"`
	UserAgent  string    `json:"userAgent"`
	Address    string    `json:"address"`
	Current    bool      `json:"current"`
}

// SessionsHandler returns the handler of a user's "your sessions" screen,
// for two routes, both behind a valid bearer token:
//
//   - GET /api/auth/sessions answers 200 {"sessions": [{id, createdAt,
//     lastUsedAt, userAgent, address, current}]}, the live sessions of the
//     token's user, newest first, every member always present. current
//     marks the session of the refresh token the request presents (in the
//     refresh cookie), else the session of the bearer token.
//   - DELETE /api/auth/sessions/{id} revokes that session ([Auth.RevokeSession]:
//     its refresh tokens die and its access tokens are refused at once) and
//     answers 204, or 404 NOT_FOUND for an unknown id and for another
//     user's session alike.
//
// Mount the one handler at both patterns; the session id is the path value
// "id" (or, with another router, the last path segment). A store failure
// answers 503. The DELETE route changes state: mount it behind
// [Auth.CrossOriginProtection] when browsers call it with cookies.
func (a *Auth) SessionsHandler() http.Handler {
	return a.Require(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, _ := ClaimsFromContext(r.Context())
		switch r.Method {
		case http.MethodGet, http.MethodHead:
			a.listSessions(w, r, c)
		case http.MethodDelete:
			a.deleteSession(w, r, c)
		default:
			w.Header().Set("Allow", "GET, HEAD, DELETE")
			writeJSONError(w, http.StatusMethodNotAllowed, "METHOD_NOT_ALLOWED", "method not allowed")
		}
	}))
}

func (a *Auth) listSessions(w http.ResponseWriter, r *http.Request, c *Claims) {
	list, err := a.Sessions(r.Context(), c.Subject)
	if err != nil {
		a.writeFailure(w, r, err)
		return
	}
	current, err := a.currentSession(r, c)
	if err != nil {
		a.writeFailure(w, r, err)
		return
	}
	out := make([]sessionJSON, len(list))
	for i, s := range list {
		out[i] = sessionJSON{
			ID: s.ID, CreatedAt: s.CreatedAt.UTC(), LastUsedAt: s.RefreshedAt.UTC(),
			UserAgent: s.UserAgent, Address: s.Address, Current: s.ID == current,
		}
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, map[string]any{"sessions": out})
}

// currentSession returns the id of the session the request belongs to:
// that of its refresh cookie when the cookie holds a token of the user,
// else the bearer token's sid.
func (a *Auth) currentSession(r *http.Request, c *Claims) (string, error) {
	cookie := ""
	if vals := a.refreshCookies(r); len(vals) == 1 {
		cookie = vals[0] // with several, none is trusted: the bearer's sid decides
	}
	if route, h, ok := parseRefreshToken(cookie); ok && route == authstore.RouteFor(c.Subject) {
		rec, _, found, err := a.cfg.refreshStore.Lookup(r.Context(), route, h)
		if err != nil {
			return "", unavailable("refresh lookup", err)
		}
		if found && rec.UserID == c.Subject {
			return rec.SessionID, nil
		}
	}
	return c.SessionID, nil
}

func (a *Auth) deleteSession(w http.ResponseWriter, r *http.Request, c *Claims) {
	id := r.PathValue("id")
	if id == "" {
		id = r.URL.Path[strings.LastIndexByte(r.URL.Path, '/')+1:]
	}
	found := false
	var err error
	if id != "" && len(id) <= 128 {
		found, err = a.revokeSession(r.Context(), c.Subject, id)
	}
	switch {
	case err != nil:
		a.writeFailure(w, r, err)
	case !found:
		writeJSONError(w, http.StatusNotFound, "NOT_FOUND", "no such session")
	default:
		w.WriteHeader(http.StatusNoContent)
	}
}
