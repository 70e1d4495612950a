-- Passkeys (the PostgreSQL twin of migrations/sqlite/0014_passkeys.sql).
CREATE TABLE passkeys (
    id            BIGSERIAL   NOT NULL PRIMARY KEY,
    user_id       BIGINT      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    credential_id TEXT        NOT NULL UNIQUE,
    user_handle   TEXT        NOT NULL,
    name          TEXT        NOT NULL,
    credential    TEXT        NOT NULL,
    created_at    TIMESTAMPTZ NOT NULL,
    last_used_at  TIMESTAMPTZ
);

CREATE INDEX passkeys_user ON passkeys (user_id);

CREATE TABLE passkey_ceremonies (
    token_hash TEXT        NOT NULL PRIMARY KEY,
    kind       TEXT        NOT NULL,
    user_id    BIGINT      REFERENCES users (id) ON DELETE CASCADE,
    state      TEXT        NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL
);

CREATE INDEX passkey_ceremonies_expires ON passkey_ceremonies (expires_at);
