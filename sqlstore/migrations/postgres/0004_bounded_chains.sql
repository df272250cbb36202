-- Bounded token chains. seq numbers the tokens of a session in the order
-- they were stored: the first token 0, each rotation's new token one more
-- than the session's newest. A rotation deletes, along the index below,
-- the tokens of its session older than the newest few (see Store.Rotate),
-- so a session keeps a bounded number of rows however often it rotates,
-- and deleting a session deletes a bounded number of tokens. Tokens stored
-- before this version read as seq 0: the rotations of their session
-- delete them a few at a time.

ALTER TABLE {tokens} ADD COLUMN seq bigint NOT NULL DEFAULT 0;

CREATE INDEX {prefix}refresh_tokens_family_idx ON {tokens} (route, family_id, seq);
