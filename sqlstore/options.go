package sqlstore

// Option configures a [Store]; pass options to [New].
type Option func(*config)

type config struct {
	prefix    string
	schema    string
	schemaSet bool
}

// DefaultTablePrefix is the prefix of the store's table names unless
// [WithTablePrefix] says otherwise.
const DefaultTablePrefix = "auth_"

// WithTablePrefix sets the prefix of the names of every table, index and
// trigger the store creates and uses. It must be empty or consist of
// lower-case ASCII letters, digits and underscores, not starting with a
// digit. The default is [DefaultTablePrefix] ("auth_"): the tables are then
// auth_refresh_families, auth_refresh_tokens, auth_denied_tokens,
// auth_revocation_cutoffs, auth_one_time_tokens, auth_signing_keys and
// auth_sqlstore_migrations.
func WithTablePrefix(prefix string) Option {
	return func(c *config) { c.prefix = prefix }
}

// WithSchema puts the store's tables in the PostgreSQL schema name, which
// [Store.Migrate] creates when it is missing. The name follows the rules of
// [WithTablePrefix] and must not be empty. By default the tables are
// unqualified: they live in the first schema of the connection's
// search_path. SQLite has no schemas: [New] refuses this option there.
func WithSchema(name string) Option {
	return func(c *config) { c.schema = name; c.schemaSet = true }
}
