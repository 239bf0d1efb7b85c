-- H-1: a planned visit is confirmed with the customer the day before (RULES.md, visit plan).
-- Who confirmed it, when, and what was agreed; NULL until then.
ALTER TABLE tasks ADD COLUMN confirmed_at TIMESTAMPTZ;
ALTER TABLE tasks ADD COLUMN confirmed_by UUID;
ALTER TABLE tasks ADD COLUMN confirmation_note TEXT;
