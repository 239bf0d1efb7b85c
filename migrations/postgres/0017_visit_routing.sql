-- Visits routed for help and review deadlines (issue 18). Paired with the other backend's 0017.

-- A visit whose rep answered "needs HQ help" (a result reason's detail question): HQ's queue
-- filters on it.
ALTER TABLE visits ADD COLUMN needs_hq_help BOOLEAN NOT NULL DEFAULT FALSE;
-- A flagged visit is decided by this branch day (working days after its submit); the day close
-- after it escalates the visit and gives it its re-visit task.
ALTER TABLE visits ADD COLUMN review_due_date DATE;
ALTER TABLE visits ADD COLUMN review_escalated_at TIMESTAMPTZ;
CREATE INDEX visits_review_due ON visits (branch_id, review_due_date) WHERE review_due_date IS NOT NULL AND review_escalated_at IS NULL;
