-- FieldProof foundation schema (SQLite). Paired with migrations/postgres/0001_foundation.sql.
-- Ids are UUIDs (16-byte BLOBs here), instants are UTC, dates are branch-local calendar dates.

CREATE TABLE branches (
    id          BLOB PRIMARY KEY NOT NULL,
    code        TEXT NOT NULL UNIQUE,
    name        TEXT NOT NULL,
    time_zone   TEXT NOT NULL,
    created_at  TEXT NOT NULL
);

CREATE TABLE users (
    id          BLOB PRIMARY KEY NOT NULL,
    name        TEXT NOT NULL,
    role        TEXT NOT NULL CHECK (role IN ('sales', 'branch_marketing', 'hq', 'admin')),
    branch_id   BLOB REFERENCES branches (id),
    created_at  TEXT NOT NULL
);

CREATE TABLE api_tokens (
    token_hash  TEXT PRIMARY KEY NOT NULL,
    user_id     BLOB NOT NULL REFERENCES users (id),
    label       TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    revoked_at  TEXT
);

CREATE TABLE customers (
    seq               INTEGER PRIMARY KEY AUTOINCREMENT,
    id                BLOB NOT NULL UNIQUE,
    code              TEXT NOT NULL UNIQUE,
    name              TEXT NOT NULL,
    customer_type     TEXT NOT NULL,
    branch_id         BLOB NOT NULL REFERENCES branches (id),
    assigned_rep_id   BLOB REFERENCES users (id),
    latitude          REAL,
    longitude         REAL,
    geofence_radius_m REAL,
    contact_name      TEXT,
    contact_position  TEXT,
    contact_phone     TEXT,
    created_on        TEXT NOT NULL,
    class             TEXT NOT NULL,
    created_at        TEXT NOT NULL,
    updated_at        TEXT NOT NULL
);
CREATE INDEX customers_branch ON customers (branch_id, seq);

CREATE TABLE tasks (
    seq              INTEGER PRIMARY KEY AUTOINCREMENT,
    id               BLOB NOT NULL UNIQUE,
    customer_id      BLOB NOT NULL REFERENCES customers (id),
    branch_id        BLOB NOT NULL REFERENCES branches (id),
    assignee_id      BLOB NOT NULL REFERENCES users (id),
    task_type        TEXT NOT NULL,
    required_method  TEXT NOT NULL,
    due_date         TEXT NOT NULL,
    status           TEXT NOT NULL,
    origin_visit_id  BLOB,
    origin           TEXT NOT NULL,
    note             TEXT,
    created_by       BLOB REFERENCES users (id),
    created_at       TEXT NOT NULL,
    updated_at       TEXT NOT NULL
);
CREATE INDEX tasks_assignee ON tasks (assignee_id, status, due_date);
CREATE INDEX tasks_branch ON tasks (branch_id, status, due_date);
-- Never two open re-visit tasks for one visit, however the requests race.
CREATE UNIQUE INDEX tasks_one_open_revisit ON tasks (origin_visit_id)
    WHERE task_type = 'revisit' AND status = 'open';

CREATE TABLE visits (
    seq              INTEGER PRIMARY KEY AUTOINCREMENT,
    id               BLOB NOT NULL UNIQUE,
    rep_id           BLOB NOT NULL REFERENCES users (id),
    branch_id        BLOB NOT NULL REFERENCES branches (id),
    customer_id      BLOB NOT NULL REFERENCES customers (id),
    task_id          BLOB REFERENCES tasks (id),
    method           TEXT NOT NULL,
    content          TEXT NOT NULL,
    content_hash     TEXT NOT NULL,
    visited_at       TEXT,
    visit_date       TEXT,
    status           TEXT NOT NULL,
    review_status    TEXT NOT NULL,
    score            INTEGER,
    deducted_points  INTEGER NOT NULL DEFAULT 0,
    submitted_at     TEXT,
    revisit_task_id  BLOB,
    created_at       TEXT NOT NULL,
    updated_at       TEXT NOT NULL
);
CREATE INDEX visits_rep ON visits (rep_id, seq);
CREATE INDEX visits_branch ON visits (branch_id, seq);
CREATE INDEX visits_customer ON visits (customer_id, seq);

CREATE TABLE photos (
    seq           INTEGER PRIMARY KEY AUTOINCREMENT,
    id            BLOB NOT NULL UNIQUE,
    visit_id      BLOB NOT NULL REFERENCES visits (id),
    kind          TEXT NOT NULL,
    sha256        TEXT NOT NULL,
    size_bytes    INTEGER NOT NULL,
    content_type  TEXT NOT NULL,
    storage_key   TEXT NOT NULL UNIQUE,
    capture       TEXT NOT NULL,
    facts         TEXT NOT NULL,
    findings      TEXT NOT NULL,
    received_at   TEXT NOT NULL
);
CREATE INDEX photos_visit ON photos (visit_id, seq);
CREATE INDEX photos_sha256 ON photos (sha256);

CREATE TABLE findings (
    seq          INTEGER PRIMARY KEY AUTOINCREMENT,
    visit_id     BLOB NOT NULL REFERENCES visits (id),
    photo_id     BLOB,
    code         TEXT NOT NULL,
    severity     TEXT NOT NULL,
    penalty      INTEGER NOT NULL,
    evidence     TEXT NOT NULL,
    message_id   TEXT NOT NULL,
    message_en   TEXT NOT NULL
);
CREATE INDEX findings_visit ON findings (visit_id);
CREATE INDEX findings_code ON findings (code, visit_id);

CREATE TABLE reviews (
    seq              INTEGER PRIMARY KEY AUTOINCREMENT,
    id               BLOB NOT NULL UNIQUE,
    visit_id         BLOB NOT NULL REFERENCES visits (id),
    reviewer_id      BLOB NOT NULL REFERENCES users (id),
    decision         TEXT NOT NULL,
    comment          TEXT,
    deduct_points    INTEGER NOT NULL,
    revisit_task_id  BLOB,
    created_at       TEXT NOT NULL
);
CREATE INDEX reviews_visit ON reviews (visit_id, seq);

CREATE TABLE audit_log (
    seq           INTEGER PRIMARY KEY AUTOINCREMENT,
    at            TEXT NOT NULL,
    actor_id      BLOB,
    action        TEXT NOT NULL,
    subject_type  TEXT NOT NULL,
    subject_id    TEXT NOT NULL,
    detail        TEXT NOT NULL
);
CREATE INDEX audit_subject ON audit_log (subject_type, subject_id);

CREATE TABLE jobs (
    seq           INTEGER PRIMARY KEY AUTOINCREMENT,
    id            BLOB NOT NULL UNIQUE,
    kind          TEXT NOT NULL,
    unique_key    TEXT UNIQUE,
    payload       TEXT NOT NULL,
    status        TEXT NOT NULL CHECK (status IN ('queued', 'running', 'done', 'dead')),
    attempts      INTEGER NOT NULL DEFAULT 0,
    run_at        TEXT NOT NULL,
    locked_by     TEXT,
    heartbeat_at  TEXT,
    last_error    TEXT,
    created_at    TEXT NOT NULL,
    updated_at    TEXT NOT NULL
);
CREATE INDEX jobs_ready ON jobs (status, run_at);
