-- First-run setup links (src/server/setup.rs): only their hashes, each with its end. Creating the
-- first administrator through one deletes them all.
CREATE TABLE setup_tokens (
    token_hash TEXT NOT NULL PRIMARY KEY,
    expires_at TEXT NOT NULL
) STRICT;
