-- WhatsApp screenshots read by OCR (issue 17). Paired with the other backend's 0020.

-- The messages' text fingerprint finds a screenshot of the same chat used for another visit
-- (whatever its bytes or pixels); the text read, lowercased, is what HQ searches.
ALTER TABLE photos ADD COLUMN text_fingerprint TEXT;
ALTER TABLE photos ADD COLUMN chat_text TEXT;
CREATE INDEX photos_text_fingerprint ON photos (text_fingerprint) WHERE text_fingerprint IS NOT NULL;
