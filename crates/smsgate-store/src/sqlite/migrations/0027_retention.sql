-- Retention: an account's own (days; NULL: the server's rule), and how
-- far each account's sweeps have come.
ALTER TABLE accounts ADD COLUMN keep_texts_days INTEGER;
ALTER TABLE accounts ADD COLUMN keep_numbers_days INTEGER;

-- Every row of the sweep's table up to `upto` (an id: ids are UUIDv7, in
-- time order) is done, but the stragglers.
CREATE TABLE retention_marks (
    account_id INTEGER NOT NULL,
    sweep      TEXT NOT NULL,   -- 'texts', 'numbers', 'inbound_texts', 'inbound_numbers'
    upto       BLOB NOT NULL,
    PRIMARY KEY (account_id, sweep)
) WITHOUT ROWID;

-- Messages a sweep passed while they still waited to be sent: every sweep
-- takes them again until they no longer wait.
CREATE TABLE retention_stragglers (
    account_id INTEGER NOT NULL,
    sweep      TEXT NOT NULL,
    message_id BLOB NOT NULL,
    PRIMARY KEY (account_id, sweep, message_id)
) WITHOUT ROWID;
