package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/jwtkit/auth/authstore"
)

// Store keeps sessions and their refresh tokens ([authstore.RefreshStore]),
// access-token revocations ([authstore.RevocationStore]), single-use
// tokens ([authstore.OneTimeStore]) and the signing keys that the
// instances of a service share ([authstore.KeyStore]) in a PostgreSQL or
// SQLite database through [database/sql]. Build one with
// [New] and create its tables with [Store.Migrate]. A Store is immutable
// and safe for concurrent use; it holds no connection of its own: every
// method borrows one from the [sql.DB] for the length of one statement or
// transaction.
type Store struct {
	db      *sql.DB
	dialect Dialect
	names   names
	q       queries // SQL text with the table names filled in
}

var (
	_ authstore.RefreshStore    = (*Store)(nil)
	_ authstore.RevocationStore = (*Store)(nil)
)

// names are the (possibly schema-qualified) names of the store's tables,
// and the prefix of its index and trigger names. The table of sessions is
// named refresh_families, as the schema has always named it.
type names struct {
	families, tokens, denied, cutoffs, onetime, keys, migrations string
	prefix, schema                                               string
}

// Name suffixes of the store's tables.
const (
	familiesTable   = "refresh_families"
	tokensTable     = "refresh_tokens"
	deniedTable     = "denied_tokens"
	cutoffsTable    = "revocation_cutoffs"
	oneTimeTable    = "one_time_tokens"
	keysTable       = "signing_keys"
	migrationsTable = "sqlstore_migrations"
	// longestSuffix is the longest name the migrations give an object,
	// less the prefix.
	longestSuffix = len("revocation_cutoffs_cutoff_idx")
	// maxIdentifier is PostgreSQL's limit on the length of a name.
	maxIdentifier = 63
)

// New returns a [Store] that keeps its tables in db, speaking dialect d,
// configured by opts. It does not touch the database: call [Store.Migrate]
// once before use (at every start is fine). It refuses a nil db, an unknown
// dialect, a table prefix or schema name that is not a plain lower-case
// identifier, a name longer than PostgreSQL allows, and [WithSchema] on
// SQLite.
//
// The driver is the caller's: open db with any PostgreSQL driver
// (github.com/jackc/pgx/v5/stdlib, github.com/lib/pq) or SQLite driver
// (modernc.org/sqlite), with the settings the package documentation lists.
func New(db *sql.DB, d Dialect, opts ...Option) (*Store, error) {
	if db == nil {
		return nil, errors.New("sqlstore: nil *sql.DB")
	}
	if !d.valid() {
		return nil, fmt.Errorf("sqlstore: unknown dialect %v; want sqlstore.Postgres or sqlstore.SQLite", d)
	}
	c := config{prefix: DefaultTablePrefix}
	for _, opt := range opts {
		opt(&c)
	}
	if c.prefix != "" && !isIdentifier(c.prefix) {
		return nil, fmt.Errorf("sqlstore: table prefix %q: want lower-case letters, digits and underscores, not starting with a digit", c.prefix)
	}
	if len(c.prefix)+longestSuffix > maxIdentifier {
		return nil, fmt.Errorf("sqlstore: table prefix %q is too long: at most %d bytes", c.prefix, maxIdentifier-longestSuffix)
	}
	if c.schemaSet {
		if d != Postgres {
			return nil, fmt.Errorf("sqlstore: WithSchema(%q): %v has no schemas", c.schema, d)
		}
		if !isIdentifier(c.schema) || len(c.schema) > maxIdentifier {
			return nil, fmt.Errorf("sqlstore: schema %q: want 1 to %d lower-case letters, digits and underscores, not starting with a digit", c.schema, maxIdentifier)
		}
	}
	qualify := func(table string) string {
		if c.schema != "" {
			return c.schema + "." + c.prefix + table
		}
		return c.prefix + table
	}
	n := names{
		families:   qualify(familiesTable),
		tokens:     qualify(tokensTable),
		denied:     qualify(deniedTable),
		cutoffs:    qualify(cutoffsTable),
		onetime:    qualify(oneTimeTable),
		keys:       qualify(keysTable),
		migrations: qualify(migrationsTable),
		prefix:     c.prefix,
		schema:     c.schema,
	}
	return &Store{db: db, dialect: d, names: n, q: buildQueries(d, n)}, nil
}

// Dialect returns the dialect the store speaks.
func (s *Store) Dialect() Dialect { return s.dialect }

// isIdentifier reports whether name is a non-empty lower-case SQL
// identifier that needs no quoting in either dialect.
func isIdentifier(name string) bool {
	if name == "" || (name[0] >= '0' && name[0] <= '9') {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}

// expand fills the placeholders of an SQL template: the table names, the
// prefix of index and trigger names, and the dialect's two-argument
// maximum.
func (n names) expand(d Dialect, tmpl string) string {
	greatest := "GREATEST"
	if d == SQLite {
		greatest = "MAX"
	}
	return strings.NewReplacer(
		"{families}", n.families,
		"{tokens}", n.tokens,
		"{denied}", n.denied,
		"{cutoffs}", n.cutoffs,
		"{onetime}", n.onetime,
		"{keys}", n.keys,
		"{migrations}", n.migrations,
		"{prefix}", n.prefix,
		"{greatest}", greatest,
	).Replace(tmpl)
}

// fail wraps err, a failure of the operation op, as a system failure. When
// ctx is done the error also matches ctx.Err(), whatever the driver made of
// the cancellation.
func fail(ctx context.Context, op string, err error) error {
	if cerr := ctx.Err(); cerr != nil && !errors.Is(err, cerr) {
		return fmt.Errorf("sqlstore: %s: %w (%w)", op, cerr, err)
	}
	return fmt.Errorf("sqlstore: %s: %w", op, err)
}
