-- WhatsApp screenshots read by OCR (issue 17). Paired with the other backend's 0020.

-- The text read, lowercased: what HQ searches.
ALTER TABLE photos ADD COLUMN chat_text TEXT;

-- MinHash LSH bands of each read chat's text (20 per screenshot, as summary_bands are for
-- summaries): a screenshot of the same chat used for another visit — recompressed, resized or
-- cropped, whatever its pixels — is found by one index lookup per band. (Perceptual hashes
-- cannot tell chats apart: every WhatsApp screen looks alike to them.)
CREATE TABLE chat_bands (
    band_key  BIGINT NOT NULL,
    photo_id  UUID NOT NULL REFERENCES photos (id)
);
CREATE INDEX chat_bands_key ON chat_bands (band_key);
