package sqlstore

import (
	"context"
	"errors"

	"github.com/jwtkit/auth/authstore"
)

var _ authstore.KeyStore = (*Store)(nil)

// Errors of AddKey calls that break its preconditions.
var (
	errBadKey    = errors.New("key record without an id, an algorithm, a sealed key or a generation of at least 1")
	errKeyStored = errors.New("key id already stored")
)

// AddKey stores the signing key rec, as [authstore.KeyStore] requires: one
// INSERT ... ON CONFLICT (generation) DO NOTHING into the signing keys
// table, whose count of affected rows tells whether rec was added. Of
// concurrent calls for one generation the primary key lets exactly one
// insert its row; the others return false with a nil error. It returns an
// error, and stores nothing, when rec.ID, rec.Algorithm or rec.Sealed is
// empty or rec.Generation is below 1 (checked before any query), and when
// a key of rec.ID is stored already: the UNIQUE constraint on kid fails the
// INSERT, and when the generation is taken, so that the INSERT skipped the
// row without checking kid, a second query looks for the id. The times are
// kept to the microsecond, and Sealed byte for byte.
func (s *Store) AddKey(ctx context.Context, rec authstore.KeyRecord) (bool, error) {
	const op = "add key"
	if err := ctx.Err(); err != nil {
		return false, fail(ctx, op, err)
	}
	if rec.ID == "" || rec.Algorithm == "" || len(rec.Sealed) == 0 || rec.Generation < 1 {
		return false, fail(ctx, op, errBadKey)
	}
	d := s.dialect
	res, err := s.db.ExecContext(ctx, s.q.addKey,
		rec.Generation, rec.ID, rec.Algorithm, rec.Sealed, d.timeArg(rec.CreatedAt), d.timeArg(rec.ActiveAt))
	if err != nil {
		return false, fail(ctx, op, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fail(ctx, op, err)
	}
	if n == 1 {
		return true, nil
	}
	// The generation is taken. Another instance adding the next key is the
	// common case; the same id stored already is an error all the same.
	var stored bool
	if err := s.db.QueryRowContext(ctx, s.q.keyIDStored, rec.ID).Scan(&stored); err != nil {
		return false, fail(ctx, op, err)
	}
	if stored {
		return false, fail(ctx, op, errKeyStored)
	}
	return false, nil
}

// Keys returns every stored signing key, lowest Generation first, in one
// query, as [authstore.KeyStore] requires. Times come back in UTC.
func (s *Store) Keys(ctx context.Context) ([]authstore.KeyRecord, error) {
	const op = "keys"
	if err := ctx.Err(); err != nil {
		return nil, fail(ctx, op, err)
	}
	rows, err := s.db.QueryContext(ctx, s.q.keys)
	if err != nil {
		return nil, fail(ctx, op, err)
	}
	defer rows.Close()
	var out []authstore.KeyRecord
	for rows.Next() {
		var r authstore.KeyRecord
		if err := rows.Scan(&r.Generation, &r.ID, &r.Algorithm, &r.Sealed, timeCol{&r.CreatedAt}, timeCol{&r.ActiveAt}); err != nil {
			return nil, fail(ctx, op, err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fail(ctx, op, err)
	}
	return out, nil
}

// DeleteKeys deletes every signing key whose Generation is below
// generation, in one statement, and returns how many it deleted, as
// [authstore.KeyStore] requires.
func (s *Store) DeleteKeys(ctx context.Context, generation int64) (int, error) {
	const op = "delete keys"
	if err := ctx.Err(); err != nil {
		return 0, fail(ctx, op, err)
	}
	res, err := s.db.ExecContext(ctx, s.q.deleteKeys, generation)
	if err != nil {
		return 0, fail(ctx, op, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fail(ctx, op, err)
	}
	return int(n), nil
}
