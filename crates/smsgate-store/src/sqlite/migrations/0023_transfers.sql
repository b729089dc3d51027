-- A transfer between an account and one of its sub-accounts is two
-- ledger entries, each naming the other account.
ALTER TABLE ledger ADD COLUMN counterparty_id INTEGER;
