-- Places proposed for customers without coordinates (issue 18). Paired with the other backend's 0015.

-- The first approved door visit of a customer with no coordinates proposes its photo's position;
-- branch marketing accepts it (the customer's latitude and longitude are set) or rejects it (the
-- row goes, and the next approved door visit proposes again). One pending proposal a customer.
CREATE TABLE customer_place_proposals (
    customer_id   BLOB PRIMARY KEY NOT NULL REFERENCES customers (id),
    latitude      DOUBLE PRECISION NOT NULL,
    longitude     DOUBLE PRECISION NOT NULL,
    accuracy_m    DOUBLE PRECISION,
    source        TEXT NOT NULL CHECK (source IN ('exif', 'app')),
    visit_id      BLOB NOT NULL,
    photo_id      BLOB NOT NULL,
    proposed_at   TEXT NOT NULL
);
