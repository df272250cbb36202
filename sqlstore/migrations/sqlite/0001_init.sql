-- Refresh-token families and tokens, access-token denylist and per-user
-- cutoffs. route is the refresh-token routing key of the user
-- (auth.RouteFor(user_id)); times are Unix microseconds.

CREATE TABLE {families} (
	route        TEXT    NOT NULL,
	id           TEXT    NOT NULL,
	user_id      TEXT    NOT NULL,
	created_at   INTEGER NOT NULL,
	expires_at   INTEGER NOT NULL,
	refreshed_at INTEGER NOT NULL,
	revoked_at   INTEGER,
	user_agent   TEXT    NOT NULL,
	address      TEXT    NOT NULL,
	PRIMARY KEY (route, id)
) STRICT;

-- Purge: expired families, revoked families.
CREATE INDEX {prefix}refresh_families_expires_idx ON {families} (expires_at);
CREATE INDEX {prefix}refresh_families_revoked_idx ON {families} (revoked_at) WHERE revoked_at IS NOT NULL;

CREATE TABLE {tokens} (
	route      TEXT    NOT NULL,
	hash       BLOB    NOT NULL,
	family_id  TEXT    NOT NULL,
	issued_at  INTEGER NOT NULL,
	expires_at INTEGER NOT NULL,
	used_at    INTEGER,
	successor  BLOB,
	PRIMARY KEY (route, hash)
) STRICT;

-- Purge: expired tokens. The tokens of a family are found through the
-- primary key's route, which holds only the user's tokens: an index on
-- (route, family_id) would cost every rotation an index entry, and tempt
-- the planner away from the primary key for lookups by hash.
CREATE INDEX {prefix}refresh_tokens_expires_idx ON {tokens} (expires_at);

-- A deleted family goes with its tokens, whatever deletes it. (A trigger
-- rather than a foreign key: SQLite enforces foreign keys only on
-- connections that turned them on.)
CREATE TRIGGER {prefix}refresh_families_delete AFTER DELETE ON {families}
BEGIN
	DELETE FROM {tokens} WHERE route = OLD.route AND family_id = OLD.id;
END;

CREATE TABLE {denied} (
	route      TEXT    NOT NULL,
	user_id    TEXT    NOT NULL,
	jti        TEXT    NOT NULL,
	expires_at INTEGER NOT NULL,
	PRIMARY KEY (route, user_id, jti)
) STRICT;

CREATE INDEX {prefix}denied_tokens_expires_idx ON {denied} (expires_at);

CREATE TABLE {cutoffs} (
	route   TEXT    NOT NULL,
	user_id TEXT    NOT NULL,
	cutoff  INTEGER NOT NULL,
	PRIMARY KEY (route, user_id)
) STRICT;

CREATE INDEX {prefix}revocation_cutoffs_cutoff_idx ON {cutoffs} (cutoff);
