-- The rest of the pipeline (issue 20): when a deal was decided, the contract of a won deal (a past
-- client once it ends), a quotation revision's request and its finding, and the quotation's
-- document in the object store. Paired with the other backend's 0024.

ALTER TABLE leads ADD COLUMN closed_at TIMESTAMPTZ;
ALTER TABLE leads ADD COLUMN contract_value BIGINT;
ALTER TABLE leads ADD COLUMN contract_product TEXT;
ALTER TABLE leads ADD COLUMN contract_ends_on DATE;
-- Deals decided before this migration: decided when they were last written.
UPDATE leads SET closed_at = updated_at WHERE stage IN ('won', 'lost', 'past_client');
CREATE INDEX leads_received ON leads (received_at);
CREATE INDEX leads_closed ON leads (closed_at) WHERE closed_at IS NOT NULL;
-- The day close reads the won deals whose contract ended.
CREATE INDEX leads_contract_end ON leads (branch_id, contract_ends_on) WHERE stage = 'won';

ALTER TABLE quotations ADD COLUMN revision_requested_at TIMESTAMPTZ;
ALTER TABLE quotations ADD COLUMN finding TEXT;
ALTER TABLE quotations ADD COLUMN document_key TEXT;
ALTER TABLE quotations ADD COLUMN document_bytes BIGINT;
ALTER TABLE quotations ADD COLUMN document_sha256 TEXT;
CREATE INDEX quotations_sent ON quotations (sent_on) WHERE sent_on IS NOT NULL;

CREATE INDEX follow_ups_due ON follow_ups (due_date);
