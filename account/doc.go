// Package account adds to package auth what every sign-up system has
// besides login: a forgotten-password flow, e-mail verification and a
// password change, built on single-use tokens.
//
// A [Manager] sends links; it never sends mail itself. The application
// passes a [Mailer], and the Manager hands it each [Message] with its link
// (and the bare token, for a mailer that builds links of its own). The
// tokens the links carry are 256 random bits behind the user's routing key
// (authstore.RouteFor), kept only as SHA-256 hashes in an
// authstore.OneTimeStore (memstore, sqlstore and redisstore implement it),
// bound to one purpose and one user, short-lived, and consumed atomically:
// of any number of concurrent uses of a link, exactly one succeeds. A
// password reset or change kills every reset link sent before it.
//
//	m, err := account.New(a, users,
//		account.WithMailer(mailer),
//		account.WithPasswords(policy), // the policy given to auth.WithPasswords
//		account.WithLinks("https://app.example.com/reset-password", "https://app.example.com/verify-email"),
//		account.WithStore(store),
//		account.WithThrottle(throttle))
//	mux.Handle("POST /api/auth/password/forgot", a.CrossOriginProtection(m.ForgotHandler()))
//	mux.Handle("POST /api/auth/password/reset", a.CrossOriginProtection(m.ResetHandler()))
//	mux.Handle("POST /api/auth/password/change", a.CrossOriginProtection(m.ChangeHandler()))
//
// The flows, each of which [Manager] documents in full:
//   - [Manager.Forgot] sends a reset link to a known address and answers
//     an unknown one the same way, in about the same time; it is
//     throttled per address and per client.
//   - [Manager.Reset] checks the new password's rules before it touches
//     the token (a rejected password leaves the link usable), then
//     consumes the link, replaces the password and revokes every session
//     and access token of the user.
//   - [Manager.ChangePassword] checks the current password of a signed-in
//     user, throttled like a login, replaces it, ends every session of the
//     user and starts a new one for the caller.
//   - [Manager.SendVerification] and [Manager.VerifyEmail] confirm an
//     address. An application that wants verified addresses before
//     sign-in sets auth.Credentials.Refusal to [ErrEmailNotVerified] for
//     an unverified account: login answers it only once the password
//     matched.
//
// Errors have stable codes, which auth.WriteError writes:
// [ErrInvalidResetToken] (400 INVALID_RESET_TOKEN), [ErrInvalidVerifyToken]
// (400 INVALID_VERIFY_TOKEN) and [ErrEmailNotVerified] (403
// EMAIL_NOT_VERIFIED), besides package auth's own (INVALID_INPUT,
// INVALID_CREDENTIALS, TOO_MANY_ATTEMPTS, UNAVAILABLE).
package account
