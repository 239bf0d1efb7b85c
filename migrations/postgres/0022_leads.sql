-- Leads, their pipeline stage and their activity timeline (issue 20, the CRM and leads SOPs).
-- Paired with the other backend's 0022.

CREATE TABLE leads (
    seq                   BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id                    UUID NOT NULL UNIQUE,
    branch_id             UUID NOT NULL REFERENCES branches (id),
    name                  TEXT NOT NULL,
    company               TEXT,
    -- The company name without legal form or punctuation, for the duplicate search.
    company_key           TEXT,
    phone                 TEXT,
    email                 TEXT,
    source                TEXT NOT NULL,
    need                  TEXT NOT NULL,
    region                TEXT,
    product               TEXT,
    segment               TEXT,
    need_confirmed        BOOLEAN NOT NULL,
    budget_confirmed      BOOLEAN NOT NULL,
    expected_purchase_on  DATE,
    rating                TEXT NOT NULL,
    stage                 TEXT NOT NULL,
    lost_reason           TEXT,
    next_contact_on       DATE,
    assignee_id           UUID REFERENCES users (id),
    -- The distribution rule (its index in the policy) that chose the assignee, if one did.
    distribution_rule     BIGINT,
    customer_id           UUID REFERENCES customers (id),
    merged_into           UUID REFERENCES leads (id),
    received_at           TIMESTAMPTZ NOT NULL,
    first_contact_due_at  TIMESTAMPTZ NOT NULL,
    first_contacted_at    TIMESTAMPTZ,
    sla_breached_at       TIMESTAMPTZ,
    created_by            UUID NOT NULL REFERENCES users (id),
    created_at            TIMESTAMPTZ NOT NULL,
    updated_at            TIMESTAMPTZ NOT NULL
);
CREATE INDEX leads_branch ON leads (branch_id, seq);
CREATE INDEX leads_assignee ON leads (assignee_id, seq);
CREATE INDEX leads_phone ON leads (phone);
CREATE INDEX leads_email ON leads (email);
-- The periodic SLA check reads only the leads whose first contact is not yet judged late.
CREATE INDEX leads_first_contact_due ON leads (first_contact_due_at) WHERE sla_breached_at IS NULL;

CREATE TABLE lead_activities (
    seq          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id           UUID NOT NULL UNIQUE,
    lead_id      UUID NOT NULL REFERENCES leads (id),
    kind         TEXT NOT NULL,
    occurred_at  TIMESTAMPTZ NOT NULL,
    summary      TEXT NOT NULL,
    answered     BOOLEAN,
    actor_id     UUID REFERENCES users (id),
    logged_at    TIMESTAMPTZ NOT NULL
);
CREATE INDEX lead_activities_lead ON lead_activities (lead_id, occurred_at, seq);
