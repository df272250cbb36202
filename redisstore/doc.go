// Package redisstore keeps the sessions and their refresh tokens, the
// access-token revocations, the single-use tokens (password reset, e-mail
// verification), the signing keys and the login throttle of
// [github.com/jwtkit/auth] in Redis, shared by every instance of a service,
// on a single server or on Redis Cluster alike. It needs Redis 7.0 or
// later, or a compatible server. Of the library it imports only the store
// contract, [github.com/jwtkit/auth/authstore].
//
// [Store] is an [authstore.RefreshStore], an [authstore.RevocationStore],
// an [authstore.OneTimeStore] and an [authstore.KeyStore], whose signing
// keys (sealed by the library) every instance loads and rotates together;
// [Throttle] is an [authstore.Throttle]. Both take any
// [redis.UniversalClient]:
//
//	rdb := redis.NewClient(&redis.Options{Addr: "localhost:6379"})
//	// or redis.NewClusterClient(&redis.ClusterOptions{Addrs: addrs})
//	store, err := redisstore.New(rdb)
//	if err != nil { ... }
//	throttle, err := redisstore.NewThrottle(rdb, authstore.Rate{Limit: 5, Window: 15 * time.Minute})
//	if err != nil { ... }
//	a, err := auth.New(
//		auth.WithKeys(keys), auth.WithIssuer(iss), auth.WithAudience(aud),
//		auth.WithClaimsLoader(loadClaims),
//		auth.WithRefreshStore(store),
//		auth.WithRevocation(store),
//		auth.WithLoginThrottle(throttle),
//	)
//	// Now and then, for example every few minutes on one instance:
//	n, err := a.Purge(ctx)
//
// # Key layout
//
// Every key begins with the prefix of [WithKeyPrefix] ("auth:" by default;
// P below). Every key that holds a user's data carries the user's routing
// key R, [authstore.RouteFor](userID), as its hash tag; R is also the first
// [authstore.RouteLen] characters of each of the user's refresh and
// one-time tokens, so a store reaches a token's keys from the token alone.
// TOKEN is the SHA-256 of a refresh or one-time token in unpadded base64url
// (never the token itself), PURPOSE a one-time token's purpose as given.
//
//	P{R}:t:TOKEN    string   a refresh token's session id; expires with the token
//	P{R}:f:SESSION  hash     a session: user, created, expires, refreshed, revoked, user agent,
//	                         address, a field t:TOKEN per kept token of the session holding the
//	                         token's issued, expires, used and successor, n counting the
//	                         session's tokens and s:N naming its Nth token
//	P{R}:fams       zset     the route's session ids, scored by CreatedAt
//	P{R}:due        zset     f:SESSION and t:TOKEN+SESSION, scored by when each becomes purgeable:
//	                         a session at its ExpiresAt (0 once revoked), a token at its ExpiresAt
//	P{R}:pb         string   the route's bound in the purge index (see below)
//	P{R}:d:ID       set      the users whose access tokens of id (jti) or session (sid) ID are denied
//	P{R}:cut        hash     user id to access-token cutoff
//	P{R}:o:TOKEN    hash     a one-time token: user, purpose, expires; expires with the token
//	P{R}:op:PURPOSE zset     the route's one-time token ids of PURPOSE, scored by when their
//	                         keys expire (ms), for RevokeOneTime
//	P purge         zset     the purge index: routes, scored by a lower bound of their
//	                         earliest due time
//	P throttle:KEY  string   a throttle key's theoretical arrival time
//	P{keys}:signing hash     the signing keys: a field per generation (decimal) holding the
//	                         key's JSON record: kid, alg, sealed (base64), created, active
//	P{keys}:kids    hash     each signing key's kid to its generation, so that a kid is stored once
//
// Times are stored as decimal microseconds since the Unix epoch, and come
// back in UTC, equal to what was stored to the microsecond. The signing
// keys belong to no user: their two hashes carry the hash tag {keys}
// instead of a route (which has [authstore.RouteLen] characters, so never
// reads "keys").
//
// # Redis Cluster
//
// All keys of one route hash to the slot of R, so every operation on a
// user's data is one Lua script (or one command) that runs atomically on the
// node serving that slot: CreateSession, Lookup, Rotate, RevokeSession
// and Sessions in the slot of the user's route, and RevokeUser as one
// script per batch of up to 100 of the user's sessions there (it walks
// the session list with ZSCAN, so no script grows with the user's
// sessions); Revoked,
// Deny and CutOff likewise, so a revocation check is one round trip;
// SaveOneTime, ConsumeOneTime and RevokeOneTime likewise, so consuming a
// one-time token (read, check purpose and expiry against the caller's
// time, delete) is indivisible and one round trip; each Throttle method on
// its one key. The signing keys live in the one slot of {keys}: AddKey is
// one script that checks the kids hash and stores the record with HSETNX,
// so of concurrent additions of one generation exactly one succeeds and a
// duplicate kid is refused atomically; Keys is one HGETALL, sorted by
// generation in Go; DeleteKeys is one script. Users whose routes lie in
// different slots never contend. A few scripts read keys whose names they
// build from the route's prefix (the session of a token, the sessions of a
// user, the one-time tokens of a purpose index): those keys are in the
// same slot, which Redis Cluster allows.
//
// The purge index, P purge, lives in a slot of its own. It is not part of
// any atomic operation, so its writes are separate commands: CreateSession,
// RevokeSession and RevokeUser lower the route's score (ZADD LT) before their
// script, so that their failure leaves no unindexed data; after any script
// that lowered the route's bound ([Store.Rotate] included, which in the
// common case does not) the store lowers the score again, to close the race
// with a concurrent Purge. [Store.Purge] takes the routes whose score has
// passed, runs one script per route in the route's slot (pipelined, up to
// 64 routes a round) that deletes the due items and records the earliest
// due time left, moves each route's score to it, and then re-reads the
// routes' bounds and lowers any score that a concurrent writer undercut
// meanwhile. A route's score therefore never stays above the earliest due
// time of its items, and Purge returns less than its limit only when
// nothing purgeable is left. The index holds one entry per route with
// purgeable data to come, about one per user with a session; a route
// whose data Redis has expired leaves the index when Purge next reaches it
// (without Purge, the index keeps one small entry per user who ever signed
// in). It is written at sign-in, revocation and purge, not at rotation, so
// it is no hot key.
//
// # Memory and expiry
//
// A session's chain is bounded: each rotation deletes the session's token
// that falls 17 tokens behind the newest, so a session keeps its newest
// 17 tokens (the live one and the [authstore.MinKeptTokens] used ones
// before it), and its hash at most 42 fields, however often it rotates.
// Deleting a session, by Purge or to make room for a new one, is thus one
// short script. A session stored by an earlier release, whose hash may
// hold any number of tokens, is deleted about 256 fields per script: it
// disappears for lookups at the first, and each later Purge of its route
// deletes another part.
//
// Redis deletes records by itself: a session, and a token's key, the
// expiry margin ([WithExpiryMargin], one minute by default) after their
// ExpiresAt, so that Lookup reports a just-expired token as expired rather
// than unknown; a route's session list and due index with its last
// session; a one-time token's key the expiry margin after its ExpiresAt,
// and a purpose index with its last token (SaveOneTime first drops the
// entries of tokens that Redis has expired, and ConsumeOneTime and
// RevokeOneTime those of the tokens they delete, so an index never holds
// more than the tokens that were in Redis at the last save, and the new
// one); a denied jti at the token's exp plus [authstore.MaxLeeway] (a
// verifier with a leeway accepts a token that long after exp); a cutoff at
// its time plus [authstore.MaxAccessTTL] plus [authstore.MaxLeeway]; a
// throttle key when its credit is fully restored. Memory is thus bounded by
// the sessions, one-time tokens and revocations that can still matter, even
// if Purge never runs. The signing keys are the exception: a handful of
// records with no expiry, which [Store.DeleteKeys] deletes once no token
// can carry them, and Purge leaves alone. Purge deletes revoked sessions, which would
// otherwise stay (recognisably revoked) until their ExpiresAt, and expired
// tokens and sessions before Redis would; it also removes an expired
// token's state from its session's hash, where it would otherwise stay
// (some 100 bytes a token) until the session expires. It leaves revocation
// entries and one-time tokens to Redis: Purge deletes and counts none of
// them. Run it periodically, in a loop until it returns less than its
// limit, as Auth.Purge of package github.com/jwtkit/auth does.
// [WithMaxSessionsPerUser] (100 by default) caps the sessions of one user,
// evicting the oldest revoked or expired ones first.
//
// Expiry times are absolute (PEXPIREAT) and read against the Redis server's
// clock; the margin covers a small skew between it and the services'
// clocks.
//
// # Errors
//
// A method returns an error for a failure of Redis or of the context, or a
// call that breaks a precondition of the contract (a duplicate session id
// or token hash, a token of another session, a one-time token without a
// purpose or a user, a signing key with a stored kid or without a kid,
// an algorithm, a sealed key or a generation of at least 1); the message
// begins with "redisstore: " and wraps the cause. A generation of a
// signing key that is taken already is no error: AddKey returns false. A missing record is never an error: redis.Nil does not escape.
// The write that follows a successful script, lowering the route's score
// in the purge index, cannot make the operation fail; if it is lost, the
// route's due items wait for the score the route already had (at worst
// until Redis expires them).
package redisstore
