// Package client is the Go side of the reference server's HTTP contract: it
// signs in, keeps the session alive with rotating refresh tokens, and puts
// the access token on the requests of an [http.Client].
//
// # Words
//
// The words are the library's. A session is one sign-in and its chain of
// refresh tokens; tokens are what a sign-in or a refresh hands out: a
// short-lived access token (a JWT, sent as "Authorization: Bearer") and the
// session's next refresh token (opaque, sent only to /api/auth/refresh and
// /api/auth/logout).
//
// # Use
//
// [New] takes the server's base URL and functional options; it refuses a
// bad URL or option with an error matching auth.ErrConfig. [Client.Login]
// or [Client.Register] starts a session, [Client.Transport] wraps an
// [http.RoundTripper] so that every request to the server carries the
// access token, and [Client.Logout] or [Client.LogoutAll] ends it:
//
//	c, err := client.New("https://id.example.com", client.WithTokenStore(store))
//	if err != nil { ... }
//	if _, err := c.Login(ctx, email, password); err != nil { ... }
//	api := &http.Client{Transport: c.Transport(nil)}
//	resp, err := api.Get("https://id.example.com/api/auth/me")
//
// A Client is safe for concurrent use; its configuration is fixed by New.
//
// # Refresh
//
// The access token is refreshed ahead of its expiry, by a margin
// ([WithRefreshMargin]; by default a tenth of its lifetime, at most 30
// seconds): a request that finds the token within the margin is sent with it
// while one refresh runs in the background, and a request that finds it
// expired waits for the refresh. A request answered 401 with the code
// TOKEN_EXPIRED (the server's clock is ahead of the client's) causes one
// refresh and is sent once more, when its body can be sent again (no body,
// or [http.Request.GetBody] set); otherwise the 401 reaches the caller as it
// is.
//
// However many callers need a refresh at once, one refresh request goes to
// the server and every caller waits for its result. The refresh runs on a
// context of its own, detached from the callers' and bounded by
// [WithRefreshTimeout]: a caller that gives up stops waiting, and the
// refresh goes on for the others.
//
// # Signed out
//
// When the server refuses the refresh token (401 INVALID_REFRESH_TOKEN:
// revoked, expired, or reused, which revokes the whole session) the client
// forgets its tokens and the calls return an error matching [ErrSignedOut]:
// it is for the application to sign in again. Any other failure (a 503, a
// 429, a network error, a timeout) changes nothing: the refresh token is
// kept and the next call tries again. Errors the server answered carry its
// status and code as an [Error], which also matches the library's sentinel
// for the code (auth.ErrUnavailable for 503 UNAVAILABLE, and so on).
//
// # Refresh transfer
//
// By default the refresh token travels in JSON bodies ("refreshTransfer":
// "body" at sign-in, {"refreshToken": "..."} to refresh and log out) and is
// kept by a [TokenStore]: in memory ([MemoryStore], the default) or in a
// file ([FileStore]) so that the session outlives the process. The store is
// written after every rotation and cleared when the session ends. With
// [WithCookieJar] the refresh token travels in the server's HttpOnly refresh
// cookie instead, kept by the jar.
//
// A refresh token is good for one refresh. Two processes that share one
// stored session will, sooner or later, both present the same token; the
// server takes the second presentation for theft and revokes the session,
// and both are signed out. Give each process its own sign-in.
//
// # Cross-origin protection
//
// The server refuses state-changing cross-origin browser requests, judged
// by the Origin and Sec-Fetch-Site headers. A Go client sends neither, so
// its requests pass.
package client
