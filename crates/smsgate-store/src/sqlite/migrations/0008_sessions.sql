-- Login sessions (the `session` dialect: username and password give a
-- session key that expires after inactivity), the account's default
-- sender, and finding a job by the client's own order id.

CREATE TABLE sessions (
    key_hash     BLOB PRIMARY KEY,      -- SHA-256 of the session key
    account_id   INTEGER NOT NULL REFERENCES accounts(id),
    created_at   INTEGER NOT NULL,
    last_used_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX sessions_last_used ON sessions(last_used_at);

ALTER TABLE accounts ADD COLUMN default_sender TEXT;

CREATE INDEX batches_reference ON batches(account_id, reference) WHERE reference IS NOT NULL;
