-- User accounts.
CREATE TABLE users (
    id            INTEGER PRIMARY KEY,
    -- As typed; unique without regard to case (the index below). Usernames are ASCII only, so
    -- SQLite's ASCII-only lower() is exact.
    username      TEXT    NOT NULL,
    full_name     TEXT,
    email         TEXT,
    -- argon2id PHC string.
    password_hash TEXT    NOT NULL,
    disabled      INTEGER NOT NULL DEFAULT 0 CHECK (disabled IN (0, 1)),
    admin         INTEGER NOT NULL DEFAULT 0 CHECK (admin IN (0, 1)),
    -- Part of every token; raising it ends every session of the user at once.
    token_version INTEGER NOT NULL DEFAULT 0,
    created_at    TEXT    NOT NULL,
    updated_at    TEXT    NOT NULL
) STRICT;

CREATE UNIQUE INDEX users_username_key ON users (lower(username));
