-- Signing keys that every instance of a service shares (the
-- authstore.KeyStore contract): one row per key generation, the private key
-- sealed by the library under a key-encryption key that the database never
-- sees. The table holds a handful of rows that belong to no user, so unlike
-- the other tables it has no route: on a sharded PostgreSQL it stays a local
-- table of the coordinator or becomes a reference table, never a
-- distributed one (see the package documentation). The primary key lets
-- exactly one of concurrent insertions of a generation succeed; kid is
-- unique too.

CREATE TABLE {keys} (
	generation bigint      PRIMARY KEY,
	kid        text        UNIQUE NOT NULL,
	alg        text        NOT NULL,
	sealed     bytea       NOT NULL,
	created_at timestamptz NOT NULL,
	active_at  timestamptz NOT NULL
);
