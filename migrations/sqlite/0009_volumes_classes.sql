-- Shipment volumes and customer classes (issue 6). Paired with the other backend's 0009.

-- AWB (parcels) shipped per customer and day, as imported.
CREATE TABLE shipment_volumes (
    customer_id  BLOB NOT NULL REFERENCES customers (id),
    date         TEXT NOT NULL,
    awb          BIGINT NOT NULL,
    PRIMARY KEY (customer_id, date)
);
CREATE INDEX shipment_volumes_date ON shipment_volumes (date);

-- Every change of a customer's class, with its reason (the volumes compared, the rule).
CREATE TABLE customer_class_history (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    customer_id     BLOB NOT NULL REFERENCES customers (id),
    at              TEXT NOT NULL,
    from_class      TEXT NOT NULL,
    to_class        TEXT NOT NULL,
    previous_level  TEXT,
    reason          TEXT NOT NULL
);
CREATE INDEX customer_class_history_customer ON customer_class_history (customer_id, seq);
