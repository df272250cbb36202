package client

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
)

// Transport returns an [http.RoundTripper] that sends each request to the
// server's origin (the scheme, host and port of the base URL) through base
// with "Authorization: Bearer" and the access token of [Client.Token],
// replacing any Authorization header the request had. Requests to any other
// origin go through base untouched, so that neither a redirect nor a
// mistaken URL carries the token elsewhere; a service on another origin
// that accepts the token calls [Client.Token] itself. A nil base is the
// Transport of [WithHTTPClient], else [http.DefaultTransport].
//
// A request answered 401 with the code TOKEN_EXPIRED causes one refresh and
// is sent once more, if its body can be sent again: it has none, or
// GetBody is set (as [http.NewRequest] does for the readers of packages
// bytes and strings). Otherwise the 401 is returned as it is, and the next
// request refreshes first. When the token cannot be had (no session, a
// failed refresh) RoundTrip returns the error, which the [http.Client]
// wraps in a [*url.Error]; [errors.Is] sees through it to [ErrSignedOut].
func (c *Client) Transport(base http.RoundTripper) http.RoundTripper {
	if base == nil {
		base = http.DefaultTransport
		if c.hc != nil {
			base = c.hc.Transport
		}
	}
	return &transport{c: c, base: base}
}

type transport struct {
	c    *Client
	base http.RoundTripper
}

// RoundTrip implements [http.RoundTripper].
func (t *transport) RoundTrip(req *http.Request) (*http.Response, error) {
	if !t.c.origin.of(req.URL) {
		return t.base.RoundTrip(req)
	}
	ctx := req.Context()
	a, err := t.c.accessToken(ctx, "")
	if err != nil {
		if req.Body != nil {
			req.Body.Close()
		}
		return nil, err
	}
	resp, err := t.base.RoundTrip(withBearer(req, a))
	if err != nil || resp.StatusCode != http.StatusUnauthorized || !tokenExpired(resp) {
		return resp, err
	}
	body, ok := rewind(req)
	if !ok {
		t.c.drop(a)
		return resp, nil
	}
	discard(resp)
	next, err := t.c.accessToken(ctx, a.token)
	if err != nil {
		if body != nil {
			body.Close()
		}
		return nil, err
	}
	retry := withBearer(req, next)
	retry.Body = body
	return t.base.RoundTrip(retry)
}

// withBearer returns a shallow copy of req with the Authorization header
// of a; req is not modified.
func withBearer(req *http.Request, a *access) *http.Request {
	r := req.WithContext(req.Context())
	h := make(http.Header, len(req.Header)+1)
	for k, v := range req.Header {
		h[k] = v
	}
	h["Authorization"] = a.header
	r.Header = h
	return r
}

// rewind returns the body to send req again with, and false when it
// cannot be had.
func rewind(req *http.Request) (io.ReadCloser, bool) {
	if req.Body == nil || req.Body == http.NoBody {
		return req.Body, true
	}
	if req.GetBody == nil {
		return nil, false
	}
	body, err := req.GetBody()
	if err != nil {
		return nil, false
	}
	return body, true
}

// tokenExpired reports whether the 401 resp has the code TOKEN_EXPIRED.
// It reads the start of the body and puts it back.
func tokenExpired(resp *http.Response) bool {
	if resp.Body == nil || resp.Body == http.NoBody {
		return false
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	resp.Body = &readBack{Reader: io.MultiReader(bytes.NewReader(b), resp.Body), Closer: resp.Body}
	var e struct {
		Code string `json:"code"`
	}
	return err == nil && json.Unmarshal(b, &e) == nil && e.Code == codeTokenExpired
}

// readBack is a response body whose start was read and put back.
type readBack struct {
	io.Reader
	io.Closer
}

// discard drains a little of resp's body, so that its connection may
// serve again, and closes it.
func discard(resp *http.Response) {
	_, _ = io.CopyN(io.Discard, resp.Body, maxErrorBody)
	resp.Body.Close()
}

// drop forgets a, which the server refused as expired, if the client
// still holds it: the next request refreshes first.
func (c *Client) drop(a *access) {
	c.mu.Lock()
	if c.cur.Load() == a {
		c.cur.Store(nil)
	}
	c.mu.Unlock()
}

// origin is the scheme, host and port that the access token may go to.
type origin struct {
	scheme, host, port string
}

// originOf returns the origin of the absolute URL u; the port is explicit.
func originOf(u *url.URL) origin {
	port := u.Port()
	if port == "" {
		port = defaultPort(u.Scheme)
	}
	return origin{scheme: u.Scheme, host: strings.ToLower(u.Hostname()), port: port}
}

// of reports whether u is a URL of origin o.
func (o origin) of(u *url.URL) bool {
	if u == nil || !strings.EqualFold(u.Scheme, o.scheme) || !strings.EqualFold(u.Hostname(), o.host) {
		return false
	}
	port := u.Port()
	if port == "" {
		return o.port == defaultPort(o.scheme)
	}
	return port == o.port
}

// defaultPort returns the port of a URL of scheme that names none.
func defaultPort(scheme string) string {
	if scheme == "https" {
		return "443"
	}
	return "80"
}
