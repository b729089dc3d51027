-- SQLite's migration 27, retention, in PostgreSQL's types.
ALTER TABLE accounts ADD COLUMN keep_texts_days BIGINT;
ALTER TABLE accounts ADD COLUMN keep_numbers_days BIGINT;

CREATE TABLE retention_marks (
    account_id BIGINT NOT NULL,
    sweep      TEXT NOT NULL,
    upto       BYTEA NOT NULL,
    PRIMARY KEY (account_id, sweep)
);

CREATE TABLE retention_stragglers (
    account_id BIGINT NOT NULL,
    sweep      TEXT NOT NULL,
    message_id BYTEA NOT NULL,
    PRIMARY KEY (account_id, sweep, message_id)
);
