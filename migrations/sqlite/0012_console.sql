-- The console's sign-in (issue 16). Paired with the other backend's 0012.

-- A console login and its password (argon2id, PHC string); NULL until one is set. A password
-- printed by `fieldproof user add` / `user set-password` must be changed at the first sign-in.
-- The console's language is remembered per user.
ALTER TABLE users ADD COLUMN login TEXT;
ALTER TABLE users ADD COLUMN password_hash TEXT;
ALTER TABLE users ADD COLUMN password_must_change BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE users ADD COLUMN locale TEXT NOT NULL DEFAULT 'id' CHECK (locale IN ('id', 'en'));
CREATE UNIQUE INDEX users_login ON users (login);

-- A signed-in browser. The cookie holds a random id; only its SHA-256 is stored. The CSRF token
-- every state-changing request must carry is the session's own.
CREATE TABLE console_sessions (
    id_hash       TEXT PRIMARY KEY NOT NULL,
    user_id       BLOB NOT NULL REFERENCES users (id),
    csrf_token    TEXT NOT NULL,
    created_at    TEXT NOT NULL,
    last_seen_at  TEXT NOT NULL,
    ended_at      TEXT
);
CREATE INDEX console_sessions_user ON console_sessions (user_id);

-- Failed sign-ins, per login ('login:<login>') and per client address ('addr:<ip>'): after a
-- few, each further attempt waits longer (locked_until), so guessing is bounded.
CREATE TABLE sign_in_failures (
    throttle_key  TEXT PRIMARY KEY NOT NULL,
    failures      INTEGER NOT NULL,
    last_at       TEXT NOT NULL,
    locked_until  TEXT
);
