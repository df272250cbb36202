package account_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jwtkit/auth"
	"github.com/jwtkit/auth/account"
	"github.com/jwtkit/auth/audit"
)

func TestForgotKnownAddress(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for _, email := range []string{adaEmail, "  ADA@Example.COM\t"} {
		t.Run(email, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			if err := e.m.Forgot(ctx, email, auth.Client{Address: "192.0.2.1"}); err != nil {
				t.Fatalf("Forgot(%q) = %v; want nil", email, err)
			}
			msgs := e.mail.sent()
			if len(msgs) != 1 {
				t.Fatalf("Forgot(%q) sent %d messages; want 1", email, len(msgs))
			}
			msg := msgs[0]
			if msg.Purpose != account.PurposeReset {
				t.Errorf("Message.Purpose = %q; want %q", msg.Purpose, account.PurposeReset)
			}
			if msg.To != adaEmail {
				t.Errorf("Message.To = %q; want the account's address %q", msg.To, adaEmail)
			}
			if msg.Token == "" {
				t.Fatal("Message.Token is empty")
			}
			if got := tokenParam(t, msg.Link, resetPage); got != msg.Token {
				t.Errorf("token parameter of Message.Link = %q; want Message.Token %q", got, msg.Token)
			}
			if !strings.Contains(strings.ToLower(msg.Subject+" "+msg.Link), "reset") {
				t.Errorf("Message subject %q and link %q; want one to say reset", msg.Subject, msg.Link)
			}
			if !strings.Contains(msg.Text, msg.Link) {
				t.Errorf("Message.Text = %q; want it to hold the link", msg.Text)
			}
			if n := e.countEvents(audit.ResetRequested); n != 1 {
				t.Errorf("%s events = %d; want 1", audit.ResetRequested, n)
			}
			if id, err := e.m.Reset(ctx, msg.Token, newPassword); id != adaID || err != nil {
				t.Errorf("Reset(the mailed token) = %q, %v; want %q, nil", id, err, adaID)
			}
		})
	}
}

func TestForgotTokensDiffer(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	first, second := e.resetToken(t, adaEmail), e.resetToken(t, adaEmail)
	if first == second {
		t.Errorf("two reset tokens = %q; want different tokens", first)
	}
}

func TestForgotUnknownAddress(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	known := e.m.Forgot(ctx, adaEmail, auth.Client{})
	unknown := e.m.Forgot(ctx, "nobody@example.com", auth.Client{})
	if known != nil || unknown != nil {
		t.Fatalf("Forgot(known), Forgot(unknown) = %v, %v; want nil, nil", known, unknown)
	}
	if msgs := e.mail.sent(); len(msgs) != 1 || msgs[0].To != adaEmail {
		t.Errorf("messages = %+v; want only the known address's", msgs)
	}
	if n := e.countEvents(audit.ResetRequested); n != 1 {
		t.Errorf("%s events = %d; want 1, of the known address", audit.ResetRequested, n)
	}
}

func TestForgotInvalidEmail(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	long := strings.Repeat("a", 255-len("@example.com")) + "@example.com"
	for _, tt := range []struct {
		name, email string
		want        error
	}{
		{"empty", "", auth.ErrInvalidInput},
		{"blank", " \t\n", auth.ErrInvalidInput},
		{"255 bytes", long, auth.ErrInvalidInput},
		{"254 bytes", long[1:], nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			err := e.m.Forgot(ctx, tt.email, auth.Client{})
			if !errors.Is(err, tt.want) {
				t.Errorf("Forgot(%s) = %v; want %v", tt.name, err, tt.want)
			}
		})
	}
	if n := len(e.mail.sent()); n != 0 {
		t.Errorf("messages = %d; want 0", n)
	}
}

func TestForgotThrottle(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	client := func(addr string) auth.Client { return auth.Client{Address: addr} }
	t.Run("per e-mail address", func(t *testing.T) {
		t.Parallel()
		for _, email := range []string{adaEmail, "nobody@example.com"} {
			e := newEnv(t, account.WithThrottle(newThrottle(t, 2)))
			spellings := []string{email, " " + strings.ToUpper(email)}
			for i, s := range spellings {
				if err := e.m.Forgot(ctx, s, client("192.0.2."+string(rune('1'+i)))); err != nil {
					t.Fatalf("Forgot(%q) %d = %v; want nil", s, i+1, err)
				}
			}
			sent := len(e.mail.sent())
			wait := wantThrottled(t, "Forgot("+email+") 3 from a third client", e.m.Forgot(ctx, email, client("192.0.2.3")))
			if got := len(e.mail.sent()); got != sent {
				t.Errorf("a throttled Forgot(%q) sent %d messages; want 0", email, got-sent)
			}
			e.clock.Advance(wait)
			if err := e.m.Forgot(ctx, email, client("192.0.2.4")); err != nil {
				t.Errorf("Forgot(%q) after RetryAfter = %v; want nil", email, err)
			}
		}
	})
	t.Run("per client", func(t *testing.T) {
		t.Parallel()
		for _, tt := range []struct{ first, second, third, other string }{
			{"198.51.100.7", "198.51.100.7", "198.51.100.7", "198.51.100.8"},
			{"2001:db8::1", "2001:db8::2", "2001:db8::ffff", "2001:db8:1::1"}, // one /64
		} {
			e := newEnv(t, account.WithThrottle(newThrottle(t, 2)))
			if err := e.m.Forgot(ctx, "a@example.com", client(tt.first)); err != nil {
				t.Fatal(err)
			}
			if err := e.m.Forgot(ctx, "b@example.com", client(tt.second)); err != nil {
				t.Fatal(err)
			}
			wantThrottled(t, "Forgot(ada) from "+tt.third+" after 2 requests of its /64", e.m.Forgot(ctx, adaEmail, client(tt.third)))
			if n := len(e.mail.sent()); n != 0 {
				t.Errorf("a throttled Forgot(ada) sent %d messages; want 0", n)
			}
			if err := e.m.Forgot(ctx, adaEmail, client(tt.other)); err != nil {
				t.Errorf("Forgot(ada) from another client %s = %v; want nil", tt.other, err)
			}
			if n := len(e.mail.sent()); n != 1 {
				t.Errorf("messages = %d; want 1", n)
			}
		}
	})
	t.Run("no client address", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, account.WithThrottle(newThrottle(t, 2)))
		for _, email := range []string{"a@example.com", "b@example.com", "c@example.com"} {
			if err := e.m.Forgot(ctx, email, auth.Client{}); err != nil {
				t.Errorf("Forgot(%q) without a client address = %v; want nil", email, err)
			}
		}
	})
}

func TestForgotFailures(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	t.Run("one-time store down", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t)
		e.once.down.Store(true)
		wantErr(t, "Forgot with the store down", e.m.Forgot(ctx, adaEmail, auth.Client{}), auth.ErrUnavailable)
		if n := len(e.mail.sent()); n != 0 {
			t.Errorf("messages = %d; want 0", n)
		}
	})
	t.Run("users down", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t)
		e.users.setDown(true)
		err := e.m.Forgot(ctx, adaEmail, auth.Client{})
		wantErr(t, "Forgot with the users down", err, auth.ErrUnavailable)
		if got := auth.ErrorStatus(err); got != http.StatusServiceUnavailable {
			t.Errorf("ErrorStatus(%v) = %d; want 503", err, got)
		}
	})
	t.Run("mailer fails", func(t *testing.T) {
		t.Parallel()
		var logs bytes.Buffer
		e := newEnv(t, account.WithLogger(slog.New(slog.NewTextHandler(&logs, nil))))
		e.mail.failWith(errors.New("relay refused"))
		if err := e.m.Forgot(ctx, adaEmail, auth.Client{}); err != nil {
			t.Errorf("Forgot with the mailer failing = %v; want nil, as for a sent mail", err)
		}
		msg := e.mail.last(t)
		if !strings.Contains(logs.String(), "relay refused") {
			t.Errorf("log = %q; want the mailer's error", logs.String())
		}
		if strings.Contains(logs.String(), msg.Token) {
			t.Errorf("log = %q; want no token in it", logs.String())
		}
	})
}

// badPasswords break password.Check.
var badPasswords = []struct{ name, pw string }{
	{"empty", ""},
	{"7 bytes", "1234567"},
	{"73 bytes", strings.Repeat("p", 73)},
	{"invalid UTF-8", "password\xff\xfe"},
	{"NUL", "pass\x00word"},
}

func TestResetBadPasswordKeepsLink(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	tok := e.resetToken(t, adaEmail)
	for _, tt := range badPasswords {
		t.Run(tt.name, func(t *testing.T) {
			id, err := e.m.Reset(ctx, tok, tt.pw)
			if !errors.Is(err, auth.ErrInvalidInput) || errors.Is(err, account.ErrInvalidResetToken) || id != "" {
				t.Errorf("Reset(token, %s) = %q, %v; want ErrInvalidInput", tt.name, id, err)
			}
		})
	}
	if !e.passwordKept() {
		t.Error("a refused Reset changed the password")
	}
	if id, err := e.m.Reset(ctx, tok, newPassword); id != adaID || err != nil {
		t.Errorf("Reset(token, good password) after refusals = %q, %v; want %q, nil", id, err, adaID)
	}
}

func TestReset(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	before := e.startSession(t)
	tok := e.resetToken(t, adaEmail)

	id, err := e.m.Reset(ctx, tok, newPassword)
	if id != adaID || err != nil {
		t.Fatalf("Reset = %q, %v; want %q, nil", id, err, adaID)
	}
	if !e.passwordIs(t, adaID, newPassword) {
		t.Error("the new password does not verify against the stored hash")
	}
	if e.passwordIs(t, adaID, adaPassword) {
		t.Error("the old password still verifies against the stored hash")
	}
	if n := e.countEvents(audit.PasswordReset); n != 1 {
		t.Errorf("%s events = %d; want 1", audit.PasswordReset, n)
	}
	id, err = e.m.Reset(ctx, tok, "another password")
	wantErr(t, "Reset(used token)", err, account.ErrInvalidResetToken)
	if id != "" {
		t.Errorf("Reset(used token) = %q; want no user", id)
	}

	// Every session and access token of the user is revoked.
	_, err = e.a.Refresh(ctx, before.RefreshToken, auth.Client{})
	wantErr(t, "Refresh(refresh token from before the reset)", err, auth.ErrInvalidRefreshToken)
	_, err = e.a.Verify(ctx, before.Access.Token)
	wantErr(t, "Verify(access token from before the reset)", err, auth.ErrTokenRevoked)

	// A later sign-in works with the new password only.
	e.clock.Advance(time.Second)
	_, err = e.a.Login(ctx, adaEmail, adaPassword, auth.Client{})
	wantErr(t, "Login(old password)", err, auth.ErrInvalidCredentials)
	after, err := e.a.Login(ctx, adaEmail, newPassword, auth.Client{})
	if err != nil {
		t.Fatalf("Login(new password) = %v; want nil", err)
	}
	e.claimsOf(t, after)
}

func TestResetRevokesLoginSessions(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	signedIn, err := e.a.Login(ctx, adaEmail, adaPassword, auth.Client{})
	if err != nil {
		t.Fatalf("Login = %v", err)
	}
	if _, err := e.m.Reset(ctx, e.resetToken(t, adaEmail), newPassword); err != nil {
		t.Fatalf("Reset = %v", err)
	}
	_, err = e.a.Refresh(ctx, signedIn.RefreshToken, auth.Client{})
	wantErr(t, "Refresh(refresh token of a Login before the reset)", err, auth.ErrInvalidRefreshToken)
	_, err = e.a.Verify(ctx, signedIn.Access.Token)
	wantErr(t, "Verify(access token of a Login before the reset)", err, auth.ErrTokenRevoked)
}

func TestResetInvalidTokens(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	flip := func(s string) string {
		b := []byte(s)
		if b[len(b)-1] == 'A' {
			b[len(b)-1] = 'B'
		} else {
			b[len(b)-1] = 'A'
		}
		return string(b)
	}
	for _, tt := range []struct {
		name string
		tok  func(t *testing.T, e *env) string
	}{
		{"empty", func(*testing.T, *env) string { return "" }},
		{"short", func(*testing.T, *env) string { return "abc" }},
		{"one character changed", func(t *testing.T, e *env) string { return flip(e.resetToken(t, adaEmail)) }},
		{"one character more", func(t *testing.T, e *env) string { return e.resetToken(t, adaEmail) + "A" }},
		{"one character less", func(t *testing.T, e *env) string { return e.resetToken(t, adaEmail)[1:] }},
		{"not base64url", func(t *testing.T, e *env) string {
			tok := e.resetToken(t, adaEmail)
			return tok[:len(tok)-1] + "."
		}},
		{"padded", func(t *testing.T, e *env) string {
			tok := e.resetToken(t, adaEmail)
			return tok[:len(tok)-1] + "="
		}},
		{"refresh token", func(t *testing.T, e *env) string { return e.startSession(t).RefreshToken }},
		{"verify token", func(t *testing.T, e *env) string { return e.verifyToken(t) }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, account.WithPasswords(plainHasher{}))
			tok := tt.tok(t, e)
			id, err := e.m.Reset(ctx, tok, newPassword)
			wantErr(t, "Reset("+tt.name+")", err, account.ErrInvalidResetToken)
			if id != "" {
				t.Errorf("Reset(%s) = %q; want no user", tt.name, id)
			}
			if !e.passwordKept() {
				t.Errorf("Reset(%s) changed the password", tt.name)
			}
		})
	}
}

func TestResetWithVerifyToken(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	tok := e.verifyToken(t)
	_, err := e.m.Reset(ctx, tok, newPassword)
	wantErr(t, "Reset(verify token)", err, account.ErrInvalidResetToken)
	if id, err := e.m.VerifyEmail(ctx, tok); id != adaID || err != nil {
		t.Errorf("VerifyEmail(the verify token refused by Reset) = %q, %v; want %q, nil", id, err, adaID)
	}
}

func TestResetExpiry(t *testing.T) {
	t.Parallel()
	const ttl = 10 * time.Minute
	ctx := context.Background()
	for _, tt := range []struct {
		name  string
		after time.Duration
		want  error
	}{
		{"a second before", ttl - time.Second, nil},
		{"at expiry", ttl, account.ErrInvalidResetToken},
		{"after expiry", ttl + time.Hour, account.ErrInvalidResetToken},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, account.WithResetTTL(ttl), account.WithPasswords(plainHasher{}))
			tok := e.resetToken(t, adaEmail)
			e.clock.Advance(tt.after)
			_, err := e.m.Reset(ctx, tok, newPassword)
			if !errors.Is(err, tt.want) {
				t.Errorf("Reset %v after the link = %v; want %v", tt.after, err, tt.want)
			}
		})
	}
}

func TestResetKillsEarlierLinks(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	first := e.resetToken(t, adaEmail)
	second := e.resetToken(t, adaEmail)
	verify := e.verifyToken(t)
	if _, err := e.m.Reset(ctx, second, newPassword); err != nil {
		t.Fatalf("Reset(second link) = %v", err)
	}
	reset := e.users.hash(adaID)
	_, err := e.m.Reset(ctx, first, "yet another password")
	wantErr(t, "Reset(link sent before the reset)", err, account.ErrInvalidResetToken)
	if !bytes.Equal(e.users.hash(adaID), reset) {
		t.Error("Reset(link sent before the reset) changed the password")
	}
	if id, err := e.m.VerifyEmail(ctx, verify); id != adaID || err != nil {
		t.Errorf("VerifyEmail(link sent before the reset) = %q, %v; want %q, nil: a reset kills reset links only", id, err, adaID)
	}
}

func TestResetStoreDown(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	tok := e.resetToken(t, adaEmail)
	e.once.down.Store(true)
	_, err := e.m.Reset(ctx, tok, newPassword)
	wantErr(t, "Reset with the store down", err, auth.ErrUnavailable)
	e.once.down.Store(false)
	if id, err := e.m.Reset(ctx, tok, newPassword); id != adaID || err != nil {
		t.Errorf("Reset once the store is back = %q, %v; want %q, nil", id, err, adaID)
	}
}

func TestResetUsersDownKeepsLink(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	before := e.startSession(t)
	tok := e.resetToken(t, adaEmail)
	e.users.setDown(true)
	_, err := e.m.Reset(ctx, tok, newPassword)
	wantErr(t, "Reset with the users down", err, auth.ErrUnavailable)
	e.users.setDown(false)
	if _, err := e.a.Refresh(ctx, before.RefreshToken, auth.Client{}); err != nil {
		t.Errorf("Refresh after a failed Reset = %v; want nil: nothing was revoked", err)
	}
	if id, err := e.m.Reset(ctx, tok, newPassword); id != adaID || err != nil {
		t.Errorf("Reset(same link) once the users are back = %q, %v; want %q, nil", id, err, adaID)
	}
}

func TestResetDeletedUser(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tok := e.resetToken(t, adaEmail)
	e.users.remove(adaID)
	_, err := e.m.Reset(context.Background(), tok, newPassword)
	wantErr(t, "Reset(link of a deleted user)", err, account.ErrInvalidResetToken)
}

func TestResetConcurrent(t *testing.T) {
	t.Parallel()
	const n = 20
	e := newEnv(t, account.WithPasswords(plainHasher{}))
	tok := e.resetToken(t, adaEmail)
	var (
		wg    sync.WaitGroup
		start = make(chan struct{})
		errs  = make([]error, n)
	)
	for i := range n {
		wg.Go(func() {
			<-start
			_, errs[i] = e.m.Reset(context.Background(), tok, newPassword)
		})
	}
	close(start)
	wg.Wait()
	won := 0
	for i, err := range errs {
		switch {
		case err == nil:
			won++
		case !errors.Is(err, account.ErrInvalidResetToken):
			t.Errorf("Reset %d = %v; want nil or ErrInvalidResetToken", i, err)
		}
	}
	if won != 1 {
		t.Errorf("%d of %d concurrent Resets of one token succeeded; want exactly 1", won, n)
	}
}

func TestChangePassword(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	old := e.startSession(t)
	other := e.startSession(t)
	link := e.resetToken(t, adaEmail)
	client := auth.Client{UserAgent: "test", Address: "192.0.2.1"}

	got, err := e.m.ChangePassword(ctx, e.claimsOf(t, old), adaPassword, newPassword, client)
	if err != nil {
		t.Fatalf("ChangePassword = %v; want nil", err)
	}
	if got.Access.Claims.Subject != adaID || got.Access.Claims.Email != adaEmail || got.RefreshToken == "" {
		t.Errorf("ChangePassword tokens for %q (%q), refresh %q; want %q's with a refresh token", got.Access.Claims.Subject, got.Access.Claims.Email, got.RefreshToken, adaID)
	}
	if got.SessionID == old.SessionID || got.SessionID == other.SessionID {
		t.Errorf("ChangePassword session = %q; want a new one", got.SessionID)
	}
	if !e.passwordIs(t, adaID, newPassword) || e.passwordIs(t, adaID, adaPassword) {
		t.Error("the stored hash is not the new password's")
	}
	if n := e.countEvents(audit.PasswordChanged); n != 1 {
		t.Errorf("%s events = %d; want 1", audit.PasswordChanged, n)
	}

	// The caller stays signed in with the tokens returned.
	e.claimsOf(t, got)
	next, err := e.a.Refresh(ctx, got.RefreshToken, client)
	if err != nil {
		t.Fatalf("Refresh(refresh token of ChangePassword) = %v; want nil", err)
	}
	e.claimsOf(t, next)

	// Every other session, the caller's old one included, ends.
	for name, s := range map[string]*auth.Tokens{"the caller's old session": old, "another session": other} {
		_, err := e.a.Refresh(ctx, s.RefreshToken, auth.Client{})
		wantErr(t, "Refresh(refresh token of "+name+")", err, auth.ErrInvalidRefreshToken)
		_, err = e.a.Verify(ctx, s.Access.Token)
		wantErr(t, "Verify(access token of "+name+")", err, auth.ErrTokenRevoked)
	}
	_, err = e.m.Reset(ctx, link, "a third password")
	wantErr(t, "Reset(link sent before the change)", err, account.ErrInvalidResetToken)
}

func TestChangePasswordWrongCurrent(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	s := e.startSession(t)
	for _, current := range []string{"wrong horse battery", "", adaPassword + " "} {
		_, err := e.m.ChangePassword(ctx, e.claimsOf(t, s), current, newPassword, auth.Client{})
		wantErr(t, "ChangePassword(current "+current+")", err, auth.ErrInvalidCredentials)
	}
	if !e.passwordKept() {
		t.Error("a refused ChangePassword changed the password")
	}
	if _, err := e.a.Refresh(ctx, s.RefreshToken, auth.Client{}); err != nil {
		t.Errorf("Refresh after refused changes = %v; want nil: nothing was revoked", err)
	}
}

func TestChangePasswordThrottle(t *testing.T) {
	t.Parallel()
	e := newEnv(t, account.WithThrottle(newThrottle(t, 2)))
	ctx := context.Background()
	c := e.claimsOf(t, e.startSession(t))
	for i := range 2 {
		_, err := e.m.ChangePassword(ctx, c, "wrong horse battery", newPassword, auth.Client{Address: "192.0.2.1"})
		wantErr(t, "ChangePassword(wrong current) "+string(rune('1'+i)), err, auth.ErrInvalidCredentials)
	}
	_, err := e.m.ChangePassword(ctx, c, adaPassword, newPassword, auth.Client{Address: "198.51.100.1"})
	wait := wantThrottled(t, "ChangePassword(right current) after 2 wrong", err)
	if !e.passwordKept() {
		t.Error("a throttled ChangePassword changed the password")
	}
	e.clock.Advance(wait)
	if _, err := e.m.ChangePassword(ctx, c, adaPassword, newPassword, auth.Client{}); err != nil {
		t.Fatalf("ChangePassword after RetryAfter = %v; want nil", err)
	}
	// A success forgets the failures.
	c = e.claimsOf(t, e.startSession(t))
	_, err = e.m.ChangePassword(ctx, c, "wrong horse battery", adaPassword, auth.Client{})
	wantErr(t, "ChangePassword(wrong current) after a success", err, auth.ErrInvalidCredentials)
}

func TestChangePasswordRefusals(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	s := e.startSession(t)
	c := e.claimsOf(t, s)
	for _, tt := range badPasswords {
		t.Run("new "+tt.name, func(t *testing.T) {
			_, err := e.m.ChangePassword(ctx, c, adaPassword, tt.pw, auth.Client{})
			wantErr(t, "ChangePassword(new "+tt.name+")", err, auth.ErrInvalidInput)
		})
	}
	t.Run("nil claims", func(t *testing.T) {
		tok, err := e.m.ChangePassword(ctx, nil, adaPassword, newPassword, auth.Client{})
		wantErr(t, "ChangePassword(nil claims)", err, auth.ErrNoToken)
		if tok != nil {
			t.Errorf("ChangePassword(nil claims) = %+v; want no tokens", tok)
		}
	})
	t.Run("no subject", func(t *testing.T) {
		_, err := e.m.ChangePassword(ctx, &auth.Claims{}, adaPassword, newPassword, auth.Client{})
		wantErr(t, "ChangePassword(claims without subject)", err, auth.ErrNoToken)
	})
	t.Run("unknown user", func(t *testing.T) {
		_, err := e.m.ChangePassword(ctx, &auth.Claims{Subject: "u-ghost"}, adaPassword, newPassword, auth.Client{})
		wantErr(t, "ChangePassword(unknown user)", err, auth.ErrInvalidCredentials)
	})
	if !e.passwordKept() {
		t.Error("a refused ChangePassword changed the password")
	}
	if _, err := e.a.Refresh(ctx, s.RefreshToken, auth.Client{}); err != nil {
		t.Errorf("Refresh after refused changes = %v; want nil: nothing was revoked", err)
	}
	t.Run("users down", func(t *testing.T) {
		e.users.setDown(true)
		defer e.users.setDown(false)
		_, err := e.m.ChangePassword(ctx, c, adaPassword, newPassword, auth.Client{})
		wantErr(t, "ChangePassword with the users down", err, auth.ErrUnavailable)
	})
}

func TestSendVerification(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	const to = "ada.new@example.com"
	if err := e.m.SendVerification(ctx, adaID, to); err != nil {
		t.Fatalf("SendVerification = %v; want nil", err)
	}
	msgs := e.mail.sent()
	if len(msgs) != 1 {
		t.Fatalf("SendVerification sent %d messages; want 1", len(msgs))
	}
	msg := msgs[0]
	if msg.Purpose != account.PurposeVerify || msg.To != to || msg.Token == "" {
		t.Errorf("Message = %q to %q with token %q; want %q to %q with a token", msg.Purpose, msg.To, msg.Token, account.PurposeVerify, to)
	}
	if !strings.Contains(msg.Link, "verify") {
		t.Errorf("Message.Link = %q; want it to say verify", msg.Link)
	}
	if got := tokenParam(t, msg.Link, verifyPage); got != msg.Token {
		t.Errorf("token parameter of Message.Link = %q; want Message.Token %q", got, msg.Token)
	}
	if !strings.Contains(msg.Text, msg.Link) {
		t.Errorf("Message.Text = %q; want it to hold the link", msg.Text)
	}
}

func TestSendVerificationRefusals(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for _, tt := range []struct {
		name          string
		userID, email string
		setup         func(e *env)
		want          error
	}{
		{"no user", "", adaEmail, nil, auth.ErrInvalidInput},
		{"no email", adaID, "", nil, auth.ErrInvalidInput},
		{"store down", adaID, adaEmail, func(e *env) { e.once.down.Store(true) }, auth.ErrUnavailable},
		{"mailer fails", adaID, adaEmail, func(e *env) { e.mail.failWith(errors.New("relay refused")) }, auth.ErrUnavailable},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			if tt.setup != nil {
				tt.setup(e)
			}
			err := e.m.SendVerification(ctx, tt.userID, tt.email)
			wantErr(t, "SendVerification("+tt.name+")", err, tt.want)
		})
	}
}

func TestVerifyEmail(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	tok := e.verifyToken(t)
	if e.users.verified(adaID) {
		t.Fatal("test setup: ada verified already")
	}
	id, err := e.m.VerifyEmail(ctx, tok)
	if id != adaID || err != nil {
		t.Fatalf("VerifyEmail = %q, %v; want %q, nil", id, err, adaID)
	}
	if !e.users.verified(adaID) {
		t.Error("VerifyEmail did not mark the user verified")
	}
	if n := e.countEvents(audit.EmailVerified); n != 1 {
		t.Errorf("%s events = %d; want 1", audit.EmailVerified, n)
	}
	id, err = e.m.VerifyEmail(ctx, tok)
	wantErr(t, "VerifyEmail(used token)", err, account.ErrInvalidVerifyToken)
	if id != "" {
		t.Errorf("VerifyEmail(used token) = %q; want no user", id)
	}
}

func TestVerifyEmailInvalidTokens(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	t.Run("reset token", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t)
		tok := e.resetToken(t, adaEmail)
		_, err := e.m.VerifyEmail(ctx, tok)
		wantErr(t, "VerifyEmail(reset token)", err, account.ErrInvalidVerifyToken)
		if e.users.verified(adaID) {
			t.Error("VerifyEmail(reset token) marked the user verified")
		}
		if id, err := e.m.Reset(ctx, tok, newPassword); id != adaID || err != nil {
			t.Errorf("Reset(the reset token refused by VerifyEmail) = %q, %v; want %q, nil", id, err, adaID)
		}
	})
	t.Run("deleted user", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t)
		tok := e.verifyToken(t)
		e.users.remove(adaID)
		_, err := e.m.VerifyEmail(ctx, tok)
		wantErr(t, "VerifyEmail(token of a deleted user)", err, account.ErrInvalidVerifyToken)
	})
	t.Run("expired", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, account.WithVerifyTTL(time.Hour))
		tok := e.verifyToken(t)
		e.clock.Advance(time.Hour)
		_, err := e.m.VerifyEmail(ctx, tok)
		wantErr(t, "VerifyEmail(token at its expiry)", err, account.ErrInvalidVerifyToken)
	})
	t.Run("malformed", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t)
		tok := e.verifyToken(t)
		for _, bad := range []string{"", "x", tok + "A", tok[:len(tok)-1] + "~", strings.ToUpper(tok[:1]) + strings.ToLower(tok[1:])} {
			if bad == tok {
				continue
			}
			_, err := e.m.VerifyEmail(ctx, bad)
			wantErr(t, "VerifyEmail("+bad+")", err, account.ErrInvalidVerifyToken)
		}
	})
	t.Run("store down", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t)
		tok := e.verifyToken(t)
		e.once.down.Store(true)
		_, err := e.m.VerifyEmail(ctx, tok)
		wantErr(t, "VerifyEmail with the store down", err, auth.ErrUnavailable)
		e.once.down.Store(false)
		if id, err := e.m.VerifyEmail(ctx, tok); id != adaID || err != nil {
			t.Errorf("VerifyEmail once the store is back = %q, %v; want %q, nil", id, err, adaID)
		}
	})
	t.Run("users down", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t)
		tok := e.verifyToken(t)
		e.users.setDown(true)
		_, err := e.m.VerifyEmail(ctx, tok)
		wantErr(t, "VerifyEmail with the users down", err, auth.ErrUnavailable)
		e.users.setDown(false)
		if id, err := e.m.VerifyEmail(ctx, tok); id != adaID || err != nil {
			t.Errorf("VerifyEmail(same link) once the users are back = %q, %v; want %q, nil", id, err, adaID)
		}
	})
}

func TestLoginRefusesUnverified(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.users.refuseUnverifiedLogins()
	ctx := context.Background()
	_, err := e.a.Login(ctx, adaEmail, adaPassword, auth.Client{})
	wantErr(t, "Login(unverified, right password)", err, account.ErrEmailNotVerified)
	if got, code := auth.ErrorStatus(err), auth.ErrorCode(err); got != http.StatusForbidden || code != "EMAIL_NOT_VERIFIED" {
		t.Errorf("ErrorStatus, ErrorCode(%v) = %d, %s; want 403, EMAIL_NOT_VERIFIED", err, got, code)
	}
	_, err = e.a.Login(ctx, adaEmail, "wrong horse battery", auth.Client{})
	wantErr(t, "Login(unverified, wrong password)", err, auth.ErrInvalidCredentials)
	if errors.Is(err, account.ErrEmailNotVerified) {
		t.Errorf("Login(unverified, wrong password) = %v; want no word of the verification", err)
	}
	if _, err := e.m.VerifyEmail(ctx, e.verifyToken(t)); err != nil {
		t.Fatalf("VerifyEmail = %v", err)
	}
	if _, err := e.a.Login(ctx, adaEmail, adaPassword, auth.Client{}); err != nil {
		t.Errorf("Login(verified, right password) = %v; want nil", err)
	}
}
