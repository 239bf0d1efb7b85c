-- Token expiry, revocation by id and last use (issue 19). Paired with the other backend's 0021.
-- A token made before this has no expiry (NULL), as before; new ones get one.

ALTER TABLE api_tokens ADD COLUMN expires_at TIMESTAMPTZ;
ALTER TABLE api_tokens ADD COLUMN last_used_at TIMESTAMPTZ;
CREATE INDEX api_tokens_user ON api_tokens (user_id);
