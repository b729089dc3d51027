-- Usage counters: every message counted once, in the row of the UTC hour
-- it was accepted in, its account, category, country, connector and
-- status, kept by triggers in the transaction that changes the message.
-- Reports and statements read these, not the messages, so they stay the
-- same when texts are removed or numbers masked.
--
-- A message still waiting (accepted, scheduled, queued, submitting)
-- counts as 'pending' under no connector and no carrier cost: moving
-- between those states (every claim, every retry) writes nothing here.
-- Pending is spelled with ORs, not `IN (…)`: SQLite builds a temporary
-- b-tree for each constant IN list a trigger evaluates, each time it
-- runs (≈600k instructions a message, measured with callgrind).
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

CREATE TRIGGER usage_accepted AFTER INSERT ON messages
BEGIN
    INSERT INTO usage_counters VALUES (
        new.account_id, new.created_at - new.created_at % 3600000, new.category, COALESCE(new.country, ''),
        CASE WHEN (new.status = 'queued' OR new.status = 'submitting' OR new.status = 'scheduled' OR new.status = 'accepted') THEN '' ELSE COALESCE(new.connector, '') END,
        CASE WHEN (new.status = 'queued' OR new.status = 'submitting' OR new.status = 'scheduled' OR new.status = 'accepted') THEN 'pending' ELSE new.status END,
        0, 1, new.segments, new.cost, CASE WHEN new.refunded THEN new.cost ELSE 0 END,
        CASE WHEN (new.status = 'queued' OR new.status = 'submitting' OR new.status = 'scheduled' OR new.status = 'accepted') THEN 0 ELSE COALESCE(new.carrier_cost, 0) END,
        CASE WHEN new.status = 'delivered' THEN new.updated_at - new.created_at ELSE 0 END)
    ON CONFLICT DO UPDATE SET messages = messages + 1, segments = segments + excluded.segments,
        price = price + excluded.price, refunded = refunded + excluded.refunded,
        carrier_cost = carrier_cost + excluded.carrier_cost, latency_ms = latency_ms + excluded.latency_ms;
END;

-- Fires only when what the message counts for changes: pending or not,
-- once not pending its status, connector, carrier cost and (delivered)
-- time, and its refund. Its old contribution out, its new one in.
CREATE TRIGGER usage_moved AFTER UPDATE OF status, refunded, connector, carrier_cost, updated_at ON messages
WHEN ((old.status = 'queued' OR old.status = 'submitting' OR old.status = 'scheduled' OR old.status = 'accepted')) <> ((new.status = 'queued' OR new.status = 'submitting' OR new.status = 'scheduled' OR new.status = 'accepted'))
  OR old.refunded IS NOT new.refunded
  OR (NOT (new.status = 'queued' OR new.status = 'submitting' OR new.status = 'scheduled' OR new.status = 'accepted')
      AND (old.status IS NOT new.status OR old.connector IS NOT new.connector
           OR old.carrier_cost IS NOT new.carrier_cost OR old.updated_at IS NOT new.updated_at))
BEGIN
    UPDATE usage_counters SET messages = messages - 1, segments = segments - old.segments,
        price = price - old.cost, refunded = refunded - CASE WHEN old.refunded THEN old.cost ELSE 0 END,
        carrier_cost = carrier_cost - CASE WHEN (old.status = 'queued' OR old.status = 'submitting' OR old.status = 'scheduled' OR old.status = 'accepted') THEN 0 ELSE COALESCE(old.carrier_cost, 0) END,
        latency_ms = latency_ms - CASE WHEN old.status = 'delivered' THEN old.updated_at - old.created_at ELSE 0 END
     WHERE account_id = old.account_id AND hour = old.created_at - old.created_at % 3600000
       AND category = old.category AND country = COALESCE(old.country, '')
       AND connector = CASE WHEN (old.status = 'queued' OR old.status = 'submitting' OR old.status = 'scheduled' OR old.status = 'accepted') THEN '' ELSE COALESCE(old.connector, '') END
       AND status = CASE WHEN (old.status = 'queued' OR old.status = 'submitting' OR old.status = 'scheduled' OR old.status = 'accepted') THEN 'pending' ELSE old.status END
       AND shard = 0;
    INSERT INTO usage_counters VALUES (
        new.account_id, new.created_at - new.created_at % 3600000, new.category, COALESCE(new.country, ''),
        CASE WHEN (new.status = 'queued' OR new.status = 'submitting' OR new.status = 'scheduled' OR new.status = 'accepted') THEN '' ELSE COALESCE(new.connector, '') END,
        CASE WHEN (new.status = 'queued' OR new.status = 'submitting' OR new.status = 'scheduled' OR new.status = 'accepted') THEN 'pending' ELSE new.status END,
        0, 1, new.segments, new.cost, CASE WHEN new.refunded THEN new.cost ELSE 0 END,
        CASE WHEN (new.status = 'queued' OR new.status = 'submitting' OR new.status = 'scheduled' OR new.status = 'accepted') THEN 0 ELSE COALESCE(new.carrier_cost, 0) END,
        CASE WHEN new.status = 'delivered' THEN new.updated_at - new.created_at ELSE 0 END)
    ON CONFLICT DO UPDATE SET messages = messages + 1, segments = segments + excluded.segments,
        price = price + excluded.price, refunded = refunded + excluded.refunded,
        carrier_cost = carrier_cost + excluded.carrier_cost, latency_ms = latency_ms + excluded.latency_ms;
END;
