package auth

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jwtkit/auth/audit"
	"github.com/jwtkit/auth/internal/text"
	"github.com/jwtkit/auth/internal/throttlekey"
)

// Credentials are what [Auth.Login] needs to know of an account.
type Credentials struct {
	// UserID is the account id; it becomes the tokens' subject.
	UserID string
	// Hash is the account's password hash, in a format of the password
	// policy ([WithPasswords]); nil or empty for an account without one.
	Hash []byte
	// Claims are the access token's claims (Role, Email, Scope, Extra);
	// Subject is set from UserID.
	Claims Claims
	// Refusal, when not nil, is what [Auth.Login] returns once the password
	// matched, instead of starting a session: an account that may not sign
	// in yet (an unverified e-mail address, say) or any more. Only a client
	// that knew the password ever learns it.
	Refusal error
}

// CredentialStore is the application's account store as [Auth.Login] sees
// it. Its methods must be safe for concurrent use; errors other than
// [ErrUserNotFound] are system failures.
type CredentialStore interface {
	// Credentials returns the account whose login name (an email address,
	// say) is login, or [ErrUserNotFound]. Normalising the name (case,
	// Unicode) is the store's choice.
	Credentials(ctx context.Context, login string) (Credentials, error)
	// SetPasswordHash replaces the hash of userID: after a successful
	// login found it of another format or cost, and for a password reset
	// or change (package account). It returns [ErrUserNotFound] for a user
	// that is gone.
	SetPasswordHash(ctx context.Context, userID string, hash []byte) error
}

// LoginNormalizer is implemented by a [CredentialStore] that finds accounts
// under a canonical form of the login name of its own (provider-specific
// rules, another Unicode normalization): NormalizeLogin returns the form
// under which Credentials looks login up. Login throttles each account
// under that form, so that spellings of one name (case, width, compatibility
// characters) share one budget. Without it the form is the default:
// trimmed, Unicode NFKC, then lower-cased.
type LoginNormalizer interface {
	NormalizeLogin(login string) string
}

// accountKey is the throttle key of the account that login names (see
// [LoginNormalizer]).
func (a *Auth) accountKey(login string) string {
	if n, ok := a.cfg.credentials.(LoginNormalizer); ok {
		return throttlekey.Key("login:acct:", n.NormalizeLogin(login))
	}
	return throttlekey.Login("login:acct:", login)
}

// addressKey is the throttle key of a client address (see
// [throttlekey.Address]).
func addressKey(addr string) string { return throttlekey.Address("login:addr:", addr) }

// deviceKey is the throttle key of a known device.
func deviceKey(id string) string { return "login:dev:" + id }

// Login checks a login name and password and starts a session. In order:
//   - a login name with invalid UTF-8, a control character (NUL included)
//     or a bidirectional override is refused with [ErrInvalidInput], before
//     anything is counted or looked up;
//   - the attempt is throttled ([WithLoginThrottle]) per client address,
//     and either per known device, when client.Device holds a valid device
//     token of this account, or else on the account's one budget for
//     unknown clients (see the device tokens below): an error matching
//     [ErrTooManyAttempts] ([RetryAfter] tells the wait) before any
//     password work;
//   - an unknown login and a wrong password give the same
//     [ErrInvalidCredentials] after the same hashing work, and both count as
//     failures;
//   - a matching password of an account whose [Credentials] carry a
//     Refusal returns that refusal;
//   - on success the budget the attempt used is forgotten, a hash of
//     another format or cost is replaced, and [Auth.StartSession] issues
//     the tokens, with a new device token (Tokens.DeviceToken).
//
// Device tokens follow OWASP's device-cookie scheme, so that nobody can
// lock an account's owner out with wrong passwords: failures presented
// with a valid device token of the account count against that device
// only; all others share the account's budget, and when that is spent the
// owner's known device still signs in. A device token is signed by the
// signing key (typ "device+jwt": it never passes as an access token),
// bound to the login name, and valid for 90 days; [Auth.WriteTokens] sets
// it as the HttpOnly cookie "deviceToken" beside the refresh cookie, or
// puts it in the body as "deviceToken" for [TransferBody], and
// [Auth.ClientFrom] reads the cookie back.
//
// A store failure returns an error matching [ErrUnavailable]. Every outcome
// is an audit event (login_succeeded, login_failed, login_throttled) that
// never holds the password or the login name. Without [WithCredentials] it
// returns an error matching [ErrConfig].
func (a *Auth) Login(ctx context.Context, login, password string, client Client) (*Tokens, error) {
	if o := a.cfg.observer; o != nil {
		ctx, done := o(ctx, "login")
		t, err := a.login(ctx, login, password, client)
		done(err)
		return t, err
	}
	return a.login(ctx, login, password, client)
}

// login is Login without the observer.
func (a *Auth) login(ctx context.Context, login, password string, client Client) (*Tokens, error) {
	if a.cfg.credentials == nil {
		return nil, errNoCredentials
	}
	if text.Check(login) != nil {
		return nil, fmt.Errorf("%w: the login name holds invalid UTF-8, a control character or a bidirectional override", ErrInvalidInput)
	}
	at := loginAttempt{now: a.cfg.now(), client: client.clipped(), account: a.accountKey(login)}
	at.budget = at.account
	if id := a.deviceID(ctx, client.Device, at.account, at.now); id != "" {
		at.budget = deviceKey(id)
	}
	if at.client.Address != "" {
		at.address = addressKey(at.client.Address)
	}
	if err := a.reserveAttempt(ctx, &at); err != nil {
		return nil, err
	}
	creds, ok, err := a.checkPassword(ctx, login, password)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, a.loginFailed(ctx, &at, creds.UserID)
	}
	if creds.Refusal != nil {
		if err := a.refundAddress(ctx, &at); err != nil {
			return nil, unavailable("login throttle", err)
		}
		a.emit(ctx, audit.Event{Kind: audit.LoginFailed, Time: at.now, UserID: creds.UserID, UserAgent: at.client.UserAgent, Address: at.client.Address})
		return nil, creds.Refusal
	}
	return a.loginSucceeded(ctx, &at, &creds, password)
}

// loginAttempt is one call of [Auth.Login]: its time, client and throttle
// keys.
type loginAttempt struct {
	now     time.Time
	client  Client
	account string // the account's key, to which a device token is bound
	budget  string // the throttle key the attempt counts against: the device's or the account's
	address string // the client address's throttle key; empty when unknown
}

// reserveAttempt consults the throttle. The attempt is reserved, checked
// and recorded in one step each, on the client address and on its budget
// (the device's or the account's), so that a burst of concurrent guesses
// cannot all pass the check before any failure is recorded. A success
// forgets the budget's failures and refunds the address's reservation: an
// address is limited in failures, not in sign-ins.
func (a *Auth) reserveAttempt(ctx context.Context, at *loginAttempt) error {
	th := a.cfg.loginThrottle
	if at.address != "" {
		wait, err := th.Take(ctx, at.address, at.now)
		if err != nil {
			return unavailable("login throttle", err)
		}
		if wait > 0 {
			return a.loginThrottled(ctx, at, wait)
		}
	}
	wait, err := th.Take(ctx, at.budget, at.now)
	if err == nil && wait == 0 {
		return nil
	}
	// The attempt goes no further: the address's reservation goes back.
	if rerr := a.refundAddress(ctx, at); rerr != nil && err == nil {
		err = rerr
	}
	if err != nil {
		return unavailable("login throttle", err)
	}
	return a.loginThrottled(ctx, at, wait)
}

// refundAddress gives back the attempt reserved on the client address.
func (a *Auth) refundAddress(ctx context.Context, at *loginAttempt) error {
	if at.address == "" {
		return nil
	}
	return a.cfg.loginThrottle.Refund(ctx, at.address, at.now)
}

func (a *Auth) loginThrottled(ctx context.Context, at *loginAttempt, wait time.Duration) error {
	a.emit(ctx, audit.Event{Kind: audit.LoginThrottled, Time: at.now, UserAgent: at.client.UserAgent, Address: at.client.Address})
	return &throttledError{wait: wait}
}

// checkPassword looks up the account of login and checks password against
// its hash, spending the same hashing work whether the account exists or
// not. ok is true only for an existing account and a matching password;
// creds.UserID is set for an existing account either way.
func (a *Auth) checkPassword(ctx context.Context, login, password string) (creds Credentials, ok bool, err error) {
	creds, err = a.cfg.credentials.Credentials(ctx, login)
	known := err == nil
	if err != nil && !errors.Is(err, ErrUserNotFound) {
		return Credentials{}, false, unavailable("credential store", err)
	}
	var hash []byte
	if known {
		hash = creds.Hash
		if hash == nil {
			hash = []byte{} // an account without a password never matches (see Verify)
		}
	}
	match, rehash, err := a.cfg.passwords.Verify(ctx, hash, password)
	if err != nil {
		return Credentials{}, false, passwordError(err)
	}
	if !known {
		creds = Credentials{}
	}
	if match && known && rehash {
		a.rehash(ctx, creds.UserID, password)
	}
	return creds, match && known, nil
}

// rehash stores a hash of the current policy for userID; a failure is
// logged, never fatal to the login.
func (a *Auth) rehash(ctx context.Context, userID, password string) {
	h, err := a.cfg.passwords.Hash(ctx, password)
	if err == nil {
		err = a.cfg.credentials.SetPasswordHash(ctx, userID, h)
	}
	if err != nil {
		a.logWarn(ctx, "auth: password rehash not stored", err)
	}
}

// loginFailed returns [ErrInvalidCredentials]; the failure was recorded
// when the attempt was reserved.
func (a *Auth) loginFailed(ctx context.Context, at *loginAttempt, userID string) error {
	a.emit(ctx, audit.Event{Kind: audit.LoginFailed, Time: at.now, UserID: userID, UserAgent: at.client.UserAgent, Address: at.client.Address})
	return ErrInvalidCredentials
}

// loginSucceeded forgets the failures of the attempt's budget, starts the
// session and hands out a new device token.
func (a *Auth) loginSucceeded(ctx context.Context, at *loginAttempt, creds *Credentials, password string) (*Tokens, error) {
	if err := a.cfg.loginThrottle.Reset(ctx, at.budget); err != nil {
		return nil, unavailable("login throttle", err)
	}
	if err := a.refundAddress(ctx, at); err != nil {
		return nil, unavailable("login throttle", err)
	}
	device, deviceExp, err := a.issueDevice(at.account, at.now)
	if err != nil {
		return nil, err
	}
	c := creds.Claims
	c.Subject = creds.UserID
	t, err := a.StartSession(ctx, c, at.client)
	if err != nil {
		return nil, err
	}
	if err := a.revokedSince(ctx, creds.UserID, t.SessionID, at.now); err != nil {
		return nil, err
	}
	t.DeviceToken, t.DeviceExpiresAt = device, deviceExp
	a.emit(ctx, audit.Event{Kind: audit.LoginSucceeded, Time: at.now, UserID: creds.UserID, SessionID: t.SessionID, UserAgent: at.client.UserAgent, Address: at.client.Address})
	return t, nil
}

// revokedSince guards a login against a sign-out everywhere (or a password
// reset) that ran while it checked the password: when the user's sessions
// were revoked after start, the session just created is revoked too and
// the login fails with [ErrInvalidCredentials], as if it had come after. A
// login that started once [Auth.RevokeUser] had returned is not affected,
// even within the same second: the cutoff has microseconds.
func (a *Auth) revokedSince(ctx context.Context, userID, sessionID string, start time.Time) error {
	rc := a.cfg.revocation
	if rc == nil {
		return nil
	}
	revoked, err := rc.Revoked(ctx, userID, "", "", start)
	if err != nil {
		return unavailable("revocation check", err)
	}
	if !revoked {
		return nil
	}
	if err := a.RevokeSession(ctx, userID, sessionID); err != nil {
		return err
	}
	return ErrInvalidCredentials
}

// HashPassword checks password with [password.Check] and returns its
// hash by the configured policy ([WithPasswords]), within the cap on
// concurrent hashing; for registration and password changes. A password
// that breaks the rules gives an error matching [ErrInvalidInput] (and
// [password.ErrInvalid]); a full queue one matching [ErrUnavailable].
func (a *Auth) HashPassword(ctx context.Context, password string) ([]byte, error) {
	h, err := a.cfg.passwords.Hash(ctx, password)
	if err != nil {
		return nil, passwordError(err)
	}
	return h, nil
}

func (a *Auth) logWarn(ctx context.Context, msg string, err error) {
	if l := a.cfg.logger; l != nil {
		l.WarnContext(ctx, msg, "err", err.Error())
	}
}
