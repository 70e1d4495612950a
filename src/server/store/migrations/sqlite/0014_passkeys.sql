-- Passkeys (WebAuthn): an account's credentials, and the ceremonies under way. See
-- src/server/passkeys/.

-- One credential. `credential` is webauthn-rs's `Passkey` as JSON (public key, sign counter,
-- backup flags), rewritten after a sign-in that changed them. `user_handle` is the random id
-- the authenticator keeps for the account (the same for all of an account's passkeys): a
-- usernameless sign-in names the account by it, never by its username or number.
CREATE TABLE passkeys (
    id            INTEGER NOT NULL PRIMARY KEY,
    user_id       INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    -- base64url of the credential id, as browsers write it: unique across the site.
    credential_id TEXT    NOT NULL UNIQUE,
    user_handle   TEXT    NOT NULL,
    name          TEXT    NOT NULL,
    credential    TEXT    NOT NULL,
    created_at    TEXT    NOT NULL,
    last_used_at  TEXT
) STRICT;

CREATE INDEX passkeys_user ON passkeys (user_id);

-- A registration or sign-in begun and not yet finished: the challenge and what the library
-- needs to check the answer, named by the SHA-256 of a random token in an HttpOnly cookie of
-- the browser that began it. Taken (deleted) by the one request that finishes it.
CREATE TABLE passkey_ceremonies (
    token_hash TEXT    NOT NULL PRIMARY KEY,
    -- `register` or `sign_in`.
    kind       TEXT    NOT NULL,
    -- Who is adding a passkey; NULL for a sign-in (the passkey names its account).
    user_id    INTEGER REFERENCES users (id) ON DELETE CASCADE,
    state      TEXT    NOT NULL,
    expires_at TEXT    NOT NULL
) STRICT;

CREATE INDEX passkey_ceremonies_expires ON passkey_ceremonies (expires_at);
