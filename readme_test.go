package auth_test

// The Go snippets of README.md live here, between "// snippet: NAME" and
// "// snippet end" lines, so that the tests compile them;
// TestREADMESnippets checks that README.md shows each one exactly.
// Snippets that need the store modules live in examples/postgres.

import (
	"bufio"
	"context"
	"crypto"
	"database/sql"
	"errors"
	"fmt"
	"log"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jwtkit/auth"
	"github.com/jwtkit/auth/account"
	"github.com/jwtkit/auth/authstore"
	"github.com/jwtkit/auth/authtest"
	"github.com/jwtkit/auth/jwks"
	"github.com/jwtkit/auth/memstore"
	"github.com/jwtkit/auth/oidc"
	"github.com/jwtkit/auth/password"
)

func readmeQuickStart(r *http.Request, userID, email string, deleteUser http.HandlerFunc) {
	// snippet: quickstart
	key, err := auth.NewHMACKey(auth.HS256, []byte(os.Getenv("AUTH_SECRET"))) // at least 32 bytes
	if err != nil {
		log.Fatal(err)
	}
	keys, err := auth.NewKeySet(key)
	if err != nil {
		log.Fatal(err)
	}
	a, err := auth.New(
		auth.WithKeys(keys),
		auth.WithIssuer("https://id.example.com"),
		auth.WithAudience("example-api"),
	)
	if err != nil {
		log.Fatal(err)
	}

	mux := http.NewServeMux()
	mux.Handle("GET /.well-known/jwks.json", keys)
	mux.Handle("GET /api/me", a.Require(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, _ := auth.ClaimsFromContext(r.Context())
		fmt.Fprintln(w, "hello", c.Subject)
	})))
	mux.Handle("DELETE /api/users/{id}", a.RequireRole("admin")(deleteUser))

	// After checking a password yourself (or let a.Login do it, below):
	at, err := a.Issue(r.Context(), auth.Claims{Subject: userID, Role: "user", Email: email})
	// at.Token goes to the client; at.ExpiresIn is 15 minutes by default.
	// snippet end
	_, _ = at, err
}

func readmeRemote(ctx context.Context) {
	// snippet: remote
	remote, err := jwks.NewRemoteKeySet("https://id.example.com/.well-known/jwks.json")
	if err != nil {
		log.Fatal(err)
	}
	if err := remote.Start(ctx); err != nil { // first fetch; refreshes until ctx ends
		log.Print(err) // requests get 503 UNAVAILABLE until a fetch succeeds
	}
	a, err := auth.New(auth.WithKeySource(remote),
		auth.WithIssuer("https://id.example.com"), auth.WithAudience("example-api"))
	// snippet end
	_, _ = a, err
}

func readmeOIDC(ctx context.Context, mux *http.ServeMux, orders http.Handler) {
	// snippet: oidc
	p, err := oidc.Discover(ctx, "https://sso.example.com/realms/shop")
	if err != nil {
		log.Fatal(err) // unreachable, or a document naming another issuer
	}
	if err := p.Keys.Start(ctx); err != nil {
		log.Print(err) // 503 UNAVAILABLE until the JWK Set is fetched
	}
	a, err := auth.New(p.Options("shop-api", oidc.Keycloak("shop-web"))...)
	if err != nil {
		log.Fatal(err)
	}
	mux.Handle("GET /api/orders", a.RequireRole("clerk")(orders))
	// snippet end
}

// TenantClaims are an application's own claims.
type TenantClaims struct {
	Tenant string `json:"tenant"`
}

func readmeClaims(ctx context.Context, a *auth.Auth, id string) {
	// snippet: claims
	at, _ := a.Issue(ctx, auth.Claims{Subject: id, Extra: TenantClaims{Tenant: "acme"}})
	c, _ := a.Verify(ctx, at.Token)
	var tc TenantClaims
	_ = c.Decode(&tc)
	// snippet end
}

// user and userTable stand for the application's own account store.
type user struct {
	ID, Role, Email string
	Disabled        bool
}

type userTable interface {
	Get(ctx context.Context, id string) (user, error)
}

func readmeSessions(ctx context.Context, r *http.Request, keys *auth.KeySet, users userTable, u user, claims *auth.Claims) error {
	iss, aud := "https://id.example.com", "example-api"
	// snippet: sessions
	a, err := auth.New(auth.WithKeys(keys), auth.WithIssuer(iss), auth.WithAudience(aud),
		auth.WithClaimsLoader(func(ctx context.Context, userID string) (auth.Claims, error) {
			u, err := users.Get(ctx, userID)
			if errors.Is(err, sql.ErrNoRows) || u.Disabled {
				return auth.Claims{}, auth.ErrUserNotFound // revokes the session
			}
			return auth.Claims{Role: u.Role, Email: u.Email}, err
		}))
	if err != nil {
		return err
	}

	// Sign-in: t.Access.Token goes to the client, t.RefreshToken in an HttpOnly cookie.
	t, err := a.StartSession(ctx, auth.Claims{Subject: u.ID, Role: u.Role}, a.ClientFrom(r))
	if err != nil {
		return err
	}
	// Rotation, when the client presents its refresh token: that token is
	// spent, t holds its successor.
	if t, err = a.Refresh(ctx, t.RefreshToken, a.ClientFrom(r)); err != nil {
		return err // ErrRefreshTokenReused: it was spent already, the session is revoked
	}
	// "Your sessions", newest first, and "sign out that device".
	sessions, err := a.Sessions(ctx, u.ID)
	if err != nil {
		return err
	}
	for _, s := range sessions {
		fmt.Println(s.ID, s.CreatedAt, s.RefreshedAt, s.UserAgent, s.Address)
	}
	if err := a.RevokeSession(ctx, u.ID, sessions[0].ID); err != nil {
		return err
	}
	// Logout: this session, and the access token it presented.
	if err := a.RevokeRefreshToken(ctx, t.RefreshToken); err != nil {
		return err
	}
	if err := a.RevokeAccessToken(ctx, claims); err != nil {
		return err
	}
	// Logout everywhere: every session, every access token issued until now.
	return a.RevokeUser(ctx, u.ID)
	// snippet end
}

// myStore stands for a store written against the authstore contract.
type myStore struct{ authstore.RefreshStore }

func newMyStore(t *testing.T) *myStore {
	s, err := memstore.New()
	if err != nil {
		t.Fatal(err)
	}
	return &myStore{s}
}

// snippet: conformance
func TestMyStore(t *testing.T) {
	authtest.TestRefreshStore(t, func(t *testing.T) authstore.RefreshStore {
		return newMyStore(t)
	})
}

// snippet end

func readmeLogin(a *auth.Auth, mux *http.ServeMux, userJSON func(id string) any) error {
	// snippet: login
	mux.Handle("POST /api/auth/login", a.CrossOriginProtection(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var in struct {
			Email           string `json:"email"`
			Password        string `json:"password"`
			RefreshTransfer string `json:"refreshTransfer"` // "body" for clients without cookies
		}
		if err := auth.DecodeJSON(w, r, &in); err != nil {
			auth.WriteError(w, r, err) // 400 INVALID_INPUT, 413 BODY_TOO_LARGE
			return
		}
		transfer, err := auth.ParseTransfer(in.RefreshTransfer)
		if err != nil {
			auth.WriteError(w, r, err)
			return
		}
		t, err := a.Login(r.Context(), in.Email, in.Password, a.ClientFrom(r))
		if err != nil {
			auth.WriteError(w, r, err) // 401 INVALID_CREDENTIALS, 429 + Retry-After, 503
			return
		}
		a.WriteTokens(w, http.StatusOK, t, transfer, map[string]any{"user": userJSON(t.Access.Claims.Subject)})
	})))
	refresh, err := a.RefreshHandler() // refused without WithClaimsLoader
	if err != nil {
		return err
	}
	mux.Handle("POST /api/auth/refresh", a.CrossOriginProtection(refresh))
	mux.Handle("POST /api/auth/logout", a.CrossOriginProtection(a.LogoutHandler()))
	mux.Handle("POST /api/auth/logout-all", a.CrossOriginProtection(a.LogoutAllHandler()))
	sessions := a.SessionsHandler() // "your sessions": list, and sign out one device
	mux.Handle("GET /api/auth/sessions", sessions)
	mux.Handle("DELETE /api/auth/sessions/{id}", a.CrossOriginProtection(sessions))
	// snippet end
	return nil
}

func readmeAccount(a *auth.Auth, mux *http.ServeMux, users account.Users, mailer account.Mailer, policy password.Hasher, store authstore.OneTimeStore, throttle authstore.Throttle) error {
	// snippet: account
	m, err := account.New(a, users, // users: an account.Users (CredentialStore + CredentialsByID + SetEmailVerified)
		account.WithMailer(mailer),
		account.WithPasswords(policy), // the policy given to auth.WithPasswords
		account.WithLinks("https://app.example.com/reset-password", "https://app.example.com/verify-email"),
		account.WithStore(store),       // an authstore.OneTimeStore: memstore, sqlstore or redisstore
		account.WithThrottle(throttle)) // the login throttle: the same rate, shared by every instance
	if err != nil {
		return err
	}
	mux.Handle("POST /api/auth/password/forgot", a.CrossOriginProtection(m.ForgotHandler()))
	mux.Handle("POST /api/auth/password/reset", a.CrossOriginProtection(m.ResetHandler()))
	mux.Handle("POST /api/auth/password/change", a.CrossOriginProtection(m.ChangeHandler()))
	// snippet end
	return nil
}

func readmeKMS(signer crypto.Signer) {
	// snippet: kms-setup
	key, err := auth.NewPrivateKey(auth.ES256, signer) // calls signer.Public only, never the KMS
	if err != nil {
		log.Fatal(err) // the KMS key does not fit ES256
	}
	keys, err := auth.NewKeySet(key) // serve keys at /.well-known/jwks.json as usual
	if err != nil {
		log.Fatal(err)
	}
	a, err := auth.New(auth.WithKeys(keys),
		auth.WithIssuer("https://id.example.com"), auth.WithAudience("example-api"))
	// snippet end
	_, _ = a, err
}

// The snippet functions are compiled, not run.
var _ = []any{readmeQuickStart, readmeRemote, readmeOIDC, readmeClaims, readmeSessions, readmeLogin, readmeAccount, readmeKMS}

// TestREADMESnippets checks that every Go block of README.md is preceded by
// a "<!-- snippet: NAME -->" line and equals the snippet NAME of a test file
// (here, or in examples/postgres), dedented.
func TestREADMESnippets(t *testing.T) {
	t.Parallel()
	code := map[string]string{}
	for _, pattern := range []string{"*_test.go", "examples/postgres/*_test.go"} {
		files, err := filepath.Glob(pattern)
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range files {
			for name, body := range snippetsIn(t, f) {
				if _, dup := code[name]; dup {
					t.Errorf("snippet %q defined twice", name)
				}
				code[name] = body
			}
		}
	}
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	blocks := readmeBlocks(t, string(readme))
	if len(blocks) == 0 {
		t.Fatal("README.md has no Go block")
	}
	for _, b := range blocks {
		want, ok := code[b.name]
		switch {
		case b.name == "":
			t.Errorf("README.md line %d: a Go block without a snippet marker", b.line)
		case !ok:
			t.Errorf("README.md line %d: snippet %q is in no test file", b.line, b.name)
		case b.text != want:
			t.Errorf("README.md line %d: snippet %q differs from its test file:\nREADME:\n%s\ncode:\n%s", b.line, b.name, b.text, want)
		}
		delete(code, b.name)
	}
	for name := range code {
		t.Errorf("snippet %q of the tests is not in README.md", name)
	}
}

// snippetsIn returns the snippets of a Go file by name, each dedented by the
// indentation of its marker line.
func snippetsIn(t *testing.T, path string) map[string]string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	var name, indent string
	var lines []string
	sc := bufio.NewScanner(strings.NewReader(string(data)))
	for sc.Scan() {
		line := sc.Text()
		trimmed := strings.TrimSpace(line)
		switch {
		case strings.HasPrefix(trimmed, "// snippet: "):
			name = strings.TrimPrefix(trimmed, "// snippet: ")
			indent = line[:len(line)-len(strings.TrimLeft(line, "\t"))]
			lines = nil
		case trimmed == "// snippet end" && name != "":
			out[name] = strings.TrimRight(strings.Join(lines, "\n"), "\n")
			name = ""
		case name != "":
			lines = append(lines, strings.TrimPrefix(line, indent))
		}
	}
	return out
}

type readmeBlock struct {
	name, text string
	line       int
}

// readmeBlocks returns the Go blocks of a Markdown document with the
// snippet name of the marker line before each ("" without one).
func readmeBlocks(t *testing.T, md string) []readmeBlock {
	t.Helper()
	var blocks []readmeBlock
	lines := strings.Split(md, "\n")
	for i := 0; i < len(lines); i++ {
		if lines[i] != "```go" {
			continue
		}
		b := readmeBlock{line: i + 1}
		if i > 0 && strings.HasPrefix(lines[i-1], "<!-- snippet: ") {
			b.name = strings.TrimSuffix(strings.TrimPrefix(lines[i-1], "<!-- snippet: "), " -->")
		}
		j := i + 1
		for j < len(lines) && lines[j] != "```" {
			j++
		}
		b.text = strings.Join(lines[i+1:j], "\n")
		blocks = append(blocks, b)
		i = j
	}
	return blocks
}
