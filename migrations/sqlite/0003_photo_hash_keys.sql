-- Near-duplicate index, second form (paired with postgres/0003). At 10 million photos a 16-bit chunk
-- value is shared by ~150 rows, so 0002's 20 exact chunk probes touched thousands of rows. Now every
-- photo has 10 keys, each a 32-bit chunk tagged with its slot (key = slot << 32 | chunk):
--   slots 0-7: the 256-bit dHash, 8 chunks of 32 bits (big-endian);
--   slots 8-9: the 64-bit aHash, low and high 32 bits.
-- A lookup probes each chunk as it is and with each of its 32 bits flipped (330 keys). Two dHashes
-- within 15 bits have a chunk within 1 bit (pigeonhole: 8 chunks x 2 bits = 16 > 15), so every
-- near copy is found; two aHashes within 3 bits likewise. A random key is shared by about
-- N / 2^32 photos: at 10M, a lookup touches a row or two, not thousands.
CREATE TABLE photo_hash_keys (
    key       INTEGER NOT NULL,
    photo_id  BLOB NOT NULL REFERENCES photo_hashes (photo_id),
    PRIMARY KEY (key, photo_id)
) WITHOUT ROWID;

INSERT INTO photo_hash_keys (key, photo_id)
SELECT (s.slot << 32) | CASE
        WHEN s.slot < 8 THEN
            (((s.lo & 255) << 24) | ((s.lo >> 8) << 16) | ((s.hi & 255) << 8) | (s.hi >> 8))
        ELSE (s.hi << 16) | s.lo
    END,
    s.photo_id
FROM (
    SELECT photo_id, 0 AS slot, c0 AS lo, c1 AS hi FROM photo_hashes
    UNION ALL SELECT photo_id, 1, c2, c3 FROM photo_hashes
    UNION ALL SELECT photo_id, 2, c4, c5 FROM photo_hashes
    UNION ALL SELECT photo_id, 3, c6, c7 FROM photo_hashes
    UNION ALL SELECT photo_id, 4, c8, c9 FROM photo_hashes
    UNION ALL SELECT photo_id, 5, c10, c11 FROM photo_hashes
    UNION ALL SELECT photo_id, 6, c12, c13 FROM photo_hashes
    UNION ALL SELECT photo_id, 7, c14, c15 FROM photo_hashes
    UNION ALL SELECT photo_id, 8, a0, a1 FROM photo_hashes
    UNION ALL SELECT photo_id, 9, a2, a3 FROM photo_hashes
) AS s;

DROP INDEX photo_hashes_c0;
DROP INDEX photo_hashes_c1;
DROP INDEX photo_hashes_c2;
DROP INDEX photo_hashes_c3;
DROP INDEX photo_hashes_c4;
DROP INDEX photo_hashes_c5;
DROP INDEX photo_hashes_c6;
DROP INDEX photo_hashes_c7;
DROP INDEX photo_hashes_c8;
DROP INDEX photo_hashes_c9;
DROP INDEX photo_hashes_c10;
DROP INDEX photo_hashes_c11;
DROP INDEX photo_hashes_c12;
DROP INDEX photo_hashes_c13;
DROP INDEX photo_hashes_c14;
DROP INDEX photo_hashes_c15;
DROP INDEX photo_hashes_a0;
DROP INDEX photo_hashes_a1;
DROP INDEX photo_hashes_a2;
DROP INDEX photo_hashes_a3;
ALTER TABLE photo_hashes DROP COLUMN c0;
ALTER TABLE photo_hashes DROP COLUMN c1;
ALTER TABLE photo_hashes DROP COLUMN c2;
ALTER TABLE photo_hashes DROP COLUMN c3;
ALTER TABLE photo_hashes DROP COLUMN c4;
ALTER TABLE photo_hashes DROP COLUMN c5;
ALTER TABLE photo_hashes DROP COLUMN c6;
ALTER TABLE photo_hashes DROP COLUMN c7;
ALTER TABLE photo_hashes DROP COLUMN c8;
ALTER TABLE photo_hashes DROP COLUMN c9;
ALTER TABLE photo_hashes DROP COLUMN c10;
ALTER TABLE photo_hashes DROP COLUMN c11;
ALTER TABLE photo_hashes DROP COLUMN c12;
ALTER TABLE photo_hashes DROP COLUMN c13;
ALTER TABLE photo_hashes DROP COLUMN c14;
ALTER TABLE photo_hashes DROP COLUMN c15;
ALTER TABLE photo_hashes DROP COLUMN a0;
ALTER TABLE photo_hashes DROP COLUMN a1;
ALTER TABLE photo_hashes DROP COLUMN a2;
ALTER TABLE photo_hashes DROP COLUMN a3;
