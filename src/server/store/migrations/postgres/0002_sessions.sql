-- Sign-in sessions. Every access token names its session, so revoking a row here ends the
-- token at its next use, long before it expires.
CREATE TABLE sessions (
    -- 128 random bits, hex.
    id         TEXT        PRIMARY KEY,
    user_id    BIGINT      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at TIMESTAMPTZ NOT NULL,
    -- Absolute end of the session, whatever its tokens say.
    expires_at TIMESTAMPTZ NOT NULL,
    revoked_at TIMESTAMPTZ
);

CREATE INDEX sessions_user_id ON sessions (user_id);
