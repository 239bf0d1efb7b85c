-- Near-duplicate index, second form (paired with sqlite/0003). At 10 million photos a 16-bit chunk
-- value is shared by ~150 rows, so 0002's 20 exact chunk probes touched thousands of rows. Now every
-- photo has 10 keys, each a 32-bit chunk tagged with its slot (key = slot << 32 | chunk):
--   slots 0-7: the 256-bit dHash, 8 chunks of 32 bits (big-endian);
--   slots 8-9: the 64-bit aHash, low and high 32 bits.
-- A lookup probes each chunk as it is and with each of its 32 bits flipped (330 keys). Two dHashes
-- within 15 bits have a chunk within 1 bit (pigeonhole: 8 chunks x 2 bits = 16 > 15), so every
-- near copy is found; two aHashes within 3 bits likewise. A random key is shared by about
-- N / 2^32 photos: at 10M, a lookup touches a row or two, not thousands.
CREATE TABLE photo_hash_keys (
    key       BIGINT NOT NULL,
    photo_id  UUID NOT NULL REFERENCES photo_hashes (photo_id),
    PRIMARY KEY (key, photo_id)
);

INSERT INTO photo_hash_keys (key, photo_id)
SELECT (s.slot::bigint << 32) | CASE
        WHEN s.slot < 8 THEN
            (((s.lo & 255)::bigint << 24) | ((s.lo >> 8)::bigint << 16) | ((s.hi & 255)::bigint << 8) | (s.hi >> 8)::bigint)
        ELSE (s.hi::bigint << 16) | s.lo::bigint
    END,
    s.photo_id
FROM photo_hashes h
CROSS JOIN LATERAL (VALUES
    (h.photo_id, 0, h.c0, h.c1), (h.photo_id, 1, h.c2, h.c3), (h.photo_id, 2, h.c4, h.c5),
    (h.photo_id, 3, h.c6, h.c7), (h.photo_id, 4, h.c8, h.c9), (h.photo_id, 5, h.c10, h.c11),
    (h.photo_id, 6, h.c12, h.c13), (h.photo_id, 7, h.c14, h.c15), (h.photo_id, 8, h.a0, h.a1),
    (h.photo_id, 9, h.a2, h.a3)
) AS s (photo_id, slot, lo, hi);

ALTER TABLE photo_hashes
    DROP COLUMN c0,
    DROP COLUMN c1,
    DROP COLUMN c2,
    DROP COLUMN c3,
    DROP COLUMN c4,
    DROP COLUMN c5,
    DROP COLUMN c6,
    DROP COLUMN c7,
    DROP COLUMN c8,
    DROP COLUMN c9,
    DROP COLUMN c10,
    DROP COLUMN c11,
    DROP COLUMN c12,
    DROP COLUMN c13,
    DROP COLUMN c14,
    DROP COLUMN c15,
    DROP COLUMN a0,
    DROP COLUMN a1,
    DROP COLUMN a2,
    DROP COLUMN a3;
