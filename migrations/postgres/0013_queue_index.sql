-- The review queue reads each rank (non-compliant, flagged, compliant) newest first down this
-- index, instead of sorting every visit awaiting review (issue 16's 100 000-visit bench).
-- Paired with the other backend's 0013.
CREATE INDEX visits_queue ON visits (status, review_status, seq);
