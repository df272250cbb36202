package auth

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"time"
)

// Login failures.
var (
	// ErrInvalidCredentials means the login name is unknown or the password
	// wrong; the two are never told apart. HTTP answers 401
	// INVALID_CREDENTIALS.
	ErrInvalidCredentials = errors.New("auth: invalid credentials")
	// ErrTooManyAttempts means login throttling refused the attempt; the
	// error is a [*ThrottledError] that carries the wait. HTTP answers 429
	// TOO_MANY_ATTEMPTS with Retry-After.
	ErrTooManyAttempts = errors.New("auth: too many attempts")
)

// ThrottledError is the error of a throttled login. It matches
// [ErrTooManyAttempts].
type ThrottledError struct {
	// RetryAfter is how long the client must wait.
	RetryAfter time.Duration
}

func (e *ThrottledError) Error() string {
	return fmt.Sprintf("auth: too many attempts, retry after %v", e.RetryAfter.Round(time.Second))
}

// Is reports whether target is [ErrTooManyAttempts].
func (e *ThrottledError) Is(target error) bool { return target == ErrTooManyAttempts }

// Credentials are what [Auth.Login] needs to know of an account.
type Credentials struct {
	// UserID is the account id; it becomes the tokens' subject.
	UserID string
	// Hash is the account's bcrypt password hash.
	Hash []byte
	// Claims are the access token's claims (Role, Email, Scope, Extra);
	// Subject is set from UserID.
	Claims Claims
}

// CredentialStore is the application's account store as [Auth.Login] sees
// it. Its methods must be safe for concurrent use; errors other than
// [ErrUserNotFound] are system failures.
type CredentialStore interface {
	// Credentials returns the account whose login name (an email address,
	// say) is login, or [ErrUserNotFound]. Normalising the name (case,
	// Unicode) is the store's choice.
	Credentials(ctx context.Context, login string) (Credentials, error)
	// SetPasswordHash replaces the hash of userID after a successful login
	// found it made with another bcrypt cost.
	SetPasswordHash(ctx context.Context, userID string, hash []byte) error
}

// throttle keys: a digest of the login name (trimmed and lower-cased, so
// " Ada@example.com" counts against the same account; the throttle store
// never holds the name itself), and the client address.
func accountKey(login string) string {
	sum := sha256.Sum256([]byte(strings.ToLower(strings.TrimSpace(login))))
	return "login:acct:" + hex.EncodeToString(sum[:16])
}

// addressKey keys an IPv4 address whole and an IPv6 address by its /64, the
// block one client usually holds.
func addressKey(addr string) string {
	if ip, err := netip.ParseAddr(addr); err == nil && ip.Is6() && !ip.Is4In6() {
		if p, err := ip.Prefix(64); err == nil {
			return "login:addr:" + p.String()
		}
	}
	return "login:addr:" + addr
}

// Login checks a login name and password and starts a session. In order:
//   - the attempt is throttled per account and per client address
//     ([WithLoginThrottle]): a [*ThrottledError] before any password work;
//   - an unknown login and a wrong password give the same
//     [ErrInvalidCredentials] after the same bcrypt work, and both count as
//     failures;
//   - on success the account's failures are forgotten, a hash of another
//     cost is replaced, and [Auth.StartSession] issues the tokens.
//
// A store failure returns an error matching [ErrUnavailable]. Every outcome
// is an audit event (login_succeeded, login_failed, login_throttled) that
// never holds the password or the login name.
func (a *Auth) Login(ctx context.Context, login, password string, client Client) (*Session, error) {
	if a.cfg.credentials == nil {
		return nil, fmt.Errorf("%w: login needs a credential store (WithCredentials)", ErrConfig)
	}
	client = client.clipped()
	now := a.cfg.now()
	th := a.cfg.loginThrottle
	acct := accountKey(login)
	var addr string
	if client.Address != "" {
		addr = addressKey(client.Address)
	}
	throttled := func(wait time.Duration) error {
		a.emit(ctx, Event{Kind: EventLoginThrottled, Time: now, Client: client})
		return &ThrottledError{RetryAfter: wait}
	}
	// The address is checked; the account's attempt is reserved (checked
	// and recorded in one step), so that a burst of concurrent guesses at
	// one account cannot all pass the check before any failure is recorded.
	// A success forgets it.
	if addr != "" {
		wait, err := th.Check(ctx, addr, now)
		if err != nil {
			return nil, unavailable("login throttle", err)
		}
		if wait > 0 {
			return nil, throttled(wait)
		}
	}
	wait, err := th.Take(ctx, acct, now)
	if err != nil {
		return nil, unavailable("login throttle", err)
	}
	if wait > 0 {
		return nil, throttled(wait)
	}

	creds, err := a.cfg.credentials.Credentials(ctx, login)
	known := err == nil
	if err != nil && !errors.Is(err, ErrUserNotFound) {
		return nil, unavailable("credential store", err)
	}
	var hash []byte
	if known {
		hash = creds.Hash
		if hash == nil {
			hash = []byte{} // an account without a password never matches (see Verify)
		}
	}
	ok, rehash, err := a.cfg.passwords.Verify(ctx, hash, password)
	if err != nil {
		return nil, err
	}
	if !ok || !known {
		if addr != "" {
			if _, err := th.Fail(ctx, addr, now); err != nil {
				return nil, unavailable("login throttle", err)
			}
		}
		ev := Event{Kind: EventLoginFailed, Time: now, Client: client}
		if known {
			ev.UserID = creds.UserID
		}
		a.emit(ctx, ev)
		return nil, ErrInvalidCredentials
	}
	if err := th.Reset(ctx, acct); err != nil {
		return nil, unavailable("login throttle", err)
	}
	if rehash {
		if h, err := a.cfg.passwords.Hash(ctx, password); err == nil {
			if err := a.cfg.credentials.SetPasswordHash(ctx, creds.UserID, h); err != nil {
				a.logWarn(ctx, "auth: password rehash not stored", err)
			}
		}
	}
	c := creds.Claims
	c.Subject = creds.UserID
	s, err := a.StartSession(ctx, c, client)
	if err != nil {
		return nil, err
	}
	a.emit(ctx, Event{Kind: EventLoginSucceeded, Time: now, UserID: creds.UserID, FamilyID: s.FamilyID, Client: client})
	return s, nil
}

// HashPassword checks password with [CheckPassword] and returns its bcrypt
// hash, within the cap on concurrent bcrypt work; for registration and
// password changes.
func (a *Auth) HashPassword(ctx context.Context, password string) ([]byte, error) {
	return a.cfg.passwords.Hash(ctx, password)
}

// Passwords returns the password hasher ([WithPasswords]).
func (a *Auth) Passwords() *Passwords { return a.cfg.passwords }

// ClientFrom describes the client of r: its User-Agent and its address.
// The address is the connection's peer, unless that peer is a trusted proxy
// ([WithTrustedProxies]): then it is the nearest X-Forwarded-For entry that
// is not itself a trusted proxy. X-Forwarded-For is never believed from
// anyone else.
func (a *Auth) ClientFrom(r *http.Request) Client {
	return Client{UserAgent: r.UserAgent(), Address: a.clientAddr(r)}
}

func (a *Auth) clientAddr(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	peer, err := netip.ParseAddr(host)
	if err != nil {
		return host
	}
	peer = peer.Unmap()
	if !a.trustedProxy(peer) {
		return peer.String()
	}
	// Walk X-Forwarded-For from the right (nearest hop) past trusted proxies.
	hops := r.Header.Values("X-Forwarded-For")
	for i := len(hops) - 1; i >= 0; i-- {
		parts := strings.Split(hops[i], ",")
		for j := len(parts) - 1; j >= 0; j-- {
			ip, err := netip.ParseAddr(strings.TrimSpace(parts[j]))
			if err != nil {
				return peer.String() // a malformed chain: stop at what we know
			}
			ip = ip.Unmap()
			if !a.trustedProxy(ip) {
				return ip.String()
			}
			peer = ip
		}
	}
	return peer.String()
}

func (a *Auth) trustedProxy(ip netip.Addr) bool {
	for _, p := range a.cfg.trustedProxies {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}

func (a *Auth) logWarn(ctx context.Context, msg string, err error) {
	if l := a.cfg.logger; l != nil {
		l.WarnContext(ctx, msg, "err", err.Error())
	}
}
