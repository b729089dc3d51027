-- Nodes serving the database, with their heartbeats; which node claimed a
-- message or a webhook delivery (a dead node's claims are retaken at once);
-- which connector a message waits for (handed to the node holding it);
-- which node holds each connector.
CREATE TABLE nodes (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    name       TEXT NOT NULL,
    address    TEXT NOT NULL,
    started_at INTEGER NOT NULL,
    beat_at    INTEGER NOT NULL,
    ended_at   INTEGER
);
CREATE INDEX nodes_live ON nodes(beat_at) WHERE ended_at IS NULL;

CREATE TABLE connector_leases (
    connector  TEXT PRIMARY KEY,
    node_id    INTEGER NOT NULL,
    taken_at   INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    available  INTEGER NOT NULL DEFAULT 0
);

ALTER TABLE messages ADD COLUMN claimed_by INTEGER;
ALTER TABLE messages ADD COLUMN via TEXT;
ALTER TABLE webhook_deliveries ADD COLUMN claimed_by INTEGER;
