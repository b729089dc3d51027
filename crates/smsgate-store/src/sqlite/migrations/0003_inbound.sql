-- Inbound (mobile-originated) messages, the numbers that route them to
-- accounts, and parts of long inbound messages waiting for their siblings.

CREATE TABLE numbers (
    number      TEXT PRIMARY KEY,       -- digits as the carrier writes them, without '+'
    account_id  INTEGER NOT NULL REFERENCES accounts(id),
    created_at  INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX numbers_account ON numbers(account_id);

CREATE TABLE inbound_messages (
    id          BLOB PRIMARY KEY,       -- UUIDv7
    account_id  INTEGER,                -- NULL: the number belongs to no account
    connector   TEXT NOT NULL,
    sender      TEXT NOT NULL,
    recipient   TEXT NOT NULL,
    body        TEXT NOT NULL,
    parts       INTEGER NOT NULL,
    received_at INTEGER NOT NULL
);
CREATE INDEX inbound_account ON inbound_messages(account_id, id);

CREATE TABLE inbound_parts (
    connector   TEXT NOT NULL,
    sender      TEXT NOT NULL,
    recipient   TEXT NOT NULL,
    reference   INTEGER NOT NULL,
    total       INTEGER NOT NULL,
    seq         INTEGER NOT NULL,
    body        TEXT NOT NULL,
    received_at INTEGER NOT NULL,
    -- A part the carrier sends again (its answer was lost) is kept once.
    PRIMARY KEY (connector, sender, recipient, reference, total, seq)
) WITHOUT ROWID;
CREATE INDEX inbound_parts_received ON inbound_parts(received_at);
