-- Passwords people change themselves, admin resets that force a change, sessions
-- ended by a password change, and a row that serialises changes to who is admin.

ALTER TABLE users ADD COLUMN must_change_password BOOLEAN NOT NULL DEFAULT FALSE;
-- Bumped when the password changes: sessions signed in under an older epoch end.
ALTER TABLE users ADD COLUMN session_epoch BIGINT NOT NULL DEFAULT 0;

-- Transactions that must not interleave update their row first (PostgreSQL holds
-- the row lock until commit; SQLite has one writer anyway).
CREATE TABLE app_locks (
    name TEXT PRIMARY KEY,
    n BIGINT NOT NULL DEFAULT 0
);
INSERT INTO app_locks (name, n) VALUES ('admins', 0);
