-- Quotations, after-service cases and the follow-up tasks of their cadences (issue 20, the quotation
-- and after-service SOPs).
-- Paired with the other backend's 0023.

CREATE TABLE quotations (
    seq           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id            UUID NOT NULL UNIQUE,
    lead_id       UUID NOT NULL REFERENCES leads (id),
    branch_id     UUID NOT NULL REFERENCES branches (id),
    number        TEXT NOT NULL,
    -- 0 for the first, 1 for Rev.01 …
    revision      BIGINT NOT NULL,
    amount        BIGINT NOT NULL,
    discount_pct  DOUBLE PRECISION NOT NULL,
    note          TEXT,
    -- awaiting_approval (a discount beyond the policy), sent, superseded (a later revision).
    status        TEXT NOT NULL,
    sent_on       DATE,
    approved_by   UUID REFERENCES users (id),
    created_by    UUID NOT NULL REFERENCES users (id),
    created_at    TIMESTAMPTZ NOT NULL,
    updated_at    TIMESTAMPTZ NOT NULL
);
CREATE INDEX quotations_lead ON quotations (lead_id, seq);
CREATE UNIQUE INDEX quotations_one_revision ON quotations (lead_id, revision);

CREATE TABLE service_cases (
    seq           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id            UUID NOT NULL UNIQUE,
    branch_id     UUID NOT NULL REFERENCES branches (id),
    customer_id   UUID NOT NULL REFERENCES customers (id),
    kind          TEXT NOT NULL,
    summary       TEXT NOT NULL,
    completed_on  DATE NOT NULL,
    created_by    UUID NOT NULL REFERENCES users (id),
    created_at    TIMESTAMPTZ NOT NULL
);
CREATE INDEX service_cases_customer ON service_cases (customer_id, seq);

CREATE TABLE follow_ups (
    seq           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id            UUID NOT NULL UNIQUE,
    branch_id     UUID NOT NULL REFERENCES branches (id),
    assignee_id   UUID NOT NULL REFERENCES users (id),
    lead_id       UUID REFERENCES leads (id),
    quotation_id  UUID REFERENCES quotations (id),
    customer_id   UUID REFERENCES customers (id),
    service_case_id UUID REFERENCES service_cases (id),
    cadence       TEXT NOT NULL,
    step          BIGINT NOT NULL,
    step_name     TEXT NOT NULL,
    purpose       TEXT NOT NULL,
    due_date      DATE NOT NULL,
    status        TEXT NOT NULL,
    answered      BOOLEAN,
    note          TEXT,
    done_at       TIMESTAMPTZ,
    done_by       UUID REFERENCES users (id),
    -- What the step's checklist recorded, and a breach of the SOP it shows.
    outcome       JSONB,
    finding       TEXT,
    created_at    TIMESTAMPTZ NOT NULL
);
CREATE INDEX follow_ups_assignee ON follow_ups (assignee_id, status, due_date);
CREATE INDEX follow_ups_branch ON follow_ups (branch_id, status, due_date);
CREATE INDEX follow_ups_lead ON follow_ups (lead_id, seq);
-- A cadence's step exists once per quotation or case, however requests race.
CREATE UNIQUE INDEX follow_ups_one_step ON follow_ups (quotation_id, step);
CREATE UNIQUE INDEX follow_ups_one_case_step ON follow_ups (service_case_id, step);
