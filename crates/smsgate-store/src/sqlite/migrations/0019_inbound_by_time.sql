-- An account's inbound messages by time (the session dialect's received
-- history).
CREATE INDEX inbound_account_time ON inbound_messages(account_id, received_at);
