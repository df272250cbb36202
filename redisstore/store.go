package redisstore

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/jwtkit/auth/authstore"
)

// Store is an [authstore.RefreshStore], an [authstore.RevocationStore], an
// [authstore.OneTimeStore] and an [authstore.KeyStore] kept in Redis, a
// single server or a Redis Cluster: every operation on a user's data runs
// in the hash slot of the user's routing key, and every operation on the
// signing keys in the slot of the hash tag {keys} (see the package
// documentation). It is safe for
// concurrent use, and any number of instances may share one Redis. The
// zero value is not usable; call [New].
//
// One-time tokens are never purged: Redis deletes each record by itself
// the expiry margin ([WithExpiryMargin]) after its ExpiresAt, which the
// contract allows, so [Store.Purge] neither deletes nor counts them.
type Store struct {
	rdb      redis.UniversalClient
	cfg      config
	purgeKey string // the purge index

	// afterPurgeScripts, when set (by tests only), runs in Purge between
	// the route scripts and the update of the purge index.
	afterPurgeScripts func()
}

var (
	_ authstore.RefreshStore    = (*Store)(nil)
	_ authstore.RevocationStore = (*Store)(nil)
)

// Errors for calls that break a precondition of [authstore.RefreshStore].
var (
	errSessionExists = errors.New("redisstore: session id already exists")
	errTokenExists   = errors.New("redisstore: token hash already exists")
	errZeroHash      = errors.New("redisstore: zero token hash")
	errOtherSession  = errors.New("redisstore: token of another session or user")
	errZeroTime      = errors.New("redisstore: zero time")
	errReply         = errors.New("redisstore: unexpected reply from redis")
)

// New returns a Store that keeps its data in the Redis that client reaches:
// a *redis.Client, a *redis.ClusterClient, or any other
// [redis.UniversalClient]. It needs Redis 7.0 or later (or a compatible
// server) for PEXPIRETIME. New sends nothing to Redis; closing client is
// the caller's business.
func New(client redis.UniversalClient, opts ...Option) (*Store, error) {
	if client == nil {
		return nil, fmt.Errorf("%w: nil redis client", errConfig)
	}
	c := defaultConfig()
	for _, opt := range opts {
		opt(&c)
	}
	if err := c.validate(); err != nil {
		return nil, err
	}
	return &Store{rdb: client, cfg: c, purgeKey: c.prefix + purgeKey}, nil
}

// wrap prefixes a failure of operation op; it leaves nil alone.
func wrap(op string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("redisstore: %s: %w", op, err)
}

// CreateSession stores sess and its first token rec in one script, as
// [authstore.RefreshStore] requires. It returns an error, and stores
// nothing, when rec does not belong to sess, when a time it needs is zero,
// or when the session id or the token hash is already stored under the
// user's routing key. Taking sess.CreatedAt as the current time, it keeps
// the user within the cap of [WithMaxSessionsPerUser]. Redis deletes the
// session and the token by itself once they are past their ExpiresAt by
// the expiry margin ([WithExpiryMargin]).
//
// Before the script, CreateSession registers the user's routing key in the
// purge index, so that an error means that nothing was stored.
func (s *Store) CreateSession(ctx context.Context, sess authstore.Session, rec authstore.RefreshRecord) error {
	const op = "create session"
	if err := ctx.Err(); err != nil {
		return wrap(op, err)
	}
	switch {
	case rec.SessionID != sess.ID || rec.UserID != sess.UserID:
		return fmt.Errorf("%w: token of session %q and user %q created with session %q of user %q",
			errOtherSession, rec.SessionID, rec.UserID, sess.ID, sess.UserID)
	case rec.Hash == authstore.TokenHash{}:
		return errZeroHash
	case sess.CreatedAt.IsZero() || sess.ExpiresAt.IsZero() || rec.IssuedAt.IsZero() || rec.ExpiresAt.IsZero():
		return fmt.Errorf("%w: a session needs CreatedAt and ExpiresAt, a token IssuedAt and ExpiresAt", errZeroTime)
	}
	route := authstore.RouteFor(sess.UserID)
	pre := s.cfg.routePrefix(route)
	id := tokenID(rec.Hash)

	// The session is due for purging at its ExpiresAt, or at once when
	// revoked; the token at its ExpiresAt.
	sessDue := sess.ExpiresAt.UnixMicro()
	if !sess.RevokedAt.IsZero() {
		sessDue = 0
	}
	first := strconv.FormatInt(min(sessDue, rec.ExpiresAt.UnixMicro()), 10)
	if err := s.announce(ctx, route, first); err != nil {
		return wrap(op, err)
	}
	last := sess.ExpiresAt
	if rec.ExpiresAt.After(last) {
		last = rec.ExpiresAt
	}
	vals, err := createScript.Run(ctx, s.rdb,
		[]string{pre + sessionKey + sess.ID, pre + tokenKey + id, pre + sessionsKey, pre + dueKey, pre + boundKey},
		pre, sess.ID, sess.UserID, micro(sess.CreatedAt), micro(sess.ExpiresAt), micro(sess.RefreshedAt),
		micro(sess.RevokedAt), sess.UserAgent, sess.Address,
		id, tokenRecord(rec), micro(rec.ExpiresAt),
		expiry(sess.ExpiresAt, s.cfg.margin), expiry(rec.ExpiresAt, s.cfg.margin), s.cfg.maxSessions,
		strconv.FormatInt(sessDue, 10), expiry(last, s.cfg.margin),
	).Slice()
	if err != nil {
		return wrap(op, err)
	}
	code, bound, err := codeBound(vals)
	if err != nil {
		return wrap(op, err)
	}
	switch code {
	case 0:
	case 1:
		return fmt.Errorf("%w: %q", errSessionExists, sess.ID)
	case 2:
		return errTokenExists
	default:
		return wrap(op, errReply)
	}
	s.confirm(ctx, route, bound)
	return nil
}

// Lookup returns the token with hash h under route and its session in one
// script, as [authstore.RefreshStore] requires: expired, used and revoked
// records come back as they are, until Purge deletes them or Redis expires
// them, the expiry margin after their ExpiresAt. found is false when route
// is not a routing key, or holds no such token, or the token's session is
// gone.
func (s *Store) Lookup(ctx context.Context, route string, h authstore.TokenHash) (rec authstore.RefreshRecord, sess authstore.Session, found bool, err error) {
	if err := ctx.Err(); err != nil {
		return rec, sess, false, wrap("lookup", err)
	}
	if !validRoute(route) || h == (authstore.TokenHash{}) {
		return rec, sess, false, nil
	}
	pre := s.cfg.routePrefix(route)
	id := tokenID(h)
	vals, err := lookupScript.Run(ctx, s.rdb, []string{pre + tokenKey + id}, pre, tokenKey+id).Slice()
	if err != nil {
		return rec, sess, false, wrap("lookup", err)
	}
	if len(vals) == 0 {
		return rec, sess, false, nil
	}
	f, ok := stringVals(vals, 9)
	if !ok {
		return rec, sess, false, wrap("lookup", errReply)
	}
	rec = authstore.RefreshRecord{Hash: h, SessionID: f[0], UserID: f[2]}
	sess = authstore.Session{ID: f[0], UserID: f[2], UserAgent: f[7], Address: f[8]}
	ok = parseTokenRecord(f[1], &rec) && parseTimes(
		timeField{f[3], &sess.CreatedAt}, timeField{f[4], &sess.ExpiresAt}, timeField{f[5], &sess.RefreshedAt},
		timeField{f[6], &sess.RevokedAt},
	)
	if !ok {
		return authstore.RefreshRecord{}, authstore.Session{}, false, wrap("lookup", errReply)
	}
	return rec, sess, true, nil
}

// keptTokens is how many tokens a session keeps: the newest and the
// [authstore.MinKeptTokens] used ones before it.
const keptTokens = authstore.MinKeptTokens + 1

// Rotate is the compare-and-swap of [authstore.RefreshStore], one script
// in the slot of route. In the same script it deletes the session's token
// that is now 17 tokens behind the newest, so a session keeps exactly its
// newest 17 tokens (the new one and the [authstore.MinKeptTokens] used
// ones before it), and its hash at most 42 fields, however often it
// rotates; presenting an older token finds nothing. (A session stored by
// a release without the bound keeps the tokens it had until they expire.) It returns false, changing nothing, when old is not
// stored under route, when its session is gone or revoked, when old's
// Successor is not expect, when expect is zero and old is used, or when
// expect is not zero and is not a stored, unused token of old's session. A
// next of another session or user than old, with a zero hash or a zero
// time, or whose hash is already stored, is a caller's bug: Rotate returns
// an error and changes nothing.
func (s *Store) Rotate(ctx context.Context, route string, old, expect authstore.TokenHash, next authstore.RefreshRecord) (bool, error) {
	const op = "rotate"
	if err := ctx.Err(); err != nil {
		return false, wrap(op, err)
	}
	switch {
	case next.Hash == authstore.TokenHash{}:
		return false, errZeroHash
	case next.IssuedAt.IsZero() || next.ExpiresAt.IsZero():
		return false, fmt.Errorf("%w: a token needs IssuedAt and ExpiresAt", errZeroTime)
	}
	if !validRoute(route) || old == (authstore.TokenHash{}) {
		return false, nil
	}
	pre := s.cfg.routePrefix(route)
	oldID, expectField, expectKey := tokenID(old), "", ""
	if expect != (authstore.TokenHash{}) {
		expectField = tokenKey + tokenID(expect)
		expectKey = pre + expectField
	} else {
		expectKey = pre + tokenKey + oldID
	}
	nextID := tokenID(next.Hash)
	vals, err := rotateScript.Run(ctx, s.rdb,
		[]string{pre + tokenKey + oldID, pre + sessionKey + next.SessionID, pre + tokenKey + nextID, expectKey, pre + dueKey, pre + boundKey},
		tokenKey+oldID, expectField, nextID, next.SessionID, next.UserID, micro(next.IssuedAt), micro(next.ExpiresAt),
		expiry(next.ExpiresAt, s.cfg.margin), pre, keptTokens,
	).Slice()
	if err != nil {
		return false, wrap(op, err)
	}
	code, bound, err := codeBound(vals)
	if err != nil {
		return false, wrap(op, err)
	}
	switch code {
	case 0:
		return false, nil
	case 1:
		// The swap is done: whatever happens to the purge index now, the
		// caller must learn that it succeeded.
		s.confirm(ctx, route, bound)
		return true, nil
	case 2:
		return false, fmt.Errorf("%w: rotation into a token of session %q and user %q", errOtherSession, next.SessionID, next.UserID)
	case 3:
		return false, errTokenExists
	}
	return false, wrap(op, errReply)
}

// RevokeSession marks the session sessionID of userID revoked at the time
// at, unless it is already revoked, as [authstore.RefreshStore] requires. A
// session of another user is not found. The session and its tokens stay
// until Purge deletes them or Redis expires them.
func (s *Store) RevokeSession(ctx context.Context, userID, sessionID string, at time.Time) (found bool, err error) {
	const op = "revoke session"
	if err := ctx.Err(); err != nil {
		return false, wrap(op, err)
	}
	if at.IsZero() {
		return false, errZeroTime
	}
	route := authstore.RouteFor(userID)
	pre := s.cfg.routePrefix(route)
	if err := s.announce(ctx, route, "0"); err != nil {
		return false, wrap(op, err)
	}
	vals, err := revokeSessionScript.Run(ctx, s.rdb,
		[]string{pre + sessionKey + sessionID, pre + dueKey, pre + boundKey},
		sessionID, userID, micro(at),
	).Slice()
	if err != nil {
		return false, wrap(op, err)
	}
	n, bound, err := codeBound(vals)
	if err != nil {
		return false, wrap(op, err)
	}
	s.confirm(ctx, route, bound)
	return n == 1, nil
}

// revokeBatch is how many sessions one script of [Store.RevokeUser]
// revokes at most.
const revokeBatch = 100

// RevokeUser marks every session of userID that is live at the time at
// revoked at that time, and returns how many it revoked, as
// [authstore.RefreshStore] requires. It walks the user's session list with
// ZSCAN, which returns every session that stays in the list throughout the
// walk, and revokes each batch of up to 100 sessions with one script, so
// that no script runs for longer than 100 sessions take however many the
// user has; other clients' commands run between the batches. A session
// that ZSCAN returns twice is revoked and counted once. On an error the
// batches done so far stay revoked.
func (s *Store) RevokeUser(ctx context.Context, userID string, at time.Time) (int, error) {
	const op = "revoke user"
	if err := ctx.Err(); err != nil {
		return 0, wrap(op, err)
	}
	if at.IsZero() {
		return 0, errZeroTime
	}
	route := authstore.RouteFor(userID)
	pre := s.cfg.routePrefix(route)
	if err := s.announce(ctx, route, "0"); err != nil {
		return 0, wrap(op, err)
	}
	keys := []string{pre + sessionsKey, pre + dueKey, pre + boundKey}
	total := 0
	var cursor uint64
	for {
		if err := ctx.Err(); err != nil {
			return total, wrap(op, err)
		}
		page, next, err := s.rdb.ZScan(ctx, pre+sessionsKey, cursor, "", revokeBatch).Result()
		if err != nil {
			return total, wrap(op, err)
		}
		// page alternates members and scores; ZSCAN may return more than
		// the count asked for.
		ids := make([]any, 0, len(page)/2)
		for i := 0; i < len(page); i += 2 {
			ids = append(ids, page[i])
		}
		for len(ids) > 0 {
			batch := ids[:min(len(ids), revokeBatch)]
			ids = ids[len(batch):]
			vals, err := revokeUserScript.Run(ctx, s.rdb, keys, append([]any{pre, userID, micro(at)}, batch...)...).Slice()
			if err != nil {
				return total, wrap(op, err)
			}
			n, bound, err := codeBound(vals)
			if err != nil {
				return total, wrap(op, err)
			}
			s.confirm(ctx, route, bound)
			total += int(n)
		}
		if next == 0 {
			return total, nil
		}
		cursor = next
	}
}

// Sessions returns the sessions of userID that are live at now, newest
// (latest CreatedAt) first, as [authstore.RefreshStore] requires; sessions
// created at the same instant come in the order of their ids. It reads the
// user's sessions in one script.
func (s *Store) Sessions(ctx context.Context, userID string, now time.Time) ([]authstore.Session, error) {
	const op = "sessions"
	if err := ctx.Err(); err != nil {
		return nil, wrap(op, err)
	}
	pre := s.cfg.routePrefix(authstore.RouteFor(userID))
	vals, err := sessionsScript.Run(ctx, s.rdb, []string{pre + sessionsKey}, pre, userID, strconv.FormatInt(now.UnixMicro(), 10)).Slice()
	if err != nil {
		return nil, wrap(op, err)
	}
	if len(vals)%6 != 0 {
		return nil, wrap(op, errReply)
	}
	list := make([]authstore.Session, 0, len(vals)/6)
	for i := 0; i < len(vals); i += 6 {
		f, ok := stringVals(vals[i:i+6], 6)
		if !ok {
			return nil, wrap(op, errReply)
		}
		sess := authstore.Session{ID: f[0], UserID: userID, UserAgent: f[4], Address: f[5]}
		if !parseTimes(timeField{f[1], &sess.CreatedAt}, timeField{f[2], &sess.ExpiresAt}, timeField{f[3], &sess.RefreshedAt}) {
			return nil, wrap(op, errReply)
		}
		list = append(list, sess)
	}
	slices.SortFunc(list, func(a, b authstore.Session) int {
		return cmp.Or(b.CreatedAt.Compare(a.CreatedAt), cmp.Compare(a.ID, b.ID))
	})
	return list, nil
}

// stringVals returns vals, which must be n strings, as strings.
func stringVals(vals []any, n int) ([]string, bool) {
	if len(vals) != n {
		return nil, false
	}
	out := make([]string, n)
	for i, v := range vals {
		s, ok := v.(string)
		if !ok {
			return nil, false
		}
		out[i] = s
	}
	return out, true
}

// timeField is a stored time and where to parse it to.
type timeField struct {
	s string
	t *time.Time
}

// parseTimes parses every field; it reports whether all were well-formed.
func parseTimes(fields ...timeField) bool {
	for _, f := range fields {
		t, ok := parseMicro(f.s)
		if !ok {
			return false
		}
		*f.t = t
	}
	return true
}

// codeBound reads the {code, bound} reply of a script.
func codeBound(vals []any) (int64, string, error) {
	if len(vals) != 2 {
		return 0, "", errReply
	}
	code, ok := vals[0].(int64)
	bound, ok2 := vals[1].(string)
	if !ok || !ok2 {
		return 0, "", errReply
	}
	return code, bound, nil
}
