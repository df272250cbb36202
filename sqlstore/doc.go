// Package sqlstore keeps the refresh-token sessions and the access-token
// revocations of [github.com/jwtkit/auth] in PostgreSQL or SQLite, through
// [database/sql]: one [Store] is both an [authstore.RefreshStore] and an
// [authstore.RevocationStore], so instances that share the database share
// sessions and see a revocation at once. It is also an
// [authstore.OneTimeStore]: the single-use tokens of password-reset and
// e-mail-verification links are rows of the table one_time_tokens
// (auth_one_time_tokens by default), of which [Store.ConsumeOneTime]
// deletes one in a single statement. And it is an [authstore.KeyStore]:
// the signing keys that the instances of a service share, sealed by the
// library, are rows of the table signing_keys (auth_signing_keys by
// default), one per generation, whose primary key lets exactly one of
// concurrent [Store.AddKey] calls for a generation succeed. Of the library
// the package imports only the store contract,
// [github.com/jwtkit/auth/authstore].
//
// Open the database with the driver of your choice, build the store, create
// its tables, and hand it to [github.com/jwtkit/auth.New]:
//
//	db, err := sql.Open("pgx", os.Getenv("DATABASE_URL")) // import _ "github.com/jackc/pgx/v5/stdlib"
//	if err != nil { ... }
//	store, err := sqlstore.New(db, sqlstore.Postgres) // or sqlstore.SQLite
//	if err != nil { ... }
//	if err := store.Migrate(ctx); err != nil { ... } // idempotent: at every start
//	a, err := auth.New(auth.WithKeys(keys), auth.WithIssuer(iss), auth.WithAudience(aud),
//		auth.WithClaimsLoader(loadClaims),
//		auth.WithRefreshStore(store), // sessions
//		auth.WithRevocation(store))   // logout of access tokens
//	// and every few minutes: a.Purge(ctx)
//
// The package imports no driver: the module's tests use
// github.com/jackc/pgx/v5/stdlib and modernc.org/sqlite. Tables are named
// with a prefix ([WithTablePrefix], "auth_" by default) and, on PostgreSQL,
// may live in a schema of their own ([WithSchema]).
//
// # PostgreSQL
//
// Times are timestamptz, to the microsecond. Each method but Migrate,
// Purge and RevokeUser (one statement per 100 sessions) is one statement,
// so one round trip: a rotation locks the session's
// row, then the token's, FOR UPDATE and writes only if its checks still
// hold once it has the locks, so that of concurrent rotations of one token
// exactly one wins. This relies on the READ COMMITTED isolation level, PostgreSQL's
// default: do not raise the default of the store's connections
// (default_transaction_isolation) to REPEATABLE READ or SERIALIZABLE, under
// which concurrent rotations fail with serialization errors instead.
// [Store.Revoked], which runs on every authenticated request, is one
// query over the user's denylist entries and cutoff.
//
// # SQLite
//
// Times are integer Unix microseconds. SQLite has one writer at a time: a
// rotation is a transaction whose first statement takes the write lock, so
// it serializes with every other write. Open the database with a busy
// timeout, without which concurrent writers fail with SQLITE_BUSY at once
// instead of waiting their turn; write-ahead logging, so that reads run
// beside the writer; and preferably immediate transactions (the store's
// transactions are correct in SQLite's default deferred mode too). With
// modernc.org/sqlite:
//
//	db, err := sql.Open("sqlite", "file:auth.db?_pragma=busy_timeout(5000)&_pragma=journal_mode(WAL)&_txlock=immediate")
//
// (github.com/mattn/go-sqlite3 spells these _busy_timeout=5000,
// _journal_mode=WAL and _txlock=immediate.) In WAL mode, the pragma
// synchronous(NORMAL) makes commits much faster at the price of the last
// commits on power loss (never on a crash of the process). SQLite's busy
// waiting is not fair: under many concurrent writers, one may time out
// while others keep taking the lock. A pool of one connection
// (db.SetMaxOpenConns(1)) queues every call in order instead, at the price
// of reads waiting for writes.
//
// # Sharded PostgreSQL
//
// Every table of user data leads with the column route, the routing key of
// the user ([authstore.RouteFor] of the user id), which every refresh token
// begins with: it is derived from the token alone when a client presents
// one and from the user id otherwise. Every primary key of these tables
// includes it, and every statement on them but the purge batches filters
// on it with one value, so each operation runs in one partition. To
// distribute the tables with Citus, after Migrate and before storing
// anything:
//
//	SELECT create_distributed_table('auth_refresh_families', 'route');
//	SELECT create_distributed_table('auth_refresh_tokens', 'route', colocate_with => 'auth_refresh_families');
//	SELECT create_distributed_table('auth_denied_tokens', 'route', colocate_with => 'auth_refresh_families');
//	SELECT create_distributed_table('auth_revocation_cutoffs', 'route', colocate_with => 'auth_refresh_families');
//	SELECT create_distributed_table('auth_one_time_tokens', 'route', colocate_with => 'auth_refresh_families');
//
// The table auth_sqlstore_migrations stays a local table of the
// coordinator. So may auth_signing_keys, or it becomes a reference table,
// copied to every node:
//
//	SELECT create_reference_table('auth_signing_keys');
//
// Do not distribute it: it is tiny (a handful of keys) and global, it has
// no route, and every instance reads all of it. [Store.Purge] deletes by
// expiry across all partitions, in batches. (The module's tests run on
// single-node PostgreSQL.)
//
// # Sessions and the schema
//
// A session ([authstore.Session]) is a row of the table refresh_families,
// and a token's session id its column family_id: the schema keeps the
// names it was created with, so existing databases need no migration.
//
// # Bounded chains
//
// A session keeps at most 18 token rows however often it rotates: each
// rotation numbers its new token (the column seq) and, in the same
// statement or transaction, deletes up to four tokens of the session older
// than its newest 17 (the live one and the [authstore.MinKeptTokens] used
// ones before it) along the index (route, family_id, seq); the one more is
// the old token of a grace rotation, which that rotation keeps. Deleting a
// session, by Purge, therefore deletes a bounded number of rows. Sessions
// that rotated before schema version 4 shrink to the bound four rows per
// rotation.
//
// # Purge
//
// The store deletes nothing by itself. [Store.Purge], the one Purge of
// the three contracts, deletes in batches of bounded size: ended and
// revoked sessions with their tokens, expired tokens, revocations that can
// no longer refuse anything, and expired one-time tokens. Call it in a
// loop until it returns less than its limit (Auth.Purge of package
// github.com/jwtkit/auth does), every few minutes from one instance (from
// several is safe too).
package sqlstore
