-- Refresh-token families and tokens, access-token denylist and per-user
-- cutoffs. Every table leads with route, the refresh-token routing key of
-- the user (auth.RouteFor(user_id)): it is the distribution column of a
-- sharded PostgreSQL, and every primary key includes it.

CREATE TABLE {families} (
	route        text        NOT NULL,
	id           text        NOT NULL,
	user_id      text        NOT NULL,
	created_at   timestamptz NOT NULL,
	expires_at   timestamptz NOT NULL,
	refreshed_at timestamptz NOT NULL,
	revoked_at   timestamptz,
	user_agent   text        NOT NULL,
	address      text        NOT NULL,
	PRIMARY KEY (route, id)
) WITH (fillfactor = 90);

-- Purge: expired families, revoked families.
CREATE INDEX {prefix}refresh_families_expires_idx ON {families} (expires_at);
CREATE INDEX {prefix}refresh_families_revoked_idx ON {families} (revoked_at) WHERE revoked_at IS NOT NULL;

CREATE TABLE {tokens} (
	route      text        NOT NULL,
	hash       bytea       NOT NULL,
	family_id  text        NOT NULL,
	issued_at  timestamptz NOT NULL,
	expires_at timestamptz NOT NULL,
	used_at    timestamptz,
	successor  bytea,
	PRIMARY KEY (route, hash)
) WITH (fillfactor = 90);

-- Purge: expired tokens. The tokens of a family are found through the
-- primary key's route, which holds only the user's tokens: an index on
-- (route, family_id) would cost every rotation an index entry, and tempt
-- the planner away from the primary key for lookups by hash.
CREATE INDEX {prefix}refresh_tokens_expires_idx ON {tokens} (expires_at);

CREATE TABLE {denied} (
	route      text        NOT NULL,
	user_id    text        NOT NULL,
	jti        text        NOT NULL,
	expires_at timestamptz NOT NULL,
	PRIMARY KEY (route, user_id, jti)
);

CREATE INDEX {prefix}denied_tokens_expires_idx ON {denied} (expires_at);

CREATE TABLE {cutoffs} (
	route   text        NOT NULL,
	user_id text        NOT NULL,
	cutoff  timestamptz NOT NULL,
	PRIMARY KEY (route, user_id)
);

CREATE INDEX {prefix}revocation_cutoffs_cutoff_idx ON {cutoffs} (cutoff);
