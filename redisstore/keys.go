package redisstore

import (
	"encoding/base64"
	"strconv"
	"strings"
	"time"

	"github.com/jwtkit/auth/authstore"
)

// The key layout. PREFIX is the key prefix, ROUTE a routing key
// ([authstore.RouteFor] of a user id, the first [authstore.RouteLen]
// characters of the user's refresh tokens and one-time tokens), TOKEN a
// token hash in unpadded base64url, PURPOSE the purpose of a one-time token
// as given. Every key of one route begins with routePrefix,
// PREFIX{ROUTE}:, so all of them hash to the slot of ROUTE. The names of
// the keys (f:, fams) and of the Lua variables (fid) predate the word
// session; they stay, so that deployed data keeps working.
//
//	PREFIX{ROUTE}:t:TOKEN     string: the session id of a refresh token
//	PREFIX{ROUTE}:f:SESSION   hash: one session, and its tokens
//	PREFIX{ROUTE}:fams        sorted set: session ids by CreatedAt
//	PREFIX{ROUTE}:due         sorted set: f:SESSION and t:TOKEN+SESSION by when they become purgeable
//	PREFIX{ROUTE}:pb          string: the route's bound in the purge index
//	PREFIX{ROUTE}:d:JTI       set: the user ids whose access token JTI is denied
//	PREFIX{ROUTE}:cut         hash: user id to access-token cutoff
//	PREFIX{ROUTE}:o:TOKEN     hash: a one-time token (u user id, p purpose, e expires)
//	PREFIX{ROUTE}:op:PURPOSE  sorted set: one-time token ids of PURPOSE by key expiry (ms)
//	PREFIX purge              sorted set: routes by a lower bound of their earliest due time
//	PREFIX throttle:KEY       string: a throttle key's theoretical arrival time
//	PREFIX{keys}:signing      hash: generation (decimal) to a signing key's record (see keyEntry)
//	PREFIX{keys}:kids         hash: kid to generation, so that a kid is stored once
//
// Field names of a session hash: u user id, c created, e expires, r
// refreshed, v revoked (absent while live), a user agent, d address,
// t:TOKEN for each kept token of the session, whose value is the token's
// state (see tokenRecord), n the number of the session's newest token
// (its first is 0) and s:N the id of its token number N, for the newest
// 17 (see [Store.Rotate]). A token's key only leads from the token to its
// session, and expires with the token; a rotation thus writes the session
// hash, the new token's key and the due index, and nothing else.
//
// A one-time token is its key alone; its purpose index (op:PURPOSE) lets
// RevokeOneTime find the tokens of one purpose. Both expire by themselves:
// the token's key the expiry margin after its ExpiresAt, the index with
// its last token, and the scripts drop the index entries of tokens that are
// gone. A route is one user's in practice; the scripts still compare the
// user id of each token, as they do for sessions.
//
// The signing keys belong to no user: their two hashes share the hash tag
// {keys}, and so one slot, which no route's can be mistaken for (a route
// has [authstore.RouteLen] characters). The scripts write both hashes
// together; neither expires: DeleteKeys deletes the keys.
const (
	tokenKey    = "t:"
	sessionKey  = "f:"
	sessionsKey = "fams"
	dueKey      = "due"
	boundKey    = "pb"
	deniedKey   = "d:"
	cutoffsKey  = "cut"
	oneTimeKey  = "o:"
	purposeKey  = "op:"
	purgeKey    = "purge"
	throttleKey = "throttle:"

	signingKeysKey = "{keys}:signing"
	keyIDsKey      = "{keys}:kids"
)

// signingKeys returns the names of the hash of the signing keys' records
// and of the hash of their kids.
func (c *config) signingKeys() (records, ids string) {
	return c.prefix + signingKeysKey, c.prefix + keyIDsKey
}

// routePrefix returns the prefix of every key of route.
func (c *config) routePrefix(route string) string { return c.prefix + "{" + route + "}:" }

// validRoute reports whether route can be a routing key: anything else
// cannot hold a token.
func validRoute(route string) bool {
	if len(route) != authstore.RouteLen {
		return false
	}
	for i := 0; i < len(route); i++ {
		switch c := route[i]; {
		case 'A' <= c && c <= 'Z', 'a' <= c && c <= 'z', '0' <= c && c <= '9', c == '-', c == '_':
		default:
			return false
		}
	}
	return true
}

// tokenID names a token hash in keys and fields.
func tokenID(h authstore.TokenHash) string { return base64.RawURLEncoding.EncodeToString(h[:]) }

// parseTokenID is the inverse of tokenID.
func parseTokenID(s string) (authstore.TokenHash, bool) {
	var h authstore.TokenHash
	if base64.RawURLEncoding.EncodedLen(len(h)) != len(s) {
		return h, false
	}
	n, err := base64.RawURLEncoding.Decode(h[:], []byte(s))
	return h, err == nil && n == len(h)
}

// micro formats t as decimal microseconds since the Unix epoch, the zero
// time as "".
func micro(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return strconv.FormatInt(t.UnixMicro(), 10)
}

// tokenRecord encodes the state of a token as its session keeps it:
// "ISSUED,EXPIRES,USED,SUCCESSOR", times in microseconds, USED and SUCCESSOR
// empty when absent.
func tokenRecord(r authstore.RefreshRecord) string {
	var succ string
	if r.HasSuccessor() {
		succ = tokenID(r.Successor)
	}
	return micro(r.IssuedAt) + "," + micro(r.ExpiresAt) + "," + micro(r.UsedAt) + "," + succ
}

// parseTokenRecord decodes s, encoded by tokenRecord, into r.
func parseTokenRecord(s string, r *authstore.RefreshRecord) bool {
	f := strings.Split(s, ",")
	if len(f) != 4 {
		return false
	}
	r.Successor = authstore.TokenHash{}
	if f[3] != "" {
		var ok bool
		if r.Successor, ok = parseTokenID(f[3]); !ok {
			return false
		}
	}
	return parseTimes(timeField{f[0], &r.IssuedAt}, timeField{f[1], &r.ExpiresAt}, timeField{f[2], &r.UsedAt})
}

// parseMicro is the inverse of micro; it returns times in UTC.
func parseMicro(s string) (time.Time, bool) {
	if s == "" {
		return time.Time{}, true
	}
	us, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return time.Time{}, false
	}
	return time.UnixMicro(us).UTC(), true
}

// expiry formats the instant t plus d as decimal Unix milliseconds, rounded
// up, for PEXPIREAT. It never returns less than 1: 0 and below are not
// instants to Redis.
func expiry(t time.Time, d time.Duration) string {
	us := t.Add(d).UnixMicro()
	ms := us / 1000
	if us%1000 > 0 {
		ms++
	}
	return strconv.FormatInt(max(ms, 1), 10)
}
