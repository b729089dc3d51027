-- SQLite's migration 26, the usage counters, in PostgreSQL's types.
CREATE TABLE usage_counters (
    account_id   BIGINT NOT NULL,
    hour         BIGINT NOT NULL,
    category     TEXT NOT NULL,
    country      TEXT NOT NULL,
    connector    TEXT NOT NULL,
    status       TEXT NOT NULL,
    -- Each node's writer counts in rows of its own (a random number a
    -- run), so nodes never wait on (or deadlock over) each other's
    -- counters. A message counted by one node and moved by another is
    -- taken out in the second's rows; only sums over shards mean anything.
    shard        BIGINT NOT NULL,
    messages     BIGINT NOT NULL,
    segments     BIGINT NOT NULL,
    price        BIGINT NOT NULL,
    refunded     BIGINT NOT NULL,
    carrier_cost BIGINT NOT NULL,
    latency_ms   BIGINT NOT NULL,
    PRIMARY KEY (account_id, hour, category, country, connector, status, shard)
);
CREATE INDEX usage_counters_hour ON usage_counters(hour);

-- The messages already there.
INSERT INTO usage_counters
SELECT account_id, created_at - created_at % 3600000, category, COALESCE(country, ''),
       CASE WHEN status IN ('accepted', 'scheduled', 'queued', 'submitting') THEN '' ELSE COALESCE(connector, '') END,
       CASE WHEN status IN ('accepted', 'scheduled', 'queued', 'submitting') THEN 'pending' ELSE status END,
       0, COUNT(*), SUM(segments), SUM(cost), SUM(CASE WHEN refunded THEN cost ELSE 0 END),
       SUM(CASE WHEN status IN ('accepted', 'scheduled', 'queued', 'submitting') THEN 0 ELSE COALESCE(carrier_cost, 0) END),
       SUM(CASE WHEN status = 'delivered' THEN updated_at - created_at ELSE 0 END)
  FROM messages GROUP BY 1, 2, 3, 4, 5, 6;
