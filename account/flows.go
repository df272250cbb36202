package account

import (
	"context"
	"errors"
	"fmt"
	"net/mail"
	"strings"
	"time"

	"github.com/jwtkit/auth"
	"github.com/jwtkit/auth/audit"
	"github.com/jwtkit/auth/internal/text"
	"github.com/jwtkit/auth/internal/throttlekey"
	"github.com/jwtkit/auth/password"
)

// maxEmail bounds an address (RFC 5321's path limit).
const maxEmail = 254

// Forgot sends a password-reset link to the account of email, if there is
// one. Its answer is the same for an unknown address: nil, after about the
// same time (the request waits as long as the token and the mail of a
// known address usually take, at most two seconds). In order:
//   - anything but a bare e-mail address of at most 254 bytes is an error
//     matching auth.ErrInvalidInput;
//   - the request is throttled per client address and per e-mail address
//     ([WithThrottle]; every request counts): an error matching
//     auth.ErrTooManyAttempts, whose wait auth.RetryAfter tells;
//   - for a known account, a reset token lasting [WithResetTTL] is stored
//     and the [Mailer] gets a [Message] with its link; a mailer's error is
//     logged and changes nothing in the answer.
//
// A store failure returns an error matching auth.ErrUnavailable.
func (m *Manager) Forgot(ctx context.Context, email string, client auth.Client) error {
	email = strings.TrimSpace(email)
	if addr, err := mail.ParseAddress(email); err != nil || addr.Name != "" || addr.Address != email || len(email) > maxEmail || text.Check(email) != nil {
		return fmt.Errorf("%w: email must be a bare address of at most %d bytes", auth.ErrInvalidInput, maxEmail)
	}
	if client.Address != "" {
		if err := m.take(ctx, throttlekey.Address("forgot:addr:", client.Address)); err != nil {
			return err
		}
	}
	acct := throttlekey.Login("forgot:acct:", email)
	if n, ok := m.users.(auth.LoginNormalizer); ok {
		acct = throttlekey.Key("forgot:acct:", n.NormalizeLogin(email))
	}
	if err := m.take(ctx, acct); err != nil {
		return err
	}
	creds, err := m.users.Credentials(ctx, email)
	if errors.Is(err, auth.ErrUserNotFound) {
		m.pad(ctx)
		return nil
	}
	if err != nil {
		return unavailable("user store", err)
	}
	start := time.Now()
	tok, err := m.issue(ctx, creds.UserID, PurposeReset, m.cfg.resetTTL)
	if err != nil {
		return err
	}
	to := creds.Claims.Email
	if to == "" {
		to = email
	}
	msg := m.message(to, PurposeReset, tok)
	if err := m.cfg.mailer.Send(ctx, msg); err != nil {
		m.logWarn(ctx, "account: reset mail not sent", err)
	}
	m.learnCost(time.Since(start))
	m.emit(ctx, audit.Event{Kind: audit.ResetRequested, UserID: creds.UserID, UserAgent: client.UserAgent, Address: client.Address})
	return nil
}

// learnCost folds d into the moving average of a known address's cost.
func (m *Manager) learnCost(d time.Duration) {
	old := m.sendCost.Load()
	m.sendCost.Store(old + (int64(d)-old)/8)
}

// pad waits as long as a known address's token and mail usually take.
func (m *Manager) pad(ctx context.Context) {
	d := min(time.Duration(m.sendCost.Load()), m.cfg.maxForgotPadding)
	if d <= 0 {
		return
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}

// message builds the mail of purpose that carries token.
func (m *Manager) message(to, purpose, token string) Message {
	link := m.link(purpose, token)
	msg := Message{To: to, Purpose: purpose, Link: link, Token: token}
	if purpose == PurposeReset {
		msg.Subject = "Password reset"
		msg.Text = "Someone asked to reset the password of your account. To choose a new password, open this link within " +
			m.cfg.resetTTL.String() + ":\n\n" + link + "\n\nIf it was not you, ignore this message: your password stays as it is.\n"
	} else {
		msg.Subject = "Please verify your e-mail address"
		msg.Text = "To verify the e-mail address of your account, open this link within " +
			m.cfg.verifyTTL.String() + ":\n\n" + link + "\n"
	}
	return msg
}

// Reset replaces the password of the user whose reset link carried token,
// and returns the user's id. In order:
//   - newPassword must pass password.Check: an error matching
//     auth.ErrInvalidInput, checked before the token, so that the link
//     stays usable;
//   - the new hash is computed (a full hashing queue is an error matching
//     auth.ErrUnavailable, and leaves the link usable too);
//   - the token is consumed: [ErrInvalidResetToken] for a token that is
//     unknown, used, expired, revoked or of another purpose, and for one
//     whose user is gone;
//   - the password is replaced, the user's other reset links die, and
//     every session and access token of the user is revoked
//     (auth.Auth.RevokeUser): a login that starts after Reset returned
//     succeeds with the new password.
//
// A store failure returns an error matching auth.ErrUnavailable; when it
// comes after the token was consumed, the token is stored again, so that
// the link works when the client retries.
func (m *Manager) Reset(ctx context.Context, token, newPassword string) (string, error) {
	if err := password.Check(newPassword); err != nil {
		return "", fmt.Errorf("%w: %w", auth.ErrInvalidInput, err)
	}
	hash, err := m.cfg.passwords.Hash(ctx, newPassword)
	if err != nil {
		return "", passwordError(err)
	}
	rec, found, err := m.consume(ctx, token, PurposeReset)
	if err != nil {
		return "", err
	}
	if !found {
		return "", ErrInvalidResetToken
	}
	if err := m.replacePassword(ctx, rec.UserID, hash); errors.Is(err, auth.ErrUserNotFound) {
		return "", ErrInvalidResetToken
	} else if err != nil {
		m.restore(ctx, rec)
		return "", err
	}
	m.emit(ctx, audit.Event{Kind: audit.PasswordReset, UserID: rec.UserID})
	return rec.UserID, nil
}

// replacePassword stores hash for userID, kills the user's reset links and
// revokes every session and access token of the user. A user that is gone
// is auth.ErrUserNotFound.
func (m *Manager) replacePassword(ctx context.Context, userID string, hash []byte) error {
	if err := m.users.SetPasswordHash(ctx, userID, hash); errors.Is(err, auth.ErrUserNotFound) {
		return auth.ErrUserNotFound
	} else if err != nil {
		return unavailable("user store", err)
	}
	if _, err := m.cfg.store.RevokeOneTime(ctx, userID, PurposeReset); err != nil {
		return unavailable("revoke reset links", err)
	}
	return m.auth.RevokeUser(ctx, userID)
}

// ChangePassword replaces the password of the signed-in user of claims c
// (the bearer token's), given the current one, and returns new tokens for
// the caller. In order:
//   - newPassword must pass password.Check (auth.ErrInvalidInput);
//   - the attempt is throttled per user ([WithThrottle]) before any
//     password work, as a login is: auth.ErrTooManyAttempts;
//   - a wrong current password is auth.ErrInvalidCredentials, and counts;
//   - the password is replaced, the user's reset links die, every session
//     and access token of the user ends, the caller's included, and a new
//     session starts for client: the caller stays signed in with the
//     tokens returned (the old refresh token is refused from now on), every
//     other device is signed out.
//
// A store failure returns an error matching auth.ErrUnavailable.
func (m *Manager) ChangePassword(ctx context.Context, c *auth.Claims, current, newPassword string, client auth.Client) (*auth.Tokens, error) {
	if c == nil || c.Subject == "" {
		return nil, auth.ErrNoToken
	}
	if err := password.Check(newPassword); err != nil {
		return nil, fmt.Errorf("%w: %w", auth.ErrInvalidInput, err)
	}
	key := throttlekey.Login("change:user:", c.Subject)
	if err := m.take(ctx, key); err != nil {
		return nil, err
	}
	creds, err := m.users.CredentialsByID(ctx, c.Subject)
	known := err == nil
	if err != nil && !errors.Is(err, auth.ErrUserNotFound) {
		return nil, unavailable("user store", err)
	}
	hash := creds.Hash
	if known && hash == nil {
		hash = []byte{} // an account without a password never matches
	}
	ok, _, err := m.cfg.passwords.Verify(ctx, hash, current)
	if err != nil {
		return nil, passwordError(err)
	}
	if !ok || !known {
		return nil, auth.ErrInvalidCredentials
	}
	next, err := m.cfg.passwords.Hash(ctx, newPassword)
	if err != nil {
		return nil, passwordError(err)
	}
	if err := m.replacePassword(ctx, c.Subject, next); errors.Is(err, auth.ErrUserNotFound) {
		return nil, auth.ErrInvalidCredentials // deleted since the check
	} else if err != nil {
		return nil, err
	}
	if err := m.cfg.throttle.Reset(ctx, key); err != nil {
		m.logWarn(ctx, "account: throttle reset", err)
	}
	claims := creds.Claims
	claims.Subject = c.Subject
	t, err := m.auth.StartSession(ctx, claims, client)
	if err != nil {
		return nil, err
	}
	m.emit(ctx, audit.Event{Kind: audit.PasswordChanged, UserID: c.Subject, SessionID: t.SessionID, UserAgent: client.UserAgent, Address: client.Address})
	return t, nil
}

// SendVerification stores a verification token of userID lasting
// [WithVerifyTTL] and sends its link to email; call it after a
// registration, or when the user asks for a new link. A store failure is
// an error matching auth.ErrUnavailable, and so is a mailer's error.
func (m *Manager) SendVerification(ctx context.Context, userID, email string) error {
	if userID == "" || email == "" {
		return fmt.Errorf("%w: user id and email are required", auth.ErrInvalidInput)
	}
	tok, err := m.issue(ctx, userID, PurposeVerify, m.cfg.verifyTTL)
	if err != nil {
		return err
	}
	if err := m.cfg.mailer.Send(ctx, m.message(email, PurposeVerify, tok)); err != nil {
		return unavailable("mailer", err)
	}
	return nil
}

// VerifyEmail consumes the token of a verification link, records that its
// user verified the address, and returns the user's id.
// [ErrInvalidVerifyToken] is the answer to a token that is unknown, used,
// expired or of another purpose, and to one whose user is gone. A store
// failure returns an error matching auth.ErrUnavailable, and leaves the
// link usable.
func (m *Manager) VerifyEmail(ctx context.Context, token string) (string, error) {
	rec, found, err := m.consume(ctx, token, PurposeVerify)
	if err != nil {
		return "", err
	}
	if !found {
		return "", ErrInvalidVerifyToken
	}
	if err := m.users.SetEmailVerified(ctx, rec.UserID); errors.Is(err, auth.ErrUserNotFound) {
		return "", ErrInvalidVerifyToken
	} else if err != nil {
		m.restore(ctx, rec)
		return "", unavailable("user store", err)
	}
	m.emit(ctx, audit.Event{Kind: audit.EmailVerified, UserID: rec.UserID})
	return rec.UserID, nil
}

// passwordError puts an error of package password into its class: a
// password that breaks the rules is auth.ErrInvalidInput, a full hashing
// queue (or any other failure) auth.ErrUnavailable.
func passwordError(err error) error {
	if errors.Is(err, password.ErrInvalid) {
		return fmt.Errorf("%w: %w", auth.ErrInvalidInput, err)
	}
	return unavailable("password hashing", err)
}
