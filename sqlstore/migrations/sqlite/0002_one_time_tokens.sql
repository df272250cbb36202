-- Single-use tokens (password reset, e-mail verification): only their
-- hash is stored. route is the routing key of the user
-- (auth.RouteFor(user_id)), which every one-time token begins with; the
-- primary key includes it, so a duplicate hash in one route is refused.
-- Times are Unix microseconds.

CREATE TABLE {onetime} (
	route      TEXT    NOT NULL,
	token_hash BLOB    NOT NULL,
	user_id    TEXT    NOT NULL,
	purpose    TEXT    NOT NULL,
	expires_at INTEGER NOT NULL,
	PRIMARY KEY (route, token_hash)
) STRICT;

-- RevokeOneTime: a user's tokens of one purpose.
CREATE INDEX {prefix}one_time_tokens_user_idx ON {onetime} (user_id, purpose);
-- Purge: expired tokens.
CREATE INDEX {prefix}one_time_tokens_expires_idx ON {onetime} (expires_at);
