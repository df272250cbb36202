package sqlstore

import (
	"bufio"
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strconv"
	"strings"
)

// migrationFiles holds the schema of each dialect as numbered SQL files,
// NNNN_name.sql, applied in order. A released file never changes: a new
// schema version is a new file.
//
//go:embed migrations
var migrationFiles embed.FS

// migration is one schema version.
type migration struct {
	version    int
	name       string
	statements []string // with the table names filled in
}

// Migrate brings the store's tables to the newest schema version: it
// creates the tables, indexes (and on SQLite a trigger) that are missing
// and records each applied version in the table
// {prefix}sqlstore_migrations. It is idempotent: call it at every start.
// The missing versions are applied, and recorded, in one transaction, so a
// failed migration leaves the schema as it was. Concurrent calls are safe:
// on PostgreSQL they queue on an advisory lock (pg_advisory_xact_lock) for
// the store's schema and prefix; on SQLite on the database's write lock
// (set a busy timeout, see the package documentation). Versions recorded
// in the database that this package does not know, written by a newer
// release, are left alone.
//
// The database user needs the right to create tables (and, with
// [WithSchema], the schema unless it exists). The SQL of each version is
// in the module's migrations directory, with {families}, {tokens} and
// similar placeholders for the table names.
func (s *Store) Migrate(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return fail(ctx, "migrate", err)
	}
	steps, err := s.migrations()
	if err != nil {
		return err
	}
	if s.dialect == SQLite {
		// Outside the transaction: its first statement must be a write
		// to this table (see lockMigrations).
		if _, err := s.db.ExecContext(ctx, s.q.migrationsTable); err != nil {
			return fail(ctx, "migrate: create the migrations table", err)
		}
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fail(ctx, "migrate: begin", err)
	}
	defer tx.Rollback() //nolint:errcheck // a no-op after Commit
	if err := s.lockForMigration(ctx, tx); err != nil {
		return err
	}
	applied, err := appliedVersions(ctx, tx, s.q.appliedMigrations)
	if err != nil {
		return fail(ctx, "migrate: read applied versions", err)
	}
	for _, m := range steps {
		if applied[m.version] {
			continue
		}
		for _, stmt := range m.statements {
			if _, err := tx.ExecContext(ctx, stmt); err != nil {
				return fail(ctx, fmt.Sprintf("migrate: version %d (%s)", m.version, m.name), err)
			}
		}
		if _, err := tx.ExecContext(ctx, s.q.recordMigration, m.version, m.name); err != nil {
			return fail(ctx, fmt.Sprintf("migrate: record version %d", m.version), err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fail(ctx, "migrate: commit", err)
	}
	return nil
}

// lockForMigration makes tx the only migration of the store's tables in
// progress, and creates the schema and the migrations table on PostgreSQL.
func (s *Store) lockForMigration(ctx context.Context, tx *sql.Tx) error {
	if s.dialect == SQLite {
		if _, err := tx.ExecContext(ctx, s.q.lockMigrations); err != nil {
			return fail(ctx, "migrate: lock", err)
		}
		return nil
	}
	if _, err := tx.ExecContext(ctx, s.q.lockMigrations, s.names.schema, s.names.prefix); err != nil {
		return fail(ctx, "migrate: lock", err)
	}
	if s.names.schema != "" {
		// CREATE SCHEMA IF NOT EXISTS needs the right to create schemas
		// even when the schema exists: ask first.
		var exists bool
		err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = $1)`, s.names.schema).Scan(&exists)
		if err != nil {
			return fail(ctx, "migrate: find the schema", err)
		}
		if !exists {
			if _, err := tx.ExecContext(ctx, "CREATE SCHEMA "+s.names.schema); err != nil {
				return fail(ctx, "migrate: create the schema", err)
			}
		}
	}
	if _, err := tx.ExecContext(ctx, s.q.migrationsTable); err != nil {
		return fail(ctx, "migrate: create the migrations table", err)
	}
	return nil
}

func appliedVersions(ctx context.Context, tx *sql.Tx, query string) (map[int]bool, error) {
	rows, err := tx.QueryContext(ctx, query)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	applied := make(map[int]bool)
	for rows.Next() {
		var v int
		if err := rows.Scan(&v); err != nil {
			return nil, err
		}
		applied[v] = true
	}
	return applied, rows.Err()
}

// migrations returns the schema versions of the store's dialect, oldest
// first.
func (s *Store) migrations() ([]migration, error) {
	dir := path.Join("migrations", s.dialect.String())
	entries, err := fs.ReadDir(migrationFiles, dir)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: migrations: %w", err)
	}
	var out []migration
	for _, e := range entries {
		num, name, ok := strings.Cut(strings.TrimSuffix(e.Name(), ".sql"), "_")
		version, err := strconv.Atoi(num)
		if !ok || err != nil || version < 1 || !strings.HasSuffix(e.Name(), ".sql") {
			return nil, fmt.Errorf("sqlstore: migration file %s: want NNNN_name.sql", e.Name())
		}
		text, err := fs.ReadFile(migrationFiles, path.Join(dir, e.Name()))
		if err != nil {
			return nil, fmt.Errorf("sqlstore: migrations: %w", err)
		}
		out = append(out, migration{version: version, name: name, statements: splitStatements(s.names.expand(s.dialect, string(text)))})
	}
	slices.SortFunc(out, func(a, b migration) int { return a.version - b.version })
	return out, nil
}

// splitStatements splits an SQL file into statements. A statement ends with
// a semicolon at the end of a line, except a CREATE TRIGGER statement,
// which ends with a line END;. Lines of comments between statements are
// dropped.
func splitStatements(text string) []string {
	var (
		out []string
		cur strings.Builder
	)
	sc := bufio.NewScanner(strings.NewReader(text))
	for sc.Scan() {
		line := sc.Text()
		trimmed := strings.TrimSpace(line)
		if cur.Len() == 0 && (trimmed == "" || strings.HasPrefix(trimmed, "--")) {
			continue
		}
		cur.WriteString(line)
		cur.WriteByte('\n')
		if !strings.HasSuffix(trimmed, ";") {
			continue
		}
		stmt := strings.TrimSpace(cur.String())
		if strings.HasPrefix(strings.ToUpper(stmt), "CREATE TRIGGER") && !strings.EqualFold(trimmed, "END;") {
			continue
		}
		out = append(out, strings.TrimSuffix(stmt, ";"))
		cur.Reset()
	}
	if rest := strings.TrimSpace(cur.String()); rest != "" {
		out = append(out, rest)
	}
	return out
}
