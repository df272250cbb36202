package client

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Token is an access token and the instant the client takes it to expire.
type Token struct {
	// AccessToken is the JWT, sent as "Authorization: Bearer " +
	// AccessToken.
	AccessToken string
	// Expiry is when the token expires by the client's clock
	// ([WithClock]): its lifetime ("expiresIn") after the request that
	// obtained it was sent.
	Expiry time.Time
}

// access is an access token as the client keeps it. It is never modified
// once built, so requests share it without a lock.
type access struct {
	token string
	// header is the value of the Authorization header, shared by every
	// request that carries the token.
	header  []string
	expiry  time.Time
	renewAt time.Time // expiry less the refresh margin
}

// maxExpiresIn caps the expiresIn the client believes, in seconds, so
// that it fits a time.Duration; the server's own cap is a day.
const maxExpiresIn = 1 << 31

// minRetryAhead is the least wait before a refresh ahead of expiry that
// failed is tried again; a Retry-After asks for more.
const minRetryAhead = time.Second

// newAccess returns the access token tok of lifetime expiresIn seconds,
// obtained by a request sent at sentAt.
func (c *Client) newAccess(tok string, expiresIn int64, sentAt time.Time) *access {
	life := time.Duration(min(expiresIn, maxExpiresIn)) * time.Second
	margin := c.cfg.margin
	if margin < 0 {
		margin = min(life/10, maxDefaultMargin)
	}
	margin = min(margin, life/2)
	expiry := sentAt.Add(life)
	return &access{token: tok, header: []string{"Bearer " + tok}, expiry: expiry, renewAt: expiry.Add(-margin)}
}

// flight is one refresh, which any number of callers wait for.
type flight struct {
	done chan struct{} // closed once the fields below are set
	acc  *access
	err  error
	// stale means a sign-in or a sign-out happened while the refresh ran:
	// its result was dropped, and the callers look again.
	stale bool

	joined int // callers that waited for it; guarded by Client.mu
}

// Token returns the access token to send: the one the client holds while
// it is fresh, else one from a refresh. Within the refresh margin
// ([WithRefreshMargin]) it returns the token it holds and refreshes in the
// background; once the token has expired it waits for the refresh, which
// it shares with every other caller, until ctx ends. It has the shape of
// the Token method of golang.org/x/oauth2's TokenSource, with a context.
// Without a session the error matches [ErrSignedOut].
func (c *Client) Token(ctx context.Context) (*Token, error) {
	a, err := c.accessToken(ctx, "")
	if err != nil {
		return nil, err
	}
	return &Token{AccessToken: a.token, Expiry: a.expiry}, nil
}

// Refresh rotates the refresh token now, whatever the access token's
// expiry, and returns the new access token. A refresh already under way is
// joined, not doubled. A refused refresh token is an error matching
// [ErrSignedOut], and the client forgets its tokens; any other failure
// leaves them as they were.
func (c *Client) Refresh(ctx context.Context) (*Token, error) {
	for {
		c.mu.Lock()
		f := c.flight
		if f == nil {
			f = c.startLocked(ctx, false)
		}
		f.joined++
		c.mu.Unlock()
		if a, done, err := c.wait(ctx, f); done {
			if err != nil {
				return nil, err
			}
			return &Token{AccessToken: a.token, Expiry: a.expiry}, nil
		}
	}
}

// accessToken returns the access token to send. stale, when not "", is a
// token the server refused as expired: it is never returned again.
func (c *Client) accessToken(ctx context.Context, stale string) (*access, error) {
	if a := c.cur.Load(); a != nil && a.token != stale && c.cfg.now().Before(a.renewAt) {
		return a, nil
	}
	for {
		now := c.cfg.now()
		c.mu.Lock()
		a := c.cur.Load()
		if a != nil && a.token == stale {
			c.cur.Store(nil)
			a = nil
		}
		if a != nil && now.Before(a.expiry) {
			if !now.Before(a.renewAt) && c.flight == nil && !now.Before(c.quietUntil) {
				c.startLocked(ctx, true)
			}
			c.mu.Unlock()
			return a, nil
		}
		f := c.flight
		if f == nil {
			f = c.startLocked(ctx, false)
		}
		f.joined++
		c.mu.Unlock()
		if a, done, err := c.wait(ctx, f); done {
			return a, err
		}
	}
}

// wait waits for f or the end of ctx. done is false when f was stale: the
// caller looks again.
func (c *Client) wait(ctx context.Context, f *flight) (a *access, done bool, err error) {
	select {
	case <-f.done:
		return f.acc, !f.stale, f.err
	case <-ctx.Done():
		return nil, true, fmt.Errorf("client: waiting for a refresh: %w", ctx.Err())
	}
}

// startLocked starts a refresh and returns it; ahead means the access
// token is still valid and nobody waits. The refresh runs on a context
// detached from ctx (its values stay), bounded by the refresh timeout.
func (c *Client) startLocked(ctx context.Context, ahead bool) *flight {
	f := &flight{done: make(chan struct{})}
	c.flight = f
	go c.run(context.WithoutCancel(ctx), f, c.gen, c.refresh, ahead)
	return f
}

// run is the goroutine of the refresh f, started under gen with the
// refresh token tok ("" to load it from the store).
func (c *Client) run(ctx context.Context, f *flight, gen uint64, tok string, ahead bool) {
	ctx, cancel := context.WithTimeout(ctx, c.cfg.refreshTimeout)
	defer cancel()
	a, presented, next, err := c.rotate(ctx, tok)

	c.storeMu.Lock()
	defer c.storeMu.Unlock()
	c.mu.Lock()
	stale := c.gen != gen
	out := errors.Is(err, ErrSignedOut)
	switch {
	case stale:
	case err == nil:
		c.refresh = next
		c.quietUntil = time.Time{}
		c.cur.Store(a)
	case out:
		c.refresh = ""
		c.cur.Store(nil)
	case ahead:
		c.quietUntil = c.cfg.now().Add(retryAhead(err))
	}
	c.mu.Unlock()

	// The store is written before the refresh ends, so that a caller that
	// finds no refresh token in memory loads the one saved here.
	if !stale && c.cfg.store != nil {
		switch {
		case err == nil:
			if serr := c.cfg.store.Save(ctx, next); serr != nil {
				a, err = nil, fmt.Errorf("client: refresh: %w", serr)
			}
		case out && presented != "":
			if stored, lerr := c.cfg.store.Load(ctx); lerr != nil || stored == presented {
				if serr := c.cfg.store.Save(ctx, ""); serr != nil {
					err = errors.Join(err, serr)
				}
			}
		}
	}

	c.mu.Lock()
	c.flight = nil
	f.acc, f.err, f.stale = a, err, stale
	close(f.done)
	c.mu.Unlock()
}

// retryAhead returns the wait before a refresh ahead of expiry that failed
// with err is tried again.
func retryAhead(err error) time.Duration {
	var e *Error
	if errors.As(err, &e) && e.RetryAfter > minRetryAhead {
		return e.RetryAfter
	}
	return minRetryAhead
}

// rotate presents the refresh token tok, or the stored one when tok is ""
// (body transfer), or the cookie (cookie transfer). It returns the new
// access token, the refresh token presented and the one that replaces it.
func (c *Client) rotate(ctx context.Context, tok string) (a *access, presented, next string, err error) {
	var in any
	if c.cfg.store != nil {
		if tok == "" {
			if tok, err = c.cfg.store.Load(ctx); err != nil {
				return nil, "", "", fmt.Errorf("client: refresh: %w", err)
			}
			if tok == "" {
				return nil, "", "", fmt.Errorf("%w: no session", ErrSignedOut)
			}
		}
		in = map[string]string{"refreshToken": tok}
	}
	var out tokensAnswer
	sentAt, err := c.send(ctx, routeRefresh, in, "", 200, &out)
	var e *Error
	if errors.As(err, &e) && e.StatusCode == 401 && e.Code == codeInvalidRefreshToken {
		return nil, tok, "", signedOut(e)
	}
	if err == nil {
		err = c.check(&out)
	}
	if err != nil {
		return nil, tok, "", fmt.Errorf("client: refresh: %w", err)
	}
	return c.newAccess(out.AccessToken, out.ExpiresIn, sentAt), tok, out.RefreshToken, nil
}
