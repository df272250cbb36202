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

	"github.com/jwtkit/auth"
)

// Store is an [auth.RefreshStore] and an [auth.RevocationStore] kept in
// Redis, a single server or a Redis Cluster: every operation on a user's
// data runs in the hash slot of the user's routing key (see the package
// documentation). It is safe for concurrent use, and any number of
// instances may share one Redis. The zero value is not usable; call [New].
type Store struct {
	rdb      redis.UniversalClient
	cfg      config
	purgeKey string // the purge index

	// afterPurgeScripts, when set (by tests only), runs in Purge between
	// the route scripts and the update of the purge index.
	afterPurgeScripts func()
}

var (
	_ auth.RefreshStore    = (*Store)(nil)
	_ auth.RevocationStore = (*Store)(nil)
)

// Errors for calls that break a precondition of [auth.RefreshStore].
var (
	errFamilyExists = errors.New("redisstore: family id already exists")
	errTokenExists  = errors.New("redisstore: token hash already exists")
	errZeroHash     = errors.New("redisstore: zero token hash")
	errOtherFamily  = errors.New("redisstore: token of another family or user")
	errZeroTime     = errors.New("redisstore: zero time")
	errReply        = errors.New("redisstore: unexpected reply from redis")
)

// New returns a Store that keeps its data in the Redis that client reaches:
// a *redis.Client, a *redis.ClusterClient, or any other
// [redis.UniversalClient]. It needs Redis 7.0 or later (or a compatible
// server) for PEXPIRETIME. New sends nothing to Redis; closing client is
// the caller's business.
func New(client redis.UniversalClient, opts ...Option) (*Store, error) {
	if client == nil {
		return nil, fmt.Errorf("%w: redisstore: nil redis client", auth.ErrConfig)
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

// CreateFamily stores fam and its first token rec in one script, as
// [auth.RefreshStore] requires. It returns an error, and stores nothing,
// when rec does not belong to fam, when a time it needs is zero, or when the
// family id or the token hash is already stored under the user's routing
// key. Taking fam.CreatedAt as the current time, it keeps the user within
// the cap of [WithMaxFamiliesPerUser]. Redis deletes the family and the
// token by itself once they are past their ExpiresAt by the expiry margin
// ([WithExpiryMargin]).
//
// Before the script, CreateFamily registers the user's routing key in the
// purge index, so that an error means that nothing was stored.
func (s *Store) CreateFamily(ctx context.Context, fam auth.Family, rec auth.RefreshRecord) error {
	const op = "create family"
	if err := ctx.Err(); err != nil {
		return wrap(op, err)
	}
	switch {
	case rec.FamilyID != fam.ID || rec.UserID != fam.UserID:
		return fmt.Errorf("%w: token of family %q and user %q created with family %q of user %q",
			errOtherFamily, rec.FamilyID, rec.UserID, fam.ID, fam.UserID)
	case rec.Hash == auth.TokenHash{}:
		return errZeroHash
	case fam.CreatedAt.IsZero() || fam.ExpiresAt.IsZero() || rec.IssuedAt.IsZero() || rec.ExpiresAt.IsZero():
		return fmt.Errorf("%w: a family needs CreatedAt and ExpiresAt, a token IssuedAt and ExpiresAt", errZeroTime)
	}
	route := auth.RouteFor(fam.UserID)
	pre := s.cfg.routePrefix(route)
	id := tokenID(rec.Hash)

	// The family is due for purging at its ExpiresAt, or at once when
	// revoked; the token at its ExpiresAt.
	famDue := fam.ExpiresAt.UnixMicro()
	if !fam.RevokedAt.IsZero() {
		famDue = 0
	}
	first := strconv.FormatInt(min(famDue, rec.ExpiresAt.UnixMicro()), 10)
	if err := s.announce(ctx, route, first); err != nil {
		return wrap(op, err)
	}
	last := fam.ExpiresAt
	if rec.ExpiresAt.After(last) {
		last = rec.ExpiresAt
	}
	vals, err := createScript.Run(ctx, s.rdb,
		[]string{pre + familyKey + fam.ID, pre + tokenKey + id, pre + familiesKey, pre + dueKey, pre + boundKey},
		pre, fam.ID, fam.UserID, micro(fam.CreatedAt), micro(fam.ExpiresAt), micro(fam.RefreshedAt),
		micro(fam.RevokedAt), fam.UserAgent, fam.Address,
		id, tokenRecord(rec), micro(rec.ExpiresAt),
		expiry(fam.ExpiresAt, s.cfg.margin), expiry(rec.ExpiresAt, s.cfg.margin), s.cfg.maxFamilies,
		strconv.FormatInt(famDue, 10), expiry(last, s.cfg.margin),
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
		return fmt.Errorf("%w: %q", errFamilyExists, fam.ID)
	case 2:
		return errTokenExists
	default:
		return wrap(op, errReply)
	}
	s.confirm(ctx, route, bound)
	return nil
}

// Lookup returns the token with hash h under route and its family in one
// script, as [auth.RefreshStore] requires: expired, used and revoked
// records come back as they are, until Purge deletes them or Redis expires
// them, the expiry margin after their ExpiresAt. found is false when route
// is not a routing key, or holds no such token, or the token's family is
// gone.
func (s *Store) Lookup(ctx context.Context, route string, h auth.TokenHash) (rec auth.RefreshRecord, fam auth.Family, found bool, err error) {
	if err := ctx.Err(); err != nil {
		return rec, fam, false, wrap("lookup", err)
	}
	if !validRoute(route) || h == (auth.TokenHash{}) {
		return rec, fam, false, nil
	}
	pre := s.cfg.routePrefix(route)
	id := tokenID(h)
	vals, err := lookupScript.Run(ctx, s.rdb, []string{pre + tokenKey + id}, pre, tokenKey+id).Slice()
	if err != nil {
		return rec, fam, false, wrap("lookup", err)
	}
	if len(vals) == 0 {
		return rec, fam, false, nil
	}
	f, ok := stringVals(vals, 9)
	if !ok {
		return rec, fam, false, wrap("lookup", errReply)
	}
	rec = auth.RefreshRecord{Hash: h, FamilyID: f[0], UserID: f[2]}
	fam = auth.Family{ID: f[0], UserID: f[2], UserAgent: f[7], Address: f[8]}
	ok = parseTokenRecord(f[1], &rec) && parseTimes(
		timeField{f[3], &fam.CreatedAt}, timeField{f[4], &fam.ExpiresAt}, timeField{f[5], &fam.RefreshedAt},
		timeField{f[6], &fam.RevokedAt},
	)
	if !ok {
		return auth.RefreshRecord{}, auth.Family{}, false, wrap("lookup", errReply)
	}
	return rec, fam, true, nil
}

// Rotate is the compare-and-swap of [auth.RefreshStore], one script in the
// slot of route. It returns false, changing nothing, when old is not stored
// under route, when its family is gone or revoked, when old's Successor is
// not expect, when expect is zero and old is used, or when expect is not
// zero and is not a stored, unused token of old's family. A next of another
// family or user than old, with a zero hash or a zero time, or whose hash is
// already stored, is a caller's bug: Rotate returns an error and changes
// nothing.
func (s *Store) Rotate(ctx context.Context, route string, old, expect auth.TokenHash, next auth.RefreshRecord) (bool, error) {
	const op = "rotate"
	if err := ctx.Err(); err != nil {
		return false, wrap(op, err)
	}
	switch {
	case next.Hash == auth.TokenHash{}:
		return false, errZeroHash
	case next.IssuedAt.IsZero() || next.ExpiresAt.IsZero():
		return false, fmt.Errorf("%w: a token needs IssuedAt and ExpiresAt", errZeroTime)
	}
	if !validRoute(route) || old == (auth.TokenHash{}) {
		return false, nil
	}
	pre := s.cfg.routePrefix(route)
	oldID, expectField, expectKey := tokenID(old), "", ""
	if expect != (auth.TokenHash{}) {
		expectField = tokenKey + tokenID(expect)
		expectKey = pre + expectField
	} else {
		expectKey = pre + tokenKey + oldID
	}
	nextID := tokenID(next.Hash)
	vals, err := rotateScript.Run(ctx, s.rdb,
		[]string{pre + tokenKey + oldID, pre + familyKey + next.FamilyID, pre + tokenKey + nextID, expectKey, pre + dueKey, pre + boundKey},
		tokenKey+oldID, expectField, nextID, next.FamilyID, next.UserID, micro(next.IssuedAt), micro(next.ExpiresAt),
		expiry(next.ExpiresAt, s.cfg.margin),
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
		return false, fmt.Errorf("%w: rotation into a token of family %q and user %q", errOtherFamily, next.FamilyID, next.UserID)
	case 3:
		return false, errTokenExists
	}
	return false, wrap(op, errReply)
}

// RevokeFamily marks the family familyID of userID revoked at the time at,
// unless it is already revoked, as [auth.RefreshStore] requires. A family of
// another user is not found. The family and its tokens stay until Purge
// deletes them or Redis expires them.
func (s *Store) RevokeFamily(ctx context.Context, userID, familyID string, at time.Time) (found bool, err error) {
	const op = "revoke family"
	if err := ctx.Err(); err != nil {
		return false, wrap(op, err)
	}
	if at.IsZero() {
		return false, errZeroTime
	}
	route := auth.RouteFor(userID)
	pre := s.cfg.routePrefix(route)
	if err := s.announce(ctx, route, "0"); err != nil {
		return false, wrap(op, err)
	}
	vals, err := revokeFamilyScript.Run(ctx, s.rdb,
		[]string{pre + familyKey + familyID, pre + dueKey, pre + boundKey},
		familyID, userID, micro(at),
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

// RevokeUser marks every family of userID that is live at the time at
// revoked at that time, in one script, and returns how many it revoked, as
// [auth.RefreshStore] requires.
func (s *Store) RevokeUser(ctx context.Context, userID string, at time.Time) (int, error) {
	const op = "revoke user"
	if err := ctx.Err(); err != nil {
		return 0, wrap(op, err)
	}
	if at.IsZero() {
		return 0, errZeroTime
	}
	route := auth.RouteFor(userID)
	pre := s.cfg.routePrefix(route)
	if err := s.announce(ctx, route, "0"); err != nil {
		return 0, wrap(op, err)
	}
	vals, err := revokeUserScript.Run(ctx, s.rdb,
		[]string{pre + familiesKey, pre + dueKey, pre + boundKey},
		pre, userID, micro(at),
	).Slice()
	if err != nil {
		return 0, wrap(op, err)
	}
	n, bound, err := codeBound(vals)
	if err != nil {
		return 0, wrap(op, err)
	}
	s.confirm(ctx, route, bound)
	return int(n), nil
}

// Families returns the families of userID that are live at now, newest
// (latest CreatedAt) first, as [auth.RefreshStore] requires; families
// created at the same instant come in the order of their ids. It reads the
// user's families in one script.
func (s *Store) Families(ctx context.Context, userID string, now time.Time) ([]auth.Family, error) {
	const op = "families"
	if err := ctx.Err(); err != nil {
		return nil, wrap(op, err)
	}
	pre := s.cfg.routePrefix(auth.RouteFor(userID))
	vals, err := familiesScript.Run(ctx, s.rdb, []string{pre + familiesKey}, pre, userID, strconv.FormatInt(now.UnixMicro(), 10)).Slice()
	if err != nil {
		return nil, wrap(op, err)
	}
	if len(vals)%6 != 0 {
		return nil, wrap(op, errReply)
	}
	fams := make([]auth.Family, 0, len(vals)/6)
	for i := 0; i < len(vals); i += 6 {
		f, ok := stringVals(vals[i:i+6], 6)
		if !ok {
			return nil, wrap(op, errReply)
		}
		fam := auth.Family{ID: f[0], UserID: userID, UserAgent: f[4], Address: f[5]}
		if !parseTimes(timeField{f[1], &fam.CreatedAt}, timeField{f[2], &fam.ExpiresAt}, timeField{f[3], &fam.RefreshedAt}) {
			return nil, wrap(op, errReply)
		}
		fams = append(fams, fam)
	}
	slices.SortFunc(fams, func(a, b auth.Family) int {
		return cmp.Or(b.CreatedAt.Compare(a.CreatedAt), cmp.Compare(a.ID, b.ID))
	})
	return fams, nil
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
