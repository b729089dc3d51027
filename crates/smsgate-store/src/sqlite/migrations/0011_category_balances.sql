-- Separate credit balances per category (transactional, promotional,
-- otp) for accounts so configured. A message remembers the balance it was
-- charged to (`pool`: NULL for the account's main balance), so that its
-- refund goes back there even if the account's setting changed since.

ALTER TABLE accounts ADD COLUMN split_balances INTEGER NOT NULL DEFAULT 0;

CREATE TABLE category_balances (
    account_id  INTEGER NOT NULL REFERENCES accounts(id),
    category    TEXT NOT NULL,
    balance     INTEGER NOT NULL DEFAULT 0 CHECK (balance >= 0),
    PRIMARY KEY (account_id, category)
) WITHOUT ROWID;

ALTER TABLE ledger ADD COLUMN category TEXT;
ALTER TABLE messages ADD COLUMN pool TEXT;
