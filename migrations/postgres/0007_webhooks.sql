-- Webhook subscriptions and their delivery log (issue 5). Paired with the other backend's 0007.

CREATE TABLE webhooks (
    seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id          UUID NOT NULL UNIQUE,
    url         TEXT NOT NULL,
    -- The HMAC-SHA256 key; shown once, at creation.
    secret      TEXT NOT NULL,
    events      JSONB NOT NULL,
    active      BOOLEAN NOT NULL,
    created_by  UUID,
    created_at  TIMESTAMPTZ NOT NULL
);

-- One row per (subscription, event): its id is derived from both, so a retried fan-out adds
-- nothing. Each delivery is sent by a job; the row keeps what the last attempt saw.
CREATE TABLE webhook_deliveries (
    seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id            UUID NOT NULL UNIQUE,
    webhook_id    UUID NOT NULL REFERENCES webhooks (id),
    event_id      UUID NOT NULL,
    event         TEXT NOT NULL,
    payload       JSONB NOT NULL,
    status        TEXT NOT NULL CHECK (status IN ('pending', 'delivered', 'failed')),
    attempts      BIGINT NOT NULL DEFAULT 0,
    last_status   BIGINT,
    last_error    TEXT,
    created_at    TIMESTAMPTZ NOT NULL,
    updated_at    TIMESTAMPTZ NOT NULL,
    delivered_at  TIMESTAMPTZ
);
CREATE INDEX webhook_deliveries_webhook ON webhook_deliveries (webhook_id, seq);
