-- Visit plans (issue 6). Paired with the other backend's 0010.

-- A planned task's key: customer, period and type (and which of the period's visits), so a rerun
-- of the planner, or several instances running it, never creates a task twice.
ALTER TABLE tasks ADD COLUMN plan_key TEXT;
CREATE UNIQUE INDEX tasks_plan_key ON tasks (plan_key) WHERE plan_key IS NOT NULL;
