package sqlstore

import (
	"fmt"
	"strconv"

	"github.com/jwtkit/auth/authstore"
)

// Bounds of the work of one statement on refresh tokens.
const (
	// keptTokens is how many tokens of a session a rotation keeps: the
	// new one and the [authstore.MinKeptTokens] before it. A grace
	// rotation also keeps old, whatever its age, so a session holds at
	// most keptTokens+1 tokens once its older ones are trimmed.
	keptTokens = authstore.MinKeptTokens + 1
	// trimBatch is how many older tokens of its session one rotation
	// deletes at most: one in the steady state, more while tokens stored
	// before schema version 4 remain.
	trimBatch = 4
	// revokeBatch is how many sessions one statement of RevokeUser
	// revokes at most.
	revokeBatch = 100
)

var (
	keptTokensSQL  = strconv.Itoa(keptTokens)
	trimBatchSQL   = strconv.Itoa(trimBatch)
	revokeBatchSQL = strconv.Itoa(revokeBatch)
)

// queries holds the SQL text of every statement a Store runs, with the
// table names filled in. In the statements SQLite runs, parameters are
// numbered in the order of their first appearance, so that drivers that
// bind by position and drivers that bind $N by number both work. Every
// statement on refresh tokens, revocations and one-time tokens filters by
// route, the distribution column (see the package documentation), except
// the purge batches; the signing keys belong to no user and have no
// route. A session is a row of the {families} table, and its
// id the family_id of its tokens: the schema keeps the names it was
// created with.
type queries struct {
	// Refresh tokens.
	createSession        string // PostgreSQL: session and token in one statement
	insertSession        string // SQLite: the session, then insertToken, in a transaction
	insertToken          string
	lookup               string
	rotate               string // PostgreSQL: the whole rotation in one statement
	rotateGrace          string
	claimOld             string // SQLite: the first statement of a rotation
	claimOldGrace        string
	supersede            string
	touchSession         string
	trimSession          string // SQLite: the last statement of a rotation
	revokeSession        string
	revokeUser           string
	sessions             string
	purgeExpiredSessions string
	purgeRevokedSessions string
	purgeTokens          string
	purgeDenied          string
	purgeCutoffs         string
	purgeOneTime         string
	revoked              string
	denyToken            string
	cutOff               string
	saveOneTime          string // one-time tokens: the same text in both dialects
	consumeOneTime       string // one DELETE ... RETURNING: the consumption is atomic
	revokeOneTime        string
	addKey               string // signing keys: the same text in both dialects
	keyIDStored          string
	keys                 string
	deleteKeys           string
	migrationsTable      string
	lockMigrations       string
	appliedMigrations    string
	recordMigration      string
}

func buildQueries(d Dialect, n names) queries {
	x := func(tmpl string) string { return n.expand(d, tmpl) }
	q := queries{
		insertToken: x(`INSERT INTO {tokens} (route, hash, family_id, issued_at, expires_at, used_at, successor, seq)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`),

		lookup: x(`SELECT t.family_id, f.user_id, t.issued_at, t.expires_at, t.used_at, t.successor,
	f.created_at, f.expires_at, f.refreshed_at, f.revoked_at, f.user_agent, f.address
FROM {tokens} t JOIN {families} f ON f.route = t.route AND f.id = t.family_id
WHERE t.route = $1 AND t.hash = $2`),

		revokeSession: x(`UPDATE {families} SET revoked_at = COALESCE(revoked_at, $1)
WHERE route = $2 AND user_id = $3 AND id = $4`),

		sessions: x(`SELECT id, created_at, expires_at, refreshed_at, user_agent, address
FROM {families}
WHERE route = $1 AND user_id = $2 AND revoked_at IS NULL AND expires_at > $3
ORDER BY created_at DESC, id`),

		revoked: x(`SELECT EXISTS (SELECT 1 FROM {cutoffs} WHERE route = $1 AND user_id = $2 AND cutoff > $3)
	OR EXISTS (SELECT 1 FROM {denied} WHERE route = $1 AND user_id = $2 AND jti IN ($4, $5))`),

		denyToken: x(`INSERT INTO {denied} AS d (route, user_id, jti, expires_at) VALUES ($1, $2, $3, $4)
ON CONFLICT (route, user_id, jti) DO UPDATE SET expires_at = {greatest}(d.expires_at, excluded.expires_at)`),

		cutOff: x(`INSERT INTO {cutoffs} AS c (route, user_id, cutoff) VALUES ($1, $2, $3)
ON CONFLICT (route, user_id) DO UPDATE SET cutoff = {greatest}(c.cutoff, excluded.cutoff)`),

		saveOneTime: x(`INSERT INTO {onetime} (route, token_hash, user_id, purpose, expires_at)
VALUES ($1, $2, $3, $4, $5)`),

		// Of concurrent consumptions of one token, one deletes the row;
		// the others find no row (PostgreSQL: they wait for the winner's
		// row lock, then re-check the row and find it deleted; SQLite: they
		// wait for the write lock).
		consumeOneTime: x(`DELETE FROM {onetime}
WHERE route = $1 AND token_hash = $2 AND purpose = $3 AND expires_at > $4
RETURNING user_id, expires_at`),

		revokeOneTime: x(`DELETE FROM {onetime} WHERE route = $1 AND user_id = $2 AND purpose = $3`),

		// Of concurrent insertions of one generation, one inserts the row;
		// the others find the primary key taken and insert nothing
		// (PostgreSQL: they wait for the winner's commit first; SQLite: for
		// the write lock). A kid stored already fails the statement: its
		// UNIQUE constraint is no arbiter of ON CONFLICT.
		addKey: x(`INSERT INTO {keys} (generation, kid, alg, sealed, created_at, active_at)
VALUES ($1, $2, $3, $4, $5, $6)
ON CONFLICT (generation) DO NOTHING`),
		keyIDStored: x(`SELECT EXISTS (SELECT 1 FROM {keys} WHERE kid = $1)`),
		keys:        x(`SELECT generation, kid, alg, sealed, created_at, active_at FROM {keys} ORDER BY generation`),
		deleteKeys:  x(`DELETE FROM {keys} WHERE generation < $1`),

		appliedMigrations: x(`SELECT version FROM {migrations}`),
		recordMigration:   x(`INSERT INTO {migrations} (version, name) VALUES ($1, $2)`),
	}
	if d == Postgres {
		q.createSession = x(`WITH family AS (
	INSERT INTO {families} (route, id, user_id, created_at, expires_at, refreshed_at, revoked_at, user_agent, address)
	VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
)
INSERT INTO {tokens} (route, hash, family_id, issued_at, expires_at, used_at, successor)
VALUES ($1, $10, $2, $11, $12, $13, $14)`)

		// The rotation is one statement. The CTE locked selects old with
		// its session, and expect for a grace rotation, FOR UPDATE: the
		// session row first, so every rotation of a session queues on that
		// row. A waiter that gets the locks re-checks the conditions
		// against the rows as the winner left them (READ COMMITTED's
		// re-check of locked rows) and finds old used or its successor
		// changed. The writes run only from the one row of ok, which
		// also requires next to belong to old's session and user; the
		// final SELECT tells a mismatch (an error) from a failed check.
		// A next whose hash is stored already fails the INSERT of ins,
		// which aborts the whole statement.
		//
		// The new token's seq is one more than that of the token it
		// replaces as the session's newest (old, or expect in a grace
		// rotation); pruned then deletes up to trimBatch tokens of the
		// session older than the newest keptTokens, along the index on
		// (route, family_id, seq), but never old, which the statement
		// updates. Rotations of a session queue on its row, so pruned
		// races none of them.
		rotateTail := `
), ok AS (
	SELECT route, family_id, seq + 1 AS seq FROM locked WHERE family_id = $3 AND user_id = $4
), old AS (
	UPDATE {tokens} t SET used_at = COALESCE(t.used_at, $5::timestamptz), successor = $6::bytea
	FROM ok WHERE t.route = ok.route AND t.hash = $2
), ins AS (
	INSERT INTO {tokens} (route, hash, family_id, issued_at, expires_at, seq)
	SELECT route, $6::bytea, family_id, $5::timestamptz, $7::timestamptz, seq FROM ok
), fam AS (
	UPDATE {families} f SET refreshed_at = $5::timestamptz
	FROM ok WHERE f.route = ok.route AND f.id = ok.family_id
), pruned AS (
	DELETE FROM {tokens} t USING (
		SELECT d.route, d.hash FROM {tokens} d JOIN ok ON d.route = ok.route AND d.family_id = ok.family_id
		WHERE d.seq <= ok.seq - ` + keptTokensSQL + ` AND d.hash <> $2
		ORDER BY d.seq LIMIT ` + trimBatchSQL + `
	) x WHERE t.route = x.route AND t.hash = x.hash
)`
		q.rotate = x(`WITH locked AS (
	SELECT o.route, o.family_id, f.user_id, o.seq
	FROM {families} f JOIN {tokens} o ON o.route = f.route AND o.family_id = f.id
	WHERE o.route = $1 AND o.hash = $2 AND f.revoked_at IS NULL AND o.used_at IS NULL
	FOR UPDATE` + rotateTail + `
SELECT family_id, user_id FROM locked`)
		q.rotateGrace = x(`WITH locked AS (
	SELECT o.route, o.family_id, f.user_id, e.seq
	FROM {families} f
	JOIN {tokens} o ON o.route = f.route AND o.family_id = f.id
	JOIN {tokens} e ON e.route = o.route AND e.family_id = o.family_id
	WHERE o.route = $1 AND o.hash = $2 AND f.revoked_at IS NULL
		AND o.successor = $8 AND e.hash = $8 AND e.used_at IS NULL
	FOR UPDATE` + rotateTail + `, sup AS (
	UPDATE {tokens} t SET used_at = $5::timestamptz, successor = NULL
	FROM ok WHERE t.route = ok.route AND t.hash = $8
)
SELECT family_id, user_id FROM locked`)

		// A batch of RevokeUser: the next revokeBatch live sessions of the
		// user by id after $4, locked (a row that changed meanwhile is
		// checked again and skipped if no longer live), revoked; it
		// returns how many and the greatest id, where the next batch
		// starts.
		q.revokeUser = x(`WITH batch AS (
	SELECT route, id FROM {families}
	WHERE route = $2 AND user_id = $3 AND id > $4 AND revoked_at IS NULL AND expires_at > $1
	ORDER BY id LIMIT ` + revokeBatchSQL + ` FOR UPDATE
), revoked AS (
	UPDATE {families} f SET revoked_at = $1 FROM batch b WHERE f.route = b.route AND f.id = b.id
	RETURNING f.id
)
SELECT count(*), COALESCE(max(id), '') FROM revoked`)

		// Purge batches take the oldest purgeable rows in the order of an
		// index, and lock them with SKIP LOCKED: a row that a rotation
		// holds is left for the next call, so a purge never waits for a
		// rotation, and a rotation waits at most for one batch. A session
		// goes with its tokens.
		const purgeSessions = `WITH doomed AS (
	SELECT route, id FROM {families} WHERE %s FOR UPDATE SKIP LOCKED
), tokens AS (
	DELETE FROM {tokens} t USING doomed d WHERE t.route = d.route AND t.family_id = d.id
)
DELETE FROM {families} f USING doomed d WHERE f.route = d.route AND f.id = d.id`
		q.purgeExpiredSessions = x(fmt.Sprintf(purgeSessions, "expires_at <= $1 ORDER BY expires_at LIMIT $2"))
		q.purgeRevokedSessions = x(fmt.Sprintf(purgeSessions, "revoked_at IS NOT NULL ORDER BY revoked_at LIMIT $1"))
		q.purgeTokens = x(`DELETE FROM {tokens} WHERE (route, hash) IN (
	SELECT route, hash FROM {tokens} WHERE expires_at <= $1 ORDER BY expires_at LIMIT $2 FOR UPDATE SKIP LOCKED)`)
		q.purgeDenied = x(`DELETE FROM {denied} WHERE (route, user_id, jti) IN (
	SELECT route, user_id, jti FROM {denied} WHERE expires_at <= $1 ORDER BY expires_at LIMIT $2 FOR UPDATE SKIP LOCKED)`)
		q.purgeCutoffs = x(`DELETE FROM {cutoffs} WHERE (route, user_id) IN (
	SELECT route, user_id FROM {cutoffs} WHERE cutoff < $1 ORDER BY cutoff LIMIT $2 FOR UPDATE SKIP LOCKED)`)
		q.purgeOneTime = x(`DELETE FROM {onetime} WHERE (route, token_hash) IN (
	SELECT route, token_hash FROM {onetime} WHERE expires_at <= $1 ORDER BY expires_at LIMIT $2 FOR UPDATE SKIP LOCKED)`)

		q.migrationsTable = x(`CREATE TABLE IF NOT EXISTS {migrations} (
	version    integer     PRIMARY KEY,
	name       text        NOT NULL,
	applied_at timestamptz NOT NULL DEFAULT now()
)`)
		// Concurrent Migrate calls queue on an advisory lock named after
		// the tables' schema and prefix, held until the migration commits.
		q.lockMigrations = `SELECT pg_advisory_xact_lock(hashtextextended(
	'github.com/jwtkit/auth/sqlstore ' || COALESCE(NULLIF($1::text, ''), current_schema(), '') || '.' || $2::text, 0))`
		return q
	}

	// SQLite: a rotation is a transaction whose first statement is the
	// conditional update of old (claimOld, claimOldGrace). Being a write,
	// it takes the database's write lock before it reads anything, so its
	// checks see the latest data and no other writer runs until the
	// commit; a competing rotation then finds old used. It also works in
	// SQLite's default deferred transactions: the write lock is taken at
	// the first statement, where a busy timeout applies.
	q.insertSession = x(`INSERT INTO {families} (route, id, user_id, created_at, expires_at, refreshed_at, revoked_at, user_agent, address)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`)
	const liveSession = `
	AND EXISTS (SELECT 1 FROM {families} f WHERE f.route = {tokens}.route AND f.id = {tokens}.family_id AND f.revoked_at IS NULL)`
	const returning = `
RETURNING family_id, (SELECT f.user_id FROM {families} f WHERE f.route = {tokens}.route AND f.id = {tokens}.family_id)`
	q.claimOld = x(`UPDATE {tokens} SET used_at = COALESCE(used_at, $1), successor = $2
WHERE route = $3 AND hash = $4 AND used_at IS NULL` + liveSession + returning + `, seq`)
	q.claimOldGrace = x(`UPDATE {tokens} SET used_at = COALESCE(used_at, $1), successor = $2
WHERE route = $3 AND hash = $4 AND successor = $5` + liveSession + `
	AND EXISTS (SELECT 1 FROM {tokens} e WHERE e.route = $3 AND e.hash = $5 AND e.family_id = {tokens}.family_id AND e.used_at IS NULL)` + returning + `,
	(SELECT e.seq FROM {tokens} e WHERE e.route = $3 AND e.hash = $5)`)
	q.supersede = x(`UPDATE {tokens} SET used_at = $1, successor = NULL WHERE route = $2 AND hash = $3`)
	q.touchSession = x(`UPDATE {families} SET refreshed_at = $1 WHERE route = $2 AND id = $3`)
	// $3 is the seq of the new token; old ($4) stays, as on PostgreSQL.
	q.trimSession = x(`DELETE FROM {tokens} WHERE (route, hash) IN (
	SELECT route, hash FROM {tokens}
	WHERE route = $1 AND family_id = $2 AND seq <= $3 - ` + keptTokensSQL + ` AND hash <> $4
	ORDER BY seq LIMIT ` + trimBatchSQL + `)`)
	// RevokeUser in batches, as on PostgreSQL; the caller finds the
	// greatest id among those returned.
	q.revokeUser = x(`UPDATE {families} SET revoked_at = $1
WHERE route = $2 AND id IN (
	SELECT id FROM {families}
	WHERE route = $2 AND user_id = $3 AND id > $4 AND revoked_at IS NULL AND expires_at > $1
	ORDER BY id LIMIT ` + revokeBatchSQL + `)
RETURNING id`)

	// A trigger deletes the tokens of a deleted session (see the
	// migration), so a session batch is one statement.
	q.purgeExpiredSessions = x(`DELETE FROM {families} WHERE (route, id) IN (
	SELECT route, id FROM {families} WHERE expires_at <= $1 ORDER BY expires_at LIMIT $2)`)
	q.purgeRevokedSessions = x(`DELETE FROM {families} WHERE (route, id) IN (
	SELECT route, id FROM {families} WHERE revoked_at IS NOT NULL ORDER BY revoked_at LIMIT $1)`)
	q.purgeTokens = x(`DELETE FROM {tokens} WHERE (route, hash) IN (
	SELECT route, hash FROM {tokens} WHERE expires_at <= $1 ORDER BY expires_at LIMIT $2)`)
	q.purgeDenied = x(`DELETE FROM {denied} WHERE (route, user_id, jti) IN (
	SELECT route, user_id, jti FROM {denied} WHERE expires_at <= $1 ORDER BY expires_at LIMIT $2)`)
	q.purgeCutoffs = x(`DELETE FROM {cutoffs} WHERE (route, user_id) IN (
	SELECT route, user_id FROM {cutoffs} WHERE cutoff < $1 ORDER BY cutoff LIMIT $2)`)
	q.purgeOneTime = x(`DELETE FROM {onetime} WHERE (route, token_hash) IN (
	SELECT route, token_hash FROM {onetime} WHERE expires_at <= $1 ORDER BY expires_at LIMIT $2)`)

	q.migrationsTable = x(`CREATE TABLE IF NOT EXISTS {migrations} (
	version    INTEGER PRIMARY KEY,
	name       TEXT    NOT NULL,
	applied_at TEXT    NOT NULL DEFAULT CURRENT_TIMESTAMP
)`)
	// A write that changes nothing, to take the write lock first thing in
	// the migration's transaction.
	q.lockMigrations = x(`UPDATE {migrations} SET version = version WHERE version < 0`)
	return q
}
