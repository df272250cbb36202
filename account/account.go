package account

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/jwtkit/auth"
	"github.com/jwtkit/auth/audit"
	"github.com/jwtkit/auth/authstore"
	"github.com/jwtkit/auth/memstore"
)

// Users is the application's account store as a [Manager] sees it. Its
// methods must be safe for concurrent use; errors other than
// auth.ErrUserNotFound are system failures (the flows answer 503).
type Users interface {
	// Credentials (of auth.CredentialStore) finds the account of an
	// e-mail address for [Manager.Forgot]; SetPasswordHash stores the hash
	// of a reset or changed password.
	auth.CredentialStore
	// CredentialsByID returns the account userID, or auth.ErrUserNotFound.
	CredentialsByID(ctx context.Context, userID string) (auth.Credentials, error)
	// SetEmailVerified records that userID has confirmed its e-mail
	// address, or returns auth.ErrUserNotFound.
	SetEmailVerified(ctx context.Context, userID string) error
}

// Manager runs the account flows of one auth.Auth: password reset,
// password change and e-mail verification. Build it with [New]; it is
// immutable and safe for concurrent use.
type Manager struct {
	auth  *auth.Auth
	users Users
	cfg   config
	// sendCost is a moving average, in nanoseconds, of what a reset request
	// for a known address spends on its token and its mail; an unknown
	// address waits as long (see [Manager.Forgot]).
	sendCost atomic.Int64
}

// maxForgotPadding bounds the wait of a reset request for an unknown
// address.
const maxForgotPadding = 2 * time.Second

var (
	errNotALink    = errors.New("not an absolute http or https URL without user info or fragment")
	errTokenInLink = errors.New("already has a token parameter")
)

// New returns the Manager of a's accounts in users. [WithMailer],
// [WithPasswords] and [WithLinks] are required; every other option has a
// default. It returns an error matching auth.ErrConfig for a missing or
// invalid option.
func New(a *auth.Auth, users Users, opts ...Option) (*Manager, error) {
	if a == nil {
		return nil, configError("New", "nil *auth.Auth")
	}
	if users == nil {
		return nil, configError("New", "nil Users")
	}
	c := config{resetTTL: DefaultResetTTL, verifyTTL: DefaultVerifyTTL, now: time.Now, random: rand.Reader, maxForgotPadding: maxForgotPadding}
	for _, opt := range opts {
		if opt == nil {
			return nil, configError("New", "nil option")
		}
		if err := opt(&c); err != nil {
			return nil, err
		}
	}
	switch {
	case c.mailer == nil:
		return nil, configError("WithMailer", "a mailer is required")
	case c.passwords == nil:
		return nil, configError("WithPasswords", "the password policy is required")
	case !c.link:
		return nil, configError("WithLinks", "the reset and verification pages are required")
	}
	if c.store == nil {
		s, err := memstore.New()
		if err != nil {
			return nil, err
		}
		c.store = s
	}
	if !c.throttleSet {
		th, err := memstore.NewThrottle(authstore.Rate{Limit: 5, Window: 15 * time.Minute})
		if err != nil {
			return nil, err
		}
		c.throttle = th
	}
	return &Manager{auth: a, users: users, cfg: c}, nil
}

// tokenBytes is the randomness of a token: 256 bits.
const tokenBytes = 32

// tokenLen is the length of a token: the routing key and 43 characters of
// base64url.
var tokenLen = authstore.RouteLen + base64.RawURLEncoding.EncodedLen(tokenBytes)

// issue makes a token of purpose for userID, lasting ttl, and stores its
// record.
func (m *Manager) issue(ctx context.Context, userID, purpose string, ttl time.Duration) (string, error) {
	var b [tokenBytes]byte
	if _, err := m.cfg.random.Read(b[:]); err != nil {
		return "", fmt.Errorf("account: token: %w", err)
	}
	tok := authstore.RouteFor(userID) + base64.RawURLEncoding.EncodeToString(b[:])
	rec := authstore.OneTimeToken{Hash: authstore.HashToken(tok), UserID: userID, Purpose: purpose, ExpiresAt: m.cfg.now().Add(ttl)}
	if err := m.cfg.store.SaveOneTime(ctx, rec); err != nil {
		return "", unavailable("save token", err)
	}
	return tok, nil
}

// consume uses token for purpose once and returns its record; found is
// false for a malformed, unknown, used, expired or other-purpose token.
func (m *Manager) consume(ctx context.Context, token, purpose string) (rec authstore.OneTimeToken, found bool, err error) {
	if len(token) != tokenLen {
		return rec, false, nil
	}
	for i := 0; i < len(token); i++ {
		if c := token[i]; !('A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			return rec, false, nil
		}
	}
	rec, found, err = m.cfg.store.ConsumeOneTime(ctx, token[:authstore.RouteLen], authstore.HashToken(token), purpose, m.cfg.now())
	if err != nil {
		return rec, false, unavailable("consume token", err)
	}
	return rec, found, nil
}

// restore stores again the record of a token that was consumed by a flow
// that then failed, so that the link works when the client retries:
// nothing is half-done. It runs even when ctx is cancelled; a failure to
// restore is logged, and the link is spent then.
func (m *Manager) restore(ctx context.Context, rec authstore.OneTimeToken) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if err := m.cfg.store.SaveOneTime(ctx, rec); err != nil {
		m.logWarn(ctx, "account: consumed link not restored after a failure", err)
	}
}

// link returns the page of purpose with token as its token parameter.
func (m *Manager) link(purpose, token string) string {
	u := *m.cfg.resetURL
	if purpose == PurposeVerify {
		u = *m.cfg.verifyURL
	}
	q := u.Query()
	q.Set("token", token)
	u.RawQuery = q.Encode()
	return u.String()
}

// take reserves an attempt on the throttle key key.
func (m *Manager) take(ctx context.Context, key string) error {
	wait, err := m.cfg.throttle.Take(ctx, key, m.cfg.now())
	if err != nil {
		return unavailable("throttle", err)
	}
	if wait > 0 {
		return &throttledError{wait: wait}
	}
	return nil
}

func (m *Manager) emit(ctx context.Context, ev audit.Event) {
	if ev.Time.IsZero() {
		ev.Time = m.cfg.now()
	}
	if m.cfg.events != nil {
		m.cfg.events(ctx, ev)
	}
	audit.Log(ctx, m.cfg.logger, ev)
}

func (m *Manager) logWarn(ctx context.Context, msg string, err error) {
	if l := m.cfg.logger; l != nil {
		l.WarnContext(ctx, msg, slog.String("err", err.Error()))
	}
}
