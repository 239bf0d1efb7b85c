-- Exports prepared in the background (issue 16). Paired with the other backend's 0014.

-- One requested export: its kind and filter (JSON), who asked, and where it stands. A ready
-- export's file is in the object store under storage_key until expires_at; then the file is
-- deleted and the row says 'expired'.
CREATE TABLE exports (
    seq           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id            UUID NOT NULL UNIQUE,
    kind          TEXT NOT NULL,
    requested_by  UUID NOT NULL REFERENCES users (id),
    filter        TEXT NOT NULL,
    status        TEXT NOT NULL CHECK (status IN ('queued', 'running', 'ready', 'failed', 'expired')),
    rows          BIGINT,
    bytes         BIGINT,
    storage_key   TEXT,
    error         TEXT,
    created_at    TIMESTAMPTZ NOT NULL,
    finished_at   TIMESTAMPTZ,
    expires_at    TIMESTAMPTZ
);
CREATE INDEX exports_requester ON exports (requested_by, seq);
CREATE INDEX exports_expiry ON exports (status, expires_at);
