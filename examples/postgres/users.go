package main

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/jwtkit/auth"
	"github.com/jwtkit/auth/account"
	"github.com/jwtkit/auth/examples/refserver"
)

// pgUsers is the account store on PostgreSQL.
type pgUsers struct {
	db    *sql.DB
	table string
}

// usersSchema creates the accounts table; it is idempotent.
const usersSchema = `CREATE TABLE IF NOT EXISTS %[1]s (
	id            uuid PRIMARY KEY,
	email         text NOT NULL UNIQUE,
	name          text NOT NULL,
	role          text NOT NULL,
	password_hash bytea NOT NULL,
	created_at    timestamptz NOT NULL DEFAULT now()
);
ALTER TABLE %[1]s ADD COLUMN IF NOT EXISTS email_verified boolean NOT NULL DEFAULT false`

// newPGUsers creates the accounts table if needed and returns its store.
func newPGUsers(ctx context.Context, db *sql.DB, table string) (*pgUsers, error) {
	if _, err := db.ExecContext(ctx, fmt.Sprintf(usersSchema, table)); err != nil {
		return nil, fmt.Errorf("create %s: %w", table, err)
	}
	return &pgUsers{db: db, table: table}, nil
}

var (
	_ refserver.UserStore = (*pgUsers)(nil)
	_ account.Users       = (*pgUsers)(nil)
)

// Create implements [refserver.UserStore]: a taken email is
// [refserver.ErrEmailTaken].
func (p *pgUsers) Create(ctx context.Context, u refserver.User, hash []byte) error {
	_, err := p.db.ExecContext(ctx,
		`INSERT INTO `+p.table+` (id, email, name, role, password_hash) VALUES ($1, $2, $3, $4, $5)`,
		u.ID, u.Email, u.Name, u.Role, hash)
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "23505" { // unique_violation
		return refserver.ErrEmailTaken
	}
	return err
}

// Get implements [refserver.UserStore].
func (p *pgUsers) Get(ctx context.Context, id string) (refserver.User, bool, error) {
	var u refserver.User
	err := p.db.QueryRowContext(ctx, `SELECT id, email, name, role, email_verified FROM `+p.table+` WHERE id = $1`, id).
		Scan(&u.ID, &u.Email, &u.Name, &u.Role, &u.EmailVerified)
	if errors.Is(err, sql.ErrNoRows) {
		return refserver.User{}, false, nil
	}
	return u, err == nil, err
}

// Delete implements [refserver.UserStore].
func (p *pgUsers) Delete(ctx context.Context, id string) (bool, error) {
	res, err := p.db.ExecContext(ctx, `DELETE FROM `+p.table+` WHERE id = $1`, id)
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n > 0, err
}

// Credentials implements [auth.CredentialStore].
func (p *pgUsers) Credentials(ctx context.Context, login string) (auth.Credentials, error) {
	return p.credentials(ctx, `email`, refserver.NormalizeEmail(login))
}

// CredentialsByID implements [account.Users].
func (p *pgUsers) CredentialsByID(ctx context.Context, userID string) (auth.Credentials, error) {
	return p.credentials(ctx, `id`, userID)
}

// credentials returns the account whose column equals value.
func (p *pgUsers) credentials(ctx context.Context, column, value string) (auth.Credentials, error) {
	var u refserver.User
	var hash []byte
	err := p.db.QueryRowContext(ctx, `SELECT id, email, name, role, password_hash FROM `+p.table+` WHERE `+column+` = $1`,
		value).Scan(&u.ID, &u.Email, &u.Name, &u.Role, &hash)
	if errors.Is(err, sql.ErrNoRows) {
		return auth.Credentials{}, auth.ErrUserNotFound
	}
	if err != nil {
		return auth.Credentials{}, err
	}
	return auth.Credentials{UserID: u.ID, Hash: hash, Claims: u.Claims()}, nil
}

// SetPasswordHash implements [auth.CredentialStore]: auth.ErrUserNotFound
// for an account that is gone.
func (p *pgUsers) SetPasswordHash(ctx context.Context, userID string, hash []byte) error {
	return p.update(ctx, `UPDATE `+p.table+` SET password_hash = $2 WHERE id = $1`, userID, hash)
}

// SetEmailVerified implements [account.Users].
func (p *pgUsers) SetEmailVerified(ctx context.Context, userID string) error {
	return p.update(ctx, `UPDATE `+p.table+` SET email_verified = true WHERE id = $1`, userID)
}

// update runs an UPDATE of one account, and reports an account that is
// gone as auth.ErrUserNotFound.
func (p *pgUsers) update(ctx context.Context, query string, args ...any) error {
	res, err := p.db.ExecContext(ctx, query, args...)
	if err != nil {
		return err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n == 0 {
		return auth.ErrUserNotFound
	}
	return nil
}

// LoadClaims implements [refserver.UserStore]: a role change or a
// deleted account takes effect at the next refresh.
func (p *pgUsers) LoadClaims(ctx context.Context, id string) (auth.Claims, error) {
	u, ok, err := p.Get(ctx, id)
	if err != nil {
		return auth.Claims{}, err
	}
	if !ok {
		return auth.Claims{}, auth.ErrUserNotFound
	}
	return u.Claims(), nil
}
