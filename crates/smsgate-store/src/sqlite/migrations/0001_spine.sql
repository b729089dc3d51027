-- Accounts, keys, credits, prices, messages and their history.
-- Times are Unix milliseconds (UTC); message and batch ids are UUIDv7 bytes.

CREATE TABLE accounts (
    id              INTEGER PRIMARY KEY,
    name            TEXT NOT NULL UNIQUE,
    status          TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'disabled')),
    password_hash   TEXT,
    default_country TEXT,
    timezone        TEXT NOT NULL DEFAULT 'UTC',
    max_parts       INTEGER NOT NULL DEFAULT 10 CHECK (max_parts BETWEEN 1 AND 255),
    -- Cached sum of the ledger; the conditional debit keeps it >= 0.
    balance         INTEGER NOT NULL DEFAULT 0 CHECK (balance >= 0),
    created_at      INTEGER NOT NULL
);

CREATE TABLE api_keys (
    id          INTEGER PRIMARY KEY,
    account_id  INTEGER NOT NULL REFERENCES accounts(id),
    hash        BLOB NOT NULL UNIQUE,   -- SHA-256 of the key; the key is never stored
    prefix      TEXT NOT NULL,          -- first characters, to recognise a key in lists
    label       TEXT,
    created_at  INTEGER NOT NULL,
    revoked_at  INTEGER
);
CREATE INDEX api_keys_account ON api_keys(account_id);

CREATE TABLE ledger (
    id          INTEGER PRIMARY KEY,
    account_id  INTEGER NOT NULL REFERENCES accounts(id),
    amount      INTEGER NOT NULL,       -- signed: debits negative
    -- 'topup', 'adjustment', 'debit' or 'refund' (LedgerKind in the code).
    -- No CHECK: it makes SQLite open a statement journal for every insert
    -- (~21k instructions per message, measured with callgrind).
    kind        TEXT NOT NULL,
    message_id  BLOB,
    batch_id    BLOB,
    note        TEXT,
    created_at  INTEGER NOT NULL
);
CREATE INDEX ledger_account ON ledger(account_id, id);

CREATE TABLE prices (
    route_class TEXT NOT NULL,
    prefix      TEXT NOT NULL,
    price       INTEGER NOT NULL CHECK (price >= 0),
    PRIMARY KEY (route_class, prefix)
) WITHOUT ROWID;

CREATE TABLE settings (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) WITHOUT ROWID;

CREATE TABLE batches (
    id          BLOB PRIMARY KEY,
    account_id  INTEGER NOT NULL REFERENCES accounts(id),
    reference   TEXT,
    accepted    INTEGER NOT NULL,
    rejected    INTEGER NOT NULL,
    created_at  INTEGER NOT NULL
);

CREATE TABLE messages (
    id          BLOB PRIMARY KEY,
    account_id  INTEGER NOT NULL REFERENCES accounts(id),
    batch_id    BLOB,
    recipient   TEXT NOT NULL,
    sender      TEXT NOT NULL,
    body        TEXT NOT NULL,
    encoding    TEXT NOT NULL,
    segments    INTEGER NOT NULL,
    cost        INTEGER NOT NULL,
    category    TEXT NOT NULL,
    route_class TEXT NOT NULL,
    reference   TEXT,
    priority    INTEGER NOT NULL DEFAULT 0,
    status      TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    schedule_at INTEGER,
    due_at      INTEGER NOT NULL,       -- when the message may next be claimed
    expires_at  INTEGER,
    attempts    INTEGER NOT NULL DEFAULT 0,
    lease_until INTEGER,
    connector   TEXT,
    carrier_id  TEXT,
    error       TEXT,
    refunded    INTEGER NOT NULL DEFAULT 0
);
-- The queue: only waiting messages are indexed, so the index stays small.
CREATE INDEX messages_queue ON messages(priority DESC, due_at) WHERE status = 'queued';
CREATE INDEX messages_scheduled ON messages(due_at) WHERE status = 'scheduled';
CREATE INDEX messages_leased ON messages(lease_until) WHERE status = 'submitting';
CREATE INDEX messages_expiring ON messages(expires_at)
    WHERE expires_at IS NOT NULL AND status IN ('scheduled', 'queued');
CREATE INDEX messages_account ON messages(account_id, id);
CREATE INDEX messages_batch ON messages(batch_id) WHERE batch_id IS NOT NULL;
CREATE INDEX messages_carrier ON messages(connector, carrier_id) WHERE carrier_id IS NOT NULL;

CREATE TABLE transitions (
    message_id  BLOB NOT NULL,
    status      TEXT NOT NULL,
    at          INTEGER NOT NULL,
    detail      TEXT,
    applied     INTEGER NOT NULL DEFAULT 1  -- 0: recorded, but the message was already final
);
CREATE INDEX transitions_message ON transitions(message_id);

CREATE TABLE idempotency (
    account_id  INTEGER NOT NULL,
    key         TEXT NOT NULL,
    fingerprint BLOB NOT NULL,              -- SHA-256 of the request
    response    TEXT NOT NULL,              -- the first answer, as JSON
    created_at  INTEGER NOT NULL,
    PRIMARY KEY (account_id, key)
) WITHOUT ROWID;
CREATE INDEX idempotency_created ON idempotency(created_at);
