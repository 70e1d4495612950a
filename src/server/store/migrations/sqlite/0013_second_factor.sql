-- Two-step sign-in: a TOTP secret per account, its recovery codes, and the short-lived state
-- between a correct password and the code. See src/server/two_step/.

-- The shared secret, sealed (AES-256-GCM under a key derived from the site key, bound to the
-- account). It is on only once `enabled_at` is set, which takes a correct code; until then it
-- is an enrolment in progress. `last_step` is the newest 30-second step whose code was
-- accepted: a code is taken only for a later step, so each is used once, on every instance.
CREATE TABLE totp_factors (
    user_id       INTEGER NOT NULL PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    secret_sealed TEXT    NOT NULL,
    created_at    TEXT    NOT NULL,
    enabled_at    TEXT,
    last_step     INTEGER NOT NULL DEFAULT 0
) STRICT;

-- Single-use codes that stand in for a TOTP code; only a keyed hash of each is kept.
CREATE TABLE recovery_codes (
    user_id   INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    code_hash TEXT    NOT NULL,
    used_at   TEXT,
    PRIMARY KEY (user_id, code_hash)
) STRICT;

-- A correct password waiting for its code: named by the SHA-256 of a random token kept in an
-- HttpOnly cookie of the browser that typed the password. It opens nothing but the code page.
CREATE TABLE second_steps (
    token_hash TEXT    NOT NULL PRIMARY KEY,
    user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    -- "Keep me signed in", as ticked on the password step.
    persistent INTEGER NOT NULL CHECK (persistent IN (0, 1)),
    -- Where to go once signed in (already checked to be a path of this site).
    next_path  TEXT,
    created_at TEXT    NOT NULL,
    expires_at TEXT    NOT NULL
) STRICT;

CREATE INDEX second_steps_expires ON second_steps (expires_at);
