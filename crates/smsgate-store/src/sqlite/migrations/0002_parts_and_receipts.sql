-- Long messages and receipts. Every part a connector acknowledged, with
-- the carrier's id for it; a message is delivered when all its parts are.
-- Receipts that arrive before their message is known (the SMSC sent the
-- receipt before the submit_sm_resp) wait in pending_receipts, so they
-- survive a restart and the SMSC can be answered at once.

CREATE TABLE message_parts (
    message_id  BLOB NOT NULL,
    part        INTEGER NOT NULL,       -- 1-based, in the order sent
    parts       INTEGER NOT NULL,       -- how many submits carried the message
    connector   TEXT NOT NULL,
    carrier_key TEXT NOT NULL,          -- the carrier id normalized (core::carrier_id)
    carrier_id  TEXT NOT NULL,          -- as the carrier wrote it
    status      TEXT,                   -- the part's last receipt; NULL until one came
    updated_at  INTEGER,
    detail      TEXT,
    PRIMARY KEY (message_id, part)
) WITHOUT ROWID;
CREATE INDEX message_parts_carrier ON message_parts(connector, carrier_key);

CREATE TABLE pending_receipts (
    connector   TEXT NOT NULL,
    carrier_key TEXT NOT NULL,
    status      TEXT NOT NULL,
    at          INTEGER NOT NULL,
    detail      TEXT,
    received_at INTEGER NOT NULL
);
CREATE INDEX pending_receipts_carrier ON pending_receipts(connector, carrier_key);
CREATE INDEX pending_receipts_received ON pending_receipts(received_at);

-- Messages sent before this migration: one part each.
INSERT INTO message_parts (message_id, part, parts, connector, carrier_key, carrier_id)
SELECT id, 1, 1, connector,
       CASE WHEN ltrim(lower(trim(carrier_id)), '0') = '' THEN '0'
            ELSE ltrim(lower(trim(carrier_id)), '0') END,
       carrier_id
  FROM messages WHERE carrier_id IS NOT NULL AND connector IS NOT NULL;

-- Receipts find their message through message_parts now.
DROP INDEX messages_carrier;
