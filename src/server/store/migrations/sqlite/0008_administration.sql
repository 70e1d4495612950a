-- Administration: temporary passwords.
-- Set when an administrator (or `gatehouse user passwd --temporary`) chose the password: the
-- person must choose their own before reaching any other page.
ALTER TABLE users ADD COLUMN must_change_password INTEGER NOT NULL DEFAULT 0
    CHECK (must_change_password IN (0, 1));
