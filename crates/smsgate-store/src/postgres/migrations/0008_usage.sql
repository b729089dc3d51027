-- SQLite's migration 26, the usage counters, in PostgreSQL's types. The
-- triggers run once per statement over its transition tables, so a bulk
-- insert or update of many messages writes one row per counter it moves.
CREATE TABLE usage_counters (
    account_id   BIGINT NOT NULL,
    hour         BIGINT NOT NULL,
    category     TEXT NOT NULL,
    country      TEXT NOT NULL,
    connector    TEXT NOT NULL,
    status       TEXT NOT NULL,
    -- The writing backend's pid: each node's writer counts in rows of
    -- its own, so nodes never wait on (or deadlock over) each other's
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

-- Messages as they count: one row per (message, sign).
CREATE FUNCTION usage_add(sign BIGINT, in_account BIGINT, in_created BIGINT, in_category TEXT,
    in_country TEXT, in_segments BIGINT, in_cost BIGINT, in_status TEXT, in_connector TEXT,
    in_refunded BOOLEAN, in_carrier_cost BIGINT, in_updated BIGINT)
RETURNS TABLE (account_id BIGINT, hour BIGINT, category TEXT, country TEXT, connector TEXT,
    status TEXT, messages BIGINT, segments BIGINT, price BIGINT, refunded BIGINT,
    carrier_cost BIGINT, latency_ms BIGINT)
LANGUAGE SQL IMMUTABLE AS $$
    SELECT in_account, in_created - in_created % 3600000, in_category, COALESCE(in_country, ''),
           CASE WHEN in_status IN ('accepted', 'scheduled', 'queued', 'submitting') THEN '' ELSE COALESCE(in_connector, '') END,
           CASE WHEN in_status IN ('accepted', 'scheduled', 'queued', 'submitting') THEN 'pending' ELSE in_status END,
           sign, sign * in_segments, sign * in_cost, CASE WHEN in_refunded THEN sign * in_cost ELSE 0 END,
           CASE WHEN in_status IN ('accepted', 'scheduled', 'queued', 'submitting') THEN 0 ELSE sign * COALESCE(in_carrier_cost, 0) END,
           CASE WHEN in_status = 'delivered' THEN sign * (in_updated - in_created) ELSE 0 END
$$;

INSERT INTO usage_counters
SELECT u.account_id, u.hour, u.category, u.country, u.connector, u.status, 0,
       SUM(u.messages), SUM(u.segments), SUM(u.price), SUM(u.refunded), SUM(u.carrier_cost), SUM(u.latency_ms)
  FROM messages m,
       usage_add(1, m.account_id, m.created_at, m.category, m.country, m.segments, m.cost, m.status,
                 m.connector, m.refunded, m.carrier_cost, m.updated_at) u
 GROUP BY 1, 2, 3, 4, 5, 6;

CREATE FUNCTION usage_count() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO usage_counters
        SELECT u.account_id, u.hour, u.category, u.country, u.connector, u.status, pg_backend_pid(),
               SUM(u.messages), SUM(u.segments), SUM(u.price), SUM(u.refunded), SUM(u.carrier_cost), SUM(u.latency_ms)
          FROM added m,
               usage_add(1, m.account_id, m.created_at, m.category, m.country, m.segments, m.cost, m.status,
                         m.connector, m.refunded, m.carrier_cost, m.updated_at) u
         GROUP BY 1, 2, 3, 4, 5, 6
        ON CONFLICT (account_id, hour, category, country, connector, status, shard) DO UPDATE SET
            messages = usage_counters.messages + excluded.messages,
            segments = usage_counters.segments + excluded.segments,
            price = usage_counters.price + excluded.price,
            refunded = usage_counters.refunded + excluded.refunded,
            carrier_cost = usage_counters.carrier_cost + excluded.carrier_cost,
            latency_ms = usage_counters.latency_ms + excluded.latency_ms;
    ELSE
        -- Only messages whose counting changed (as SQLite's WHEN says).
        INSERT INTO usage_counters
        SELECT u.account_id, u.hour, u.category, u.country, u.connector, u.status, pg_backend_pid(),
               SUM(u.messages), SUM(u.segments), SUM(u.price), SUM(u.refunded), SUM(u.carrier_cost), SUM(u.latency_ms)
          FROM removed b JOIN added a ON a.id = b.id,
               LATERAL (
                   SELECT * FROM usage_add(-1, b.account_id, b.created_at, b.category, b.country, b.segments,
                       b.cost, b.status, b.connector, b.refunded, b.carrier_cost, b.updated_at)
                   UNION ALL
                   SELECT * FROM usage_add(1, a.account_id, a.created_at, a.category, a.country, a.segments,
                       a.cost, a.status, a.connector, a.refunded, a.carrier_cost, a.updated_at)
               ) u
         WHERE (b.status IN ('accepted', 'scheduled', 'queued', 'submitting'))
                   <> (a.status IN ('accepted', 'scheduled', 'queued', 'submitting'))
            OR b.refunded IS DISTINCT FROM a.refunded
            OR (a.status NOT IN ('accepted', 'scheduled', 'queued', 'submitting')
                AND (b.status IS DISTINCT FROM a.status OR b.connector IS DISTINCT FROM a.connector
                     OR b.carrier_cost IS DISTINCT FROM a.carrier_cost
                     OR b.updated_at IS DISTINCT FROM a.updated_at))
         GROUP BY 1, 2, 3, 4, 5, 6
        ON CONFLICT (account_id, hour, category, country, connector, status, shard) DO UPDATE SET
            messages = usage_counters.messages + excluded.messages,
            segments = usage_counters.segments + excluded.segments,
            price = usage_counters.price + excluded.price,
            refunded = usage_counters.refunded + excluded.refunded,
            carrier_cost = usage_counters.carrier_cost + excluded.carrier_cost,
            latency_ms = usage_counters.latency_ms + excluded.latency_ms;
    END IF;
    RETURN NULL;
END;
$$;

CREATE TRIGGER usage_accepted AFTER INSERT ON messages
    REFERENCING NEW TABLE AS added FOR EACH STATEMENT EXECUTE FUNCTION usage_count();
CREATE TRIGGER usage_moved AFTER UPDATE ON messages
    REFERENCING OLD TABLE AS removed NEW TABLE AS added FOR EACH STATEMENT EXECUTE FUNCTION usage_count();
