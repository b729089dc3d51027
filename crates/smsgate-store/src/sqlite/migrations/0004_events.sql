-- The outbox: every status change a client hears about, and every inbound
-- message, written in the same transaction as the change itself. The id
-- orders events (the cursor of GET /v1/events); `seq` numbers the events
-- of one message. Payloads are not stored: what the event says is its type
-- and detail, the rest is the message's (immutable) fields.

ALTER TABLE messages ADD COLUMN event_seq INTEGER NOT NULL DEFAULT 0;

CREATE TABLE events (
    id          INTEGER PRIMARY KEY,
    account_id  INTEGER NOT NULL,
    type        TEXT NOT NULL,
    message_id  BLOB,
    inbound_id  BLOB,
    seq         INTEGER NOT NULL,
    detail      TEXT,
    created_at  INTEGER NOT NULL
);
CREATE INDEX events_account ON events(account_id, id);
