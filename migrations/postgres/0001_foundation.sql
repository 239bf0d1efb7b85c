-- FieldProof foundation schema (PostgreSQL). Paired with migrations/sqlite/0001_foundation.sql.
-- Ids are UUIDs, instants are UTC, dates are branch-local calendar dates.

CREATE TABLE branches (
    id          UUID PRIMARY KEY NOT NULL,
    code        TEXT NOT NULL UNIQUE,
    name        TEXT NOT NULL,
    time_zone   TEXT NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL
);

CREATE TABLE users (
    id          UUID PRIMARY KEY NOT NULL,
    name        TEXT NOT NULL,
    role        TEXT NOT NULL CHECK (role IN ('sales', 'branch_marketing', 'hq', 'admin')),
    branch_id   UUID REFERENCES branches (id),
    created_at  TIMESTAMPTZ NOT NULL
);

CREATE TABLE api_tokens (
    token_hash  TEXT PRIMARY KEY NOT NULL,
    user_id     UUID NOT NULL REFERENCES users (id),
    label       TEXT NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL,
    revoked_at  TIMESTAMPTZ
);

CREATE TABLE customers (
    seq               BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id                UUID NOT NULL UNIQUE,
    code              TEXT NOT NULL UNIQUE,
    name              TEXT NOT NULL,
    customer_type     TEXT NOT NULL,
    branch_id         UUID NOT NULL REFERENCES branches (id),
    assigned_rep_id   UUID REFERENCES users (id),
    latitude          DOUBLE PRECISION,
    longitude         DOUBLE PRECISION,
    geofence_radius_m DOUBLE PRECISION,
    contact_name      TEXT,
    contact_position  TEXT,
    contact_phone     TEXT,
    created_on        DATE NOT NULL,
    class             TEXT NOT NULL,
    created_at        TIMESTAMPTZ NOT NULL,
    updated_at        TIMESTAMPTZ NOT NULL
);
CREATE INDEX customers_branch ON customers (branch_id, seq);

CREATE TABLE tasks (
    seq              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id               UUID NOT NULL UNIQUE,
    customer_id      UUID NOT NULL REFERENCES customers (id),
    branch_id        UUID NOT NULL REFERENCES branches (id),
    assignee_id      UUID NOT NULL REFERENCES users (id),
    task_type        TEXT NOT NULL,
    required_method  TEXT NOT NULL,
    due_date         DATE NOT NULL,
    status           TEXT NOT NULL,
    origin_visit_id  UUID,
    origin           TEXT NOT NULL,
    note             TEXT,
    created_by       UUID REFERENCES users (id),
    created_at       TIMESTAMPTZ NOT NULL,
    updated_at       TIMESTAMPTZ NOT NULL
);
CREATE INDEX tasks_assignee ON tasks (assignee_id, status, due_date);
CREATE INDEX tasks_branch ON tasks (branch_id, status, due_date);
-- Never two open re-visit tasks for one visit, however the requests race.
CREATE UNIQUE INDEX tasks_one_open_revisit ON tasks (origin_visit_id)
    WHERE task_type = 'revisit' AND status = 'open';

CREATE TABLE visits (
    seq              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id               UUID NOT NULL UNIQUE,
    rep_id           UUID NOT NULL REFERENCES users (id),
    branch_id        UUID NOT NULL REFERENCES branches (id),
    customer_id      UUID NOT NULL REFERENCES customers (id),
    task_id          UUID REFERENCES tasks (id),
    method           TEXT NOT NULL,
    content          JSONB NOT NULL,
    content_hash     TEXT NOT NULL,
    visited_at       TIMESTAMPTZ,
    visit_date       DATE,
    status           TEXT NOT NULL,
    review_status    TEXT NOT NULL,
    score            BIGINT,
    deducted_points  BIGINT NOT NULL DEFAULT 0,
    submitted_at     TIMESTAMPTZ,
    revisit_task_id  UUID,
    created_at       TIMESTAMPTZ NOT NULL,
    updated_at       TIMESTAMPTZ NOT NULL
);
CREATE INDEX visits_rep ON visits (rep_id, seq);
CREATE INDEX visits_branch ON visits (branch_id, seq);
CREATE INDEX visits_customer ON visits (customer_id, seq);

CREATE TABLE photos (
    seq           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id            UUID NOT NULL UNIQUE,
    visit_id      UUID NOT NULL REFERENCES visits (id),
    kind          TEXT NOT NULL,
    sha256        TEXT NOT NULL,
    size_bytes    BIGINT NOT NULL,
    content_type  TEXT NOT NULL,
    storage_key   TEXT NOT NULL UNIQUE,
    capture       JSONB NOT NULL,
    facts         JSONB NOT NULL,
    findings      JSONB NOT NULL,
    received_at   TIMESTAMPTZ NOT NULL
);
CREATE INDEX photos_visit ON photos (visit_id, seq);
CREATE INDEX photos_sha256 ON photos (sha256);

CREATE TABLE findings (
    seq          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    visit_id     UUID NOT NULL REFERENCES visits (id),
    photo_id     UUID,
    code         TEXT NOT NULL,
    severity     TEXT NOT NULL,
    penalty      BIGINT NOT NULL,
    evidence     JSONB NOT NULL,
    message_id   TEXT NOT NULL,
    message_en   TEXT NOT NULL
);
CREATE INDEX findings_visit ON findings (visit_id);
CREATE INDEX findings_code ON findings (code, visit_id);

CREATE TABLE reviews (
    seq              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id               UUID NOT NULL UNIQUE,
    visit_id         UUID NOT NULL REFERENCES visits (id),
    reviewer_id      UUID NOT NULL REFERENCES users (id),
    decision         TEXT NOT NULL,
    comment          TEXT,
    deduct_points    BIGINT NOT NULL,
    revisit_task_id  UUID,
    created_at       TIMESTAMPTZ NOT NULL
);
CREATE INDEX reviews_visit ON reviews (visit_id, seq);

CREATE TABLE audit_log (
    seq           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at            TIMESTAMPTZ NOT NULL,
    actor_id      UUID,
    action        TEXT NOT NULL,
    subject_type  TEXT NOT NULL,
    subject_id    TEXT NOT NULL,
    detail        JSONB NOT NULL
);
CREATE INDEX audit_subject ON audit_log (subject_type, subject_id);

CREATE TABLE jobs (
    seq           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id            UUID NOT NULL UNIQUE,
    kind          TEXT NOT NULL,
    unique_key    TEXT UNIQUE,
    payload       JSONB NOT NULL,
    status        TEXT NOT NULL CHECK (status IN ('queued', 'running', 'done', 'dead')),
    attempts      BIGINT NOT NULL DEFAULT 0,
    run_at        TIMESTAMPTZ NOT NULL,
    locked_by     TEXT,
    heartbeat_at  TIMESTAMPTZ,
    last_error    TEXT,
    created_at    TIMESTAMPTZ NOT NULL,
    updated_at    TIMESTAMPTZ NOT NULL
);
CREATE INDEX jobs_ready ON jobs (status, run_at);
