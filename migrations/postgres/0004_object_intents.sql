-- Objects written to the store whose photo row has not landed yet. The upload records the key
-- before it writes the object and removes it in the transaction that inserts the photo row; a
-- key still here after the grace period belongs to an upload that died in between, and the
-- orphan sweep deletes its object (unless a photo row references it after all).
CREATE TABLE object_intents (
    storage_key  TEXT PRIMARY KEY,
    created_at   TIMESTAMPTZ NOT NULL
);
CREATE INDEX object_intents_created ON object_intents (created_at);
