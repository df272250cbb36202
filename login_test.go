package auth

import (
	"context"
	"errors"
	"fmt"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/jwtkit/auth/audit"
	"github.com/jwtkit/auth/authstore"
	"github.com/jwtkit/auth/memstore"
	"github.com/jwtkit/auth/password"
)

// fakeAccounts is a CredentialStore over a map; fail makes it return errors.
type fakeAccounts struct {
	mu    sync.Mutex
	users map[string]Credentials // login -> credentials
	fail  bool
	set   map[string][]byte
}

func (f *fakeAccounts) Credentials(_ context.Context, login string) (Credentials, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fail {
		return Credentials{}, errStoreDown
	}
	c, ok := f.users[login]
	if !ok {
		return Credentials{}, ErrUserNotFound
	}
	return c, nil
}

func (f *fakeAccounts) SetPasswordHash(_ context.Context, userID string, hash []byte) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.set[userID] = hash
	return nil
}

func newLoginEnv(t *testing.T, hashCost int, opts ...Option) (*rtEnv, *fakeAccounts) {
	t.Helper()
	hp, err := password.NewBcrypt(password.WithCost(hashCost))
	if err != nil {
		t.Fatal(err)
	}
	h, err := hp.Hash(context.Background(), "correct horse")
	if err != nil {
		t.Fatal(err)
	}
	acc := &fakeAccounts{
		users: map[string]Credentials{"ada@example.com": {UserID: "alice", Hash: h, Claims: Claims{Role: "user", Email: "ada@example.com"}}},
		set:   map[string][]byte{},
	}
	th, err := memstore.NewThrottle(authstore.Rate{Limit: 3, Window: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	base := []Option{WithCredentials(acc), WithPasswords(newTestBcrypt(t)), WithLoginThrottle(th)}
	return newRTEnv(t, append(base, opts...)...), acc
}

func TestLogin(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e, acc := newLoginEnv(t, password.MinCost)
	client := Client{Address: "192.0.2.1"}

	s, err := e.a.Login(ctx, "ada@example.com", "correct horse", client)
	if err != nil {
		t.Fatalf("Login = %v", err)
	}
	if s.Access.Claims.Subject != "alice" || s.Access.Claims.Role != "user" || s.RefreshToken == "" {
		t.Errorf("session claims %s/%s; want alice/user with a refresh token", s.Access.Claims.Subject, s.Access.Claims.Role)
	}
	for _, tt := range []struct{ login, pw string }{
		{"ada@example.com", "wrong horse"},
		{"nobody@example.com", "correct horse"},
		{"ada@example.com", ""},
	} {
		if _, err := e.a.Login(ctx, tt.login, tt.pw, Client{Address: "192.0.2.9"}); !errors.Is(err, ErrInvalidCredentials) {
			t.Errorf("Login(%q, %q) = %v; want ErrInvalidCredentials", tt.login, tt.pw, err)
		}
	}
	if n := e.countEvents(audit.LoginFailed); n != 3 {
		t.Errorf("login_failed events = %d; want 3", n)
	}
	if n := e.countEvents(audit.LoginSucceeded); n != 1 {
		t.Errorf("login_succeeded events = %d; want 1", n)
	}
	acc.mu.Lock()
	acc.fail = true
	acc.mu.Unlock()
	if _, err := e.a.Login(ctx, "ada@example.com", "correct horse", client); !errors.Is(err, ErrUnavailable) {
		t.Errorf("Login with the store down = %v; want ErrUnavailable", err)
	}
}

func TestLoginThrottle(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	t.Run("per account", func(t *testing.T) {
		e, _ := newLoginEnv(t, password.MinCost)
		for i := 0; i < 3; i++ {
			addr := netip.AddrFrom4([4]byte{192, 0, 2, byte(i)}).String()
			if _, err := e.a.Login(ctx, "ada@example.com", "wrong horse", Client{Address: addr}); !errors.Is(err, ErrInvalidCredentials) {
				t.Fatalf("failure %d = %v", i, err)
			}
		}
		_, err := e.a.Login(ctx, "ada@example.com", "correct horse", Client{Address: "198.51.100.7"})
		if !errors.Is(err, ErrTooManyAttempts) || RetryAfter(err) <= 0 {
			t.Fatalf("Login after 3 failures = %v (RetryAfter %v); want ErrTooManyAttempts with a wait", err, RetryAfter(err))
		}
		if n := e.countEvents(audit.LoginThrottled); n != 1 {
			t.Errorf("login_throttled events = %d; want 1", n)
		}
		e.clock.Advance(RetryAfter(err))
		if _, err := e.a.Login(ctx, "ada@example.com", "correct horse", Client{Address: "198.51.100.7"}); err != nil {
			t.Errorf("Login after the wait = %v; want success", err)
		}
	})
	t.Run("per address", func(t *testing.T) {
		e, _ := newLoginEnv(t, password.MinCost)
		for _, login := range []string{"a@example.com", "b@example.com", "c@example.com"} {
			if _, err := e.a.Login(ctx, login, "wrong horse", Client{Address: "203.0.113.5"}); !errors.Is(err, ErrInvalidCredentials) {
				t.Fatalf("Login(%s) = %v", login, err)
			}
		}
		if _, err := e.a.Login(ctx, "ada@example.com", "correct horse", Client{Address: "203.0.113.5"}); !errors.Is(err, ErrTooManyAttempts) {
			t.Errorf("Login from a throttled address = %v; want ErrTooManyAttempts", err)
		}
		if _, err := e.a.Login(ctx, "ada@example.com", "correct horse", Client{Address: "203.0.113.6"}); err != nil {
			t.Errorf("Login from another address = %v; want success", err)
		}
	})
	t.Run("success resets the account", func(t *testing.T) {
		e, _ := newLoginEnv(t, password.MinCost)
		for i := 0; i < 2; i++ {
			_, _ = e.a.Login(ctx, "ada@example.com", "wrong horse", Client{Address: netip.AddrFrom4([4]byte{10, 0, 0, byte(i)}).String()})
		}
		if _, err := e.a.Login(ctx, "ada@example.com", "correct horse", Client{Address: "10.0.1.1"}); err != nil {
			t.Fatal(err)
		}
		for i := 0; i < 2; i++ {
			_, _ = e.a.Login(ctx, "ada@example.com", "wrong horse", Client{Address: netip.AddrFrom4([4]byte{10, 0, 2, byte(i)}).String()})
		}
		if _, err := e.a.Login(ctx, "ada@example.com", "correct horse", Client{Address: "10.0.1.2"}); err != nil {
			t.Errorf("Login after a reset and 2 failures = %v; want success", err)
		}
	})
}

func TestLoginRehash(t *testing.T) {
	t.Parallel()
	e, acc := newLoginEnv(t, password.MinCost+1) // stored at cost 11, configured 10
	if _, err := e.a.Login(context.Background(), "ada@example.com", "correct horse", Client{}); err != nil {
		t.Fatal(err)
	}
	acc.mu.Lock()
	h := acc.set["alice"]
	acc.mu.Unlock()
	ok, rehash, _ := e.a.cfg.passwords.Verify(context.Background(), h, "correct horse")
	if h == nil || !ok || rehash {
		t.Errorf("rehashed = %v, verifies %v, needs rehash %v; want a new hash of the configured cost", h != nil, ok, rehash)
	}
}

func TestLoginNeedsCredentials(t *testing.T) {
	t.Parallel()
	e := newRTEnv(t)
	if _, err := e.a.Login(context.Background(), "a", "b", Client{}); !errors.Is(err, ErrConfig) {
		t.Errorf("Login without WithCredentials = %v; want ErrConfig", err)
	}
}

func TestClientFrom(t *testing.T) {
	t.Parallel()
	proxies := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("::1/128")}
	tests := []struct {
		name    string
		trusted bool
		remote  string
		xff     []string
		want    string
	}{
		{"peer", false, "192.0.2.1:5555", nil, "192.0.2.1"},
		{"forwarded-for ignored without trusted proxies", false, "192.0.2.1:5555", []string{"203.0.113.9"}, "192.0.2.1"},
		{"untrusted peer's forwarded-for ignored", true, "192.0.2.1:5555", []string{"203.0.113.9"}, "192.0.2.1"},
		{"trusted proxy", true, "10.1.2.3:5555", []string{"203.0.113.9"}, "203.0.113.9"},
		{"spoofed left entries ignored", true, "10.1.2.3:5555", []string{"6.6.6.6, 203.0.113.9"}, "203.0.113.9"},
		{"chain of trusted proxies", true, "10.1.2.3:5555", []string{"203.0.113.9, 10.9.9.9", "10.8.8.8"}, "203.0.113.9"},
		{"garbage is no address, not the proxy's", true, "10.1.2.3:5555", []string{"not-an-ip"}, ""},
		{"unknown is no address", true, "10.1.2.3:5555", []string{"unknown"}, ""},
		{"obfuscated is no address", true, "10.1.2.3:5555", []string{"_hidden, 10.9.9.9"}, ""},
		{"empty entry is no address", true, "10.1.2.3:5555", []string{"203.0.113.9, "}, ""},
		{"garbage left of the client is ignored", true, "10.1.2.3:5555", []string{"unknown, 203.0.113.9"}, "203.0.113.9"},
		{"ipv4 with a port", true, "10.1.2.3:5555", []string{"203.0.113.9:4711"}, "203.0.113.9"},
		{"ipv6 with a port", true, "10.1.2.3:5555", []string{"[2001:db8::7]:443"}, "2001:db8::7"},
		{"ipv6 in brackets", true, "10.1.2.3:5555", []string{"[2001:db8::7]"}, "2001:db8::7"},
		{"ipv4 in brackets is garbage", true, "10.1.2.3:5555", []string{"[203.0.113.9]"}, ""},
		{"ipv6 with a zone", true, "10.1.2.3:5555", []string{"fe80::1%eth0"}, "fe80::1"},
		{"trusted proxy with a port", true, "10.1.2.3:5555", []string{"203.0.113.9, 10.9.9.9:8080"}, "203.0.113.9"},
		{"mapped address with a port", true, "10.1.2.3:5555", []string{"[::ffff:203.0.113.9]:80"}, "203.0.113.9"},
		{"only proxies", true, "10.1.2.3:5555", []string{"10.4.4.4"}, "10.4.4.4"},
		{"ipv6 loopback proxy", true, "[::1]:5555", []string{"2001:db8::7"}, "2001:db8::7"},
		{"ipv4-mapped", false, "[::ffff:192.0.2.1]:5555", nil, "192.0.2.1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			now := mwNow
			var opts []Option
			if tt.trusted {
				opts = append(opts, WithTrustedProxies(proxies...))
			}
			a := newMWAuth(t, &now, opts...)
			r := httptest.NewRequest("POST", "/", nil)
			r.RemoteAddr = tt.remote
			r.Header.Set("User-Agent", "ua/1")
			for _, v := range tt.xff {
				r.Header.Add("X-Forwarded-For", v)
			}
			got := a.ClientFrom(r)
			if got.Address != tt.want || got.UserAgent != "ua/1" {
				t.Errorf("ClientFrom = %+v; want address %s", got, tt.want)
			}
		})
	}
}

// TestLoginThrottleConcurrent: a burst of concurrent guesses at one account
// gets no more password checks than the rate allows.
func TestLoginThrottleConcurrent(t *testing.T) {
	t.Parallel()
	e, _ := newLoginEnv(t, password.MinCost)
	checked, throttled := concurrentGuesses(t, e, 20, func(i int) (string, Client) {
		return "ada@example.com", Client{Address: netip.AddrFrom4([4]byte{198, 51, 100, byte(i)}).String()}
	})
	if checked != 3 || throttled != 17 {
		t.Errorf("20 concurrent guesses at rate 3/1m: %d checked, %d throttled; want 3, 17", checked, throttled)
	}
}

func TestAddressKeyIPv6Prefix(t *testing.T) {
	t.Parallel()
	if a, b := addressKey("2001:db8:1:2::1"), addressKey("2001:db8:1:2:ffff::9"); a != b {
		t.Errorf("addressKey of two addresses in one /64 = %q, %q; want equal", a, b)
	}
	if a, b := addressKey("2001:db8:1:2::1"), addressKey("2001:db8:1:3::1"); a == b {
		t.Errorf("addressKey of two /64s = %q; want different", a)
	}
	if a, b := addressKey("192.0.2.1"), addressKey("192.0.2.2"); a == b {
		t.Errorf("addressKey of two IPv4 addresses = %q; want different", a)
	}
}

// A login name with a control character, invalid UTF-8 or a bidirectional
// override is invalid input, refused before any counting; client metadata
// is stored as valid UTF-8, clipped on a character boundary.
func TestLoginInputText(t *testing.T) {
	t.Parallel()
	e, _ := newLoginEnv(t, password.MinCost)
	ctx := context.Background()
	for _, login := range []string{"ada@example.com\x00", "ada\xff@example.com", "ada@example.com\n", "\u202Eada@example.com"} {
		if _, err := e.a.Login(ctx, login, "correct horse", Client{}); !errors.Is(err, ErrInvalidInput) {
			t.Errorf("Login(%q) = %v; want ErrInvalidInput", login, err)
		}
	}
	ua := "x" + strings.Repeat("é", 200) + "\xff"
	tok, err := e.a.Login(ctx, "ada@example.com", "correct horse", Client{UserAgent: ua, Address: "198.51.100.7\x00"})
	if err != nil {
		t.Fatal(err)
	}
	sessions, err := e.a.Sessions(ctx, tok.Access.Claims.Subject)
	if err != nil || len(sessions) != 1 {
		t.Fatalf("Sessions() = %v, %v; want one", sessions, err)
	}
	s := sessions[0]
	if !utf8.ValidString(s.UserAgent) || len(s.UserAgent) > maxClientField || s.UserAgent != "x"+strings.Repeat("é", 127) || strings.ContainsRune(s.Address, 0) {
		t.Errorf("stored client %q, %q; want valid UTF-8 clipped to %d bytes on a character boundary", s.UserAgent, s.Address, maxClientField)
	}
}

// TestLoginAddressThrottleConcurrent: a burst of concurrent guesses from one
// address, each at another account, gets no more password checks than the
// address's rate allows; and sign-ins that succeed use none of the
// address's credit.
func TestLoginAddressThrottleConcurrent(t *testing.T) {
	t.Parallel()
	e, _ := newLoginEnv(t, password.MinCost)
	checked, throttled := concurrentGuesses(t, e, 60, func(i int) (string, Client) {
		return fmt.Sprintf("user%d@example.com", i), Client{Address: "203.0.113.50"}
	})
	if checked != 3 || throttled != 57 {
		t.Errorf("60 concurrent guesses from one address at rate 3/1m: %d checked, %d throttled; want 3, 57", checked, throttled)
	}
	// Successes from an address leave its credit as it was.
	ok := "203.0.113.51"
	for i := 0; i < 10; i++ {
		if _, err := e.a.Login(context.Background(), "ada@example.com", "correct horse", Client{Address: ok}); err != nil {
			t.Fatalf("sign-in %d from %s = %v; want success", i+1, ok, err)
		}
	}
	for i := 0; i < 3; i++ {
		if _, err := e.a.Login(context.Background(), fmt.Sprintf("x%d@example.com", i), "wrong horse", Client{Address: ok}); !errors.Is(err, ErrInvalidCredentials) {
			t.Errorf("guess %d after ten sign-ins = %v; want ErrInvalidCredentials (credit left)", i+1, err)
		}
	}
}

// Spellings of one login name share the account's budget: by default
// (trim, NFKC, lower case), and in the store's own form when it implements
// LoginNormalizer.
func TestLoginAccountKeyCanonical(t *testing.T) {
	t.Parallel()
	spend := func(t *testing.T, a *Auth, spellings []string) (checked int) {
		t.Helper()
		for i, login := range spellings {
			addr := netip.AddrFrom4([4]byte{198, 51, 100, byte(i + 1)}).String() // a new address each time
			_, err := a.Login(context.Background(), login, "wrong horse", Client{Address: addr})
			switch {
			case errors.Is(err, ErrInvalidCredentials):
				checked++
			case !errors.Is(err, ErrTooManyAttempts):
				t.Fatalf("Login(%q) = %v", login, err)
			}
		}
		return checked
	}
	spellings := []string{"ada@example.com", "ADA@EXAMPLE.COM", " Ada@Example.com ", "ａｄａ@example.com", "ᵃda@example.com", "ada@ｅxample.com"}
	e, _ := newLoginEnv(t, password.MinCost)
	if got := spend(t, e.a, spellings); got != 3 {
		t.Errorf("six spellings of one address at rate 3/1m: %d password checks; want 3", got)
	}
	// A store with rules of its own: the part after "+" does not count.
	plus := plusAccounts{&fakeAccounts{users: map[string]Credentials{}, set: map[string][]byte{}}}
	e2, _ := newLoginEnv(t, password.MinCost, WithCredentials(plus))
	if got := spend(t, e2.a, []string{"ada+1@example.com", "ada+2@example.com", "ada+3@example.com", "ada+4@example.com"}); got != 3 {
		t.Errorf("four spellings under the store's own rules: %d password checks; want 3", got)
	}
}

// plusAccounts finds "name+tag@domain" under "name@domain".
type plusAccounts struct{ *fakeAccounts }

func (p plusAccounts) NormalizeLogin(login string) string {
	name, domain, _ := strings.Cut(strings.ToLower(login), "@")
	name, _, _ = strings.Cut(name, "+")
	return name + "@" + domain
}

// A sign-out everywhere that runs while a login checks the password wins:
// the login's new session is revoked and the login fails, as if it had come
// after; a login that starts once RevokeUser returned, in the same second,
// signs in.
func TestLoginRacesRevokeUser(t *testing.T) {
	t.Parallel()
	var e *rtEnv
	var hook func()
	hooked := &hookAccounts{before: func() {
		if hook != nil {
			hook()
		}
	}}
	e, acc := newLoginEnv(t, password.MinCost, WithCredentials(hooked))
	hooked.fakeAccounts = acc
	ctx := context.Background()
	hook = func() {
		if err := e.a.RevokeUser(ctx, "alice"); err != nil {
			t.Error(err)
		}
	}
	_, err := e.a.Login(ctx, "ada@example.com", "correct horse", Client{})
	if !errors.Is(err, ErrInvalidCredentials) {
		t.Fatalf("Login during RevokeUser = %v; want ErrInvalidCredentials", err)
	}
	if ss, err := e.a.Sessions(ctx, "alice"); err != nil || len(ss) != 0 {
		t.Errorf("Sessions after the raced login = %d, %v; want none live", len(ss), err)
	}
	hook = nil
	e.clock.Advance(time.Microsecond) // RevokeUser returns once its cutoff passed
	tok, err := e.a.Login(ctx, "ada@example.com", "correct horse", Client{})
	if err != nil {
		t.Fatalf("Login after RevokeUser returned = %v; want success", err)
	}
	if _, err := e.a.Verify(ctx, tok.Access.Token); err != nil {
		t.Errorf("Verify(token of the later login) = %v; want nil", err)
	}
}

// hookAccounts runs before ahead of every credentials lookup.
type hookAccounts struct {
	*fakeAccounts
	before func()
}

func (h *hookAccounts) Credentials(ctx context.Context, login string) (Credentials, error) {
	h.before()
	return h.fakeAccounts.Credentials(ctx, login)
}

// concurrentGuesses runs n wrong-password logins at once, the i-th with the
// login name and client of guess(i), and counts those whose password was
// checked and those throttled.
func concurrentGuesses(t *testing.T, e *rtEnv, n int, guess func(i int) (string, Client)) (checked, throttled int) {
	t.Helper()
	var wg sync.WaitGroup
	var mu sync.Mutex
	for i := range n {
		login, client := guess(i)
		wg.Go(func() {
			_, err := e.a.Login(context.Background(), login, "wrong horse", client)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case errors.Is(err, ErrInvalidCredentials):
				checked++
			case errors.Is(err, ErrTooManyAttempts):
				throttled++
			default:
				t.Errorf("Login(%q) = %v", login, err)
			}
		})
	}
	wg.Wait()
	return checked, throttled
}
