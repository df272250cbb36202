package main

import (
	"encoding/json"
	"log/slog"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/jwtkit/auth/internal/testenv"
	"github.com/jwtkit/auth/password"
)

// The account flows (reset, change, verification) send their links by
// mail; the tests read them from the development mailbox,
// GET /api/dev/mailbox?to=EMAIL, of a server started with
// AUTH_DEV_MAILBOX=true, and capture that server's log output to check that
// no link or token ever reaches it.

// mail is one message of the development mailbox.
type mail struct{ to, subject, link, token string }

// is reports whether m is a message of kind ("reset" or "verify"): its
// subject or its link says so.
func (m mail) is(kind string) bool {
	return strings.Contains(strings.ToLower(m.subject), kind) || strings.Contains(strings.ToLower(m.link), kind)
}

// mailServer is a test server with the development mailbox on and its log
// output captured.
type mailServer struct {
	*testServer
	logs *testenv.SyncBuffer
	box  *client // reads the mailbox

	mu   sync.Mutex      // guards seen
	seen map[string]mail // every message the tests read, by token, for the log check
}

// newMailServer starts the server configured by env over AUTH_DEV_MAILBOX=true
// and the test defaults of newTestServer (AUTH_COOKIE_SECURE=false, the
// lowest bcrypt cost), logging to a buffer at every level. When the test
// ends it checks that the log holds none of the links and tokens the test
// read from the mailbox, and no test password.
func newMailServer(tb testing.TB, env map[string]string) *mailServer {
	tb.Helper()
	full := map[string]string{"AUTH_COOKIE_SECURE": "false", "AUTH_DEV_MAILBOX": "true"}
	maps.Copy(full, env)
	logs := &testenv.SyncBuffer{}
	logger := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	cfg, err := loadConfig(envFrom(full), logger)
	if err != nil {
		tb.Fatalf("loadConfig(%v) = %v; want nil", full, err)
	}
	cfg.BcryptCost = password.MinCost
	s, err := newServer(cfg, logger)
	if err != nil {
		tb.Fatalf("newServer(%v) = %v; want nil", full, err)
	}
	hs := httptest.NewServer(s)
	tb.Cleanup(hs.Close)
	ms := &mailServer{testServer: &testServer{Server: hs, cfg: cfg}, logs: logs, seen: map[string]mail{}}
	ms.box = ms.client(tb)
	tb.Cleanup(func() { ms.checkLogs(tb) })
	return ms
}

// checkLogs reports an error if the log holds a link or token of a message
// read so far, or a password of the tests.
func (ms *mailServer) checkLogs(tb testing.TB) {
	tb.Helper()
	logs := ms.logs.String()
	ms.mu.Lock()
	seen := slices.SortedFunc(maps.Values(ms.seen), func(a, b mail) int { return strings.Compare(a.token, b.token) })
	ms.mu.Unlock()
	var leaks []string
	for _, m := range seen {
		if strings.Contains(logs, m.token) {
			leaks = append(leaks, "the token of the message "+strconv.Quote(m.subject)+" to "+m.to)
		}
		if strings.Contains(logs, m.link) {
			leaks = append(leaks, "the link of the message "+strconv.Quote(m.subject)+" to "+m.to)
		}
	}
	for _, pw := range []string{testPassword, newPassword, otherPassword} {
		if strings.Contains(logs, pw) {
			leaks = append(leaks, "the password "+strconv.Quote(pw))
		}
	}
	if len(leaks) > 0 {
		tb.Errorf("the server log holds %s; want none of them:\n%s", strings.Join(leaks, ", "), logs)
	}
}

// mailbox returns the messages to the address to, newest first, checking
// the answer: 200, no-store, a JSON array of objects with exactly to,
// subject, link and token, all strings.
func (ms *mailServer) mailbox(tb testing.TB, to string) []mail {
	tb.Helper()
	r := ms.box.in(tb).get("/api/dev/mailbox?to=" + url.QueryEscape(to))
	if r.status != http.StatusOK {
		tb.Fatalf("%v; want 200", r)
	}
	wantNoStore(tb, r) // the messages carry tokens
	if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		tb.Errorf("%s %s Content-Type = %q; want application/json", r.method, r.path, ct)
	}
	var raw []map[string]any
	if err := json.Unmarshal(r.body, &raw); err != nil || raw == nil {
		tb.Fatalf("%v; want a JSON array: %v", r, err)
	}
	out := make([]mail, 0, len(raw))
	for _, m := range raw {
		wantKeys(tb, "mailbox message", m, "to", "subject", "link", "token")
		var s [4]string
		for i, k := range []string{"to", "subject", "link", "token"} {
			v, ok := m[k].(string)
			if !ok || v == "" {
				tb.Errorf("mailbox message %s = %v; want a non-empty string", k, m[k])
			}
			s[i] = v
		}
		out = append(out, mail{to: s[0], subject: s[1], link: s[2], token: s[3]})
	}
	ms.mu.Lock()
	for _, m := range out {
		ms.seen[m.token] = m
	}
	ms.mu.Unlock()
	return out
}

// newest returns the newest message to the address to, which must be of
// kind ("reset" or "verify").
func (ms *mailServer) newest(tb testing.TB, to, kind string) mail {
	tb.Helper()
	list := ms.mailbox(tb, to)
	if len(list) == 0 {
		tb.Fatalf("mailbox of %s is empty; want a %s message", to, kind)
	}
	if !list[0].is(kind) {
		tb.Fatalf("newest message to %s = %+v; want a %s message", to, list[0], kind)
	}
	return list[0]
}

// forgot asks, as c, for a reset link for email and returns its message:
// 202, and exactly one new message in the mailbox, a reset one.
func (ms *mailServer) forgot(tb testing.TB, c *client, email string) mail {
	tb.Helper()
	before := len(ms.mailbox(tb, email))
	if r := c.post("/api/auth/password/forgot", jsonObject("email", email)); r.status != http.StatusAccepted {
		tb.Fatalf("%v; want 202", r)
	}
	list := ms.mailbox(tb, email)
	if len(list) != before+1 {
		tb.Fatalf("mailbox of %s holds %d messages after forgot; want %d", email, len(list), before+1)
	}
	if !list[0].is("reset") {
		tb.Fatalf("newest message to %s = %+v; want a reset message", email, list[0])
	}
	return list[0]
}

// jsonObject returns the JSON object of the name, value pairs kv.
func jsonObject(kv ...string) string {
	m := map[string]string{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	b, _ := json.Marshal(m)
	return string(b)
}

// TestMailboxOff: without AUTH_DEV_MAILBOX=true the route does not exist,
// whatever mail the server sends.
func TestMailboxOff(t *testing.T) {
	t.Parallel()
	for i, env := range []map[string]string{nil, {"AUTH_DEV_MAILBOX": "false"}} {
		ts := newTestServer(t, env)
		c := ts.client(t)
		if i == 0 {
			c.register("ada@example.com") // a message is sent
		}
		if r := c.post("/api/auth/password/forgot", jsonObject("email", "ada@example.com")); r.status != http.StatusAccepted {
			t.Errorf("%v; want 202", r)
		}
		for _, path := range []string{"/api/dev/mailbox", "/api/dev/mailbox?to=ada%40example.com"} {
			r := c.get(path)
			wantError(t, r, http.StatusNotFound, "")
			if strings.Contains(string(r.body), "token") {
				t.Errorf("%v with %v; want no message shown", r, env)
			}
		}
	}
}

// TestMailbox covers the development mailbox: the messages of one address,
// newest first, with exactly to, subject, link and token, the link
// carrying the token; and a server log that names the recipient but never
// holds a link or a token, before or after the links are used.
func TestMailbox(t *testing.T) {
	t.Parallel()
	ms := newMailServer(t, nil)
	c := ms.client(t)
	c.register("ada@example.com")
	ms.client(t).register("bob@example.com")

	list := ms.mailbox(t, "ada@example.com")
	if len(list) != 1 || !list[0].is("verify") || list[0].is("reset") {
		t.Fatalf("mailbox after register = %+v; want one verification message", list)
	}
	verify := list[0]
	reset1 := ms.forgot(t, c, "ada@example.com")
	reset2 := ms.forgot(t, c, "ada@example.com")

	list = ms.mailbox(t, "ada@example.com")
	want := []mail{reset2, reset1, verify}
	if len(list) != len(want) {
		t.Fatalf("mailbox = %+v; want %d messages, newest first", list, len(want))
	}
	tokens := map[string]bool{}
	for i, m := range list {
		if m != want[i] {
			t.Errorf("mailbox[%d] = %+v; want %+v (newest first)", i, m, want[i])
		}
		if m.to != "ada@example.com" {
			t.Errorf("mailbox[%d].to = %q; want ada@example.com", i, m.to)
		}
		u, err := url.Parse(m.link)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Query().Get("token") != m.token {
			t.Errorf("mailbox[%d].link = %q; want an absolute URL whose token parameter is the token %q", i, m.link, m.token)
		}
		if tokens[m.token] {
			t.Errorf("mailbox[%d].token %q repeats; want a new token per message", i, m.token)
		}
		tokens[m.token] = true
	}
	if !reset1.is("reset") || reset1.is("verify") {
		t.Errorf("reset message = %+v; want reset, not verify, in its subject or link", reset1)
	}

	// The filter: another address's messages are not shown, an unknown
	// address has none.
	for _, m := range ms.mailbox(t, "bob@example.com") {
		if m.to != "bob@example.com" || tokens[m.token] {
			t.Errorf("mailbox of bob holds %+v; want only bob's messages", m)
		}
	}
	if got := ms.mailbox(t, "nobody@example.com"); len(got) != 0 {
		t.Errorf("mailbox of an unknown address = %+v; want []", got)
	}

	// Following the links logs nothing of them either.
	if r := c.post("/api/auth/email/verify", jsonObject("token", verify.token)); r.status != http.StatusOK {
		t.Errorf("%v; want 200", r)
	}
	if r := c.post("/api/auth/password/reset", jsonObject("token", reset2.token, "password", newPassword)); r.status != http.StatusOK {
		t.Errorf("%v; want 200", r)
	}
	logs := ms.logs.String()
	if !strings.Contains(logs, "ada@example.com") || !strings.Contains(logs, "bob@example.com") {
		t.Errorf("server log does not name the recipients ada@example.com and bob@example.com:\n%s", logs)
	}
	ms.checkLogs(t)
}
