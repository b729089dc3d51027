-- Usage counters: every message counted once, in the row of the UTC hour
-- it was accepted in, its account, category, country, connector and
-- status, moved in the transaction that changes the message (by the
-- statements that insert and change messages: sql/usage.rs says why not
-- by triggers here). Reports and statements read these, not the
-- messages, so they stay the same when texts are removed or numbers
-- masked.
--
-- A message still waiting (accepted, scheduled, queued, submitting)
-- counts as 'pending' under no connector and no carrier cost: moving
-- between those states (every claim, every retry) writes nothing here.
CREATE TABLE usage_counters (
    account_id   INTEGER NOT NULL,
    hour         INTEGER NOT NULL,   -- Unix ms of the hour's start
    category     TEXT NOT NULL,
    country      TEXT NOT NULL,      -- '' for numbers of no country
    connector    TEXT NOT NULL,      -- '' while pending
    status       TEXT NOT NULL,      -- 'pending' or the message's status
    -- Which writer counted (PostgreSQL: its backend, so that nodes never
    -- wait on each other's counters); 0 here. Reports sum over it.
    shard        INTEGER NOT NULL,
    messages     INTEGER NOT NULL,
    segments     INTEGER NOT NULL,
    price        INTEGER NOT NULL,   -- charged, before refunds
    refunded     INTEGER NOT NULL,
    carrier_cost INTEGER NOT NULL,
    latency_ms   INTEGER NOT NULL,   -- delivered only: sum of accepted → delivered
    PRIMARY KEY (account_id, hour, category, country, connector, status, shard)
) WITHOUT ROWID;
CREATE INDEX usage_counters_hour ON usage_counters(hour);

-- The messages already there.
INSERT INTO usage_counters
SELECT account_id, created_at - created_at % 3600000, category, COALESCE(country, ''),
       CASE WHEN (status = 'queued' OR status = 'submitting' OR status = 'scheduled' OR status = 'accepted') THEN '' ELSE COALESCE(connector, '') END,
       CASE WHEN (status = 'queued' OR status = 'submitting' OR status = 'scheduled' OR status = 'accepted') THEN 'pending' ELSE status END,
       0, COUNT(*), SUM(segments), SUM(cost), SUM(CASE WHEN refunded THEN cost ELSE 0 END),
       SUM(CASE WHEN (status = 'queued' OR status = 'submitting' OR status = 'scheduled' OR status = 'accepted') THEN 0 ELSE COALESCE(carrier_cost, 0) END),
       SUM(CASE WHEN status = 'delivered' THEN updated_at - created_at ELSE 0 END)
  FROM messages GROUP BY 1, 2, 3, 4, 5, 6;
