-- What a session was granted, and the user's token version when it began: a refresh must not
-- outlive a password change or a disable.
ALTER TABLE sessions ADD COLUMN scope TEXT NOT NULL DEFAULT 'me items';
ALTER TABLE sessions ADD COLUMN token_version INTEGER NOT NULL DEFAULT 0;

-- Refresh tokens, stored only as SHA-256 hashes. Each is spent by its first use.
CREATE TABLE refresh_tokens (
    token_hash TEXT PRIMARY KEY,
    session_id TEXT NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    created_at TEXT NOT NULL,
    spent_at   TEXT
) STRICT;

CREATE INDEX refresh_tokens_session_id ON refresh_tokens (session_id);

-- The tutorial's items: a few rows each user owns.
CREATE TABLE items (
    id          INTEGER PRIMARY KEY,
    owner_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    title       TEXT    NOT NULL,
    description TEXT
) STRICT;

CREATE INDEX items_owner_id ON items (owner_id);
