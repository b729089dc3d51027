-- SQLite's migration 23: the other account of a transfer.
ALTER TABLE ledger ADD COLUMN counterparty_id BIGINT;
