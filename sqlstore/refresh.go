package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/jwtkit/auth"
)

var (
	errZeroHash = errors.New("sqlstore: zero token hash")
	// errMismatch reports a rotation into a token of another family or
	// user than old's; nothing was written.
	errMismatch = errors.New("sqlstore: rotation into another family")
)

// CreateFamily stores fam and its first token rec in one transaction, as
// [auth.RefreshStore] requires. It returns an error, and stores nothing,
// when rec does not belong to fam, when rec's hash is zero, or when the
// family id or the token hash is already stored under the user's routing
// key (the database refuses the duplicate). The store keeps any number of
// families per user; [Store.Purge] deletes them once they end.
func (s *Store) CreateFamily(ctx context.Context, fam auth.Family, rec auth.RefreshRecord) error {
	if err := ctx.Err(); err != nil {
		return fail(ctx, "create family", err)
	}
	if rec.FamilyID != fam.ID || rec.UserID != fam.UserID {
		return fmt.Errorf("sqlstore: create family: token of family %q and user %q created with family %q of user %q",
			rec.FamilyID, rec.UserID, fam.ID, fam.UserID)
	}
	if rec.Hash == (auth.TokenHash{}) {
		return fmt.Errorf("sqlstore: create family: %w", errZeroHash)
	}
	d := s.dialect
	route := auth.RouteFor(fam.UserID)
	famArgs := []any{route, fam.ID, fam.UserID, d.timeArg(fam.CreatedAt), d.timeArg(fam.ExpiresAt),
		d.timeArg(fam.RefreshedAt), d.nullTimeArg(fam.RevokedAt), fam.UserAgent, fam.Address}
	tokArgs := []any{rec.Hash[:], d.timeArg(rec.IssuedAt), d.timeArg(rec.ExpiresAt),
		d.nullTimeArg(rec.UsedAt), nullHash(rec.Successor)}
	if d == Postgres {
		if _, err := s.db.ExecContext(ctx, s.q.createFamily, append(famArgs, tokArgs...)...); err != nil {
			return fail(ctx, "create family", err)
		}
		return nil
	}
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, s.q.insertFamily, famArgs...); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, s.q.insertToken, append([]any{route, rec.Hash[:], fam.ID}, tokArgs[1:]...)...)
		return err
	})
	if err != nil {
		return fail(ctx, "create family", err)
	}
	return nil
}

// Lookup returns the token with hash h stored under route and its family,
// in one query, as [auth.RefreshStore] requires. found is false when there
// is no such token under route or its family is gone.
func (s *Store) Lookup(ctx context.Context, route string, h auth.TokenHash) (rec auth.RefreshRecord, fam auth.Family, found bool, err error) {
	if err := ctx.Err(); err != nil {
		return rec, fam, false, fail(ctx, "lookup", err)
	}
	err = s.db.QueryRowContext(ctx, s.q.lookup, route, h[:]).Scan(
		&rec.FamilyID, &rec.UserID, timeCol{&rec.IssuedAt}, timeCol{&rec.ExpiresAt}, timeCol{&rec.UsedAt}, hashCol{&rec.Successor},
		timeCol{&fam.CreatedAt}, timeCol{&fam.ExpiresAt}, timeCol{&fam.RefreshedAt}, timeCol{&fam.RevokedAt}, &fam.UserAgent, &fam.Address)
	if errors.Is(err, sql.ErrNoRows) {
		return auth.RefreshRecord{}, auth.Family{}, false, nil
	}
	if err != nil {
		return auth.RefreshRecord{}, auth.Family{}, false, fail(ctx, "lookup", err)
	}
	rec.Hash = h
	fam.ID, fam.UserID = rec.FamilyID, rec.UserID
	return rec, fam, true, nil
}

// Rotate replaces old by next in one atomic step, as [auth.RefreshStore]
// requires. On PostgreSQL it is one statement that locks the family row,
// then old (and expect), FOR UPDATE, and writes only if the checks still
// hold once it has the locks; on SQLite it is a transaction that starts
// with the conditional update of old, which takes the database's write
// lock. Either way, of concurrent rotations of one token exactly one
// succeeds. It returns false, changing nothing, when a check fails. When
// every check passes but next belongs to another family or user, or its
// hash is zero or already stored, the call is a caller's bug: Rotate
// returns an error and changes nothing.
func (s *Store) Rotate(ctx context.Context, route string, old, expect auth.TokenHash, next auth.RefreshRecord) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, fail(ctx, "rotate", err)
	}
	if next.Hash == (auth.TokenHash{}) {
		return false, fmt.Errorf("sqlstore: rotate: %w", errZeroHash)
	}
	grace := expect != auth.TokenHash{}
	var (
		familyID, userID string
		err              error
	)
	if s.dialect == Postgres {
		familyID, userID, err = s.rotatePostgres(ctx, route, old, expect, grace, next)
	} else {
		familyID, userID, err = s.rotateSQLite(ctx, route, old, expect, grace, next)
	}
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return false, nil
	case errors.Is(err, errMismatch):
		return false, fmt.Errorf("sqlstore: rotate: a token of family %q and user %q into a token of family %q and user %q",
			familyID, userID, next.FamilyID, next.UserID)
	case err != nil:
		return false, fail(ctx, "rotate", err)
	}
	return true, nil
}

func (s *Store) rotatePostgres(ctx context.Context, route string, old, expect auth.TokenHash, grace bool, next auth.RefreshRecord) (familyID, userID string, err error) {
	d := s.dialect
	args := []any{route, old[:], next.FamilyID, next.UserID, d.timeArg(next.IssuedAt), next.Hash[:], d.timeArg(next.ExpiresAt)}
	query := s.q.rotate
	if grace {
		query = s.q.rotateGrace
		args = append(args, expect[:])
	}
	if err := s.db.QueryRowContext(ctx, query, args...).Scan(&familyID, &userID); err != nil {
		return "", "", err
	}
	if familyID != next.FamilyID || userID != next.UserID {
		return familyID, userID, errMismatch // the statement wrote nothing
	}
	return familyID, userID, nil
}

func (s *Store) rotateSQLite(ctx context.Context, route string, old, expect auth.TokenHash, grace bool, next auth.RefreshRecord) (familyID, userID string, err error) {
	d := s.dialect
	issued := d.timeArg(next.IssuedAt)
	err = s.inTx(ctx, func(tx *sql.Tx) error {
		var row *sql.Row
		if grace {
			row = tx.QueryRowContext(ctx, s.q.claimOldGrace, issued, next.Hash[:], route, old[:], expect[:])
		} else {
			row = tx.QueryRowContext(ctx, s.q.claimOld, issued, next.Hash[:], route, old[:])
		}
		if err := row.Scan(&familyID, &userID); err != nil {
			return err
		}
		if familyID != next.FamilyID || userID != next.UserID {
			return errMismatch
		}
		if grace {
			if _, err := tx.ExecContext(ctx, s.q.supersede, issued, route, expect[:]); err != nil {
				return err
			}
		}
		if _, err := tx.ExecContext(ctx, s.q.insertToken, route, next.Hash[:], familyID, issued, d.timeArg(next.ExpiresAt), nil, nil); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, s.q.touchFamily, issued, route, familyID)
		return err
	})
	return familyID, userID, err
}

// RevokeFamily marks the family familyID of userID revoked at the time at
// unless it is already revoked, as [auth.RefreshStore] requires. A family
// of another user is not found.
func (s *Store) RevokeFamily(ctx context.Context, userID, familyID string, at time.Time) (found bool, err error) {
	if err := ctx.Err(); err != nil {
		return false, fail(ctx, "revoke family", err)
	}
	res, err := s.db.ExecContext(ctx, s.q.revokeFamily, s.dialect.timeArg(at), auth.RouteFor(userID), userID, familyID)
	if err != nil {
		return false, fail(ctx, "revoke family", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fail(ctx, "revoke family", err)
	}
	return n > 0, nil
}

// RevokeUser marks every family of userID that is live at the time at
// revoked at that time, in one statement, and returns how many it revoked,
// as [auth.RefreshStore] requires.
func (s *Store) RevokeUser(ctx context.Context, userID string, at time.Time) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, fail(ctx, "revoke user", err)
	}
	res, err := s.db.ExecContext(ctx, s.q.revokeUser, s.dialect.timeArg(at), auth.RouteFor(userID), userID)
	if err != nil {
		return 0, fail(ctx, "revoke user", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fail(ctx, "revoke user", err)
	}
	return int(n), nil
}

// Families returns the families of userID that are live at now, newest
// CreatedAt first (then by id), as [auth.RefreshStore] requires.
func (s *Store) Families(ctx context.Context, userID string, now time.Time) ([]auth.Family, error) {
	if err := ctx.Err(); err != nil {
		return nil, fail(ctx, "families", err)
	}
	rows, err := s.db.QueryContext(ctx, s.q.families, auth.RouteFor(userID), userID, s.dialect.timeArg(now))
	if err != nil {
		return nil, fail(ctx, "families", err)
	}
	defer rows.Close()
	var fams []auth.Family
	for rows.Next() {
		f := auth.Family{UserID: userID}
		if err := rows.Scan(&f.ID, timeCol{&f.CreatedAt}, timeCol{&f.ExpiresAt}, timeCol{&f.RefreshedAt}, &f.UserAgent, &f.Address); err != nil {
			return nil, fail(ctx, "families", err)
		}
		fams = append(fams, f)
	}
	if err := rows.Err(); err != nil {
		return nil, fail(ctx, "families", err)
	}
	return fams, nil
}

// inTx runs f in a transaction and commits it when f returns nil.
func (s *Store) inTx(ctx context.Context, f func(*sql.Tx) error) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := f(tx); err != nil {
		tx.Rollback() //nolint:errcheck // f's error is the one to report
		return err
	}
	return tx.Commit()
}

// hashCol scans a hash column into h; NULL scans as the zero hash.
type hashCol struct{ h *auth.TokenHash }

func (c hashCol) Scan(src any) error {
	switch v := src.(type) {
	case nil:
		*c.h = auth.TokenHash{}
	case []byte:
		if len(v) != len(c.h) {
			return fmt.Errorf("sqlstore: hash column holds %d bytes; want %d", len(v), len(c.h))
		}
		copy(c.h[:], v)
	default:
		return fmt.Errorf("sqlstore: hash column holds a %T", src)
	}
	return nil
}

// nullHash returns h as a column value, the zero hash as NULL.
func nullHash(h auth.TokenHash) any {
	if h == (auth.TokenHash{}) {
		return nil
	}
	return h[:]
}
