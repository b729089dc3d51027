-- Inbound routing by keyword on shared numbers, opt-out (per-account
-- keyword lists and the suppression list), replies threaded to inbound
-- messages, and per-message callback URLs.

CREATE TABLE keywords (
    number      TEXT NOT NULL,          -- as in `numbers`
    keyword     TEXT NOT NULL,          -- upper case, one word
    account_id  INTEGER NOT NULL REFERENCES accounts(id),
    created_at  INTEGER NOT NULL,
    PRIMARY KEY (number, keyword)
) WITHOUT ROWID;

-- Space-separated upper-case words; NULL: the default lists.
ALTER TABLE accounts ADD COLUMN optout_keywords TEXT;
ALTER TABLE accounts ADD COLUMN optin_keywords TEXT;

CREATE TABLE suppressions (
    account_id  INTEGER NOT NULL REFERENCES accounts(id),
    number      TEXT NOT NULL,          -- E.164 with '+'
    source      TEXT NOT NULL,          -- keyword | api | import
    keyword     TEXT,                   -- the word that opted the number out
    created_at  INTEGER NOT NULL,
    PRIMARY KEY (account_id, number)
) WITHOUT ROWID;

-- What an inbound keyword did: 'opt_out', 'opt_in' or NULL.
ALTER TABLE inbound_messages ADD COLUMN optout TEXT;

ALTER TABLE messages ADD COLUMN in_reply_to BLOB;
ALTER TABLE messages ADD COLUMN callback_url TEXT;
CREATE INDEX messages_in_reply_to ON messages(in_reply_to) WHERE in_reply_to IS NOT NULL;

-- Opt-out changes are events about a number rather than a message.
ALTER TABLE events ADD COLUMN number TEXT;

-- An account's per-message callbacks go through one endpoint of kind
-- 'callbacks' (made with the first message that has a callback URL); each
-- delivery then carries its message's URL.
ALTER TABLE webhook_endpoints ADD COLUMN kind TEXT NOT NULL DEFAULT 'endpoint';
CREATE UNIQUE INDEX webhook_endpoints_callbacks ON webhook_endpoints(account_id) WHERE kind = 'callbacks';
ALTER TABLE webhook_deliveries ADD COLUMN url TEXT;
