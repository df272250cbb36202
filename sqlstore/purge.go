package sqlstore

import (
	"context"
	"fmt"
	"time"

	"github.com/jwtkit/auth/authstore"
)

// Purge deletes at most limit items that can never be honoured again and
// returns how many it deleted, as [authstore.RefreshStore],
// [authstore.RevocationStore] and [authstore.OneTimeStore] require: one
// Purge serves all three. In order, an item is: a session whose ExpiresAt
// is at or before now, then a revoked session, each deleted with all its
// tokens and counted once; a token whose ExpiresAt is at or before now; a
// denied access token whose exp is [authstore.MaxLeeway] or more before
// now; a cutoff older than [authstore.MaxAccessTTL] plus
// [authstore.MaxLeeway] (no token it refuses can still be accepted then);
// a one-time token whose ExpiresAt is at or before now (no call can
// consume it any more). Each kind is one DELETE of at most the
// remaining limit, oldest first along an index, a statement and
// transaction of its own, so one call holds its locks for one batch only;
// on PostgreSQL rows that a concurrent operation holds are skipped and left
// for the next call. It returns less than limit only when nothing
// purgeable (and unlocked) is left, so callers loop until then. limit must
// be at least 1.
//
// The store deletes nothing by itself: call Purge periodically, in a loop
// until it returns less than its limit, as Auth.Purge of package
// github.com/jwtkit/auth does.
func (s *Store) Purge(ctx context.Context, now time.Time, limit int) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, fail(ctx, "purge", err)
	}
	if limit < 1 {
		return 0, fmt.Errorf("sqlstore: purge limit %d; want at least 1", limit)
	}
	d := s.dialect
	steps := []struct {
		what, query string
		before      any // the time before which an item is purgeable, or nil
	}{
		{"expired sessions", s.q.purgeExpiredSessions, d.timeArg(now)},
		{"revoked sessions", s.q.purgeRevokedSessions, nil},
		{"tokens", s.q.purgeTokens, d.timeArg(now)},
		{"denied tokens", s.q.purgeDenied, d.timeArg(now.Add(-authstore.MaxLeeway))},
		{"cutoffs", s.q.purgeCutoffs, d.timeArg(now.Add(-authstore.MaxAccessTTL - authstore.MaxLeeway))},
		{"one-time tokens", s.q.purgeOneTime, d.timeArg(now)},
	}
	n := 0
	for _, st := range steps {
		if n == limit {
			break
		}
		args := []any{st.before, limit - n}
		if st.before == nil {
			args = args[1:]
		}
		res, err := s.db.ExecContext(ctx, st.query, args...)
		if err != nil {
			return n, fail(ctx, "purge "+st.what, err)
		}
		k, err := res.RowsAffected()
		if err != nil {
			return n, fail(ctx, "purge "+st.what, err)
		}
		n += int(k)
	}
	return n, nil
}
