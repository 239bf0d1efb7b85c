-- Working days and the day close (issue 6). Paired with the other backend's 0008.

-- The weekdays a branch works, e.g. 'mon,tue,wed,thu,fri' (the default) or 'mon,tue,wed,thu,fri,sat'.
ALTER TABLE branches ADD COLUMN working_days TEXT NOT NULL DEFAULT 'mon,tue,wed,thu,fri';

-- National holidays and collective leave days, loaded per year by operators; not working days.
CREATE TABLE holidays (
    date  TEXT PRIMARY KEY NOT NULL,
    name  TEXT NOT NULL,
    kind  TEXT NOT NULL CHECK (kind IN ('holiday', 'collective_leave'))
);

-- Each branch's closed days: the day close runs once per branch and date.
CREATE TABLE day_closes (
    branch_id     BLOB NOT NULL REFERENCES branches (id),
    date          TEXT NOT NULL,
    closed_at     TEXT NOT NULL,
    late_visits   BIGINT NOT NULL,
    missed_tasks  BIGINT NOT NULL,
    PRIMARY KEY (branch_id, date)
);

-- The day close reads a branch's unsubmitted visits of one date: an index over drafts only.
CREATE INDEX visits_drafts_by_date ON visits (branch_id, visit_date) WHERE status = 'draft';
