-- Supervisors, and customers' ownership and distribution point (issue 18). Paired with the other
-- backend's 0018.
--
-- SQLite cannot change a CHECK constraint in place, and sqlx runs each SQLite migration inside a
-- transaction, where foreign keys cannot be switched off. So the users table is rebuilt with its
-- foreign keys deferred: its rows are kept aside, the table dropped (the rows referring to it
-- are orphans for a moment) and made again with the new CHECK, and the rows put back, which
-- gives every orphan its parent again before the commit checks them.
PRAGMA defer_foreign_keys = ON;
CREATE TABLE users_kept AS
    SELECT id, name, role, branch_id, created_at, login, password_hash, password_must_change, locale FROM users;
DROP TABLE users;
CREATE TABLE users (
    id                    BLOB PRIMARY KEY NOT NULL,
    name                  TEXT NOT NULL,
    role                  TEXT NOT NULL CHECK (role IN ('sales', 'branch_marketing', 'supervisor', 'hq', 'admin')),
    branch_id             BLOB REFERENCES branches (id),
    created_at            TEXT NOT NULL,
    login                 TEXT,
    password_hash         TEXT,
    password_must_change  BOOLEAN NOT NULL DEFAULT FALSE,
    locale                TEXT NOT NULL DEFAULT 'id' CHECK (locale IN ('id', 'en'))
);
INSERT INTO users (id, name, role, branch_id, created_at, login, password_hash, password_must_change, locale)
    SELECT id, name, role, branch_id, created_at, login, password_hash, password_must_change, locale FROM users_kept;
DROP TABLE users_kept;
CREATE UNIQUE INDEX users_login ON users (login);
CREATE INDEX users_branch_role ON users (branch_id, role);

-- Who owns the customer (the JMS's "Kepemilikan Agent Klien": J&T's own, HQ, or an agent's) and
-- the distribution point it belongs to ("DP Kepemilikan").
ALTER TABLE customers ADD COLUMN ownership TEXT NOT NULL DEFAULT 'hq' CHECK (ownership IN ('hq', 'agent'));
ALTER TABLE customers ADD COLUMN dp TEXT;
CREATE INDEX customers_dp ON customers (branch_id, dp);
