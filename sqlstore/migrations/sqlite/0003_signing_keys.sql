-- Signing keys that every instance of a service shares (the
-- authstore.KeyStore contract): one row per key generation, the private key
-- sealed by the library under a key-encryption key that the database never
-- sees. The primary key lets exactly one of concurrent insertions of a
-- generation succeed; kid is unique too. Times are Unix microseconds.

CREATE TABLE {keys} (
	generation INTEGER PRIMARY KEY,
	kid        TEXT    UNIQUE NOT NULL,
	alg        TEXT    NOT NULL,
	sealed     BLOB    NOT NULL,
	created_at INTEGER NOT NULL,
	active_at  INTEGER NOT NULL
) STRICT;
