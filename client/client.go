package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// The routes of the contract that the client calls.
const (
	routeRegister  = "/api/auth/register"
	routeLogin     = "/api/auth/login"
	routeRefresh   = "/api/auth/refresh"
	routeLogout    = "/api/auth/logout"
	routeLogoutAll = "/api/auth/logout-all"
)

// maxTokensBody caps the body of an answer that carries tokens.
const maxTokensBody = 1 << 20

// Client signs in to one server and keeps the session's tokens: the
// access token (in memory) and the refresh token (in its [TokenStore], or
// in a cookie jar). Build one with [New]; the zero value is not usable. A
// Client is safe for concurrent use.
type Client struct {
	cfg    config
	base   string // the base URL without a trailing slash
	origin origin // where the access token may go
	hc     *http.Client
	// bearer is hc with the Transport of Transport(nil), for the routes
	// that need the access token.
	bearer *http.Client

	// cur is the access token in use, nil when none. It is read without
	// a lock and written under mu.
	cur atomic.Pointer[access]

	// storeMu orders the writes of the store as the state changes they
	// record; it is taken before mu, and store I/O happens under it alone.
	storeMu sync.Mutex

	mu sync.Mutex // guards the fields below
	// refresh is the session's refresh token (body transfer), "" when the
	// client holds none: it then asks the store.
	refresh string
	// device is the device token of the last sign-in (body transfer),
	// sent back at the next login so that the server's throttle knows
	// this client (a cookie jar keeps the device cookie by itself).
	device string
	// gen counts sign-ins and sign-outs: a refresh that started under
	// another gen is stale, and its result is dropped.
	gen    uint64
	flight *flight // the refresh under way, or nil
	// quietUntil is when a failed refresh ahead of expiry may be tried
	// again.
	quietUntil time.Time
}

// User is the account that a sign-in or a registration answers with.
type User struct {
	ID            string `json:"id"` // a UUID, the access token's sub
	Email         string `json:"email"`
	Name          string `json:"name"`
	Role          string `json:"role"`
	EmailVerified bool   `json:"emailVerified"`
}

// New returns a client of the server at baseURL, an absolute http or https
// URL without user information, query or fragment; its path, if any,
// prefixes the routes (https://example.com/id calls
// https://example.com/id/api/auth/login). It returns an error matching
// auth.ErrConfig for a bad URL or option.
func New(baseURL string, opts ...Option) (*Client, error) {
	u, err := url.Parse(baseURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" ||
		u.User != nil || u.RawQuery != "" || u.ForceQuery || u.Fragment != "" || u.Opaque != "" {
		return nil, configError("New", "base URL %q is not an absolute http or https URL without user, query or fragment", baseURL)
	}
	cfg := config{margin: -1, refreshTimeout: defaultRefreshTimeout, now: time.Now}
	for i, opt := range opts {
		if opt == nil {
			return nil, configError("New", "option %d is nil", i)
		}
		if err := opt(&cfg); err != nil {
			return nil, err
		}
	}
	if cfg.jar != nil && cfg.store != nil {
		return nil, configError("WithTokenStore", "a cookie jar (WithCookieJar) keeps the refresh token: there is nothing to store")
	}
	if cfg.jar == nil && cfg.store == nil {
		cfg.store = &MemoryStore{}
	}
	var hc http.Client
	if cfg.httpClient != nil {
		hc = *cfg.httpClient
	} else {
		hc.Timeout = defaultTimeout
	}
	if hc.Transport == nil {
		hc.Transport = http.DefaultTransport
	}
	hc.Jar = cfg.jar
	hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	c := &Client{
		cfg:    cfg,
		base:   strings.TrimSuffix(u.Scheme+"://"+u.Host+u.EscapedPath(), "/"),
		origin: originOf(u),
		hc:     &hc,
	}
	bearer := hc
	bearer.Transport = c.Transport(nil)
	c.bearer = &bearer
	return c, nil
}

// tokensAnswer is the body of an answer that carries tokens.
type tokensAnswer struct {
	User         User   `json:"user"`
	AccessToken  string `json:"accessToken"`
	ExpiresIn    int64  `json:"expiresIn"`
	RefreshToken string `json:"refreshToken"`
	DeviceToken  string `json:"deviceToken"`
}

// loginBody and registerBody are the bodies of a login and a
// registration; an empty refreshTransfer is the server's default, the
// cookie.
type loginBody struct {
	Email           string `json:"email"`
	Password        string `json:"password"`
	RefreshTransfer string `json:"refreshTransfer,omitempty"`
	DeviceToken     string `json:"deviceToken,omitempty"`
}

type registerBody struct {
	Email           string `json:"email"`
	Password        string `json:"password"`
	Name            string `json:"name"`
	RefreshTransfer string `json:"refreshTransfer,omitempty"`
}

// transfer returns the refreshTransfer of a sign-in.
func (c *Client) transfer() string {
	if c.cfg.jar != nil {
		return "" // the server's default: the cookie
	}
	return "body"
}

// Login signs in with email and password (POST /api/auth/login) and
// starts a new session, which replaces the one the client held: that one
// is forgotten, not logged out (call [Client.Logout] first to end it). A
// refused password is an [Error] matching auth.ErrInvalidCredentials, too
// many attempts one matching auth.ErrTooManyAttempts with its RetryAfter.
// The device token of the client's last sign-in goes along (in the body,
// or as the cookie of a cookie jar), so that failures of other clients
// cannot lock this one out (see auth.Auth.Login).
func (c *Client) Login(ctx context.Context, email, password string) (*User, error) {
	c.mu.Lock()
	device := c.device
	c.mu.Unlock()
	if c.cfg.jar != nil {
		device = ""
	}
	return c.signIn(ctx, "login", routeLogin, http.StatusOK,
		loginBody{Email: email, Password: password, RefreshTransfer: c.transfer(), DeviceToken: device})
}

// Register creates an account (POST /api/auth/register) and starts its
// session as [Client.Login] does. An email in use is an [Error] with the
// code EMAIL_TAKEN; a refused field one matching auth.ErrInvalidInput.
func (c *Client) Register(ctx context.Context, email, password, name string) (*User, error) {
	return c.signIn(ctx, "register", routeRegister, http.StatusCreated,
		registerBody{Email: email, Password: password, Name: name, RefreshTransfer: c.transfer()})
}

func (c *Client) signIn(ctx context.Context, what, route string, want int, in any) (*User, error) {
	var out tokensAnswer
	sentAt, err := c.send(ctx, route, in, "", want, &out)
	if err == nil {
		err = c.check(&out)
	}
	if err != nil {
		return nil, fmt.Errorf("client: %s: %w", what, err)
	}
	c.storeMu.Lock()
	defer c.storeMu.Unlock()
	if c.cfg.store != nil {
		// Saved before it is used: a sign-in that cannot be kept fails.
		if err := c.cfg.store.Save(ctx, out.RefreshToken); err != nil {
			return nil, fmt.Errorf("client: %s: %w", what, err)
		}
	}
	c.mu.Lock()
	c.gen++
	c.refresh = out.RefreshToken
	if out.DeviceToken != "" {
		c.device = out.DeviceToken
	}
	c.quietUntil = time.Time{}
	c.cur.Store(c.newAccess(out.AccessToken, out.ExpiresIn, sentAt))
	c.mu.Unlock()
	return &out.User, nil
}

// check reports an answer that lacks the tokens the client needs.
func (c *Client) check(out *tokensAnswer) error {
	switch {
	case out.AccessToken == "":
		return errors.New("the answer carries no access token")
	case out.ExpiresIn <= 0:
		return errors.New("the answer carries no positive expiresIn")
	case c.cfg.store != nil && out.RefreshToken == "":
		return errors.New("the answer carries no refresh token in the body")
	}
	return nil
}

// Logout ends the session (POST /api/auth/logout with the refresh token,
// and the access token when the client holds one: the server refuses it
// from then on) and forgets the tokens. Logging out without a session does
// nothing. When the server cannot be reached or answers an error, the
// tokens are kept so that Logout may be tried again.
func (c *Client) Logout(ctx context.Context) error {
	c.mu.Lock()
	tok := c.refresh
	a := c.cur.Load()
	c.mu.Unlock()
	var in any
	if c.cfg.store != nil {
		if tok == "" {
			var err error
			if tok, err = c.cfg.store.Load(ctx); err != nil {
				return fmt.Errorf("client: logout: %w", err)
			}
		}
		if tok == "" && a == nil {
			return nil
		}
		if tok != "" {
			in = map[string]string{"refreshToken": tok}
		}
	}
	bearer := ""
	if a != nil {
		bearer = a.token
	}
	if _, err := c.send(ctx, routeLogout, in, bearer, http.StatusOK, nil); err != nil {
		return fmt.Errorf("client: logout: %w", err)
	}
	if err := c.forget(ctx, tok); err != nil {
		return fmt.Errorf("client: logout: %w", err)
	}
	return nil
}

// LogoutAll ends every session of the user (POST /api/auth/logout-all
// with the access token, refreshed first if need be): every refresh token
// dies and every access token issued before is refused. The client
// forgets its tokens. Without a session it returns an error matching
// [ErrSignedOut].
func (c *Client) LogoutAll(ctx context.Context) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.base+routeLogoutAll, nil)
	if err != nil {
		return fmt.Errorf("client: logout-all: %w", err)
	}
	resp, err := c.bearer.Do(req)
	if err != nil {
		return fmt.Errorf("client: logout-all: %w", err)
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("client: logout-all: %w", errorOf(resp, b, c.cfg.now()))
	}
	if err != nil {
		return fmt.Errorf("client: logout-all: %w", err)
	}
	c.mu.Lock()
	tok := c.refresh
	c.mu.Unlock()
	if err := c.forget(ctx, tok); err != nil {
		return fmt.Errorf("client: logout-all: %w", err)
	}
	return nil
}

// forget drops the tokens after the session ended, and clears the store
// if it still holds presented, the refresh token the server was shown: a
// token another process saved meanwhile is its own to lose.
func (c *Client) forget(ctx context.Context, presented string) error {
	c.storeMu.Lock()
	defer c.storeMu.Unlock()
	c.mu.Lock()
	c.gen++
	c.refresh = ""
	c.cur.Store(nil)
	c.mu.Unlock()
	if c.cfg.store == nil || presented == "" {
		return nil
	}
	stored, err := c.cfg.store.Load(ctx)
	if err == nil && stored != presented {
		return nil
	}
	return c.cfg.store.Save(ctx, "")
}

// send POSTs in (as JSON, unless nil) to route with the bearer token, if
// any, and decodes the answer into out, if not nil. It returns when the
// request was sent, by the client's clock, and an [Error] for a status
// other than want.
func (c *Client) send(ctx context.Context, route string, in any, bearer string, want int, out any) (time.Time, error) {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return time.Time{}, err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.base+route, body)
	if err != nil {
		return time.Time{}, err
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	sentAt := c.cfg.now()
	resp, err := c.hc.Do(req)
	if err != nil {
		return sentAt, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxTokensBody))
	if resp.StatusCode != want {
		return sentAt, errorOf(resp, b, c.cfg.now())
	}
	if err != nil {
		return sentAt, err
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			return sentAt, fmt.Errorf("decoding the answer: %w", err)
		}
	}
	return sentAt, nil
}
