-- Visit rules at submit (issue 5). Paired with the other backend's 0006.

-- The level (A–F) before a customer became Lost or Lost Warning: a Lost Warning customer whose
-- previous level was A–D needs a door visit, one that was E may be contacted by WhatsApp.
ALTER TABLE customers ADD COLUMN previous_level TEXT;

-- MinHash LSH bands of every submitted summary (20 per visit): a new summary's near-copies
-- are the visits sharing a band key with it, found by one index lookup per band however long
-- the history grows.
CREATE TABLE summary_bands (
    band_key  BIGINT NOT NULL,
    visit_id  UUID NOT NULL REFERENCES visits (id)
);
CREATE INDEX summary_bands_key ON summary_bands (band_key);
CREATE INDEX summary_bands_visit ON summary_bands (visit_id);
