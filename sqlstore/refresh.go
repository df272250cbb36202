package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/jwtkit/auth/authstore"
)

var (
	errZeroHash = errors.New("sqlstore: zero token hash")
	// errMismatch reports a rotation into a token of another session or
	// user than old's; nothing was written.
	errMismatch = errors.New("sqlstore: rotation into another session")
)

// CreateSession stores sess and its first token rec in one transaction, as
// [authstore.RefreshStore] requires. It returns an error, and stores
// nothing, when rec does not belong to sess, when rec's hash is zero, or
// when the session id or the token hash is already stored under the user's
// routing key (the database refuses the duplicate). The store keeps any
// number of sessions per user; [Store.Purge] deletes them once they end.
// The first token is the session's token number 0 (the seq column), and
// each rotation numbers its new token one more than the session's newest.
func (s *Store) CreateSession(ctx context.Context, sess authstore.Session, rec authstore.RefreshRecord) error {
	if err := ctx.Err(); err != nil {
		return fail(ctx, "create session", err)
	}
	if rec.SessionID != sess.ID || rec.UserID != sess.UserID {
		return fmt.Errorf("sqlstore: create session: token of session %q and user %q created with session %q of user %q",
			rec.SessionID, rec.UserID, sess.ID, sess.UserID)
	}
	if rec.Hash == (authstore.TokenHash{}) {
		return fmt.Errorf("sqlstore: create session: %w", errZeroHash)
	}
	d := s.dialect
	route := authstore.RouteFor(sess.UserID)
	sessArgs := []any{route, sess.ID, sess.UserID, d.timeArg(sess.CreatedAt), d.timeArg(sess.ExpiresAt),
		d.timeArg(sess.RefreshedAt), d.nullTimeArg(sess.RevokedAt), sess.UserAgent, sess.Address}
	tokArgs := []any{rec.Hash[:], d.timeArg(rec.IssuedAt), d.timeArg(rec.ExpiresAt),
		d.nullTimeArg(rec.UsedAt), nullHash(rec.Successor)}
	if d == Postgres {
		if _, err := s.db.ExecContext(ctx, s.q.createSession, append(sessArgs, tokArgs...)...); err != nil {
			return fail(ctx, "create session", err)
		}
		return nil
	}
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, s.q.insertSession, sessArgs...); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, s.q.insertToken, append(append([]any{route, rec.Hash[:], sess.ID}, tokArgs[1:]...), 0)...)
		return err
	})
	if err != nil {
		return fail(ctx, "create session", err)
	}
	return nil
}

// Lookup returns the token with hash h stored under route and its session,
// in one query, as [authstore.RefreshStore] requires. found is false when
// there is no such token under route or its session is gone.
func (s *Store) Lookup(ctx context.Context, route string, h authstore.TokenHash) (rec authstore.RefreshRecord, sess authstore.Session, found bool, err error) {
	if err := ctx.Err(); err != nil {
		return rec, sess, false, fail(ctx, "lookup", err)
	}
	err = s.db.QueryRowContext(ctx, s.q.lookup, route, h[:]).Scan(
		&rec.SessionID, &rec.UserID, timeCol{&rec.IssuedAt}, timeCol{&rec.ExpiresAt}, timeCol{&rec.UsedAt}, hashCol{&rec.Successor},
		timeCol{&sess.CreatedAt}, timeCol{&sess.ExpiresAt}, timeCol{&sess.RefreshedAt}, timeCol{&sess.RevokedAt}, &sess.UserAgent, &sess.Address)
	if errors.Is(err, sql.ErrNoRows) {
		return authstore.RefreshRecord{}, authstore.Session{}, false, nil
	}
	if err != nil {
		return authstore.RefreshRecord{}, authstore.Session{}, false, fail(ctx, "lookup", err)
	}
	rec.Hash = h
	sess.ID, sess.UserID = rec.SessionID, rec.UserID
	return rec, sess, true, nil
}

// Rotate replaces old by next in one atomic step, as [authstore.RefreshStore]
// requires. On PostgreSQL it is one statement that locks the session row,
// then old (and expect), FOR UPDATE, and writes only if the checks still
// hold once it has the locks; on SQLite it is a transaction that starts
// with the conditional update of old, which takes the database's write
// lock. Either way, of concurrent rotations of one token exactly one
// succeeds. It returns false, changing nothing, when a check fails. When
// every check passes but next belongs to another session or user, or its
// hash is zero or already stored, the call is a caller's bug: Rotate
// returns an error and changes nothing.
//
// A session keeps at most 18 tokens: in the same step as the swap, Rotate
// deletes up to four tokens of the session that are older than its newest
// 17 (the new token and the [authstore.MinKeptTokens] used ones before
// it), oldest first, along an index, but never old itself: a grace
// rotation keeps old, whatever its age, until the next rotation. Tokens
// stored before schema version 4 count as the session's oldest and go four
// at a time. Presenting a deleted token finds nothing.
func (s *Store) Rotate(ctx context.Context, route string, old, expect authstore.TokenHash, next authstore.RefreshRecord) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, fail(ctx, "rotate", err)
	}
	if next.Hash == (authstore.TokenHash{}) {
		return false, fmt.Errorf("sqlstore: rotate: %w", errZeroHash)
	}
	grace := expect != authstore.TokenHash{}
	var (
		sessionID, userID string
		err               error
	)
	if s.dialect == Postgres {
		sessionID, userID, err = s.rotatePostgres(ctx, route, old, expect, grace, next)
	} else {
		sessionID, userID, err = s.rotateSQLite(ctx, route, old, expect, grace, next)
	}
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return false, nil
	case errors.Is(err, errMismatch):
		return false, fmt.Errorf("sqlstore: rotate: a token of session %q and user %q into a token of session %q and user %q",
			sessionID, userID, next.SessionID, next.UserID)
	case err != nil:
		return false, fail(ctx, "rotate", err)
	}
	return true, nil
}

func (s *Store) rotatePostgres(ctx context.Context, route string, old, expect authstore.TokenHash, grace bool, next authstore.RefreshRecord) (sessionID, userID string, err error) {
	d := s.dialect
	args := []any{route, old[:], next.SessionID, next.UserID, d.timeArg(next.IssuedAt), next.Hash[:], d.timeArg(next.ExpiresAt)}
	query := s.q.rotate
	if grace {
		query = s.q.rotateGrace
		args = append(args, expect[:])
	}
	if err := s.db.QueryRowContext(ctx, query, args...).Scan(&sessionID, &userID); err != nil {
		return "", "", err
	}
	if sessionID != next.SessionID || userID != next.UserID {
		return sessionID, userID, errMismatch // the statement wrote nothing
	}
	return sessionID, userID, nil
}

func (s *Store) rotateSQLite(ctx context.Context, route string, old, expect authstore.TokenHash, grace bool, next authstore.RefreshRecord) (sessionID, userID string, err error) {
	d := s.dialect
	issued := d.timeArg(next.IssuedAt)
	var seq int64 // of the token that next replaces as the session's newest
	err = s.inTx(ctx, func(tx *sql.Tx) error {
		var row *sql.Row
		if grace {
			row = tx.QueryRowContext(ctx, s.q.claimOldGrace, issued, next.Hash[:], route, old[:], expect[:])
		} else {
			row = tx.QueryRowContext(ctx, s.q.claimOld, issued, next.Hash[:], route, old[:])
		}
		if err := row.Scan(&sessionID, &userID, &seq); err != nil {
			return err
		}
		if sessionID != next.SessionID || userID != next.UserID {
			return errMismatch
		}
		if grace {
			if _, err := tx.ExecContext(ctx, s.q.supersede, issued, route, expect[:]); err != nil {
				return err
			}
		}
		if _, err := tx.ExecContext(ctx, s.q.insertToken, route, next.Hash[:], sessionID, issued, d.timeArg(next.ExpiresAt), nil, nil, seq+1); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, s.q.touchSession, issued, route, sessionID); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, s.q.trimSession, route, sessionID, seq+1, old[:])
		return err
	})
	return sessionID, userID, err
}

// RevokeSession marks the session sessionID of userID revoked at the time
// at unless it is already revoked, as [authstore.RefreshStore] requires. A
// session of another user is not found.
func (s *Store) RevokeSession(ctx context.Context, userID, sessionID string, at time.Time) (found bool, err error) {
	if err := ctx.Err(); err != nil {
		return false, fail(ctx, "revoke session", err)
	}
	res, err := s.db.ExecContext(ctx, s.q.revokeSession, s.dialect.timeArg(at), authstore.RouteFor(userID), userID, sessionID)
	if err != nil {
		return false, fail(ctx, "revoke session", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fail(ctx, "revoke session", err)
	}
	return n > 0, nil
}

// RevokeUser marks every session of userID that is live at the time at
// revoked at that time, and returns how many it revoked, as
// [authstore.RefreshStore] requires. It revokes them in batches of up to
// 100 sessions, in the order of their ids, each batch a statement (and
// transaction) of its own, so that no statement holds the locks of more
// than 100 sessions however many the user has. On an error the batches
// done so far stay revoked.
func (s *Store) RevokeUser(ctx context.Context, userID string, at time.Time) (int, error) {
	total, after := 0, ""
	for {
		if err := ctx.Err(); err != nil {
			return total, fail(ctx, "revoke user", err)
		}
		n, last, err := s.revokeUserBatch(ctx, userID, at, after)
		if err != nil {
			return total, fail(ctx, "revoke user", err)
		}
		total += n
		if n < revokeBatch {
			return total, nil
		}
		after = last
	}
}

// revokeUserBatch revokes up to revokeBatch live sessions of userID whose
// ids come after after, and returns how many it revoked and the greatest
// of their ids.
func (s *Store) revokeUserBatch(ctx context.Context, userID string, at time.Time, after string) (n int, last string, err error) {
	args := []any{s.dialect.timeArg(at), authstore.RouteFor(userID), userID, after}
	if s.dialect == Postgres {
		err := s.db.QueryRowContext(ctx, s.q.revokeUser, args...).Scan(&n, &last)
		return n, last, err
	}
	rows, err := s.db.QueryContext(ctx, s.q.revokeUser, args...)
	if err != nil {
		return 0, "", err
	}
	defer rows.Close()
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return 0, "", err
		}
		n, last = n+1, max(last, id)
	}
	return n, last, rows.Err()
}

// Sessions returns the sessions of userID that are live at now, newest
// CreatedAt first (then by id), as [authstore.RefreshStore] requires.
func (s *Store) Sessions(ctx context.Context, userID string, now time.Time) ([]authstore.Session, error) {
	if err := ctx.Err(); err != nil {
		return nil, fail(ctx, "sessions", err)
	}
	rows, err := s.db.QueryContext(ctx, s.q.sessions, authstore.RouteFor(userID), userID, s.dialect.timeArg(now))
	if err != nil {
		return nil, fail(ctx, "sessions", err)
	}
	defer rows.Close()
	var list []authstore.Session
	for rows.Next() {
		sess := authstore.Session{UserID: userID}
		if err := rows.Scan(&sess.ID, timeCol{&sess.CreatedAt}, timeCol{&sess.ExpiresAt}, timeCol{&sess.RefreshedAt}, &sess.UserAgent, &sess.Address); err != nil {
			return nil, fail(ctx, "sessions", err)
		}
		list = append(list, sess)
	}
	if err := rows.Err(); err != nil {
		return nil, fail(ctx, "sessions", err)
	}
	return list, nil
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
type hashCol struct{ h *authstore.TokenHash }

func (c hashCol) Scan(src any) error {
	switch v := src.(type) {
	case nil:
		*c.h = authstore.TokenHash{}
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
func nullHash(h authstore.TokenHash) any {
	if h == (authstore.TokenHash{}) {
		return nil
	}
	return h[:]
}
