package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/mail"
	"strings"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/jwtkit/auth"
)

// server is the reference server of the HTTP contract, built from library
// parts.
type server struct {
	http.Handler
	auth   *auth.Auth
	users  *users
	logger *slog.Logger
}

func newServer(cfg *config, logger *slog.Logger) (*server, error) {
	s := &server{users: newUsers(), logger: logger}
	passwords, err := auth.NewPasswords(auth.WithBcryptCost(cfg.bcryptCost))
	if err != nil {
		return nil, err
	}
	throttle, err := auth.NewMemoryThrottle(cfg.loginRate, 0)
	if err != nil {
		return nil, err
	}
	cookie := auth.DefaultCookie()
	cookie.Insecure = !cfg.cookieSecure
	s.auth, err = auth.New(
		auth.WithKeys(cfg.keys),
		auth.WithIssuer(cfg.issuer),
		auth.WithAudience(cfg.audience),
		auth.WithAccessTTL(cfg.accessTTL),
		auth.WithRefreshTTL(cfg.refreshTTL),
		auth.WithReuseGrace(cfg.reuseGrace),
		auth.WithPasswords(passwords),
		auth.WithCredentials(s.users),
		auth.WithClaimsLoader(s.users.loadClaims),
		auth.WithLoginThrottle(throttle),
		auth.WithRefreshCookie(cookie),
		auth.WithLogger(logger),
	)
	if err != nil {
		return nil, err
	}
	if cfg.adminEmail != "" && cfg.adminPassword != "" {
		if _, err := s.createUser(context.Background(), cfg.adminEmail, cfg.adminPassword, "Admin", "admin"); err != nil {
			return nil, errors.New("ADMIN_EMAIL/ADMIN_PASSWORD: " + err.Error())
		}
	}

	a := s.auth
	mux := http.NewServeMux()
	// handle routes method and path to h. Every error body is JSON, the
	// router's own too: another method on the path is 405, and an unknown
	// path (below) 404.
	handle := func(method, path string, h http.Handler) {
		mux.Handle(method+" "+path, h)
		allow := method
		if method == http.MethodGet {
			allow = "GET, HEAD"
		}
		mux.HandleFunc(path, func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Allow", allow)
			writeError(w, http.StatusMethodNotAllowed, "METHOD_NOT_ALLOWED", "method not allowed")
		})
	}
	// Every state-changing /api/auth route refuses cross-origin browser
	// requests: login and register (login CSRF) as well as the routes that
	// the refresh cookie authenticates.
	handle("POST", "/api/auth/register", a.CrossOriginProtection(http.HandlerFunc(s.register)))
	handle("POST", "/api/auth/login", a.CrossOriginProtection(http.HandlerFunc(s.login)))
	handle("POST", "/api/auth/refresh", a.CrossOriginProtection(a.RefreshHandler()))
	handle("POST", "/api/auth/logout", a.CrossOriginProtection(a.LogoutHandler()))
	handle("POST", "/api/auth/logout-all", a.CrossOriginProtection(a.LogoutAllHandler()))
	handle("GET", "/api/auth/me", a.Require(http.HandlerFunc(s.me)))
	handle("GET", "/api/posts", a.RequireRole("user", "admin")(http.HandlerFunc(s.posts)))
	handle("DELETE", "/api/users/{id}", a.RequireRole("admin")(http.HandlerFunc(s.deleteUser)))
	handle("GET", "/.well-known/jwks.json", a.Keys())
	handle("GET", "/healthz", http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	}))
	mux.HandleFunc("/", func(w http.ResponseWriter, _ *http.Request) {
		writeError(w, http.StatusNotFound, "NOT_FOUND", "no such route")
	})
	s.Handler = mux
	return s, nil
}

// createUser validates and stores a new account.
func (s *server) createUser(ctx context.Context, email, password, name, role string) (*user, error) {
	email = normalizeEmail(email)
	addr, err := mail.ParseAddress(email)
	if err != nil || addr.Address != email || addr.Name != "" || len(email) > 254 {
		return nil, fmt.Errorf("%w: invalid email", auth.ErrInvalidInput)
	}
	name = strings.TrimSpace(name)
	if name == "" || utf8.RuneCountInString(name) > 100 || !utf8.ValidString(name) {
		return nil, fmt.Errorf("%w: name must be 1 to 100 characters", auth.ErrInvalidInput)
	}
	hash, err := s.auth.HashPassword(ctx, password)
	if err != nil {
		return nil, err
	}
	u := &user{ID: uuid.NewString(), Email: email, Name: name, Role: role, hash: hash}
	if err := s.users.add(u); err != nil {
		return nil, err
	}
	return u, nil
}

type credentialsIn struct {
	Email           string `json:"email"`
	Password        string `json:"password"`
	Name            string `json:"name"`
	RefreshTransfer string `json:"refreshTransfer"`
}

func (s *server) register(w http.ResponseWriter, r *http.Request) {
	var in credentialsIn
	if err := auth.DecodeJSON(w, r, &in); err != nil {
		auth.WriteError(w, r, err)
		return
	}
	transfer, err := auth.ParseTransfer(in.RefreshTransfer)
	if err != nil {
		auth.WriteError(w, r, err)
		return
	}
	u, err := s.createUser(r.Context(), in.Email, in.Password, in.Name, "user")
	switch {
	case errors.Is(err, errEmailTaken):
		writeError(w, http.StatusConflict, "EMAIL_TAKEN", "an account with this email already exists")
		return
	case err != nil:
		auth.WriteError(w, r, err)
		return
	}
	sess, err := s.auth.StartSession(r.Context(), claimsOf(u), s.auth.ClientFrom(r))
	if err != nil {
		auth.WriteError(w, r, err)
		return
	}
	s.auth.WriteSession(w, http.StatusCreated, sess, transfer, map[string]any{"user": u})
}

func (s *server) login(w http.ResponseWriter, r *http.Request) {
	var in credentialsIn
	if err := auth.DecodeJSON(w, r, &in); err != nil {
		auth.WriteError(w, r, err)
		return
	}
	transfer, err := auth.ParseTransfer(in.RefreshTransfer)
	if err != nil || in.Email == "" || in.Password == "" || in.Name != "" {
		auth.WriteError(w, r, auth.ErrInvalidInput)
		return
	}
	sess, err := s.auth.Login(r.Context(), in.Email, in.Password, s.auth.ClientFrom(r))
	if err != nil {
		auth.WriteError(w, r, err)
		return
	}
	u, ok := s.users.get(sess.Access.Claims.Subject)
	if !ok { // deleted between the password check and now
		auth.WriteError(w, r, auth.ErrInvalidCredentials)
		return
	}
	s.auth.WriteSession(w, http.StatusOK, sess, transfer, map[string]any{"user": u})
}

func (s *server) me(w http.ResponseWriter, r *http.Request) {
	c, _ := auth.ClaimsFromContext(r.Context())
	u, ok := s.users.get(c.Subject)
	if !ok {
		auth.WriteError(w, r, auth.ErrTokenRevoked)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"user": u})
}

func (s *server) posts(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, []map[string]string{
		{"id": "1", "title": "Hello, world"},
		{"id": "2", "title": "Tokens done right"},
	})
}

func (s *server) deleteUser(w http.ResponseWriter, r *http.Request) {
	id, err := uuid.Parse(r.PathValue("id"))
	if err != nil || id.String() != r.PathValue("id") {
		writeError(w, http.StatusNotFound, "NOT_FOUND", "no such user")
		return
	}
	if _, ok := s.users.get(id.String()); !ok {
		writeError(w, http.StatusNotFound, "NOT_FOUND", "no such user")
		return
	}
	// Sessions and access tokens die first: if that fails, nothing is
	// deleted and the client may retry. Once the account is gone the claims
	// loader refuses its refresh tokens too.
	if err := s.auth.RevokeUser(r.Context(), id.String()); err != nil {
		auth.WriteError(w, r, err)
		return
	}
	s.users.delete(id.String())
	w.WriteHeader(http.StatusNoContent)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, status int, code, msg string) {
	writeJSON(w, status, map[string]string{"error": msg, "code": code})
}
