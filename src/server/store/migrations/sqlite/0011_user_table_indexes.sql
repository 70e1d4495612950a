-- The user table's "administrators" filter reads this partial index in name order instead of
-- scanning every account for the few administrators (src/server/store/user_search.rs).
CREATE INDEX users_admins ON users (lower(username)) WHERE admin;
