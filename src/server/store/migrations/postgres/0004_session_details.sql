-- What the sessions list shows, and what the idle limit needs.
ALTER TABLE sessions ADD COLUMN last_used_at TIMESTAMPTZ;
ALTER TABLE sessions ADD COLUMN user_agent TEXT;
ALTER TABLE sessions ADD COLUMN ip_address TEXT;
-- "Keep me signed in": such a session has no idle limit, only its absolute end.
ALTER TABLE sessions ADD COLUMN persistent BOOLEAN NOT NULL DEFAULT false;

CREATE INDEX sessions_expires_at ON sessions (expires_at);
CREATE INDEX refresh_tokens_spent_at ON refresh_tokens (spent_at);
