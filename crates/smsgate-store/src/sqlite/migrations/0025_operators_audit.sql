-- Operators (people and systems running the gateway) with a role, their
-- API tokens (SHA-256 of the token kept, as for API keys), and the audit
-- log: every change by an operator, a customer key or the command line,
-- written in the transaction of the change. The log is append-only.
CREATE TABLE operators (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    name          TEXT NOT NULL UNIQUE,
    password_hash TEXT,
    role          TEXT NOT NULL,
    disabled      INTEGER NOT NULL DEFAULT 0,
    created_at    INTEGER NOT NULL
);

CREATE TABLE operator_tokens (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    operator_id INTEGER NOT NULL REFERENCES operators(id),
    hash        BLOB NOT NULL UNIQUE,
    prefix      TEXT NOT NULL,
    label       TEXT,
    created_at  INTEGER NOT NULL,
    expires_at  INTEGER,
    revoked_at  INTEGER
);
CREATE INDEX operator_tokens_operator ON operator_tokens(operator_id);

CREATE TABLE audit_log (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    at         INTEGER NOT NULL,
    -- admin-token, operator, account, cli
    actor      TEXT NOT NULL,
    -- The operator's or the account's id.
    actor_id   INTEGER,
    -- The customer's API key.
    key_id     INTEGER,
    address    TEXT,
    action     TEXT NOT NULL,
    -- The account the change concerns, if one.
    account_id INTEGER,
    subject    TEXT,
    before     TEXT,
    after      TEXT
);
CREATE INDEX audit_log_at ON audit_log(at);
CREATE INDEX audit_log_account ON audit_log(account_id) WHERE account_id IS NOT NULL;

CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'the audit log is append-only');
END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'the audit log is append-only');
END;
