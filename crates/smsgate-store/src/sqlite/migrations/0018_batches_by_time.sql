-- An account's batches by time (the session dialect's sent history).
CREATE INDEX batches_account_time ON batches(account_id, created_at);
