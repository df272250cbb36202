package account_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/jwtkit/auth"
	"github.com/jwtkit/auth/account"
)

// required returns the three options New requires, over the env's pieces.
func (e *env) required() []account.Option {
	return []account.Option{
		account.WithMailer(e.mail),
		account.WithPasswords(e.hasher),
		account.WithLinks(resetPage, verifyPage),
	}
}

// wantConfigError fails the test unless err matches auth.ErrConfig and
// names name.
func wantConfigError(t *testing.T, call string, err error, name string) {
	t.Helper()
	if !errors.Is(err, auth.ErrConfig) {
		t.Fatalf("%s = %v; want an error matching auth.ErrConfig", call, err)
	}
	if !strings.Contains(err.Error(), name) {
		t.Errorf("%s = %q; want it to name %s", call, err, name)
	}
}

func TestNewRequired(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	mailer := account.WithMailer(e.mail)
	passwords := account.WithPasswords(e.hasher)
	links := account.WithLinks(resetPage, verifyPage)
	for _, tt := range []struct {
		name string
		opts []account.Option
		want string // the option the error names
	}{
		{"no options", nil, "WithMailer"},
		{"no mailer", []account.Option{passwords, links}, "WithMailer"},
		{"no passwords", []account.Option{mailer, links}, "WithPasswords"},
		{"no links", []account.Option{mailer, passwords}, "WithLinks"},
		{"nil option", []account.Option{mailer, passwords, links, nil}, "nil option"},
		{"nil option first", []account.Option{nil, mailer, passwords, links}, "nil option"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			m, err := account.New(e.a, e.users, tt.opts...)
			wantConfigError(t, "New("+tt.name+")", err, tt.want)
			if m != nil {
				t.Errorf("New(%s) = %v, %v; want a nil Manager", tt.name, m, err)
			}
		})
	}
	t.Run("nil auth", func(t *testing.T) {
		_, err := account.New(nil, e.users, e.required()...)
		wantConfigError(t, "New(nil, users)", err, "*auth.Auth")
	})
	t.Run("nil users", func(t *testing.T) {
		_, err := account.New(e.a, nil, e.required()...)
		wantConfigError(t, "New(a, nil)", err, "Users")
	})
	t.Run("all required", func(t *testing.T) {
		m, err := account.New(e.a, e.users, e.required()...)
		if m == nil || err != nil {
			t.Fatalf("New(required options) = %v, %v; want a Manager", m, err)
		}
	})
}

func TestNewNilValues(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	for _, tt := range []struct {
		name string
		opt  account.Option
	}{
		{"WithMailer", account.WithMailer(nil)},
		{"WithPasswords", account.WithPasswords(nil)},
		{"WithStore", account.WithStore(nil)},
		{"WithThrottle", account.WithThrottle(nil)},
		{"WithClock", account.WithClock(nil)},
		{"WithRandom", account.WithRandom(nil)},
		{"WithLogger", account.WithLogger(nil)},
		{"WithEvents", account.WithEvents(nil)},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := account.New(e.a, e.users, append(e.required(), tt.opt)...)
			wantConfigError(t, "New("+tt.name+"(nil))", err, tt.name)
		})
	}
}

func TestWithLinks(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	bad := []struct {
		name, link string
	}{
		{"empty", ""},
		{"relative", "/reset-password"},
		{"no scheme", "app.example.com/reset-password"},
		{"ftp", "ftp://app.example.com/reset-password"},
		{"javascript", "javascript:alert(1)"},
		{"no host", "https:///reset-password"},
		{"opaque", "https:app.example.com"},
		{"fragment", "https://app.example.com/reset-password#top"},
		{"user info", "https://user:secret@app.example.com/reset-password"},
		{"user only", "https://user@app.example.com/reset-password"},
		{"token param", "https://app.example.com/reset-password?token=abc"},
		{"empty token param", "https://app.example.com/reset-password?lang=en&token="},
		{"unparsable", "https://app.example.com/%zz"},
	}
	for _, tt := range bad {
		t.Run("reset "+tt.name, func(t *testing.T) {
			_, err := account.New(e.a, e.users, account.WithMailer(e.mail), account.WithPasswords(e.hasher), account.WithLinks(tt.link, verifyPage))
			wantConfigError(t, fmt.Sprintf("WithLinks(%q, verify)", tt.link), err, "WithLinks")
		})
		t.Run("verify "+tt.name, func(t *testing.T) {
			_, err := account.New(e.a, e.users, account.WithMailer(e.mail), account.WithPasswords(e.hasher), account.WithLinks(resetPage, tt.link))
			wantConfigError(t, fmt.Sprintf("WithLinks(reset, %q)", tt.link), err, "WithLinks")
		})
	}
	for _, link := range []string{"https://app.example.com/reset", "http://localhost:8080/reset", "https://app.example.com/reset?lang=en"} {
		t.Run("good "+link, func(t *testing.T) {
			if _, err := account.New(e.a, e.users, account.WithMailer(e.mail), account.WithPasswords(e.hasher), account.WithLinks(link, link)); err != nil {
				t.Errorf("WithLinks(%q, %q) = %v; want nil", link, link, err)
			}
		})
	}
}

func TestWithLinksKeepsQuery(t *testing.T) {
	t.Parallel()
	const page = "https://app.example.com/reset?lang=en"
	e := newEnv(t, account.WithLinks(page, verifyPage))
	tok := e.resetToken(t, adaEmail)
	link := e.mail.last(t).Link
	if !strings.HasPrefix(link, "https://app.example.com/reset?") || !strings.Contains(link, "lang=en") || !strings.Contains(link, "token="+tok) {
		t.Errorf("link of %q = %q; want the page with lang=en and token=%s", page, link, tok)
	}
}

func TestTTLBounds(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	for _, tt := range []struct {
		name string
		opt  account.Option
		ok   bool
	}{
		{"WithResetTTL", account.WithResetTTL(0), false},
		{"WithResetTTL", account.WithResetTTL(-time.Minute), false},
		{"WithResetTTL", account.WithResetTTL(24*time.Hour + time.Nanosecond), false},
		{"WithResetTTL", account.WithResetTTL(time.Nanosecond), true},
		{"WithResetTTL", account.WithResetTTL(24 * time.Hour), true},
		{"WithVerifyTTL", account.WithVerifyTTL(0), false},
		{"WithVerifyTTL", account.WithVerifyTTL(-time.Hour), false},
		{"WithVerifyTTL", account.WithVerifyTTL(30*24*time.Hour + time.Nanosecond), false},
		{"WithVerifyTTL", account.WithVerifyTTL(time.Nanosecond), true},
		{"WithVerifyTTL", account.WithVerifyTTL(30 * 24 * time.Hour), true},
	} {
		t.Run(fmt.Sprintf("%s %v", tt.name, tt.ok), func(t *testing.T) {
			_, err := account.New(e.a, e.users, append(e.required(), tt.opt)...)
			if tt.ok {
				if err != nil {
					t.Errorf("New(%s) = %v; want nil", tt.name, err)
				}
				return
			}
			wantConfigError(t, "New("+tt.name+")", err, tt.name)
		})
	}
}

func TestErrorAnswers(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name   string
		err    error
		status int
		code   string
	}{
		{"ErrInvalidResetToken", account.ErrInvalidResetToken, http.StatusBadRequest, "INVALID_RESET_TOKEN"},
		{"ErrInvalidVerifyToken", account.ErrInvalidVerifyToken, http.StatusBadRequest, "INVALID_VERIFY_TOKEN"},
		{"ErrEmailNotVerified", account.ErrEmailNotVerified, http.StatusForbidden, "EMAIL_NOT_VERIFIED"},
		{"wrapped ErrInvalidResetToken", fmt.Errorf("reset: %w", account.ErrInvalidResetToken), http.StatusBadRequest, "INVALID_RESET_TOKEN"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := auth.ErrorStatus(tt.err); got != tt.status {
				t.Errorf("ErrorStatus(%v) = %d; want %d", tt.err, got, tt.status)
			}
			if got := auth.ErrorCode(tt.err); got != tt.code {
				t.Errorf("ErrorCode(%v) = %q; want %q", tt.err, got, tt.code)
			}
			if !strings.HasPrefix(tt.err.Error(), "account: ") && !strings.Contains(tt.err.Error(), ": account: ") {
				t.Errorf("%v.Error() = %q; want the account: prefix", tt.name, tt.err)
			}
			w := httptest.NewRecorder()
			auth.WriteError(w, httptest.NewRequest(http.MethodPost, "/", nil), tt.err)
			var body struct{ Error, Code string }
			if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil {
				t.Fatalf("WriteError(%v) body %q: %v", tt.err, w.Body, err)
			}
			if w.Code != tt.status || body.Code != tt.code || body.Error == "" {
				t.Errorf("WriteError(%v) = %d %+v; want %d with code %s and a message", tt.err, w.Code, body, tt.status, tt.code)
			}
		})
	}
	// Each error is its own: none matches another's class.
	errs := []error{account.ErrInvalidResetToken, account.ErrInvalidVerifyToken, account.ErrEmailNotVerified}
	for i, a := range errs {
		for j, b := range errs {
			if i != j && errors.Is(a, b) {
				t.Errorf("errors.Is(%v, %v) = true; want false", a, b)
			}
		}
		for _, class := range []error{auth.ErrInvalidInput, auth.ErrInvalidToken, auth.ErrInvalidCredentials, auth.ErrUnavailable, auth.ErrForbidden} {
			if errors.Is(a, class) {
				t.Errorf("errors.Is(%v, %v) = true; want false", a, class)
			}
		}
	}
}
