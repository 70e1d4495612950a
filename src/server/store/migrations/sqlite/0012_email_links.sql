-- E-mail: verified addresses, the links mailed for password resets, address checks and
-- sign-ups, and the requests that sent mail (for the throttle). See src/server/email/.

-- Set only by following a link mailed to the address (or by a reset through it).
ALTER TABLE users ADD COLUMN email_verified INTEGER NOT NULL DEFAULT 0
    CHECK (email_verified IN (0, 1));

-- One mailed link: only its token's SHA-256 is kept.
-- Forgotten-password requests and sign-ups look accounts up by address.
CREATE INDEX users_email ON users (lower(email));

CREATE TABLE email_links (
    token_hash    TEXT    NOT NULL PRIMARY KEY,
    purpose       TEXT    NOT NULL CHECK (purpose IN ('reset', 'verify', 'signup')),
    -- The account it acts on; none for a sign-up, whose account exists only once verified.
    user_id       INTEGER REFERENCES users (id) ON DELETE CASCADE,
    -- Where the link was sent: for 'verify' and 'signup', the address it proves.
    email         TEXT    NOT NULL,
    -- The account's name (a sign-up's chosen one); a sign-up's password hash until proved.
    username      TEXT    NOT NULL,
    password_hash TEXT,
    created_at    TEXT    NOT NULL,
    expires_at    TEXT    NOT NULL,
    -- 'live' until followed ('used') or replaced by a newer link ('replaced').
    state         TEXT    NOT NULL DEFAULT 'live' CHECK (state IN ('live', 'used', 'replaced'))
) STRICT;

CREATE INDEX email_links_user ON email_links (user_id, purpose);
CREATE INDEX email_links_email ON email_links (lower(email), purpose);
CREATE INDEX email_links_expires ON email_links (expires_at);

-- Every request that could send mail, answered or not: the throttle counts them per client
-- address, per account and per recipient over the last hour.
CREATE TABLE mail_requests (
    id         INTEGER PRIMARY KEY,
    at         TEXT    NOT NULL,
    ip_address TEXT,
    user_id    INTEGER,
    recipient  TEXT
) STRICT;

CREATE INDEX mail_requests_ip ON mail_requests (ip_address, at);
CREATE INDEX mail_requests_user ON mail_requests (user_id, at);
CREATE INDEX mail_requests_recipient ON mail_requests (lower(recipient), at);
CREATE INDEX mail_requests_at ON mail_requests (at);
