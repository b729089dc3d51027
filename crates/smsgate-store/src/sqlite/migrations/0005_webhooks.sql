-- Webhooks: endpoints per account, and one delivery per (event, endpoint),
-- retried with backoff until delivered or dead-lettered, with every attempt
-- logged. Deliveries are made from the outbox by a relay that keeps each
-- endpoint's place (`relay_cursor`, an event id) and makes at most a
-- bounded number pending per endpoint: the events of an endpoint that is
-- down wait in the outbox, not as rows written for nothing.

CREATE TABLE webhook_endpoints (
    id              INTEGER PRIMARY KEY,
    account_id      INTEGER NOT NULL REFERENCES accounts(id),
    url             TEXT NOT NULL,
    secret          TEXT NOT NULL,
    events          TEXT NOT NULL,      -- event types separated by spaces, or '*'
    enabled         INTEGER NOT NULL DEFAULT 1,
    max_concurrency INTEGER NOT NULL DEFAULT 4,
    relay_cursor    INTEGER NOT NULL DEFAULT 0,
    created_at      INTEGER NOT NULL
);
CREATE INDEX webhook_endpoints_account ON webhook_endpoints(account_id);

CREATE TABLE webhook_deliveries (
    id          INTEGER PRIMARY KEY,
    endpoint_id INTEGER NOT NULL,
    event_id    INTEGER NOT NULL,
    -- What the event is about (message or inbound id): deliveries of one
    -- subject to one endpoint go out in event order.
    subject     BLOB,
    status      TEXT NOT NULL,          -- pending | delivered | dead
    attempts    INTEGER NOT NULL DEFAULT 0,
    due_at      INTEGER NOT NULL,
    lease_until INTEGER,
    last_status INTEGER,
    last_error  TEXT,
    created_at  INTEGER NOT NULL,
    done_at     INTEGER
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries(due_at) WHERE status = 'pending';
CREATE INDEX webhook_deliveries_subject ON webhook_deliveries(endpoint_id, subject, event_id)
    WHERE status = 'pending';
CREATE INDEX webhook_deliveries_endpoint ON webhook_deliveries(endpoint_id, id);

CREATE TABLE webhook_attempts (
    delivery_id INTEGER NOT NULL,
    at          INTEGER NOT NULL,
    status_code INTEGER,                -- NULL: no HTTP answer (timeout, refused)
    latency_ms  INTEGER NOT NULL,
    error       TEXT
);
CREATE INDEX webhook_attempts_delivery ON webhook_attempts(delivery_id);
