package refserver

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/jwtkit/auth/password"
)

// Registrations from one address have a budget of their own
// (AUTH_REGISTER_LIMIT): past it, 429 TOO_MANY_ATTEMPTS with Retry-After,
// while logins from that address, and registrations from others, go on.
func TestRegisterThrottle(t *testing.T) {
	t.Parallel()
	env := map[string]string{
		"AUTH_SECRET":         "a secret of at least thirty-two bytes for the tests",
		"AUTH_COOKIE_SECURE":  "false",
		"AUTH_REGISTER_LIMIT": "2/1h",
		"AUTH_LOGIN_LIMIT":    "2/1h",
	}
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	cfg, err := LoadConfig(func(k string) string { return env[k] }, quiet)
	if err != nil {
		t.Fatal(err)
	}
	cfg.BcryptCost = password.MinCost
	s, err := New(context.Background(), cfg, quiet, Backend{})
	if err != nil {
		t.Fatal(err)
	}
	post := func(path, addr, body string) (int, string, string) {
		r := httptest.NewRequest("POST", path, strings.NewReader(body))
		r.RemoteAddr = addr + ":1234"
		r.Header.Set("Content-Type", "application/json")
		w := httptest.NewRecorder()
		s.ServeHTTP(w, r)
		var out struct {
			Code string `json:"code"`
		}
		_ = json.Unmarshal(w.Body.Bytes(), &out)
		return w.Code, out.Code, w.Header().Get("Retry-After")
	}
	reg := func(email string) string {
		return `{"email":"` + email + `","password":"correct horse","name":"T"}`
	}
	for i, email := range []string{"a@example.com", "b@example.com"} {
		if code, _, _ := post("/api/auth/register", "198.51.100.1", reg(email)); code != http.StatusCreated {
			t.Fatalf("registration %d = %d; want 201", i+1, code)
		}
	}
	if code, c, ra := post("/api/auth/register", "198.51.100.1", reg("c@example.com")); code != http.StatusTooManyRequests || c != "TOO_MANY_ATTEMPTS" || ra == "" {
		t.Errorf("third registration from one address = %d %s, Retry-After %q; want 429 TOO_MANY_ATTEMPTS with Retry-After", code, c, ra)
	}
	if code, _, _ := post("/api/auth/register", "198.51.100.2", reg("c@example.com")); code != http.StatusCreated {
		t.Errorf("registration from another address = %d; want 201", code)
	}
	for i := 0; i < 3; i++ {
		if code, _, _ := post("/api/auth/login", "198.51.100.1", `{"email":"a@example.com","password":"correct horse"}`); code != http.StatusOK {
			t.Errorf("login %d from the throttled registration address = %d; want 200", i+1, code)
		}
	}
}
