-- The registry of sender IDs and content templates per account, each
-- pending until an admin approves it, and the account switches that use
-- them.

CREATE TABLE senders (
    id          INTEGER PRIMARY KEY,
    account_id  INTEGER NOT NULL REFERENCES accounts(id),
    sender_id   TEXT NOT NULL,
    category    TEXT NOT NULL,          -- transactional | promotional | otp
    purpose     TEXT,
    status      TEXT NOT NULL DEFAULT 'pending',   -- pending | approved
    created_at  INTEGER NOT NULL,
    approved_at INTEGER,
    UNIQUE (account_id, sender_id)
);

CREATE TABLE templates (
    id          INTEGER PRIMARY KEY,
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

-- Refuse sends from senders not registered and approved.
ALTER TABLE accounts ADD COLUMN require_approved_sender INTEGER NOT NULL DEFAULT 0;
