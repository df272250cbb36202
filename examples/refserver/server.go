package refserver

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
	"github.com/jwtkit/auth/authstore"
	"github.com/jwtkit/auth/memstore"
	"github.com/jwtkit/auth/password"
)

// Server is the reference server of the HTTP contract, built from library
// parts. It is an http.Handler.
type Server struct {
	http.Handler
	auth   *auth.Auth
	users  UserStore
	logger *slog.Logger
}

// Backend holds the stores of a [Server]; nil fields get in-memory stores of
// this process only.
type Backend struct {
	Users      UserStore
	Refresh    authstore.RefreshStore
	Revocation authstore.RevocationStore
	Throttle   authstore.Throttle
}

// New returns the server for cfg on the stores of b. It refuses, with one
// line that names the environment variable, every value out of the
// library's ranges, so that a bad configuration stops the start rather than
// the first request. With cfg.AdminEmail set it creates the admin account
// (an existing one is kept).
func New(ctx context.Context, cfg *Config, logger *slog.Logger, b Backend) (*Server, error) {
	if b.Users == nil {
		b.Users = NewMemoryUsers()
	}
	s := &Server{users: b.Users, logger: logger}
	passwords, err := newPasswords(cfg)
	if err != nil {
		return nil, err
	}
	if b.Throttle == nil {
		if b.Throttle, err = memstore.NewThrottle(cfg.LoginRate); err != nil {
			return nil, fmt.Errorf("AUTH_LOGIN_LIMIT: %w", err)
		}
	}
	opts := []auth.Option{
		auth.WithKeys(cfg.Keys),
		auth.WithIssuer(cfg.Issuer),
		auth.WithAudience(cfg.Audience),
		auth.WithAccessTTL(cfg.AccessTTL),
		auth.WithRefreshTTL(cfg.RefreshTTL),
		auth.WithReuseGrace(cfg.ReuseGrace),
		auth.WithPasswords(passwords),
		auth.WithCredentials(b.Users),
		auth.WithClaimsLoader(b.Users.LoadClaims),
		auth.WithLoginThrottle(b.Throttle),
		auth.WithRefreshCookie(auth.CookieConfig{Insecure: !cfg.CookieSecure}),
		auth.WithLogger(logger),
	}
	if b.Refresh != nil {
		opts = append(opts, auth.WithRefreshStore(b.Refresh))
	}
	if b.Revocation != nil {
		opts = append(opts, auth.WithRevocation(b.Revocation))
	}
	if s.auth, err = auth.New(opts...); err != nil {
		return nil, blame(err)
	}
	refresh, err := s.auth.RefreshHandler()
	if err != nil {
		return nil, err
	}
	if cfg.AdminEmail != "" {
		if _, err := s.createUser(ctx, cfg.AdminEmail, cfg.AdminPassword, "Admin", "admin"); err != nil && !errors.Is(err, ErrEmailTaken) {
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
	handle("POST", "/api/auth/refresh", a.CrossOriginProtection(refresh))
	handle("POST", "/api/auth/logout", a.CrossOriginProtection(a.LogoutHandler()))
	handle("POST", "/api/auth/logout-all", a.CrossOriginProtection(a.LogoutAllHandler()))
	handle("GET", "/api/auth/me", a.Require(http.HandlerFunc(s.me)))
	sessions := a.SessionsHandler()
	handle("GET", "/api/auth/sessions", sessions)
	handle("DELETE", "/api/auth/sessions/{id}", a.CrossOriginProtection(sessions))
	handle("GET", "/api/posts", a.RequireRole("user", "admin")(http.HandlerFunc(s.posts)))
	handle("DELETE", "/api/users/{id}", a.RequireRole("admin")(http.HandlerFunc(s.deleteUser)))
	handle("GET", "/.well-known/jwks.json", cfg.Keys)
	handle("GET", "/healthz", http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	}))
	for _, rt := range appRoutes {
		h, err := appHandler(rt)
		if err != nil {
			return nil, err
		}
		handle("GET", rt.path, h)
	}
	mux.HandleFunc("/", func(w http.ResponseWriter, _ *http.Request) {
		writeError(w, http.StatusNotFound, "NOT_FOUND", "no such route")
	})
	s.Handler = mux
	return s, nil
}

// Auth returns the server's [auth.Auth].
func (s *Server) Auth() *auth.Auth { return s.auth }

// createUser validates and stores a new account.
func (s *Server) createUser(ctx context.Context, email, plain, name, role string) (*User, error) {
	email = NormalizeEmail(email)
	addr, err := mail.ParseAddress(email)
	if err != nil || addr.Address != email || addr.Name != "" || len(email) > 254 {
		return nil, fmt.Errorf("%w: invalid email", auth.ErrInvalidInput)
	}
	name = strings.TrimSpace(name)
	if name == "" || utf8.RuneCountInString(name) > 100 || !utf8.ValidString(name) {
		return nil, fmt.Errorf("%w: name must be 1 to 100 characters", auth.ErrInvalidInput)
	}
	hash, err := s.auth.HashPassword(ctx, plain)
	if err != nil {
		return nil, err
	}
	u := &User{ID: uuid.NewString(), Email: email, Name: name, Role: role}
	if err := s.users.Create(ctx, *u, hash); err != nil {
		return nil, storeErr(err)
	}
	return u, nil
}

type credentialsIn struct {
	Email           string `json:"email"`
	Password        string `json:"password"`
	Name            string `json:"name"`
	RefreshTransfer string `json:"refreshTransfer"`
}

func (s *Server) register(w http.ResponseWriter, r *http.Request) {
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
	case errors.Is(err, ErrEmailTaken):
		writeError(w, http.StatusConflict, "EMAIL_TAKEN", "an account with this email already exists")
		return
	case err != nil:
		auth.WriteError(w, r, err)
		return
	}
	tokens, err := s.auth.StartSession(r.Context(), u.Claims(), s.auth.ClientFrom(r))
	if err != nil {
		// Nothing half-written: without a session the account goes too, so
		// the client may register again.
		_, _ = s.users.Delete(r.Context(), u.ID)
		auth.WriteError(w, r, err)
		return
	}
	s.auth.WriteTokens(w, http.StatusCreated, tokens, transfer, map[string]any{"user": u})
}

func (s *Server) login(w http.ResponseWriter, r *http.Request) {
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
	tokens, err := s.auth.Login(r.Context(), in.Email, in.Password, s.auth.ClientFrom(r))
	if err != nil {
		auth.WriteError(w, r, err)
		return
	}
	u, ok, err := s.users.Get(r.Context(), tokens.Access.Claims.Subject)
	if err != nil {
		auth.WriteError(w, r, storeErr(err))
		return
	}
	if !ok { // deleted between the password check and now
		auth.WriteError(w, r, auth.ErrInvalidCredentials)
		return
	}
	s.auth.WriteTokens(w, http.StatusOK, tokens, transfer, map[string]any{"user": u})
}

func (s *Server) me(w http.ResponseWriter, r *http.Request) {
	c, _ := auth.ClaimsFromContext(r.Context())
	u, ok, err := s.users.Get(r.Context(), c.Subject)
	if err != nil {
		auth.WriteError(w, r, storeErr(err))
		return
	}
	if !ok {
		auth.WriteError(w, r, auth.ErrTokenRevoked)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"user": u})
}

func (s *Server) posts(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, []map[string]string{
		{"id": "1", "title": "Hello, world"},
		{"id": "2", "title": "Tokens done right"},
	})
}

func (s *Server) deleteUser(w http.ResponseWriter, r *http.Request) {
	id, err := uuid.Parse(r.PathValue("id"))
	if err != nil || id.String() != r.PathValue("id") {
		writeError(w, http.StatusNotFound, "NOT_FOUND", "no such user")
		return
	}
	_, ok, err := s.users.Get(r.Context(), id.String())
	if err != nil {
		auth.WriteError(w, r, storeErr(err))
		return
	}
	if !ok {
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
	if _, err := s.users.Delete(r.Context(), id.String()); err != nil {
		auth.WriteError(w, r, storeErr(err))
		return
	}
	// Once more: a login that finished between the first revocation and
	// the deletion holds tokens issued after the first cutoff.
	if err := s.auth.RevokeUser(r.Context(), id.String()); err != nil {
		auth.WriteError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// writeJSON answers like the library's own responses do.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, status int, code, msg string) {
	writeJSON(w, status, map[string]string{"error": msg, "code": code})
}

// storeErr turns a user store's system failure into [auth.ErrUnavailable]
// (503) and lets the documented errors through.
func storeErr(err error) error {
	if err == nil || errors.Is(err, ErrEmailTaken) || errors.Is(err, auth.ErrInvalidInput) ||
		errors.Is(err, auth.ErrUnavailable) {
		return err
	}
	return fmt.Errorf("%w: user store: %w", auth.ErrUnavailable, err)
}

// newPasswords returns the password policy of cfg: new hashes in the
// format of AUTH_PASSWORD_HASH, bcrypt (of cost AUTH_BCRYPT_COST) and
// Argon2id hashes verified under either, so that switching the variable
// locks nobody out and moves each account over at its next login.
func newPasswords(cfg *Config) (*password.Policy, error) {
	bcrypt, err := password.NewBcrypt(password.WithCost(cfg.BcryptCost))
	if err != nil {
		return nil, fmt.Errorf("AUTH_BCRYPT_COST: %w", err)
	}
	argon, err := password.NewArgon2id()
	if err != nil {
		return nil, fmt.Errorf("AUTH_PASSWORD_HASH: %w", err)
	}
	var policy *password.Policy
	switch cfg.PasswordHash {
	case "bcrypt", "":
		policy, err = password.NewPolicy(bcrypt, argon)
	case "argon2id":
		policy, err = password.NewPolicy(argon, bcrypt)
	default:
		return nil, fmt.Errorf("AUTH_PASSWORD_HASH: %q is not bcrypt or argon2id", cfg.PasswordHash)
	}
	if err != nil {
		return nil, fmt.Errorf("AUTH_PASSWORD_HASH: %w", err)
	}
	return policy, nil
}
