-- Exports prepared in the background (issue 16). Paired with the other backend's 0014.

-- One requested export: its kind and filter (JSON), who asked, and where it stands. A ready
-- export's file is in the object store under storage_key until expires_at; then the file is
-- deleted and the row says 'expired'.
CREATE TABLE exports (
    seq           INTEGER PRIMARY KEY AUTOINCREMENT,
    id            BLOB NOT NULL UNIQUE,
    kind          TEXT NOT NULL,
    requested_by  BLOB NOT NULL REFERENCES users (id),
    filter        TEXT NOT NULL,
    status        TEXT NOT NULL CHECK (status IN ('queued', 'running', 'ready', 'failed', 'expired')),
    rows          BIGINT,
    bytes         BIGINT,
    storage_key   TEXT,
    error         TEXT,
    created_at    TEXT NOT NULL,
    finished_at   TEXT,
    expires_at    TEXT
);
CREATE INDEX exports_requester ON exports (requested_by, seq);
CREATE INDEX exports_expiry ON exports (status, expires_at);
