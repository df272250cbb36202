// Package password hashes and checks passwords for package auth: [Bcrypt]
// hashes with bcrypt at a cost that only grows, checks unknown users
// against a dummy hash so that they cost as much as a wrong password, and
// caps how many hashes run at once (and how many callers wait), so a flood
// of logins cannot starve the requests that only verify tokens.
//
// [Check] states the one rule for a password that may be stored: 8 to 72
// bytes of valid UTF-8 without NUL. Nothing else is demanded of it.
package password
