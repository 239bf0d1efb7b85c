-- Webhook subscriptions and their delivery log (issue 5). Paired with the other backend's 0007.

CREATE TABLE webhooks (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id          BLOB NOT NULL UNIQUE,
    url         TEXT NOT NULL,
    -- The HMAC-SHA256 key; shown once, at creation.
    secret      TEXT NOT NULL,
    events      TEXT NOT NULL,
    active      INTEGER NOT NULL,
    created_by  BLOB,
    created_at  TEXT NOT NULL
);

-- One row per (subscription, event): its id is derived from both, so a retried fan-out adds
-- nothing. Each delivery is sent by a job; the row keeps what the last attempt saw.
CREATE TABLE webhook_deliveries (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id            BLOB NOT NULL UNIQUE,
    webhook_id    BLOB NOT NULL REFERENCES webhooks (id),
    event_id      BLOB NOT NULL,
    event         TEXT NOT NULL,
    payload       TEXT NOT NULL,
    status        TEXT NOT NULL CHECK (status IN ('pending', 'delivered', 'failed')),
    attempts      BIGINT NOT NULL DEFAULT 0,
    last_status   BIGINT,
    last_error    TEXT,
    created_at    TEXT NOT NULL,
    updated_at    TEXT NOT NULL,
    delivered_at  TEXT
);
CREATE INDEX webhook_deliveries_webhook ON webhook_deliveries (webhook_id, seq);
