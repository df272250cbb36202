package sqlstore

import (
	"context"
	"fmt"
	"time"

	"github.com/jwtkit/auth"
)

// Purge deletes at most limit items that can never be honoured again and
// returns how many it deleted, as [auth.RefreshStore] requires. In order,
// an item is: a family whose ExpiresAt is at or before now, then a revoked
// family, each deleted with all its tokens and counted once; a token whose
// ExpiresAt is at or before now; a denied access token whose exp is
// [auth.MaxLeeway] or more before now; a cutoff older than
// [auth.MaxAccessTTL] plus [auth.MaxLeeway] (no token it refuses can still
// be accepted then). Each kind is one DELETE of at most the remaining
// limit, oldest first along an index, a statement and transaction of its
// own, so one call holds its locks for one batch only; on PostgreSQL rows
// that a concurrent operation holds are skipped and left for the next
// call. It returns less than limit only when nothing purgeable (and
// unlocked) is left, so callers loop until then, as [auth.Auth.Purge]
// does. limit must be at least 1.
//
// The store deletes nothing by itself: run [auth.Auth.Purge] periodically.
// A store that serves as the [auth.RevocationStore] only is not the one
// [auth.Auth.Purge] purges: call Purge on it directly.
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
		{"expired families", s.q.purgeExpiredFamilies, d.timeArg(now)},
		{"revoked families", s.q.purgeRevokedFamilies, nil},
		{"tokens", s.q.purgeTokens, d.timeArg(now)},
		{"denied tokens", s.q.purgeDenied, d.timeArg(now.Add(-auth.MaxLeeway))},
		{"cutoffs", s.q.purgeCutoffs, d.timeArg(now.Add(-auth.MaxAccessTTL - auth.MaxLeeway))},
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
