package browser_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	cdplog "github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// waitTimeout bounds every wait for the page or the server. Waits end as
// soon as their condition holds; the bound only decides when to give up.
const waitTimeout = 30 * time.Second

// findChromium returns the browser to run: $AUTH_TEST_CHROMIUM, else the
// first of the usual names on PATH. Without one the test skips, or fails
// under CI=true, where a browser test never skips silently.
func findChromium(t testing.TB) string {
	t.Helper()
	if p := os.Getenv("AUTH_TEST_CHROMIUM"); p != "" {
		path, err := exec.LookPath(p)
		if err != nil {
			t.Fatalf("AUTH_TEST_CHROMIUM=%q: %v", p, err)
		}
		return path
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome", "headless-shell"} {
		if path, err := exec.LookPath(name); err == nil {
			return path
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("Chromium is required under CI=true but none is on PATH (chromium, google-chrome, ...); install Debian's chromium package, as .ci/run does, or set AUTH_TEST_CHROMIUM")
	}
	t.Skip("Chromium not found on PATH (chromium, google-chrome, ...); install it or set AUTH_TEST_CHROMIUM to run the browser test")
	return ""
}

// browser is one headless Chromium with a fresh profile, and what its tabs
// reported.
type browser struct {
	t      *testing.T
	base   string          // the server's URL
	alloc  context.Context // the allocator's context
	output *syncBuffer     // the browser's stdout and stderr

	mu       sync.Mutex // guards the fields below
	tabs     []*tab
	problems []string // exceptions and error entries: each fails the test
	notes    []string // console.error calls, API errors, dialogs: logged
}

// startBrowser starts Chromium at path; it ends with ctx. At the end of a
// failed test it logs every tab's state and the browser's own output.
func startBrowser(t *testing.T, ctx context.Context, path, base string) *browser {
	t.Helper()
	out := &syncBuffer{}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		// Without these Chromium reaches for the network at start, and
		// this machine's closed network refuses it.
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.WindowSize(1100, 900),
		chromedp.CombinedOutput(out),
	)
	// Without UserDataDir the allocator makes a fresh profile directory
	// and removes it when the browser ends.
	alloc, cancel := chromedp.NewExecAllocator(ctx, opts...)
	b := &browser{t: t, base: base, alloc: alloc, output: out}
	t.Cleanup(func() {
		b.report()
		b.mu.Lock()
		tabs := b.tabs
		b.mu.Unlock()
		for _, tb := range slices.Backward(tabs) {
			tb.cancel()
		}
		cancel()
	})
	return b
}

// report logs what the tabs noted, and on failure their state and the
// browser's output. It runs before the browser ends.
func (b *browser) report() {
	b.mu.Lock()
	tabs, notes := b.tabs, b.notes
	b.mu.Unlock()
	for _, n := range notes {
		b.t.Logf("note: %s", n)
	}
	if !b.t.Failed() {
		return
	}
	for _, tb := range tabs {
		b.t.Logf("tab %s: %s", tb.name, tb.state())
	}
	// Headless Chromium complains of the missing D-Bus at every turn;
	// the rest of its output may explain a failure.
	var lines []string
	for line := range strings.Lines(b.output.String()) {
		if !strings.Contains(line, ":ERROR:dbus/") {
			lines = append(lines, line)
		}
	}
	if out := strings.Join(lines, ""); out != "" {
		b.t.Logf("browser output (last 4 KiB, D-Bus errors left out):\n%s", out[max(0, len(out)-4096):])
	}
}

func (b *browser) problem(format string, args ...any) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.problems = append(b.problems, fmt.Sprintf(format, args...))
}

func (b *browser) note(format string, args ...any) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.notes = append(b.notes, fmt.Sprintf(format, args...))
}

// checkProblems fails the test for every uncaught exception, unhandled
// rejection and error entry that a tab reported.
func (b *browser) checkProblems() {
	b.t.Helper()
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, p := range b.problems {
		b.t.Errorf("the page reported %s; want no uncaught exception, unhandled rejection or error entry", p)
	}
}

// tab is one page target. Tabs opened from the same parent share its
// browser context, so its cookies.
type tab struct {
	t      *testing.T
	b      *browser
	name   string
	ctx    context.Context
	cancel context.CancelFunc // closes the tab
}

// newTab opens a tab in the browser context of parent (the default one
// when parent is nil), or in a new browser context with its own cookie
// jar when isolated is true. Every request of the tab carries tabHeader
// set to name.
func (b *browser) newTab(name string, parent *tab, isolated bool) *tab {
	b.t.Helper()
	tb := &tab{t: b.t, b: b, name: name}
	opts := []chromedp.ContextOption{chromedp.WithListener(tb.listen)}
	if isolated {
		opts = append(opts, chromedp.WithNewBrowserContext())
	}
	from := b.alloc
	if parent != nil {
		from = parent.ctx
	}
	ctx, cancel := chromedp.NewContext(from, opts...)
	tb.ctx, tb.cancel = ctx, cancel
	b.mu.Lock()
	b.tabs = append(b.tabs, tb)
	b.mu.Unlock()
	// The first action starts the browser (for the first tab) and opens
	// the tab.
	if err := chromedp.Do(ctx); err != nil {
		b.t.Fatalf("opening tab %s: %v", name, err)
	}
	if _, err := chromedp.Call(ctx, network.SetExtraHTTPHeaders, network.SetExtraHTTPHeadersParams{
		Headers: network.Headers{tabHeader: name},
	}); err != nil {
		b.t.Fatalf("tab %s: Network.setExtraHTTPHeaders: %v", name, err)
	}
	// A page may confirm a revocation with a dialog: accept it, as a user
	// would, and note it.
	dialogs := chromedp.Events(ctx, page.JavascriptDialogOpening)
	go func() {
		for ev, err := range dialogs {
			if err != nil {
				return
			}
			b.note("tab %s: accepted %s dialog %q", name, ev.Type, ev.Message)
			chromedp.Call(ctx, page.HandleJavaScriptDialog, page.HandleJavaScriptDialogParams{Accept: true})
		}
	}()
	return tb
}

// listen runs in the tab's event loop: it only records.
func (tb *tab) listen(ev any) {
	switch ev := ev.(type) {
	case *runtime.EventExceptionThrown:
		tb.b.problem("in tab %s: %s", tb.name, exceptionText(ev.ExceptionDetails))
	case *cdplog.EventEntryAdded:
		e := ev.Entry
		if e == nil || e.Level != cdplog.EntryLevelError {
			return
		}
		// An API answer with an error status (the refresh of a signed-out
		// page is a 401) is logged by the browser as a failed load; it is
		// the page's normal flow, not a fault of the page.
		if e.Source == cdplog.EntrySourceNetwork && strings.HasPrefix(e.URL, tb.b.base+"/api/") {
			tb.b.note("tab %s: %s (%s)", tb.name, e.Text, strings.TrimPrefix(e.URL, tb.b.base))
			return
		}
		tb.b.problem("in tab %s: %s entry %q at %s:%d", tb.name, e.Source, e.Text, e.URL, e.LineNumber+1)
	case *runtime.EventConsoleAPICalled:
		if ev.Type == runtime.ConsoleAPICalledTypeError {
			var args []string
			for _, a := range ev.Args {
				if len(a.Value) > 0 {
					args = append(args, string(a.Value))
				} else {
					args = append(args, a.Description)
				}
			}
			tb.b.note("tab %s: console.error(%s)", tb.name, strings.Join(args, ", "))
		}
	}
}

func exceptionText(d *runtime.ExceptionDetails) string {
	if d == nil {
		return "an exception"
	}
	s := d.Text
	if d.Exception != nil && d.Exception.Description != "" {
		s += " " + d.Exception.Description
	}
	return fmt.Sprintf("%q at %s:%d:%d", s, d.URL, d.LineNumber+1, d.ColumnNumber+1)
}

// do runs actions in the tab and fails the test on an error.
func (tb *tab) do(what string, actions ...chromedp.Action[chromedp.Void]) {
	tb.t.Helper()
	if err := chromedp.Do(tb.ctx, actions...); err != nil {
		tb.t.Fatalf("tab %s: %s: %v (page: %s)", tb.name, what, err, tb.state())
	}
}

// eval returns the value of a JavaScript expression in the tab.
func eval[T any](tb *tab, expr string) T {
	tb.t.Helper()
	v, err := chromedp.Run(tb.ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		tb.t.Fatalf("tab %s: evaluating %s: %v", tb.name, expr, err)
	}
	return v
}

// waitUntil waits, re-checking at every change of the DOM, until the
// JavaScript expression cond is true.
func (tb *tab) waitUntil(what, cond string) {
	tb.t.Helper()
	_, err := chromedp.Run(tb.ctx, chromedp.Poll[bool](cond,
		chromedp.WithPollingMutation(), chromedp.WithPollingTimeout(waitTimeout)))
	if err != nil {
		tb.t.Fatalf("tab %s: waiting %v for %s: %v (page: %s)", tb.name, waitTimeout, what, err, tb.state())
	}
}

// The page's DOM contract, as JavaScript expressions.
const (
	userText     = `(document.querySelector('#user')?.textContent ?? '').trim()`
	errorText    = `(document.querySelector('#error')?.textContent ?? '').trim()`
	sessionItems = `document.querySelectorAll('#sessions li')`
)

// waitUser waits until #user shows want; an empty want waits until the page
// shows nobody signed in.
func (tb *tab) waitUser(want string) {
	tb.t.Helper()
	tb.waitUntil(fmt.Sprintf("#user to be %q", want), userText+` === `+jsString(want))
}

// waitSessions waits until #sessions lists n sessions.
func (tb *tab) waitSessions(n int) {
	tb.t.Helper()
	tb.waitUntil(fmt.Sprintf("#sessions to list %d sessions", n), fmt.Sprintf(`%s.length === %d`, sessionItems, n))
}

// typeInto empties the input sel and types text into it, as a user does.
func (tb *tab) typeInto(sel, text string) {
	tb.t.Helper()
	// chromedp.Clear empties the value attribute only, not what was
	// typed, and chromedp.SetValue refuses an empty value.
	clear := chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`(el => {
		el.value = '';
		el.dispatchEvent(new Event('input', {bubbles: true}));
	})(document.querySelector(%s))`, jsString(sel)))
	tb.do("typing into "+sel, chromedp.WaitVisible(chromedp.CSS(sel)), clear, chromedp.SendKeys(chromedp.CSS(sel), text))
}

// click clicks the element sel, as a user does.
func (tb *tab) click(sel string) {
	tb.t.Helper()
	tb.do("clicking "+sel, chromedp.Click(chromedp.CSS(sel)))
}

// reload reloads the page and waits for its load event.
func (tb *tab) reload() {
	tb.t.Helper()
	tb.do("reloading", chromedp.Reload())
}

// state describes the tab's contract elements, for failure messages.
func (tb *tab) state() string {
	ctx, cancel := context.WithTimeout(tb.ctx, 5*time.Second)
	defer cancel()
	s, err := chromedp.Run(ctx, chromedp.Evaluate[string](`JSON.stringify({
		url: location.href,
		user: document.querySelector('#user')?.textContent ?? null,
		error: document.querySelector('#error')?.textContent ?? null,
		sessions: [...`+sessionItems+`].map(li => li.textContent.trim()),
	})`))
	if err != nil {
		return fmt.Sprintf("(unreadable: %v)", err)
	}
	return s
}

// cookies returns the tab's cookies for url, HttpOnly ones included.
func (tb *tab) cookies(url string) []*network.Cookie {
	tb.t.Helper()
	res, err := chromedp.Call(tb.ctx, network.GetCookies, network.GetCookiesParams{URLs: []string{url}})
	if err != nil {
		tb.t.Fatalf("tab %s: Network.getCookies: %v", tb.name, err)
	}
	return res.Cookies
}

// screenshot returns a PNG of the whole page.
func (tb *tab) screenshot() []byte {
	tb.t.Helper()
	png, err := chromedp.Run(tb.ctx, chromedp.FullScreenshot(100))
	if err != nil {
		tb.t.Fatalf("tab %s: screenshot: %v", tb.name, err)
	}
	return png
}

// jsString returns s as a JavaScript string literal.
func jsString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// syncBuffer is a bytes.Buffer safe for concurrent use.
type syncBuffer struct {
	mu sync.Mutex // guards b
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}
