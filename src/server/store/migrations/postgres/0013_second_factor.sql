-- Two-step sign-in (the PostgreSQL twin of migrations/sqlite/0013_second_factor.sql).
CREATE TABLE totp_factors (
    user_id       BIGINT      NOT NULL PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    secret_sealed TEXT        NOT NULL,
    created_at    TIMESTAMPTZ NOT NULL,
    enabled_at    TIMESTAMPTZ,
    last_step     BIGINT      NOT NULL DEFAULT 0
);

CREATE TABLE recovery_codes (
    user_id   BIGINT      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    code_hash TEXT        NOT NULL,
    used_at   TIMESTAMPTZ,
    PRIMARY KEY (user_id, code_hash)
);

CREATE TABLE second_steps (
    token_hash TEXT        NOT NULL PRIMARY KEY,
    user_id    BIGINT      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    persistent BOOLEAN     NOT NULL,
    next_path  TEXT,
    created_at TIMESTAMPTZ NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL
);

CREATE INDEX second_steps_expires ON second_steps (expires_at);
