// Package browser is the end-to-end test of the reference server's browser
// app (GET / of examples/refserver). The test starts the server on loopback,
// drives the page in headless Chromium through the DOM contract of
// CONTRACT.md only (#email, #password, #name, #register, #login, #logout,
// #logout-all, #user, #error, #sessions with one li and one .revoke per
// session), and checks what the contract promises: a reload restores the
// session through the HttpOnly cookie, two tabs that share the cookie never
// trip reuse detection, revoking a session signs its tab out, and no page
// throws.
//
// The package has no code of its own; run it with
//
//	cd examples/browser && go test -v .
//
// It needs Chromium (Debian's chromium package: /usr/bin/chromium) or
// Chrome; AUTH_TEST_CHROMIUM names another binary. Without a browser the
// test skips, except under CI=true, where it fails. It saves a screenshot of
// the signed-in page and prints its path; with go test -artifacts the file
// goes to the artifact directory, otherwise to a new directory under
// [os.TempDir] that the test leaves in place.
//
// It lives in a module of its own so that chromedp stays out of every other
// module's dependencies.
package browser
