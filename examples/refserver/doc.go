// Package refserver is the reference server of the library's HTTP
// contract: register, log in, stay logged in with rotating refresh tokens,
// log out (here or everywhere), sessions, password reset and change, e-mail
// verification, roles, login throttling with device tokens, cross-origin
// protection and the JWK Set, built from the parts of packages auth and
// account.
//
// The example programs are thin main packages around it: examples/basic
// runs it on in-memory stores, examples/postgres on PostgreSQL (and Redis).
// Because this package is not internal, a copy of either program in a
// module of its own builds as it stands: its go.mod needs only a require of
// github.com/jwtkit/auth (and of the store modules for examples/postgres),
// which `go mod tidy` adds.
//
// [LoadConfig] reads the configuration from the environment, [New] builds
// the [Server] on the stores of a [Backend], and [Serve] runs it with the
// timeouts and the header cap of the contract. Every configuration error,
// those the library's constructors find included, is reported at start as
// one line that names the environment variable at fault.
//
// AUTH_PASSWORD_HASH chooses the format of new password hashes, bcrypt (the
// default, of cost AUTH_BCRYPT_COST) or argon2id (m=19 MiB, t=2, p=1);
// hashes of either format verify under both, and a hash of the other
// format is replaced at the account's next login (a [password.Policy]).
//
// Mail is handed to a mailer that sends nothing: it logs the recipient and
// subject of each message, never its link. AUTH_DEV_MAILBOX=true (refused
// with AUTH_COOKIE_SECURE=true) also keeps the last messages in memory for
// GET /api/dev/mailbox, so that tests and developers can follow the links;
// a real service puts its mail relay in place of the mailer.
//
// The server also serves the browser app of the contract at GET /: one
// page with its script and style sheet (/app.js, /app.css), embedded from
// the app directory, plain JavaScript with no build step and nothing from
// another origin, under a Content-Security-Policy that allows nothing
// inline. The page keeps the access token in memory only and leaves the
// refresh token to its HttpOnly cookie; its tabs take turns for every
// request that presents the cookie (a Web Lock), so that no refresh token
// is ever presented twice.
//
// This is example code: its API follows the contract, not the library's
// compatibility promise. A service that needs other routes or another user
// model starts from a copy of its files.
package refserver
