-- Ids of objects a tenant owns are never reused, and clients never see a
-- count. SQLite gives an INTEGER PRIMARY KEY without AUTOINCREMENT the
-- largest id plus one, so deleting the newest endpoint handed its id (and
-- the deliveries still addressed to it) to the next endpoint anyone made.
-- These tables are rebuilt with AUTOINCREMENT; the integer stays internal
-- (joins), and clients see `uid`: a kind prefix and 128 random bits.
-- Deliveries carry their account, so a claim matches endpoint and account.
-- (Runs with foreign keys off, checked before commit: see `migrate`.)

CREATE TABLE webhook_endpoints_new (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    uid             TEXT NOT NULL UNIQUE,
    account_id      INTEGER NOT NULL REFERENCES accounts(id),
    kind            TEXT NOT NULL DEFAULT 'endpoint',
    url             TEXT NOT NULL,
    secret          TEXT NOT NULL,
    events          TEXT NOT NULL,
    enabled         INTEGER NOT NULL DEFAULT 1,
    max_concurrency INTEGER NOT NULL DEFAULT 4,
    relay_cursor    INTEGER NOT NULL DEFAULT 0,
    created_at      INTEGER NOT NULL
);
INSERT INTO webhook_endpoints_new
    (id, uid, account_id, kind, url, secret, events, enabled, max_concurrency, relay_cursor, created_at)
SELECT id, 'wh_' || lower(hex(randomblob(16))), account_id, kind, url, secret, events, enabled,
       max_concurrency, relay_cursor, created_at
  FROM webhook_endpoints;
DROP TABLE webhook_endpoints;
ALTER TABLE webhook_endpoints_new RENAME TO webhook_endpoints;
CREATE INDEX webhook_endpoints_account ON webhook_endpoints(account_id);
CREATE UNIQUE INDEX webhook_endpoints_callbacks ON webhook_endpoints(account_id) WHERE kind = 'callbacks';
-- Ids already freed by a deletion are not handed out either: deliveries
-- remember them.
DELETE FROM sqlite_sequence WHERE name = 'webhook_endpoints';
INSERT INTO sqlite_sequence (name, seq)
SELECT 'webhook_endpoints', MAX(m) FROM (
    SELECT COALESCE(MAX(id), 0) AS m FROM webhook_endpoints
    UNION ALL SELECT COALESCE(MAX(endpoint_id), 0) FROM webhook_deliveries);

CREATE TABLE webhook_deliveries_new (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    uid         TEXT NOT NULL UNIQUE,
    account_id  INTEGER NOT NULL,
    endpoint_id INTEGER NOT NULL,
    event_id    INTEGER NOT NULL,
    subject     BLOB,
    url         TEXT,
    status      TEXT NOT NULL,          -- pending | delivered | dead
    attempts    INTEGER NOT NULL DEFAULT 0,
    due_at      INTEGER NOT NULL,
    lease_until INTEGER,
    last_status INTEGER,
    last_error  TEXT,
    created_at  INTEGER NOT NULL,
    done_at     INTEGER
);
INSERT INTO webhook_deliveries_new
    (id, uid, account_id, endpoint_id, event_id, subject, url, status, attempts, due_at,
     lease_until, last_status, last_error, created_at, done_at)
SELECT d.id, 'dl_' || lower(hex(randomblob(16))),
       COALESCE(w.account_id, (SELECT account_id FROM events WHERE id = d.event_id), 0),
       d.endpoint_id, d.event_id, d.subject, d.url,
       -- A delivery whose endpoint is gone goes nowhere.
       CASE WHEN w.id IS NULL AND d.status = 'pending' THEN 'dead' ELSE d.status END,
       d.attempts, d.due_at, d.lease_until, d.last_status,
       CASE WHEN w.id IS NULL AND d.status = 'pending' THEN 'endpoint deleted' ELSE d.last_error END,
       d.created_at, d.done_at
  FROM webhook_deliveries d LEFT JOIN webhook_endpoints w ON w.id = d.endpoint_id;
DROP TABLE webhook_deliveries;
ALTER TABLE webhook_deliveries_new RENAME TO webhook_deliveries;
CREATE INDEX webhook_deliveries_due ON webhook_deliveries(due_at) WHERE status = 'pending';
CREATE INDEX webhook_deliveries_subject ON webhook_deliveries(endpoint_id, subject, event_id)
    WHERE status = 'pending';
CREATE INDEX webhook_deliveries_endpoint ON webhook_deliveries(endpoint_id, id);
DELETE FROM sqlite_sequence WHERE name = 'webhook_deliveries';
INSERT INTO sqlite_sequence (name, seq)
SELECT 'webhook_deliveries', MAX(m) FROM (
    SELECT COALESCE(MAX(id), 0) AS m FROM webhook_deliveries
    UNION ALL SELECT COALESCE(MAX(delivery_id), 0) FROM webhook_attempts);

CREATE TABLE senders_new (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    uid         TEXT NOT NULL UNIQUE,
    account_id  INTEGER NOT NULL REFERENCES accounts(id),
    sender_id   TEXT NOT NULL,
    category    TEXT NOT NULL,          -- transactional | promotional | otp
    purpose     TEXT,
    status      TEXT NOT NULL DEFAULT 'pending',   -- pending | approved
    created_at  INTEGER NOT NULL,
    approved_at INTEGER,
    UNIQUE (account_id, sender_id)
);
INSERT INTO senders_new
    (id, uid, account_id, sender_id, category, purpose, status, created_at, approved_at)
SELECT id, 'sd_' || lower(hex(randomblob(16))), account_id, sender_id, category, purpose, status,
       created_at, approved_at
  FROM senders;
DROP TABLE senders;
ALTER TABLE senders_new RENAME TO senders;

CREATE TABLE templates_new (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    uid         TEXT NOT NULL UNIQUE,
    account_id  INTEGER NOT NULL REFERENCES accounts(id),
    name        TEXT NOT NULL,
    template_id TEXT NOT NULL,          -- the id clients send (DLT template id)
    category    TEXT NOT NULL,
    sender_id   TEXT,                   -- the sender it is bound to, if any
    body        TEXT NOT NULL,          -- with {#var#} placeholders
    status      TEXT NOT NULL DEFAULT 'pending',
    created_at  INTEGER NOT NULL,
    approved_at INTEGER,
    UNIQUE (account_id, template_id)
);
INSERT INTO templates_new
    (id, uid, account_id, name, template_id, category, sender_id, body, status, created_at, approved_at)
SELECT id, 'tp_' || lower(hex(randomblob(16))), account_id, name, template_id, category, sender_id,
       body, status, created_at, approved_at
  FROM templates;
DROP TABLE templates;
ALTER TABLE templates_new RENAME TO templates;

CREATE TABLE campaigns_new (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id  INTEGER NOT NULL REFERENCES accounts(id),
    ref         TEXT NOT NULL,
    name        TEXT,
    created_at  INTEGER NOT NULL,
    UNIQUE (account_id, ref)
);
INSERT INTO campaigns_new (id, account_id, ref, name, created_at)
SELECT id, account_id, ref, name, created_at FROM campaigns;
DROP TABLE campaigns;
ALTER TABLE campaigns_new RENAME TO campaigns;
