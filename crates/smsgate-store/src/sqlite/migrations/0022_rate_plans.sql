-- Rate plans: named price lists assigned to accounts, one of the
-- operator's the default (accounts without a plan pay it); the prices set
-- so far become the default plan. Accounts' own prices on top of their
-- plan's. Sub-accounts (parent_id) and the plans a reseller makes for
-- them (owner_id). What each connector's carrier charges, and what each
-- message cost there.
CREATE TABLE rate_plans (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    name       TEXT NOT NULL,
    -- NULL: the operator's; else the account whose sub-accounts it prices.
    owner_id   INTEGER,
    is_default INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL
);
CREATE UNIQUE INDEX rate_plans_name ON rate_plans(COALESCE(owner_id, 0), name);
CREATE UNIQUE INDEX rate_plans_default ON rate_plans(is_default) WHERE is_default = 1;

CREATE TABLE plan_prices (
    plan_id     INTEGER NOT NULL REFERENCES rate_plans(id),
    route_class TEXT NOT NULL,
    prefix      TEXT NOT NULL,
    price       INTEGER NOT NULL CHECK (price >= 0),
    PRIMARY KEY (plan_id, route_class, prefix)
);

INSERT INTO rate_plans (id, name, is_default, created_at)
    VALUES (1, 'default', 1, CAST(strftime('%s', 'now') AS INTEGER) * 1000);
INSERT INTO plan_prices (plan_id, route_class, prefix, price)
    SELECT 1, route_class, prefix, price FROM prices;
DROP TABLE prices;

CREATE TABLE account_prices (
    account_id  INTEGER NOT NULL REFERENCES accounts(id),
    route_class TEXT NOT NULL,
    prefix      TEXT NOT NULL,
    price       INTEGER NOT NULL CHECK (price >= 0),
    PRIMARY KEY (account_id, route_class, prefix)
);

ALTER TABLE accounts ADD COLUMN plan_id INTEGER REFERENCES rate_plans(id);
ALTER TABLE accounts ADD COLUMN parent_id INTEGER REFERENCES accounts(id);
CREATE INDEX accounts_parent ON accounts(parent_id) WHERE parent_id IS NOT NULL;

CREATE TABLE connector_costs (
    connector TEXT NOT NULL,
    prefix    TEXT NOT NULL,
    cost      INTEGER NOT NULL CHECK (cost >= 0),
    PRIMARY KEY (connector, prefix)
);
-- What the carrier charged for the message (minor units); NULL until it
-- was sent.
ALTER TABLE messages ADD COLUMN carrier_cost INTEGER;
