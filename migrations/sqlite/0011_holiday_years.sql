-- Who set each year's holidays (issue 6). Paired with the other backend's 0011.

-- 'shipped': the list that comes with the release (data/holidays-id.json), which a later release
-- may correct or complete at start-up; 'operator': loaded by an admin (PUT /v1/holidays/{year})
-- or from a file (`fieldproof holidays load FILE`), never touched by an upgrade.
CREATE TABLE holiday_years (
    year    INTEGER PRIMARY KEY NOT NULL,
    source  TEXT NOT NULL CHECK (source IN ('shipped', 'operator'))
);
