//! SQL for webhooks: endpoints, the relay from the outbox to deliveries,
//! claiming due deliveries (in event order per subject and endpoint), and
//! recording attempts.

use rusqlite::{Connection, OptionalExtension, Row, params};
use smsgate_core::{AccountId, Timestamp};

use super::events;
use super::messages::corrupt;
use crate::{
    AttemptRecord, AttemptResult, DeliveryNext, DeliveryRecord, DueDelivery, EndpointKind,
    EventType, NewWebhookEndpoint, Replay, Result, WebhookEndpoint,
};

/// Deliveries pending per endpoint at most; the relay waits for room.
const MAX_PENDING: i64 = 1_000;
const ENDPOINT_COLUMNS: &str =
    "id, account_id, url, secret, events, enabled, max_concurrency, created_at, kind";

fn endpoint_row(r: &Row<'_>) -> rusqlite::Result<Result<WebhookEndpoint>> {
    let events: String = r.get(4)?;
    let (id, account, url, secret): (i64, i64, String, String) =
        (r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?);
    let (enabled, max_concurrency, created_at): (bool, u32, i64) =
        (r.get(5)?, r.get(6)?, r.get(7)?);
    let kind = match r.get::<_, String>(8)?.as_str() {
        "endpoint" => EndpointKind::Endpoint,
        "callbacks" => EndpointKind::Callbacks,
        other => return Ok(Err(corrupt("endpoint kind", other))),
    };
    let events: Result<Vec<EventType>> = if events == "*" {
        Ok(Vec::new())
    } else {
        events
            .split(' ')
            .map(|t| EventType::parse(t).ok_or_else(|| corrupt("event type", t)))
            .collect()
    };
    Ok(events.map(|events| WebhookEndpoint {
        id,
        account_id: AccountId(account),
        kind,
        url,
        secret,
        events,
        enabled,
        max_concurrency,
        created_at: Timestamp(created_at),
    }))
}

pub(crate) fn create(
    conn: &Connection,
    account: AccountId,
    new: NewWebhookEndpoint,
    now: Timestamp,
) -> Result<WebhookEndpoint> {
    super::accounts::require_account(conn, account)?;
    let events = if new.events.is_empty() {
        "*".to_string()
    } else {
        new.events
            .iter()
            .map(|e| e.as_str())
            .collect::<Vec<_>>()
            .join(" ")
    };
    // An endpoint hears of what happens from now on.
    conn.prepare_cached(
        "INSERT INTO webhook_endpoints (account_id, url, secret, events, max_concurrency, created_at, relay_cursor)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, (SELECT COALESCE(MAX(id), 0) FROM events))",
    )?
    .execute(params![account.0, new.url, new.secret, events, new.max_concurrency, now.0])?;
    Ok(WebhookEndpoint {
        id: conn.last_insert_rowid(),
        account_id: account,
        kind: EndpointKind::Endpoint,
        url: new.url,
        secret: new.secret,
        events: new.events,
        enabled: true,
        max_concurrency: new.max_concurrency,
        created_at: now,
    })
}

pub(crate) fn list(conn: &Connection, account: AccountId) -> Result<Vec<WebhookEndpoint>> {
    conn.prepare_cached(&format!(
        "SELECT {ENDPOINT_COLUMNS} FROM webhook_endpoints WHERE account_id = ?1 ORDER BY id"
    ))?
    .query_map([account.0], endpoint_row)?
    .map(|r| r?)
    .collect()
}

pub(crate) fn get(conn: &Connection, id: i64) -> Result<Option<WebhookEndpoint>> {
    conn.prepare_cached(&format!(
        "SELECT {ENDPOINT_COLUMNS} FROM webhook_endpoints WHERE id = ?1"
    ))?
    .query_row([id], endpoint_row)
    .optional()?
    .transpose()
}

pub(crate) fn set_enabled(conn: &Connection, id: i64, enabled: bool) -> Result<bool> {
    Ok(conn
        .prepare_cached("UPDATE webhook_endpoints SET enabled = ?1 WHERE id = ?2")?
        .execute(params![enabled, id])?
        > 0)
}

/// Deletes an endpoint; its pending deliveries end as dead.
pub(crate) fn delete(conn: &Connection, id: i64, now: Timestamp) -> Result<bool> {
    conn.prepare_cached(
        "UPDATE webhook_deliveries SET status = 'dead', last_error = 'endpoint deleted', done_at = ?1
          WHERE endpoint_id = ?2 AND status = 'pending'",
    )?
    .execute(params![now.0, id])?;
    Ok(conn
        .prepare_cached("DELETE FROM webhook_endpoints WHERE id = ?1")?
        .execute([id])?
        > 0)
}

/// Makes the account's callbacks endpoint if it has none yet. Its secret
/// comes from SQLite's CSPRNG (ChaCha20 seeded by the OS).
pub(crate) fn ensure_callbacks_endpoint(
    conn: &Connection,
    account: AccountId,
    now: Timestamp,
) -> Result<()> {
    conn.prepare_cached(
        "INSERT INTO webhook_endpoints (account_id, kind, url, secret, events, created_at, relay_cursor)
         VALUES (?1, 'callbacks', '', 'whsec_' || lower(hex(randomblob(24))), '*', ?2,
                 (SELECT COALESCE(MAX(id), 0) FROM events))
         ON CONFLICT DO NOTHING",
    )?
    .execute(params![account.0, now.0])?;
    Ok(())
}

/// The account's callbacks endpoint, if a message has made it.
pub(crate) fn callbacks_endpoint(
    conn: &Connection,
    account: AccountId,
) -> Result<Option<WebhookEndpoint>> {
    conn.prepare_cached(&format!(
        "SELECT {ENDPOINT_COLUMNS} FROM webhook_endpoints WHERE account_id = ?1 AND kind = 'callbacks'"
    ))?
    .query_row([account.0], endpoint_row)
    .optional()?
    .transpose()
}

/// An event to relay: id, type, subject (its message, else the number an
/// opt-out change is about, else its inbound message: deliveries of one
/// subject go out in order), and its message's callback URL.
type RelayRow = (i64, EventType, Option<Vec<u8>>, Option<String>);

/// Events of an account after `after`, oldest first, with the callback
/// URL of the message each is about (when it has one).
fn events_after(
    conn: &Connection,
    endpoint: &WebhookEndpoint,
    after: i64,
    until: i64,
    since: i64,
    before: i64,
    limit: i64,
) -> Result<Vec<RelayRow>> {
    let sql = match endpoint.kind {
        EndpointKind::Endpoint => {
            "SELECT id, type, COALESCE(message_id, CAST(number AS BLOB), inbound_id), NULL FROM events
              WHERE account_id = ?1 AND id > ?2 AND id <= ?3 AND created_at >= ?4 AND created_at < ?5
              ORDER BY id LIMIT ?6"
        }
        EndpointKind::Callbacks => {
            "SELECT e.id, e.type, COALESCE(e.message_id, CAST(e.number AS BLOB), e.inbound_id), m.callback_url
               FROM events e LEFT JOIN messages m ON m.id = e.message_id
              WHERE e.account_id = ?1 AND e.id > ?2 AND e.id <= ?3 AND e.created_at >= ?4 AND e.created_at < ?5
              ORDER BY e.id LIMIT ?6"
        }
    };
    conn.prepare_cached(sql)?
        .query_map(
            params![endpoint.account_id.0, after, until, since, before, limit],
            |r| Ok((r.get(0)?, r.get::<_, String>(1)?, r.get(2)?, r.get(3)?)),
        )?
        .map(|row| {
            let (id, kind, subject, url) = row?;
            let kind = EventType::parse(&kind).ok_or_else(|| corrupt("event type", &kind))?;
            Ok((id, kind, subject, url))
        })
        .collect()
}

/// Makes deliveries of `events` for the endpoint (those it wants);
/// returns how many.
fn make_deliveries(
    conn: &Connection,
    endpoint: &WebhookEndpoint,
    events: &[RelayRow],
    now: Timestamp,
) -> Result<usize> {
    let mut insert = conn.prepare_cached(
        "INSERT INTO webhook_deliveries (endpoint_id, event_id, subject, status, due_at, created_at, url)
         VALUES (?1, ?2, ?3, 'pending', ?4, ?4, ?5)",
    )?;
    let mut made = 0;
    for (event_id, kind, subject, url) in events {
        let wanted = *kind != EventType::WebhookTest
            && endpoint.wants(*kind)
            && (endpoint.kind == EndpointKind::Endpoint || url.is_some());
        if wanted {
            insert.execute(params![endpoint.id, event_id, subject, now.0, url])?;
            made += 1;
        }
    }
    Ok(made)
}

/// Turns new outbox events into deliveries, endpoint by endpoint, each
/// from its own cursor and only while it has room for more pending; returns
/// how many events were looked at.
pub(crate) fn relay(conn: &Connection, limit: usize, now: Timestamp) -> Result<usize> {
    let endpoints: Vec<(WebhookEndpoint, i64)> = conn
        .prepare_cached(&format!(
            "SELECT {ENDPOINT_COLUMNS}, relay_cursor FROM webhook_endpoints WHERE enabled = 1"
        ))?
        .query_map([], |r| Ok((endpoint_row(r)?, r.get::<_, i64>(9)?)))?
        .map(|row| {
            let (endpoint, cursor) = row?;
            Ok((endpoint?, cursor))
        })
        .collect::<Result<_>>()?;
    let mut looked = 0;
    for (e, cursor) in endpoints {
        let pending: i64 = conn
            .prepare_cached(
                "SELECT count(*) FROM webhook_deliveries WHERE endpoint_id = ?1 AND status = 'pending'",
            )?
            .query_row([e.id], |r| r.get(0))?;
        let room = (MAX_PENDING - pending).min(limit as i64);
        if room <= 0 {
            continue;
        }
        let rows = events_after(conn, &e, cursor, i64::MAX, i64::MIN, i64::MAX, room)?;
        let Some(last) = rows.last().map(|r| r.0) else {
            continue;
        };
        looked += rows.len();
        make_deliveries(conn, &e, &rows, now)?;
        conn.prepare_cached("UPDATE webhook_endpoints SET relay_cursor = ?1 WHERE id = ?2")?
            .execute(params![last, e.id])?;
    }
    Ok(looked)
}

/// Delivers past events of the endpoint's account again (those of the
/// types it wants); returns how many deliveries were made.
pub(crate) fn replay(
    conn: &Connection,
    endpoint: &WebhookEndpoint,
    which: Replay,
    now: Timestamp,
) -> Result<usize> {
    let (from, to, since, until) = match which {
        Replay::Event(id) => (id, id, i64::MIN, i64::MAX),
        Replay::Range { since, until } => (i64::MIN + 1, i64::MAX, since.0, until.0),
    };
    let rows = events_after(conn, endpoint, from - 1, to, since, until, 100_000)?;
    make_deliveries(conn, endpoint, &rows, now)
}

/// A `webhook.test` event for one endpoint, delivered to it alone.
pub(crate) fn test_event(
    conn: &Connection,
    endpoint: &WebhookEndpoint,
    now: Timestamp,
) -> Result<i64> {
    conn.prepare_cached(
        "INSERT INTO events (account_id, type, seq, detail, created_at) VALUES (?1, ?2, 1, ?3, ?4)",
    )?
    .execute(params![
        endpoint.account_id.0,
        EventType::WebhookTest.as_str(),
        format!("test of endpoint {}", endpoint.id),
        now.0
    ])?;
    let event = conn.last_insert_rowid();
    conn.prepare_cached(
        "INSERT INTO webhook_deliveries (endpoint_id, event_id, status, due_at, created_at)
         VALUES (?1, ?2, 'pending', ?3, ?3)",
    )?
    .execute(params![endpoint.id, event, now.0])?;
    Ok(event)
}

/// Claims due deliveries, at most `limit`, skipping endpoints in `busy`,
/// and never one whose subject has an earlier pending delivery to the same
/// endpoint (so each message's events arrive in order).
pub(crate) fn claim(
    conn: &Connection,
    now: Timestamp,
    lease_until: Timestamp,
    limit: usize,
    busy: &[i64],
) -> Result<Vec<DueDelivery>> {
    let rows: Vec<(i64, i64, i64, u32, i64, Option<String>)> = conn
        .prepare_cached(
            "SELECT d.id, d.endpoint_id, d.event_id, d.attempts, d.created_at, d.url
               FROM webhook_deliveries d
              WHERE d.status = 'pending' AND d.due_at <= ?1
                AND (d.lease_until IS NULL OR d.lease_until <= ?1)
                AND NOT EXISTS (
                    SELECT 1 FROM webhook_deliveries p
                     WHERE p.endpoint_id = d.endpoint_id AND p.subject = d.subject
                       AND p.status = 'pending' AND p.event_id < d.event_id)
              ORDER BY d.due_at LIMIT ?2",
        )?
        // Over-fetch a little: rows of busy endpoints are skipped below.
        .query_map(params![now.0, (limit + busy.len() * 4) as i64], |r| {
            Ok((
                r.get(0)?,
                r.get(1)?,
                r.get(2)?,
                r.get(3)?,
                r.get(4)?,
                r.get(5)?,
            ))
        })?
        .collect::<rusqlite::Result<_>>()?;
    let mut out = Vec::new();
    let mut endpoints: std::collections::HashMap<i64, Option<WebhookEndpoint>> =
        std::collections::HashMap::new();
    for (id, endpoint_id, event_id, attempts, created_at, url) in rows {
        if out.len() >= limit || busy.contains(&endpoint_id) {
            continue;
        }
        let endpoint = match endpoints.entry(endpoint_id) {
            std::collections::hash_map::Entry::Occupied(e) => e.get().clone(),
            std::collections::hash_map::Entry::Vacant(v) => {
                v.insert(get(conn, endpoint_id)?).clone()
            }
        };
        let Some(endpoint) = endpoint else {
            continue;
        };
        let Some(event) = events::by_id(conn, event_id)? else {
            continue;
        };
        conn.prepare_cached("UPDATE webhook_deliveries SET lease_until = ?1 WHERE id = ?2")?
            .execute(params![lease_until.0, id])?;
        out.push(DueDelivery {
            id,
            url: url.unwrap_or_else(|| endpoint.url.clone()),
            endpoint,
            event,
            attempts,
            created_at: Timestamp(created_at),
        });
    }
    Ok(out)
}

pub(crate) fn record(conn: &Connection, a: AttemptResult) -> Result<()> {
    conn.prepare_cached(
        "INSERT INTO webhook_attempts (delivery_id, at, status_code, latency_ms, error)
         VALUES (?1, ?2, ?3, ?4, ?5)",
    )?
    .execute(params![
        a.delivery,
        a.at.0,
        a.status_code,
        a.latency_ms as i64,
        a.error
    ])?;
    let (status, due, done) = match a.next {
        DeliveryNext::Delivered => ("delivered", None, Some(a.at.0)),
        DeliveryNext::RetryAt(t) => ("pending", Some(t.0), None),
        DeliveryNext::Dead => ("dead", None, Some(a.at.0)),
    };
    conn.prepare_cached(
        "UPDATE webhook_deliveries SET status = ?1, attempts = attempts + 1, lease_until = NULL,
             due_at = COALESCE(?2, due_at), last_status = ?3, last_error = ?4, done_at = ?5
          WHERE id = ?6",
    )?
    .execute(params![
        status,
        due,
        a.status_code,
        a.error,
        done,
        a.delivery
    ])?;
    Ok(())
}

/// An endpoint's deliveries, newest first, with their attempts.
pub(crate) fn deliveries(
    conn: &Connection,
    endpoint: i64,
    limit: usize,
) -> Result<Vec<DeliveryRecord>> {
    let rows = conn
        .prepare_cached(
            "SELECT d.id, d.event_id, e.type, d.status, d.attempts, d.last_status, d.last_error,
                    d.created_at, d.done_at
               FROM webhook_deliveries d JOIN events e ON e.id = d.event_id
              WHERE d.endpoint_id = ?1 ORDER BY d.id DESC LIMIT ?2",
        )?
        .query_map(params![endpoint, limit as i64], |r| {
            let kind: String = r.get(2)?;
            Ok((
                kind,
                DeliveryRecord {
                    id: r.get(0)?,
                    event_id: r.get(1)?,
                    event_type: EventType::MessageQueued,
                    status: r.get(3)?,
                    attempts: r.get(4)?,
                    last_status: r.get(5)?,
                    last_error: r.get(6)?,
                    created_at: Timestamp(r.get(7)?),
                    done_at: r.get::<_, Option<i64>>(8)?.map(Timestamp),
                    log: Vec::new(),
                },
            ))
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    let mut out = Vec::with_capacity(rows.len());
    for (kind, mut d) in rows {
        // The placeholder type above is replaced here, where a bad one can
        // be reported.
        d.event_type = EventType::parse(&kind).ok_or_else(|| corrupt("event type", &kind))?;
        d.log = conn
            .prepare_cached(
                "SELECT at, status_code, latency_ms, error FROM webhook_attempts
                  WHERE delivery_id = ?1 ORDER BY rowid",
            )?
            .query_map([d.id], |r| {
                Ok(AttemptRecord {
                    at: Timestamp(r.get(0)?),
                    status_code: r.get(1)?,
                    latency_ms: r.get::<_, i64>(2)? as u64,
                    error: r.get(3)?,
                })
            })?
            .collect::<rusqlite::Result<_>>()?;
        out.push(d);
    }
    Ok(out)
}
