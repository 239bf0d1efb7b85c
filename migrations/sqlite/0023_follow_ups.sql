-- Quotations, after-service cases and the follow-up tasks of their cadences (issue 20, the quotation
-- and after-service SOPs).
-- Paired with the other backend's 0023.

CREATE TABLE quotations (
    seq           INTEGER PRIMARY KEY AUTOINCREMENT,
    id            BLOB NOT NULL UNIQUE,
    lead_id       BLOB NOT NULL REFERENCES leads (id),
    branch_id     BLOB NOT NULL REFERENCES branches (id),
    number        TEXT NOT NULL,
    -- 0 for the first, 1 for Rev.01 …
    revision      INTEGER NOT NULL,
    amount        INTEGER NOT NULL,
    discount_pct  REAL NOT NULL,
    note          TEXT,
    -- awaiting_approval (a discount beyond the policy), sent, superseded (a later revision).
    status        TEXT NOT NULL,
    sent_on       TEXT,
    approved_by   BLOB REFERENCES users (id),
    created_by    BLOB NOT NULL REFERENCES users (id),
    created_at    TEXT NOT NULL,
    updated_at    TEXT NOT NULL
);
CREATE INDEX quotations_lead ON quotations (lead_id, seq);
CREATE UNIQUE INDEX quotations_one_revision ON quotations (lead_id, revision);

CREATE TABLE service_cases (
    seq           INTEGER PRIMARY KEY AUTOINCREMENT,
    id            BLOB NOT NULL UNIQUE,
    branch_id     BLOB NOT NULL REFERENCES branches (id),
    customer_id   BLOB NOT NULL REFERENCES customers (id),
    kind          TEXT NOT NULL,
    summary       TEXT NOT NULL,
    completed_on  TEXT NOT NULL,
    created_by    BLOB NOT NULL REFERENCES users (id),
    created_at    TEXT NOT NULL
);
CREATE INDEX service_cases_customer ON service_cases (customer_id, seq);

CREATE TABLE follow_ups (
    seq           INTEGER PRIMARY KEY AUTOINCREMENT,
    id            BLOB NOT NULL UNIQUE,
    branch_id     BLOB NOT NULL REFERENCES branches (id),
    assignee_id   BLOB NOT NULL REFERENCES users (id),
    lead_id       BLOB REFERENCES leads (id),
    quotation_id  BLOB REFERENCES quotations (id),
    customer_id   BLOB REFERENCES customers (id),
    service_case_id BLOB REFERENCES service_cases (id),
    cadence       TEXT NOT NULL,
    step          INTEGER NOT NULL,
    step_name     TEXT NOT NULL,
    purpose       TEXT NOT NULL,
    due_date      TEXT NOT NULL,
    status        TEXT NOT NULL,
    answered      BOOLEAN,
    note          TEXT,
    done_at       TEXT,
    done_by       BLOB REFERENCES users (id),
    -- What the step's checklist recorded, and a breach of the SOP it shows.
    outcome       TEXT,
    finding       TEXT,
    created_at    TEXT NOT NULL
);
CREATE INDEX follow_ups_assignee ON follow_ups (assignee_id, status, due_date);
CREATE INDEX follow_ups_branch ON follow_ups (branch_id, status, due_date);
CREATE INDEX follow_ups_lead ON follow_ups (lead_id, seq);
-- A cadence's step exists once per quotation or case, however requests race.
CREATE UNIQUE INDEX follow_ups_one_step ON follow_ups (quotation_id, step);
CREATE UNIQUE INDEX follow_ups_one_case_step ON follow_ups (service_case_id, step);
