package main

import (
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/mail"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/jwtkit/auth"
	"golang.org/x/crypto/bcrypt"
)

const maxBodyBytes = 64 << 10

// user is an account; the hash never leaves the server.
type user struct {
	ID    string `json:"id"`
	Email string `json:"email"`
	Name  string `json:"name"`
	Role  string `json:"role"`
	hash  []byte
}

// users is the in-memory account store.
type users struct {
	mu      sync.RWMutex // guards byEmail and byID
	byEmail map[string]*user
	byID    map[string]*user
}

var errEmailTaken = errors.New("email taken")

func (u *users) add(x *user) error {
	u.mu.Lock()
	defer u.mu.Unlock()
	if _, ok := u.byEmail[x.Email]; ok {
		return errEmailTaken
	}
	u.byEmail[x.Email], u.byID[x.ID] = x, x
	return nil
}

func (u *users) get(email string) (*user, bool) {
	u.mu.RLock()
	defer u.mu.RUnlock()
	x, ok := u.byEmail[email]
	return x, ok
}

func (u *users) getID(id string) (*user, bool) {
	u.mu.RLock()
	defer u.mu.RUnlock()
	x, ok := u.byID[id]
	return x, ok
}

type server struct {
	http.Handler
	auth      *auth.Auth
	users     *users
	dummyHash []byte // compared against for unknown emails, so they cost the same
	cost      int    // bcrypt cost
	logger    *slog.Logger
}

func newServer(cfg *config, logger *slog.Logger) (*server, error) {
	a, err := auth.New(
		auth.WithKeys(cfg.keys),
		auth.WithIssuer(cfg.issuer),
		auth.WithAudience(cfg.audience),
		auth.WithAccessTTL(cfg.accessTTL),
		auth.WithLogger(logger),
	)
	if err != nil {
		return nil, err
	}
	dummy, err := bcrypt.GenerateFromPassword([]byte(uuid.NewString()), cfg.bcryptCost)
	if err != nil {
		return nil, err
	}
	s := &server{
		auth:      a,
		users:     &users{byEmail: map[string]*user{}, byID: map[string]*user{}},
		dummyHash: dummy,
		cost:      cfg.bcryptCost,
		logger:    logger,
	}
	if cfg.adminEmail != "" && cfg.adminPassword != "" {
		if _, err := s.createUser(cfg.adminEmail, cfg.adminPassword, "Admin", "admin"); err != nil {
			return nil, errors.New("ADMIN_EMAIL/ADMIN_PASSWORD: " + err.Error())
		}
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /api/auth/register", s.register)
	mux.HandleFunc("POST /api/auth/login", s.login)
	mux.Handle("GET /api/auth/me", a.Require(http.HandlerFunc(s.me)))
	mux.Handle("GET /api/posts", a.RequireRole("user", "admin")(http.HandlerFunc(s.posts)))
	mux.Handle("GET /.well-known/jwks.json", a.Keys())
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	s.Handler = mux
	return s, nil
}

var errInvalidInput = errors.New("invalid input")

func (s *server) createUser(email, password, name, role string) (*user, error) {
	addr, err := mail.ParseAddress(email)
	if err != nil || addr.Address != email || addr.Name != "" {
		return nil, errors.Join(errInvalidInput, errors.New("bad email"))
	}
	if len(password) < 8 || len(password) > 72 || !utf8.ValidString(password) || strings.IndexByte(password, 0) >= 0 {
		return nil, errors.Join(errInvalidInput, errors.New("password must be 8 to 72 bytes of UTF-8"))
	}
	if strings.TrimSpace(name) == "" || len(name) > 200 {
		return nil, errors.Join(errInvalidInput, errors.New("name is required"))
	}
	hash, err := bcrypt.GenerateFromPassword([]byte(password), s.cost)
	if err != nil {
		return nil, err
	}
	u := &user{ID: uuid.NewString(), Email: strings.ToLower(email), Name: name, Role: role, hash: hash}
	if err := s.users.add(u); err != nil {
		return nil, err
	}
	return u, nil
}

type credentials struct {
	Email    string `json:"email"`
	Password string `json:"password"`
	Name     string `json:"name"`
}

func (s *server) register(w http.ResponseWriter, r *http.Request) {
	var in credentials
	if !decodeJSON(w, r, &in) {
		return
	}
	u, err := s.createUser(in.Email, in.Password, in.Name, "user")
	switch {
	case errors.Is(err, errEmailTaken):
		writeError(w, http.StatusConflict, "EMAIL_TAKEN", "an account with this email exists")
		return
	case errors.Is(err, errInvalidInput):
		writeError(w, http.StatusBadRequest, "INVALID_INPUT", "invalid email, password or name")
		return
	case err != nil:
		writeError(w, http.StatusInternalServerError, "INTERNAL", "internal error")
		return
	}
	s.issue(w, r, u, http.StatusCreated)
}

func (s *server) login(w http.ResponseWriter, r *http.Request) {
	var in credentials
	if !decodeJSON(w, r, &in) {
		return
	}
	u, ok := s.users.get(strings.ToLower(in.Email))
	hash := s.dummyHash
	if ok {
		hash = u.hash
	}
	err := bcrypt.CompareHashAndPassword(hash, []byte(in.Password))
	if !ok || err != nil || len(in.Password) > 72 {
		writeError(w, http.StatusUnauthorized, "INVALID_CREDENTIALS", "invalid email or password")
		return
	}
	s.issue(w, r, u, http.StatusOK)
}

func (s *server) issue(w http.ResponseWriter, r *http.Request, u *user, status int) {
	at, err := s.auth.Issue(r.Context(), auth.Claims{Subject: u.ID, Role: u.Role, Email: u.Email})
	if err != nil {
		s.logger.Error("issue access token", "err", err)
		writeError(w, http.StatusInternalServerError, "INTERNAL", "internal error")
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, status, map[string]any{
		"user":        u,
		"accessToken": at.Token,
		"expiresIn":   int(at.ExpiresIn().Seconds()),
	})
}

func (s *server) me(w http.ResponseWriter, r *http.Request) {
	c, _ := auth.ClaimsFromContext(r.Context())
	u, ok := s.users.getID(c.Subject)
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

// decodeJSON decodes one JSON object of at most 64 KiB with no unknown
// fields, or writes the error and returns false.
func decodeJSON(w http.ResponseWriter, r *http.Request, v any) bool {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxBodyBytes))
	dec.DisallowUnknownFields()
	err := dec.Decode(v)
	if err == nil && dec.Decode(&struct{}{}) != io.EOF {
		err = errors.New("trailing data")
	}
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			writeError(w, http.StatusRequestEntityTooLarge, "BODY_TOO_LARGE", "request body too large")
			return false
		}
		writeError(w, http.StatusBadRequest, "INVALID_INPUT", "request body is not the expected JSON")
		return false
	}
	return true
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, status int, code, msg string) {
	writeJSON(w, status, map[string]string{"error": msg, "code": code})
}
