-- Sign-in attempts replace sign-in failures: an attempt is recorded (reserved) before its
-- password is checked, so that concurrent attempts see each other; a success deletes its rows
-- again, so what remains are failures, and attempts still being checked.
DROP TABLE sign_in_failures;

CREATE TABLE sign_in_attempts (
    -- One attempt, reserved against several subjects at once; released together.
    attempt_id   TEXT NOT NULL,
    -- "account:<lower-case username>", "device:<id>" or "address:<ip>".
    subject      TEXT NOT NULL,
    attempted_at TEXT NOT NULL
) STRICT;

CREATE INDEX sign_in_attempts_subject ON sign_in_attempts (subject, attempted_at);
CREATE INDEX sign_in_attempts_attempt_id ON sign_in_attempts (attempt_id);

-- Who a session was started for: a browser (cookies, every scope of the user) or a program
-- (POST /token, possibly narrowed scopes). A program's tokens never work as browser cookies.
ALTER TABLE sessions ADD COLUMN client TEXT NOT NULL DEFAULT 'browser' CHECK (client IN ('browser', 'program'));

CREATE INDEX sessions_user_id_live ON sessions (user_id, revoked_at, expires_at);
