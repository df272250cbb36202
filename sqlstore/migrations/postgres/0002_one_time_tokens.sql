-- Single-use tokens (password reset, e-mail verification): only their
-- hash is stored. Like the other tables, the table leads with route, the
-- routing key of the user (auth.RouteFor(user_id)), which every one-time
-- token begins with: it is the distribution column of a sharded
-- PostgreSQL, and the primary key includes it, so a duplicate hash in one
-- route is refused. Rows are inserted and deleted, never updated.

CREATE TABLE {onetime} (
	route      text        NOT NULL,
	token_hash bytea       NOT NULL,
	user_id    text        NOT NULL,
	purpose    text        NOT NULL,
	expires_at timestamptz NOT NULL,
	PRIMARY KEY (route, token_hash)
);

-- RevokeOneTime: a user's tokens of one purpose.
CREATE INDEX {prefix}one_time_tokens_user_idx ON {onetime} (user_id, purpose);
-- Purge: expired tokens.
CREATE INDEX {prefix}one_time_tokens_expires_idx ON {onetime} (expires_at);
