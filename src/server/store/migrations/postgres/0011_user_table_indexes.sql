-- The PostgreSQL twin of migrations/sqlite/0011_user_table_indexes.sql.
CREATE INDEX users_admins ON users (lower(username)) WHERE admin;
