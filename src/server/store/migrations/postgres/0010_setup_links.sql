-- First-run setup links (the PostgreSQL twin of migrations/sqlite/0010_setup_links.sql).
CREATE TABLE setup_tokens (
    token_hash TEXT        NOT NULL PRIMARY KEY,
    expires_at TIMESTAMPTZ NOT NULL
);
