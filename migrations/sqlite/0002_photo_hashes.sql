-- Perceptual hashes for near-duplicate photos across visits (paired with postgres/0002).
-- Multi-index hashing: the 256-bit dHash is split into 16 chunks of 16 bits, each indexed. Two
-- hashes within Hamming distance 15 share at least one chunk exactly (pigeonhole), so a lookup is
-- index probes and a Hamming check of the candidates, not a scan. The 64-bit average hash is
-- indexed the same way (4 chunks: every pair within 3 bits shares one), which finds crops.
CREATE TABLE photo_hashes (
    photo_id     BLOB PRIMARY KEY NOT NULL REFERENCES photos (id),
    visit_id     BLOB NOT NULL,
    received_at  TEXT NOT NULL,
    dhash        BLOB NOT NULL,
    ahash        INTEGER NOT NULL,
    c0 INTEGER NOT NULL, c1 INTEGER NOT NULL, c2 INTEGER NOT NULL, c3 INTEGER NOT NULL,
    c4 INTEGER NOT NULL, c5 INTEGER NOT NULL, c6 INTEGER NOT NULL, c7 INTEGER NOT NULL,
    c8 INTEGER NOT NULL, c9 INTEGER NOT NULL, c10 INTEGER NOT NULL, c11 INTEGER NOT NULL,
    c12 INTEGER NOT NULL, c13 INTEGER NOT NULL, c14 INTEGER NOT NULL, c15 INTEGER NOT NULL,
    a0 INTEGER NOT NULL, a1 INTEGER NOT NULL, a2 INTEGER NOT NULL, a3 INTEGER NOT NULL
);
CREATE INDEX photo_hashes_c0 ON photo_hashes (c0);
CREATE INDEX photo_hashes_c1 ON photo_hashes (c1);
CREATE INDEX photo_hashes_c2 ON photo_hashes (c2);
CREATE INDEX photo_hashes_c3 ON photo_hashes (c3);
CREATE INDEX photo_hashes_c4 ON photo_hashes (c4);
CREATE INDEX photo_hashes_c5 ON photo_hashes (c5);
CREATE INDEX photo_hashes_c6 ON photo_hashes (c6);
CREATE INDEX photo_hashes_c7 ON photo_hashes (c7);
CREATE INDEX photo_hashes_c8 ON photo_hashes (c8);
CREATE INDEX photo_hashes_c9 ON photo_hashes (c9);
CREATE INDEX photo_hashes_c10 ON photo_hashes (c10);
CREATE INDEX photo_hashes_c11 ON photo_hashes (c11);
CREATE INDEX photo_hashes_c12 ON photo_hashes (c12);
CREATE INDEX photo_hashes_c13 ON photo_hashes (c13);
CREATE INDEX photo_hashes_c14 ON photo_hashes (c14);
CREATE INDEX photo_hashes_c15 ON photo_hashes (c15);
CREATE INDEX photo_hashes_a0 ON photo_hashes (a0);
CREATE INDEX photo_hashes_a1 ON photo_hashes (a1);
CREATE INDEX photo_hashes_a2 ON photo_hashes (a2);
CREATE INDEX photo_hashes_a3 ON photo_hashes (a3);
