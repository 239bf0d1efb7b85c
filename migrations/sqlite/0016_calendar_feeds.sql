-- Calendar feeds (issue 18). Paired with the other backend's 0016.

-- A user's iCalendar feed of their tasks, read by a phone's calendar through a secret URL: only
-- the SHA-256 of the URL's token is stored. One feed a user; making a new one ends the old.
CREATE TABLE calendar_feeds (
    user_id     BLOB PRIMARY KEY NOT NULL REFERENCES users (id),
    token_hash  TEXT NOT NULL UNIQUE,
    created_at  TEXT NOT NULL
);
