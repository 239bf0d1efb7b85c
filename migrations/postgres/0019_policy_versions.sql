-- Policy versions with effective dates (issue 18). Paired with the other backend's 0019.

-- HQ changes the SOP over time: each version is a whole policy file (merged over the built-in
-- defaults, as the configured file is), in force from its date until the next version's. A
-- visit is judged by the version in force on its visit date and records which it was.
CREATE TABLE policy_versions (
    id              UUID PRIMARY KEY NOT NULL,
    effective_from  DATE NOT NULL UNIQUE,
    body            TEXT NOT NULL,
    created_at      TIMESTAMPTZ NOT NULL,
    created_by      UUID REFERENCES users (id)
);
ALTER TABLE visits ADD COLUMN policy_version UUID;
