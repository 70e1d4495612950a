-- Administration (the PostgreSQL twin of migrations/sqlite/0008_administration.sql).
ALTER TABLE users ADD COLUMN must_change_password BOOLEAN NOT NULL DEFAULT false;
