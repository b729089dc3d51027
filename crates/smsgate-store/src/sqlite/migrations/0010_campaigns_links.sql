-- Campaigns with the numbers subscribed to them (and the account switch
-- that requires a subscription to send), the account's postback URL (the
-- `action` dialect's delivery postbacks), and tracked short links.

CREATE TABLE campaigns (
    id          INTEGER PRIMARY KEY,
    account_id  INTEGER NOT NULL REFERENCES accounts(id),
    ref         TEXT NOT NULL,
    name        TEXT,
    created_at  INTEGER NOT NULL,
    UNIQUE (account_id, ref)
);

CREATE TABLE campaign_subscribers (
    campaign_id INTEGER NOT NULL REFERENCES campaigns(id),
    number      TEXT NOT NULL,          -- E.164 with '+'
    created_at  INTEGER NOT NULL,
    PRIMARY KEY (campaign_id, number)
) WITHOUT ROWID;

ALTER TABLE accounts ADD COLUMN enforce_campaign_check INTEGER NOT NULL DEFAULT 0;
ALTER TABLE accounts ADD COLUMN postback_url TEXT;

CREATE TABLE links (
    code          TEXT PRIMARY KEY,
    message_id    BLOB NOT NULL,
    account_id    INTEGER NOT NULL,
    url           TEXT NOT NULL,
    clicks        INTEGER NOT NULL DEFAULT 0,
    last_click_at INTEGER
);
CREATE INDEX links_message ON links(message_id);
