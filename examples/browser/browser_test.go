package browser_test

import (
	"context"
	"flag"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

const (
	testEmail    = "ada@example.com"
	testPassword = "correct horse battery"
	testName     = "Ada"

	refreshPath  = "/api/auth/refresh"
	sessionsPath = "/api/auth/sessions/"
)

// TestBrowserApp drives the reference server's page in headless Chromium
// through the DOM contract only. Tabs t1 and t2 share one browser context
// (one cookie jar, so one session, as two tabs of one browser do); d2 is
// another device, a browser context of its own with its own session.
func TestBrowserApp(t *testing.T) {
	path := findChromium(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	t.Cleanup(cancel) // first registered, so the browser ends last

	// Access tokens of 2s make the two tabs' tokens expire together
	// within the test.
	ts := startServer(t, map[string]string{
		"AUTH_ACCESS_TTL":  "2s",
		"AUTH_BCRYPT_COST": "10",
	})
	rec := ts.rec
	b := startBrowser(t, ctx, path, ts.URL)

	// 1. Register through the form, then reload: the page signs in again
	// by itself, through the refresh cookie.
	t1 := b.newTab("t1", nil, false)
	from := rec.mark()
	t1.do("opening the app", chromedp.Navigate(ts.URL+"/"))
	// Let the signed-out page finish its first refresh (a 401: no cookie
	// yet) before typing, as a user would.
	rec.waitFor(t, ctx, from, "first refresh from t1", refreshBy("t1"))
	t1.do("waiting for the form", chromedp.WaitVisible(chromedp.CSS("#register")))
	t1.typeInto("#email", testEmail)
	t1.typeInto("#password", testPassword)
	t1.typeInto("#name", testName)
	from = rec.mark()
	t1.click("#register")
	t1.waitUser(testEmail)
	reg := rec.waitFor(t, ctx, from, "POST /api/auth/register from t1 answered 201", func(e exchange) bool {
		return e.tab == "t1" && e.path == "/api/auth/register" && e.status == http.StatusCreated
	})
	sessionA, signedIn := reg.sid, reg.seq

	// Two more sessions of the same account, from outside the browser,
	// for the two tabs to revoke at once in step 3.
	spareX := ts.login(t, ctx, testEmail, testPassword, "browser-test spare X")
	spareY := ts.login(t, ctx, testEmail, testPassword, "browser-test spare Y")

	from = rec.mark()
	t1.reload()
	t1.waitUser(testEmail)
	rec.waitFor(t, ctx, from, "refresh through the cookie from t1 answered 200 after the reload", func(e exchange) bool {
		return e.tab == "t1" && e.path == refreshPath && e.hadCookie && e.status == http.StatusOK
	})
	t1.waitSessions(3) // A (this one), X and Y

	// 2. The refresh token is in an HttpOnly cookie that the page cannot
	// read, and no token is in web storage.
	if got := eval[string](t1, `document.cookie`); strings.Contains(got, "refreshToken") {
		t.Errorf("document.cookie = %q; want no refreshToken (the cookie is HttpOnly)", got)
	}
	var refreshCookie string
	for _, c := range t1.cookies(ts.URL + refreshPath) {
		if c.Name != "refreshToken" {
			continue
		}
		refreshCookie = c.Value
		if !c.HTTPOnly || !c.Secure || c.Path != "/api/auth" {
			t.Errorf("refreshToken cookie: HttpOnly=%t Secure=%t Path=%q; want true, true, \"/api/auth\"", c.HTTPOnly, c.Secure, c.Path)
		}
	}
	if refreshCookie == "" {
		t.Fatalf("the browser holds no refreshToken cookie for %s; want one while signed in", refreshPath)
	}
	storage := eval[string](t1, `JSON.stringify([Object.entries(localStorage), Object.entries(sessionStorage)])`)
	if strings.Contains(storage, refreshCookie) {
		t.Errorf("web storage holds the refresh token; want it only in the HttpOnly cookie")
	}
	for _, e := range rec.since(0) {
		if e.token != "" && strings.Contains(storage, e.token) {
			t.Errorf("web storage holds the access token of %s; want it only in the page's memory", e)
		}
	}

	// 7 (taken here, while signed in with the sessions listed). A
	// screenshot of the signed-in page, kept as the test's artefact.
	shot := filepath.Join(artifactDir(t), "signed-in.png")
	if err := os.WriteFile(shot, t1.screenshot(), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot of the signed-in page: %s", shot)

	// 3. A second tab of the same browser shares the cookie, so the
	// session. Once both tabs' access tokens have expired, both make an
	// authenticated call at once (each revokes one of the spare sessions):
	// both calls succeed, and no refresh trips reuse detection.
	t2 := b.newTab("t2", t1, false)
	t2.do("opening the app", chromedp.Navigate(ts.URL+"/"))
	t2.waitUser(testEmail)
	t2.waitSessions(3)
	if got := rec.lastTokens("t2")["t2"].sid; got != sessionA {
		t.Errorf("tab t2 took up session %s; want %s, t1's (the tabs share the cookie)", got, sessionA)
	}
	waitTokensExpired(t, ctx, rec, "t1", "t2")

	from = rec.mark()
	revokes := []struct {
		tab  *tab
		sid  string
		mark string
		at   int // its place in a newest-first list: Y, X, A
	}{
		{t1, spareY, "spare Y", 0},
		{t2, spareX, "spare X", 1},
	}
	// Both tabs click at one instant, by the clock that the tabs and the
	// server share, so that their refreshes, too, set out together.
	clickAt := time.Now().Add(300 * time.Millisecond)
	for _, r := range revokes {
		if _, err := r.tab.revoke(r.sid, r.mark, r.at, clickAt); err != nil {
			t.Fatal(err)
		}
	}
	// A DELETE with an expired token is answered 401 TOKEN_EXPIRED, and
	// the page retries after a refresh; any other answer is the last. A
	// refused refresh ends the tab's session: no retry comes then.
	var wrong []string
	for _, r := range revokes {
		end := rec.waitFor(t, ctx, from, "final answer to DELETE "+sessionsPath+"{id} or refused refresh from "+r.tab.name, func(e exchange) bool {
			return finalDelete(r.tab.name)(e) || refreshBy(r.tab.name)(e) && e.status != http.StatusOK
		})
		if want := sessionsPath + r.sid; end.path != want || end.status != http.StatusNoContent {
			wrong = append(wrong, fmt.Sprintf("tab %s: %s; want DELETE %s answered 204 (the current session is %s)", r.tab.name, end, want, sessionA))
		}
	}
	checkRefreshes(t, rec, signedIn, rec.mark(), "t1", "t2")
	if len(wrong) > 0 {
		t.Fatal(strings.Join(wrong, "\n"))
	}
	expired, refreshes := 0, 0
	for _, e := range rec.since(from) {
		if e.code == "TOKEN_EXPIRED" {
			expired++
		}
		if e.path == refreshPath {
			refreshes++
		}
	}
	t.Logf("the two tabs' calls after expiry met %d TOKEN_EXPIRED answers and took %d refreshes, all answered 200", expired, refreshes)
	t1.waitUser(testEmail)
	t2.waitUser(testEmail)

	// 4. Another device signs in (after a wrong password, which #error
	// reports); t1 revokes that device's session from its list, and the
	// device is signed out at its next call.
	d2 := b.newTab("d2", t1, true)
	from = rec.mark()
	d2.do("opening the app", chromedp.Navigate(ts.URL+"/"))
	rec.waitFor(t, ctx, from, "first refresh from d2", refreshBy("d2"))
	d2.do("waiting for the form", chromedp.WaitVisible(chromedp.CSS("#login")))
	d2.typeInto("#email", testEmail)
	d2.typeInto("#password", "not the password")
	d2.click("#login")
	d2.waitUntil(`#error to show INVALID_CREDENTIALS`, errorText+` === "INVALID_CREDENTIALS"`)
	if got := eval[string](d2, userText); got != "" {
		t.Errorf("tab d2: #user = %q after a failed login; want \"\"", got)
	}
	d2.typeInto("#password", testPassword)
	from = rec.mark()
	d2.click("#login")
	d2.waitUser(testEmail)
	login := rec.waitFor(t, ctx, from, "POST /api/auth/login from d2 answered 200", func(e exchange) bool {
		return e.tab == "d2" && e.path == "/api/auth/login" && e.status == http.StatusOK
	})
	sessionB := login.sid

	t1.reload()
	t1.waitUser(testEmail)
	t1.waitSessions(2) // A and B
	from = rec.mark()
	if _, err := t1.revoke(sessionB, "", 0, time.Time{}); err != nil {
		t.Fatal(err)
	}
	del := rec.waitFor(t, ctx, from, "final answer to DELETE "+sessionsPath+"{id} from t1", finalDelete("t1"))
	if want := sessionsPath + sessionB; del.path != want || del.status != http.StatusNoContent {
		t.Fatalf("tab t1: %s; want DELETE %s answered 204 (t1's own session is %s)", del, want, sessionA)
	}

	from = rec.mark()
	d2.reload()
	next := rec.waitFor(t, ctx, from, "refresh from d2 after its session was revoked", refreshBy("d2"))
	if next.status != http.StatusUnauthorized || next.code != "INVALID_REFRESH_TOKEN" {
		t.Errorf("tab d2: %s; want 401 INVALID_REFRESH_TOKEN for the revoked session", next)
	}
	d2.waitUser("")
	t1.waitUser(testEmail)
	checkRefreshes(t, rec, signedIn, rec.mark(), "t1", "t2")

	// 5. Sign out: t1 shows nobody, and t2, which shared the session and
	// the cookie, is signed out at its next call.
	from = rec.mark()
	t1.click("#logout")
	t1.waitUser("")
	rec.waitFor(t, ctx, from, "POST /api/auth/logout from t1 answered 200", func(e exchange) bool {
		return e.tab == "t1" && e.path == "/api/auth/logout" && e.status == http.StatusOK
	})
	from = rec.mark()
	t2.reload()
	next = rec.waitFor(t, ctx, from, "refresh from t2 after the logout", refreshBy("t2"))
	if next.status != http.StatusUnauthorized {
		t.Errorf("tab t2: %s; want 401 after t1 signed out of the session", next)
	}
	t2.waitUser("")

	// 6. No tab threw, signed in or out.
	b.checkProblems()

	answers := map[int]int{}
	for _, e := range rec.since(0) {
		if e.path == refreshPath {
			answers[e.status]++
		}
	}
	t.Logf("refresh answers: %d × 200, %d × 401 (the 401s: pages loaded signed out, the revoked device, the signed-out tab)",
		answers[http.StatusOK], answers[http.StatusUnauthorized])
}

// refreshBy matches a refresh request of the tab.
func refreshBy(tab string) func(exchange) bool {
	return func(e exchange) bool { return e.tab == tab && e.path == refreshPath }
}

// finalDelete matches the last answer to a DELETE of a session from the
// tab: any but 401 TOKEN_EXPIRED, after which the page refreshes and
// retries.
func finalDelete(tab string) func(exchange) bool {
	return func(e exchange) bool {
		return e.tab == tab && e.method == http.MethodDelete && strings.HasPrefix(e.path, sessionsPath) &&
			!(e.status == http.StatusUnauthorized && e.code == "TOKEN_EXPIRED")
	}
}

// checkRefreshes fails the test for every refresh of the tabs between the
// sequence numbers from and to that was not answered 200: while a tab is
// signed in, a failed refresh is reuse detection (or worse).
func checkRefreshes(t *testing.T, rec *recorder, from, to int, tabs ...string) {
	t.Helper()
	for _, e := range rec.since(from) {
		if e.seq >= to {
			break
		}
		for _, tab := range tabs {
			if e.tab == tab && e.path == refreshPath && e.status != http.StatusOK {
				t.Errorf("%s; want every refresh of a signed-in tab answered 200 (no reuse detection)", e)
			}
		}
	}
}

// waitTokensExpired waits until the last access token issued to any of the
// tabs has expired. It is a wait on the clock, for a state the test needs:
// it decides no verdict. A page that refreshes ahead of expiry on its own
// never holds an expired token; then the wait ends at the first such
// refresh.
func waitTokensExpired(t *testing.T, ctx context.Context, rec *recorder, tabs ...string) {
	t.Helper()
	latest := func() (exp time.Time) {
		last := rec.lastTokens(tabs...)
		for _, tab := range tabs {
			e, ok := last[tab]
			if !ok {
				t.Fatalf("the server issued no access token to %s", tab)
			}
			if e.exp.After(exp) {
				exp = e.exp
			}
		}
		return exp
	}
	exp := latest()
	if d := time.Until(exp); d > waitTimeout {
		t.Fatalf("the tabs' tokens expire in %v; want a short AUTH_ACCESS_TTL", d)
	}
	// The server refuses a token from its exp on (whole seconds).
	select {
	case <-time.After(time.Until(exp) + 50*time.Millisecond):
	case <-ctx.Done():
		t.Fatalf("waiting for the tabs' tokens to expire: %v", ctx.Err())
	}
	if next := latest(); next.After(exp) {
		t.Logf("the tabs refreshed ahead of expiry on their own (token exp %s, then %s)", exp.Format(time.TimeOnly), next.Format(time.TimeOnly))
		return
	}
	t.Logf("both tabs' access tokens expired at %s", exp.Format(time.TimeOnly))
}

// revoke clicks the .revoke button of session id in #sessions, at the
// instant at (at once when at is zero), and returns the li's place in the
// list. It finds the li whose HTML holds the id, or whose text holds mark
// (a user agent the page may show). When no li shows either, the contract
// says nothing more, and it takes the li at fallback, the session's place in
// the server's newest-first list; the caller then checks which session the
// server was asked to revoke. The button is found and clicked in the page,
// not through the mouse, so that a list that re-renders meanwhile (another
// tab may tell this one of a change) cannot move another button under the
// pointer.
func (tb *tab) revoke(id, mark string, fallback int, at time.Time) (int, error) {
	var atMS int64
	if !at.IsZero() {
		atMS = at.UnixMilli()
	}
	res, err := chromedp.Run(tb.ctx, chromedp.Evaluate[struct {
		At      int  `json:"at"`
		Matched bool `json:"matched"`
	}](fmt.Sprintf(`(() => {
		const items = [...%s];
		const id = %s, mark = %s;
		let at = items.findIndex(li => li.outerHTML.includes(id) || (mark !== '' && li.textContent.includes(mark)));
		const matched = at >= 0;
		if (!matched) at = %d;
		const button = items[at]?.querySelector('.revoke');
		if (!button) return {at: -1, matched};
		setTimeout(() => button.click(), Math.max(0, %d - Date.now()));
		return {at, matched};
	})()`, sessionItems, jsString(id), jsString(mark), fallback, atMS)))
	switch {
	case err != nil:
		return -1, fmt.Errorf("tab %s: clicking .revoke of session %s: %w", tb.name, id, err)
	case res.At < 0:
		return -1, fmt.Errorf("tab %s: no .revoke button for session %s in #sessions (page: %s)", tb.name, id, tb.state())
	case !res.Matched:
		tb.b.note("tab %s: no li of #sessions shows session %s; clicked place %d of the newest-first list", tb.name, id, fallback)
	}
	return res.At, nil
}

// artifactDir returns the directory for the test's output files: the
// artifact directory under go test -artifacts (Go 1.26), else a new
// directory under os.TempDir that outlives the test.
func artifactDir(t *testing.T) string {
	t.Helper()
	if f := flag.Lookup("test.artifacts"); f != nil && f.Value.String() == "true" {
		if a, ok := any(t).(interface{ ArtifactDir() string }); ok {
			return a.ArtifactDir()
		}
	}
	dir, err := os.MkdirTemp("", "jwtkit-browser-test-")
	if err != nil {
		t.Fatal(err)
	}
	return dir
}
