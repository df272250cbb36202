// Package password hashes and checks passwords for package auth.
//
// A [Hasher] is a password policy: it makes new hashes and verifies them.
// [Bcrypt] hashes with bcrypt at a cost that only grows; [Argon2id] with
// Argon2id (RFC 9106) in the PHC string format, at no less than OWASP's
// minimum (m=19 MiB, t=2, p=1), and parses stored hashes strictly. A
// [Policy] ([NewPolicy]) hashes by one of them and verifies every format it
// is given at once: bcrypt, Argon2id, and any [Verifier] an application
// writes for the hashes of a legacy system. Verify reports rehash for a
// match in another format, or of weaker parameters, than the current one,
// and package auth then stores a new hash at that login, so accounts move
// to the policy one login at a time.
//
// Every Hasher checks unknown users (a nil hash) and unreadable hashes at
// the cost of one full hash of its current parameters, so that they cost as
// much as a wrong password. Each caps how many hashes run at once
// ([WithConcurrency]) and how many callers wait ([WithQueue]); past the
// queue the answer is [ErrBusy] (503 in package auth). The cap bounds
// bcrypt's CPU and Argon2id's memory alike: Argon2id peaks at m ×
// concurrency (19 MiB × the cap by default), so a flood of logins can
// neither starve the requests that only verify tokens nor exhaust memory.
//
// [Check] states the one rule for a password that may be stored: 8 to 72
// bytes of valid UTF-8 without NUL. Nothing else is demanded of it, under
// every policy.
package password
