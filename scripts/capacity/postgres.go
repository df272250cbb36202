package main

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"os"
	"sync"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" driver

	"github.com/jwtkit/auth"
	"github.com/jwtkit/auth/sqlstore"
)

// postgres is sqlstore on PostgreSQL, in a schema of its own that close
// drops.
type postgres struct {
	db      *sql.DB
	schema  string
	a       *auth.Auth
	version string
	keep    bool // close leaves the schema in place
	once    sync.Once
}

// openPostgres connects to url, creates a fresh schema and migrates the
// store into it. Unless keep is set, close drops the schema.
func openPostgres(ctx context.Context, url string, clients int, keep bool) (*postgres, error) {
	db, err := sql.Open("pgx", url)
	if err != nil {
		return nil, fmt.Errorf("capacity: postgres: %w", err)
	}
	db.SetMaxOpenConns(clients + 2)
	db.SetMaxIdleConns(clients + 2)
	p := &postgres{db: db, schema: "capacity_" + randomHex(6), keep: keep}
	if err := db.QueryRowContext(ctx, "SHOW server_version").Scan(&p.version); err != nil {
		db.Close()
		return nil, fmt.Errorf("capacity: postgres: %w", err)
	}
	store, err := sqlstore.New(db, sqlstore.Postgres, sqlstore.WithSchema(p.schema))
	if err == nil {
		err = store.Migrate(ctx)
	}
	if err == nil {
		p.a, err = newAuth(store)
	}
	if err != nil {
		p.close()
		return nil, fmt.Errorf("capacity: postgres: %w", err)
	}
	return p, nil
}

func (p *postgres) name() string     { return "PostgreSQL" }
func (p *postgres) auth() *auth.Auth { return p.a }

// tables returns the qualified names of the schema's tables.
func (p *postgres) tables(ctx context.Context) ([]string, error) {
	rows, err := p.db.QueryContext(ctx, `SELECT format('%I.%I', n.nspname, c.relname)
		FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE n.nspname = $1 AND c.relkind = 'r' ORDER BY c.relname`, p.schema)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var t string
		if err := rows.Scan(&t); err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

// footprint runs VACUUM (ANALYZE) on every table of the schema and sums
// pg_total_relation_size, then VACUUM FULL, which rewrites the tables
// without the space that dead row versions left, and sums their rows,
// indexes and totals.
func (p *postgres) footprint(ctx context.Context) (footprint, error) {
	var f footprint
	tables, err := p.tables(ctx)
	if err != nil {
		return f, fmt.Errorf("capacity: postgres: %w", err)
	}
	vacuum := func(how string) error {
		for _, t := range tables {
			if _, err := p.db.ExecContext(ctx, "VACUUM "+how+" "+t); err != nil {
				return fmt.Errorf("capacity: postgres: VACUUM %s %s: %w", how, t, err)
			}
		}
		return nil
	}
	const sizes = `SELECT coalesce(sum(pg_relation_size(c.oid)), 0)::bigint,
		coalesce(sum(pg_indexes_size(c.oid)), 0)::bigint,
		coalesce(sum(pg_total_relation_size(c.oid)), 0)::bigint
		FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE n.nspname = $1 AND c.relkind = 'r'`
	if err := vacuum("(ANALYZE)"); err != nil {
		return f, err
	}
	var heap, indexes int64
	if err := p.db.QueryRowContext(ctx, sizes, p.schema).Scan(&heap, &indexes, &f.used); err != nil {
		return f, fmt.Errorf("capacity: postgres: sizes: %w", err)
	}
	if err := vacuum("(FULL, ANALYZE)"); err != nil {
		return f, err
	}
	if err := p.db.QueryRowContext(ctx, sizes, p.schema).Scan(&f.heap, &f.indexes, &f.compact); err != nil {
		return f, fmt.Errorf("capacity: postgres: sizes: %w", err)
	}
	return f, nil
}

// baseline creates a table shaped like the store's table of sessions,
// with one row per worker, and returns one UPDATE ... RETURNING of the
// worker's row by primary key.
func (p *postgres) baseline(ctx context.Context, clients int) (func(context.Context, int) error, error) {
	table := p.schema + ".baseline"
	stmts := []string{
		"DROP TABLE IF EXISTS " + table,
		"CREATE TABLE " + table + ` (
			route text NOT NULL, id text NOT NULL, user_id text NOT NULL,
			created_at timestamptz NOT NULL, expires_at timestamptz NOT NULL, refreshed_at timestamptz NOT NULL,
			revoked_at timestamptz, user_agent text NOT NULL, address text NOT NULL,
			PRIMARY KEY (route, id)) WITH (fillfactor = 90)`,
	}
	for _, s := range stmts {
		if _, err := p.db.ExecContext(ctx, s); err != nil {
			return nil, fmt.Errorf("capacity: postgres: baseline: %w", err)
		}
	}
	now := time.Now().UTC()
	for w := range clients {
		if _, err := p.db.ExecContext(ctx, "INSERT INTO "+table+" VALUES ($1, $2, $3, $4, $4, $4, NULL, $5, $6)",
			route(w), rowID(w), rowID(w), now, client.UserAgent, client.Address); err != nil {
			return nil, fmt.Errorf("capacity: postgres: baseline: %w", err)
		}
	}
	update := "UPDATE " + table + " SET refreshed_at = $1 WHERE route = $2 AND id = $3 RETURNING refreshed_at"
	return func(ctx context.Context, w int) error {
		var at time.Time
		if err := p.db.QueryRowContext(ctx, update, time.Now().UTC(), route(w), rowID(w)).Scan(&at); err != nil {
			return fmt.Errorf("capacity: postgres: baseline: %w", err)
		}
		return nil
	}, nil
}

func (p *postgres) close() {
	p.once.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if p.keep {
			fmt.Fprintf(os.Stderr, "capacity: PostgreSQL: schema %s kept\n", p.schema)
		} else {
			p.db.ExecContext(ctx, "DROP SCHEMA IF EXISTS "+p.schema+" CASCADE")
		}
		p.db.Close()
	})
}

// route and rowID name the baseline row of worker w.
func route(w int) string { return fmt.Sprintf("baseline%04d", w) }
func rowID(w int) string { return fmt.Sprintf("row-%d", w) }

// randomHex returns 2n random hexadecimal digits.
func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}
