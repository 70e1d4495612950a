-- What the sessions list shows, and what the idle limit needs.
ALTER TABLE sessions ADD COLUMN last_used_at TEXT;
ALTER TABLE sessions ADD COLUMN user_agent TEXT;
ALTER TABLE sessions ADD COLUMN ip_address TEXT;
-- "Keep me signed in": such a session has no idle limit, only its absolute end.
ALTER TABLE sessions ADD COLUMN persistent INTEGER NOT NULL DEFAULT 0 CHECK (persistent IN (0, 1));

CREATE INDEX sessions_expires_at ON sessions (expires_at);
CREATE INDEX refresh_tokens_spent_at ON refresh_tokens (spent_at);
