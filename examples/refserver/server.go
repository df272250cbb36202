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
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/jwtkit/auth"
	"github.com/jwtkit/auth/account"
	"github.com/jwtkit/auth/audit"
	"github.com/jwtkit/auth/authstore"
	"github.com/jwtkit/auth/memstore"
	"github.com/jwtkit/auth/password"
)

// Server is the reference server of the HTTP contract, built from library
// parts. It is an http.Handler.
type Server struct {
	http.Handler
	auth          *auth.Auth
	accounts      *account.Manager
	users         UserStore
	oneTime       authstore.OneTimeStore
	registerLimit authstore.Throttle
	logger        *slog.Logger
}

// Backend holds the stores of a [Server]; nil fields get in-memory stores of
// this process only.
type Backend struct {
	Users      UserStore
	Refresh    authstore.RefreshStore
	Revocation authstore.RevocationStore
	Throttle   authstore.Throttle
	// RegisterThrottle limits registrations per client address
	// (AUTH_REGISTER_LIMIT), a budget of its own that never touches the
	// login throttle's.
	RegisterThrottle authstore.Throttle
	// RefreshThrottle limits successful refreshes per session
	// (AUTH_REFRESH_LIMIT).
	RefreshThrottle authstore.Throttle
	// OneTime keeps the tokens of reset and verification links.
	OneTime authstore.OneTimeStore
	// Events, when set, receives the security events of the Auth and the
	// account manager (auth.WithEvents, account.WithEvents); Observer, when
	// set, is told of each Verify, Login and Refresh (auth.WithObserver).
	// Module github.com/jwtkit/auth/otelauth provides both.
	Events   func(context.Context, audit.Event)
	Observer func(ctx context.Context, op string) (context.Context, func(error))
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
	if b.OneTime == nil {
		m, err := memstore.New()
		if err != nil {
			return nil, err
		}
		b.OneTime = m
	}
	s := &Server{users: b.Users, oneTime: b.OneTime, logger: logger}
	passwords, err := newPasswords(cfg)
	if err != nil {
		return nil, err
	}
	if b.RegisterThrottle == nil {
		if b.RegisterThrottle, err = memstore.NewThrottle(cfg.RegisterRate); err != nil {
			return nil, fmt.Errorf("AUTH_REGISTER_LIMIT: %w", err)
		}
	}
	s.registerLimit = b.RegisterThrottle
	if b.Throttle == nil {
		if b.Throttle, err = memstore.NewThrottle(cfg.LoginRate); err != nil {
			return nil, fmt.Errorf("AUTH_LOGIN_LIMIT: %w", err)
		}
	}
	if b.RefreshThrottle == nil {
		if b.RefreshThrottle, err = memstore.NewThrottle(cfg.RefreshRate); err != nil {
			return nil, fmt.Errorf("AUTH_REFRESH_LIMIT: %w", err)
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
		auth.WithCredentials(credentials{b.Users, cfg.RequireVerifiedEmail}),
		auth.WithClaimsLoader(b.Users.LoadClaims),
		auth.WithLoginThrottle(b.Throttle),
		auth.WithRefreshThrottle(b.RefreshThrottle),
		auth.WithRefreshCookie(auth.CookieConfig{Insecure: !cfg.CookieSecure}),
		auth.WithLogger(logger),
	}
	if b.Refresh != nil {
		opts = append(opts, auth.WithRefreshStore(b.Refresh))
	}
	if b.Revocation != nil {
		opts = append(opts, auth.WithRevocation(b.Revocation))
	}
	if b.Events != nil {
		opts = append(opts, auth.WithEvents(b.Events))
	}
	if b.Observer != nil {
		opts = append(opts, auth.WithObserver(b.Observer))
	}
	if s.auth, err = auth.New(opts...); err != nil {
		return nil, blame(err)
	}
	refresh, err := s.auth.RefreshHandler()
	if err != nil {
		return nil, err
	}
	mailer := &logMailer{logger: logger}
	if cfg.DevMailbox {
		mailer.box = &devMailbox{}
	}
	base := "http://" + cfg.Addr
	accountOpts := []account.Option{
		account.WithMailer(mailer),
		account.WithPasswords(passwords),
		account.WithLinks(base+"/reset-password", base+"/verify-email"),
		account.WithStore(b.OneTime),
		account.WithThrottle(b.Throttle),
		account.WithResetTTL(cfg.ResetTTL),
		account.WithLogger(logger),
	}
	if b.Events != nil {
		accountOpts = append(accountOpts, account.WithEvents(b.Events))
	}
	s.accounts, err = account.New(s.auth, b.Users, accountOpts...)
	if err != nil {
		return nil, blame(err)
	}
	if cfg.AdminEmail != "" {
		// The operator vouches for the admin's address.
		u, err := s.createUser(ctx, cfg.AdminEmail, cfg.AdminPassword, "Admin", "admin")
		if err == nil {
			err = b.Users.SetEmailVerified(ctx, u.ID)
		}
		if err != nil && !errors.Is(err, ErrEmailTaken) {
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
	handle("POST", "/api/auth/password/forgot", a.CrossOriginProtection(s.accounts.ForgotHandler()))
	handle("POST", "/api/auth/password/reset", a.CrossOriginProtection(s.accounts.ResetHandler()))
	handle("POST", "/api/auth/password/change", a.CrossOriginProtection(s.accounts.ChangeHandler()))
	handle("POST", "/api/auth/email/verify", a.CrossOriginProtection(http.HandlerFunc(s.verifyEmail)))
	if mailer.box != nil {
		handle("GET", "/api/dev/mailbox", mailer.box)
	}
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
	if err != nil || addr.Address != email || addr.Name != "" || len(email) > 254 || !displayable(email) {
		return nil, fmt.Errorf("%w: invalid email", auth.ErrInvalidInput)
	}
	name = strings.TrimSpace(name)
	if name == "" || utf8.RuneCountInString(name) > 100 || !displayable(name) {
		return nil, fmt.Errorf("%w: name must be 1 to 100 characters, without control characters or bidirectional overrides", auth.ErrInvalidInput)
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
	// DeviceToken is a body-transfer client's device token (login only).
	DeviceToken string `json:"deviceToken"`
}

func (s *Server) register(w http.ResponseWriter, r *http.Request) {
	var in credentialsIn
	if err := auth.DecodeJSON(w, r, &in); err != nil {
		s.fail(w, r, err)
		return
	}
	transfer, err := auth.ParseTransfer(in.RefreshTransfer)
	if err != nil || in.DeviceToken != "" {
		s.fail(w, r, auth.ErrInvalidInput)
		return
	}
	client := s.auth.ClientFrom(r)
	if client.Address != "" {
		// Each registration costs a password hash: an address gets a
		// budget of them (AUTH_REGISTER_LIMIT), apart from its logins'.
		wait, err := s.registerLimit.Take(r.Context(), "register:addr:"+client.Address, time.Now())
		if err != nil {
			s.fail(w, r, fmt.Errorf("%w: register throttle: %w", auth.ErrUnavailable, err))
			return
		}
		if wait > 0 {
			s.fail(w, r, registerThrottled(wait))
			return
		}
	}
	u, err := s.createUser(r.Context(), in.Email, in.Password, in.Name, "user")
	switch {
	case errors.Is(err, ErrEmailTaken):
		writeError(w, http.StatusConflict, "EMAIL_TAKEN", "an account with this email already exists")
		return
	case err != nil:
		s.fail(w, r, err)
		return
	}
	tokens, err := s.auth.StartSession(r.Context(), u.Claims(), client)
	if err != nil {
		// Nothing half-written: without a session the account goes too, so
		// the client may register again.
		_, _ = s.users.Delete(r.Context(), u.ID)
		s.fail(w, r, err)
		return
	}
	// A lost verification mail does not undo the account: the user signs
	// in all the same (unless AUTH_REQUIRE_VERIFIED_EMAIL) and the failure
	// is logged.
	if err := s.accounts.SendVerification(r.Context(), u.ID, u.Email); err != nil {
		s.logger.WarnContext(r.Context(), "verification mail not sent", "err", err.Error())
	}
	s.auth.WriteTokens(w, http.StatusCreated, tokens, transfer, map[string]any{"user": u})
}

func (s *Server) login(w http.ResponseWriter, r *http.Request) {
	var in credentialsIn
	if err := auth.DecodeJSON(w, r, &in); err != nil {
		s.fail(w, r, err)
		return
	}
	transfer, err := auth.ParseTransfer(in.RefreshTransfer)
	if err != nil || in.Email == "" || in.Password == "" || in.Name != "" {
		s.fail(w, r, auth.ErrInvalidInput)
		return
	}
	client := s.auth.ClientFrom(r)
	if in.DeviceToken != "" {
		client.Device = in.DeviceToken
	}
	tokens, err := s.auth.Login(r.Context(), in.Email, in.Password, client)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	u, ok, err := s.users.Get(r.Context(), tokens.Access.Claims.Subject)
	if err != nil {
		s.fail(w, r, storeErr(err))
		return
	}
	if !ok { // deleted between the password check and now
		s.fail(w, r, auth.ErrInvalidCredentials)
		return
	}
	s.auth.WriteTokens(w, http.StatusOK, tokens, transfer, map[string]any{"user": u})
}

// verifyEmail answers POST /api/auth/email/verify {token}: 200 {user}, or
// 400 INVALID_VERIFY_TOKEN.
func (s *Server) verifyEmail(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Token string `json:"token"`
	}
	if err := auth.DecodeJSON(w, r, &in); err != nil {
		s.fail(w, r, err)
		return
	}
	id, err := s.accounts.VerifyEmail(r.Context(), in.Token)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	u, ok, err := s.users.Get(r.Context(), id)
	if err != nil {
		s.fail(w, r, storeErr(err))
		return
	}
	if !ok {
		s.fail(w, r, account.ErrInvalidVerifyToken)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"user": u})
}

func (s *Server) me(w http.ResponseWriter, r *http.Request) {
	c, _ := auth.ClaimsFromContext(r.Context())
	u, ok, err := s.users.Get(r.Context(), c.Subject)
	if err != nil {
		s.fail(w, r, storeErr(err))
		return
	}
	if !ok {
		s.fail(w, r, auth.ErrTokenRevoked)
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
		s.fail(w, r, storeErr(err))
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
		s.fail(w, r, err)
		return
	}
	// Links sent to the account die with it.
	for _, purpose := range []string{account.PurposeReset, account.PurposeVerify} {
		if _, err := s.oneTime.RevokeOneTime(r.Context(), id.String(), purpose); err != nil {
			s.fail(w, r, fmt.Errorf("%w: %w", auth.ErrUnavailable, err))
			return
		}
	}
	if _, err := s.users.Delete(r.Context(), id.String()); err != nil {
		s.fail(w, r, storeErr(err))
		return
	}
	// Once more: a login that finished between the first revocation and
	// the deletion holds tokens issued after the first cutoff.
	if err := s.auth.RevokeUser(r.Context(), id.String()); err != nil {
		s.fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// credentials is the server's [auth.CredentialStore]: its users, and,
// with AUTH_REQUIRE_VERIFIED_EMAIL, the refusal of an unverified account,
// which login answers only once the password matched.
type credentials struct {
	UserStore
	requireVerified bool
}

func (c credentials) Credentials(ctx context.Context, login string) (auth.Credentials, error) {
	creds, err := c.UserStore.Credentials(ctx, login)
	if err != nil || !c.requireVerified {
		return creds, err
	}
	u, ok, err := c.Get(ctx, creds.UserID)
	if err != nil {
		return auth.Credentials{}, err
	}
	if !ok {
		return auth.Credentials{}, auth.ErrUserNotFound
	}
	if !u.EmailVerified {
		creds.Refusal = account.ErrEmailNotVerified
	}
	return creds, nil
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

// fail answers err, after logging it once at error level when it is a
// failure of the server (a 5xx: a store down, a value a store refused), so
// that no 503 goes unexplained; the log holds no token or password.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error) {
	if auth.ErrorStatus(err) >= 500 {
		s.logger.ErrorContext(r.Context(), "request failed", "method", r.Method, "path", r.URL.Path, "code", auth.ErrorCode(err), "err", err.Error())
	}
	auth.WriteError(w, r, err)
}

// registerThrottled is the answer to a registration past its address's
// budget: 429 TOO_MANY_ATTEMPTS with Retry-After.
type registerThrottled time.Duration

func (e registerThrottled) Error() string             { return "too many registrations from this address" }
func (e registerThrottled) Is(target error) bool      { return target == auth.ErrTooManyAttempts }
func (e registerThrottled) RetryAfter() time.Duration { return time.Duration(e) }

// displayable reports whether s is valid UTF-8 without control characters
// (NUL, which PostgreSQL refuses in text, included) and without the
// bidirectional formatting characters that make one name display as
// another.
func displayable(s string) bool {
	for _, r := range s {
		switch {
		case r == utf8.RuneError, unicode.IsControl(r):
			return false
		case r >= 0x202a && r <= 0x202e, r >= 0x2066 && r <= 0x2069, r == 0x200e, r == 0x200f, r == 0x061c:
			return false
		}
	}
	return true
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
