//! SQL for webhooks: endpoints, the relay from the outbox to deliveries,
//! claiming due deliveries (in event order per subject and endpoint), and
//! recording attempts.

use async_trait::async_trait;
use smsgate_core::{AccountId, PublicId, Timestamp};

use super::audit::{self, Change};
use super::events;
use super::messages::corrupt;
use super::registry::public_id;
use super::{Backend, Db, Rec, SqlStore, args};
use crate::*;
use crate::{
    AttemptRecord, AttemptResult, DeliveryLoad, DeliveryNext, DeliveryRecord, DueDelivery,
    EndpointKind, EndpointLoad, EventType, NewWebhookEndpoint, Replay, Result, WebhookEndpoint,
};

/// Deliveries pending per endpoint at most; the relay, replays and tests
/// wait for room (or make fewer).
pub(crate) const MAX_PENDING: i64 = 1_000;
/// `id` is the internal key (joins); clients know `uid`.
const ENDPOINT_COLUMNS: &str =
    "uid, account_id, url, secret, events, enabled, max_concurrency, created_at, kind, id";

/// An endpoint and its internal key.
type Keyed = (i64, WebhookEndpoint);

fn endpoint_row(r: &Rec<'_>) -> Result<Keyed> {
    let events: String = r.get(4)?;
    let (uid, account, url, secret): (String, i64, String, String) =
        (r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?);
    let (enabled, max_concurrency, created_at, key): (bool, u32, i64, i64) =
        (r.get(5)?, r.get(6)?, r.get(7)?, r.get(9)?);
    let kind = match r.get::<String>(8)?.as_str() {
        "endpoint" => EndpointKind::Endpoint,
        "callbacks" => EndpointKind::Callbacks,
        other => return Err(corrupt("endpoint kind", other)),
    };
    let events: Result<Vec<EventType>> = if events == "*" {
        Ok(Vec::new())
    } else {
        events
            .split(' ')
            .map(|t| EventType::parse(t).ok_or_else(|| corrupt("event type", t)))
            .collect()
    };
    (|| {
        Ok((
            key,
            WebhookEndpoint {
                id: public_id(&uid)?,
                account_id: AccountId(account),
                kind,
                url,
                secret,
                events: events?,
                enabled,
                max_concurrency,
                created_at: Timestamp(created_at),
            },
        ))
    })()
}

pub(crate) fn create(
    conn: &impl Db,
    account: AccountId,
    new: NewWebhookEndpoint,
    by: &Audit,
) -> Result<WebhookEndpoint> {
    let now = by.at;
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
    let uid = super::random_id("wh_", 16);
    conn.exec(
        "INSERT INTO webhook_endpoints (uid, account_id, url, secret, events, max_concurrency, created_at, relay_cursor)
         VALUES (?7, ?1, ?2, ?3, ?4, ?5, ?6, (SELECT COALESCE(MAX(id), 0) FROM events))",
        args![account.0, new.url, new.secret, events, new.max_concurrency, now.0, uid],
    )?;
    let (_, endpoint) = conn.single(
        &format!("SELECT {ENDPOINT_COLUMNS} FROM webhook_endpoints WHERE uid = ?1"),
        args![uid],
        endpoint_row,
    )?;
    audit::record(
        conn,
        by,
        endpoint_change(AuditAction::WebhookCreate, &endpoint).after(&endpoint),
    )?;
    Ok(endpoint)
}

fn endpoint_change(action: AuditAction, e: &WebhookEndpoint) -> Change {
    Change::new(action)
        .account(e.account_id)
        .subject(format!("webhook {}", e.id))
}

pub(crate) fn list(conn: &impl Db, account: AccountId) -> Result<Vec<WebhookEndpoint>> {
    conn.all(
        &format!(
            "SELECT {ENDPOINT_COLUMNS} FROM webhook_endpoints WHERE account_id = ?1 ORDER BY id"
        ),
        args![account.0],
        endpoint_row,
    )
    .map(|rows| rows.into_iter().map(|(_, e)| e).collect())
}

/// The account's endpoint with this public id, and its internal key.
fn keyed(conn: &impl Db, account: AccountId, id: &PublicId) -> Result<Option<Keyed>> {
    conn.one(
        &format!(
            "SELECT {ENDPOINT_COLUMNS} FROM webhook_endpoints WHERE uid = ?1 AND account_id = ?2"
        ),
        args![id.as_str(), account.0],
        endpoint_row,
    )
}

pub(crate) fn get(
    conn: &impl Db,
    account: AccountId,
    id: &PublicId,
) -> Result<Option<WebhookEndpoint>> {
    Ok(keyed(conn, account, id)?.map(|(_, e)| e))
}

pub(crate) fn set_enabled(
    conn: &impl Db,
    account: AccountId,
    id: &PublicId,
    enabled: bool,
    by: &Audit,
) -> Result<bool> {
    let Some((_, before)) = keyed(conn, account, id)? else {
        return Ok(false);
    };
    conn.exec(
        "UPDATE webhook_endpoints SET enabled = ?1 WHERE uid = ?2 AND account_id = ?3",
        args![enabled, id.as_str(), account.0],
    )?;
    if before.enabled != enabled {
        let action = if enabled {
            AuditAction::WebhookEnable
        } else {
            AuditAction::WebhookDisable
        };
        let after = WebhookEndpoint {
            enabled,
            ..before.clone()
        };
        let change = endpoint_change(action, &before)
            .before(&before)
            .after(&after);
        audit::record(conn, by, change)?;
    }
    Ok(true)
}

/// Deletes an endpoint; its pending deliveries end as dead (and `record`
/// never makes a dead delivery pending again).
pub(crate) fn delete(
    conn: &impl Db,
    account: AccountId,
    id: &PublicId,
    by: &Audit,
) -> Result<bool> {
    let now = by.at;
    let Some((key, before)) = keyed(conn, account, id)? else {
        return Ok(false);
    };
    audit::record(
        conn,
        by,
        endpoint_change(AuditAction::WebhookDelete, &before).before(&before),
    )?;
    conn.exec("UPDATE webhook_deliveries SET status = 'dead', last_error = 'endpoint deleted', done_at = ?1,
                lease_until = NULL
          WHERE endpoint_id = ?2 AND status = 'pending'", args![now.0, key])?;
    conn.exec("DELETE FROM webhook_endpoints WHERE id = ?1", args![key])?;
    Ok(true)
}

/// Makes the account's callbacks endpoint if it has none yet. Its secret
/// comes from the operating system's random source.
pub(crate) fn ensure_callbacks_endpoint(
    conn: &impl Db,
    account: AccountId,
    now: Timestamp,
) -> Result<()> {
    conn.exec(
        "INSERT INTO webhook_endpoints (uid, account_id, kind, url, secret, events, created_at, relay_cursor)
         VALUES (?3, ?1, 'callbacks', '', ?4, '*', ?2, (SELECT COALESCE(MAX(id), 0) FROM events))
         ON CONFLICT DO NOTHING",
        args![account.0, now.0, super::random_id("wh_", 16), super::random_id("whsec_", 24)],
    )?;
    Ok(())
}

/// The account's callbacks endpoint, if a message has made it.
pub(crate) fn callbacks_endpoint(
    conn: &impl Db,
    account: AccountId,
) -> Result<Option<WebhookEndpoint>> {
    conn.one(&format!(
        "SELECT {ENDPOINT_COLUMNS} FROM webhook_endpoints WHERE account_id = ?1 AND kind = 'callbacks'"
    ), args![account.0], endpoint_row)
    .map(|e| e.map(|(_, e)| e))
}

/// An event to relay: id, type, subject (its message, else the number an
/// opt-out change is about, else its inbound message: deliveries of one
/// subject go out in order), and its message's callback URL.
type RelayRow = (i64, EventType, Option<Vec<u8>>, Option<String>);

/// Events of an account after `after`, oldest first, with the callback
/// URL of the message each is about (when it has one).
fn events_after(
    conn: &impl Db,
    endpoint: &WebhookEndpoint,
    after: i64,
    until: i64,
    since: i64,
    before: i64,
    limit: i64,
) -> Result<Vec<RelayRow>> {
    let sql = match endpoint.kind {
        EndpointKind::Endpoint => format!(
            "SELECT id, type, COALESCE(message_id, {}, inbound_id), NULL FROM events
              WHERE account_id = ?1 AND id > ?2 AND id <= ?3 AND created_at >= ?4 AND created_at < ?5
              ORDER BY id LIMIT ?6",
            conn.text_as_bytes("number")
        ),
        EndpointKind::Callbacks => format!(
            "SELECT e.id, e.type, COALESCE(e.message_id, {}, e.inbound_id), m.callback_url
               FROM events e LEFT JOIN messages m ON m.id = e.message_id
              WHERE e.account_id = ?1 AND e.id > ?2 AND e.id <= ?3 AND e.created_at >= ?4 AND e.created_at < ?5
              ORDER BY e.id LIMIT ?6",
            conn.text_as_bytes("e.number")
        ),
    };
    conn.all(
        &sql,
        args![endpoint.account_id.0, after, until, since, before, limit],
        |r| Ok((r.get(0)?, r.get::<String>(1)?, r.get(2)?, r.get(3)?)),
    )?
    .into_iter()
    .map(|row| {
        let (id, kind, subject, url) = row;
        let kind = EventType::parse(&kind).ok_or_else(|| corrupt("event type", &kind))?;
        Ok((id, kind, subject, url))
    })
    .collect()
}

/// Deliveries of the endpoint still pending.
fn pending(conn: &impl Db, key: i64) -> Result<i64> {
    conn.single(
        "SELECT count(*) FROM webhook_deliveries WHERE endpoint_id = ?1 AND status = 'pending'",
        args![key],
        |r| r.get(0),
    )
}

/// Makes deliveries of `events` for the endpoint (those it wants);
/// returns how many.
fn make_deliveries(
    conn: &impl Db,
    (key, endpoint): &Keyed,
    events: &[RelayRow],
    now: Timestamp,
) -> Result<usize> {
    let mut made = 0;
    for (event_id, kind, subject, url) in events {
        let wanted = *kind != EventType::WebhookTest
            && endpoint.wants(*kind)
            && (endpoint.kind == EndpointKind::Endpoint || url.is_some());
        if wanted {
            conn.exec(
                "INSERT INTO webhook_deliveries
                     (uid, account_id, endpoint_id, event_id, subject, status, due_at, created_at, url)
                 VALUES (?7, ?1, ?2, ?3, ?4, 'pending', ?5, ?5, ?6)",
                args![endpoint.account_id.0, key, event_id, subject, now.0, url, super::random_id("dl_", 16)],
            )?;
            made += 1;
        }
    }
    Ok(made)
}

/// Turns new outbox events into deliveries, endpoint by endpoint, each
/// from its own cursor and only while it has room for more pending; returns
/// how many events were looked at.
pub(crate) fn relay(conn: &impl Db, limit: usize, now: Timestamp) -> Result<usize> {
    let endpoints: Vec<(Keyed, i64)> = conn.all(
        &format!("SELECT {ENDPOINT_COLUMNS}, relay_cursor FROM webhook_endpoints WHERE enabled"),
        args![],
        |r| Ok((endpoint_row(r)?, r.get::<i64>(10)?)),
    )?;
    let mut looked = 0;
    for (e, cursor) in endpoints {
        let room = (MAX_PENDING - pending(conn, e.0)?).min(limit as i64);
        if room <= 0 {
            continue;
        }
        let rows = events_after(conn, &e.1, cursor, i64::MAX, i64::MIN, i64::MAX, room)?;
        let Some(last) = rows.last().map(|r| r.0) else {
            continue;
        };
        looked += rows.len();
        make_deliveries(conn, &e, &rows, now)?;
        conn.exec(
            "UPDATE webhook_endpoints SET relay_cursor = ?1 WHERE id = ?2",
            args![last, e.0],
        )?;
    }
    Ok(looked)
}

/// Delivers past events of the endpoint's account again (those of the
/// types it wants), as many as the endpoint has room for pending; returns
/// how many deliveries were made.
pub(crate) fn replay(
    conn: &impl Db,
    endpoint: &WebhookEndpoint,
    which: Replay,
    now: Timestamp,
) -> Result<usize> {
    let Some(keyed) = keyed(conn, endpoint.account_id, &endpoint.id)? else {
        return Ok(0);
    };
    let room = MAX_PENDING - pending(conn, keyed.0)?;
    if room <= 0 {
        return Ok(0);
    }
    let (from, to, since, until) = match which {
        Replay::Event(id) => (id, id, i64::MIN, i64::MAX),
        Replay::Range { since, until } => (i64::MIN + 1, i64::MAX, since.0, until.0),
    };
    let mut rows = events_after(conn, &keyed.1, from - 1, to, since, until, 100_000)?;
    rows.retain(|(_, kind, _, url)| {
        *kind != EventType::WebhookTest
            && keyed.1.wants(*kind)
            && (keyed.1.kind == EndpointKind::Endpoint || url.is_some())
    });
    rows.truncate(room as usize);
    make_deliveries(conn, &keyed, &rows, now)
}

/// A `webhook.test` event for one endpoint, delivered to it alone; `None`
/// when the endpoint has no room for another pending delivery.
pub(crate) fn test_event(
    conn: &impl Db,
    endpoint: &WebhookEndpoint,
    now: Timestamp,
) -> Result<Option<i64>> {
    let Some((key, _)) = keyed(conn, endpoint.account_id, &endpoint.id)? else {
        return Ok(None);
    };
    if pending(conn, key)? >= MAX_PENDING {
        return Ok(None);
    }
    let event = conn.insert_id(
        "INSERT INTO events (account_id, type, seq, detail, created_at) VALUES (?1, ?2, 1, ?3, ?4)",
        args![
            endpoint.account_id.0,
            EventType::WebhookTest.as_str(),
            format!("test of endpoint {}", endpoint.id),
            now.0
        ],
    )?;
    conn.exec("INSERT INTO webhook_deliveries (uid, account_id, endpoint_id, event_id, status, due_at, created_at)
         VALUES (?5, ?1, ?2, ?3, 'pending', ?4, ?4)", args![endpoint.account_id.0, key, event, now.0, super::random_id("dl_", 16)])?;
    Ok(Some(event))
}

/// Endpoints with deliveries due, with what they and their accounts have
/// in flight: deliveries under a lease not yet ended (by any node).
pub(crate) fn load(conn: &impl Db, now: Timestamp) -> Result<DeliveryLoad> {
    let endpoints = conn
        .all(
            "SELECT w.uid, w.account_id, w.max_concurrency, count(*),
                    (SELECT count(*) FROM webhook_deliveries f
                      WHERE f.endpoint_id = w.id AND f.status = 'pending' AND f.lease_until > ?1)
               FROM webhook_deliveries d
               JOIN webhook_endpoints w ON w.id = d.endpoint_id AND w.account_id = d.account_id
              WHERE d.status = 'pending' AND d.due_at <= ?1
                AND (d.lease_until IS NULL OR d.lease_until <= ?1)
              GROUP BY w.id ORDER BY w.id",
            args![now.0],
            |r| {
                Ok((
                    r.get::<String>(0)?,
                    r.get::<i64>(1)?,
                    r.get::<u32>(2)?,
                    r.get::<u32>(3)?,
                    r.get::<u32>(4)?,
                ))
            },
        )?
        .into_iter()
        .map(|row| {
            let (uid, account, max_concurrency, due, in_flight) = row;
            Ok(EndpointLoad {
                endpoint: public_id(&uid)?,
                account_id: AccountId(account),
                max_concurrency,
                in_flight,
                due,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    let accounts_in_flight = conn.all(
        "SELECT account_id, count(*) FROM webhook_deliveries
              WHERE status = 'pending' AND lease_until > ?1 GROUP BY account_id",
        args![now.0],
        |r| Ok((AccountId(r.get(0)?), r.get(1)?)),
    )?;
    Ok(DeliveryLoad {
        endpoints,
        accounts_in_flight,
    })
}

/// Claims due deliveries, up to the number given per endpoint, oldest
/// first, never one whose subject has an earlier pending delivery to the
/// same endpoint (so each message's events arrive in order). A delivery is
/// matched by its endpoint and its account.
pub(crate) fn claim(
    conn: &impl Db,
    by: NodeId,
    now: Timestamp,
    lease_until: Timestamp,
    take: &[(PublicId, usize)],
) -> Result<Vec<DueDelivery>> {
    let mut out = Vec::new();
    for (uid, n) in take {
        let Some((key, endpoint)) = conn.one(
            &format!("SELECT {ENDPOINT_COLUMNS} FROM webhook_endpoints WHERE uid = ?1"),
            args![uid.as_str()],
            endpoint_row,
        )?
        else {
            continue;
        };
        let rows: Vec<(i64, i64, u32, i64, Option<String>)> = conn.all(
            "SELECT d.id, d.event_id, d.attempts, d.created_at, d.url
                   FROM webhook_deliveries d
                  WHERE d.endpoint_id = ?1 AND d.account_id = ?2
                    AND d.status = 'pending' AND d.due_at <= ?3
                    AND (d.lease_until IS NULL OR d.lease_until <= ?3)
                    AND NOT EXISTS (
                        SELECT 1 FROM webhook_deliveries p
                         WHERE p.endpoint_id = d.endpoint_id AND p.subject = d.subject
                           AND p.status = 'pending' AND p.event_id < d.event_id)
                  ORDER BY d.due_at LIMIT ?4",
            args![key, endpoint.account_id.0, now.0, *n as i64],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)),
        )?;
        for (id, event_id, attempts, created_at, url) in rows {
            let Some(event) = events::by_id(conn, event_id)? else {
                continue;
            };
            // Another node may have claimed it since it was read: the
            // update waits for that claim and then finds the lease taken.
            let claimed = conn.exec(
                "UPDATE webhook_deliveries SET lease_until = ?1, claimed_by = ?2
                  WHERE id = ?3 AND (lease_until IS NULL OR lease_until <= ?4)",
                args![lease_until.0, by.0, id, now.0],
            )?;
            if claimed == 0 {
                continue;
            }
            out.push(DueDelivery {
                id,
                url: url.unwrap_or_else(|| endpoint.url.clone()),
                endpoint: endpoint.clone(),
                event,
                attempts,
                created_at: Timestamp(created_at),
            });
        }
    }
    Ok(out)
}

/// Records an attempt. Only a pending delivery moves: one that ended while
/// the attempt was in flight (its endpoint deleted) stays ended.
pub(crate) fn record(conn: &impl Db, a: AttemptResult) -> Result<()> {
    conn.exec(
        "INSERT INTO webhook_attempts (delivery_id, at, status_code, latency_ms, error)
         VALUES (?1, ?2, ?3, ?4, ?5)",
        args![
            a.delivery,
            a.at.0,
            a.status_code,
            a.latency_ms as i64,
            a.error
        ],
    )?;
    let (status, due, done) = match a.next {
        DeliveryNext::Delivered => ("delivered", None, Some(a.at.0)),
        DeliveryNext::RetryAt(t) => ("pending", Some(t.0), None),
        DeliveryNext::Dead => ("dead", None, Some(a.at.0)),
    };
    conn.exec(
        "UPDATE webhook_deliveries SET status = ?1, attempts = attempts + 1, lease_until = NULL,
             due_at = COALESCE(?2, due_at), last_status = ?3, last_error = ?4, done_at = ?5
          WHERE id = ?6 AND status = 'pending'",
        args![status, due, a.status_code, a.error, done, a.delivery],
    )?;
    Ok(())
}

/// An endpoint's deliveries, newest first, with their attempts; none for
/// an endpoint of another account.
pub(crate) fn deliveries(
    conn: &impl Db,
    account: AccountId,
    endpoint: &PublicId,
    limit: usize,
) -> Result<Vec<DeliveryRecord>> {
    let Some((key, _)) = keyed(conn, account, endpoint)? else {
        return Ok(Vec::new());
    };
    let rows = conn.all(
        "SELECT d.id, d.event_id, e.type, d.status, d.attempts, d.last_status, d.last_error,
                    d.created_at, d.done_at, d.uid
               FROM webhook_deliveries d JOIN events e ON e.id = d.event_id
              WHERE d.endpoint_id = ?1 AND d.account_id = ?2 ORDER BY d.id DESC LIMIT ?3",
        args![key, account.0, limit as i64],
        |r| {
            Ok((
                r.get::<i64>(0)?,
                r.get::<String>(9)?,
                r.get::<String>(2)?,
                (
                    r.get(1)?,
                    r.get(3)?,
                    r.get(4)?,
                    r.get(5)?,
                    r.get(6)?,
                    r.get(7)?,
                    r.get::<Option<i64>>(8)?,
                ),
            ))
        },
    )?;
    let mut out = Vec::with_capacity(rows.len());
    for (
        key,
        uid,
        kind,
        (event_id, status, attempts, last_status, last_error, created_at, done_at),
    ) in rows
    {
        let log = conn.all(
            "SELECT at, status_code, latency_ms, error FROM webhook_attempts
                  WHERE delivery_id = ?1 ORDER BY rowid",
            args![key],
            |r| {
                Ok(AttemptRecord {
                    at: Timestamp(r.get(0)?),
                    status_code: r.get(1)?,
                    latency_ms: r.get::<i64>(2)? as u64,
                    error: r.get(3)?,
                })
            },
        )?;
        out.push(DeliveryRecord {
            id: public_id(&uid)?,
            event_id,
            event_type: EventType::parse(&kind).ok_or_else(|| corrupt("event type", &kind))?,
            status,
            attempts,
            last_status,
            last_error,
            created_at: Timestamp(created_at),
            done_at: done_at.map(Timestamp),
            log,
        });
    }
    Ok(out)
}

// --- this file's part of the store port ------------------------------------------

#[async_trait]
impl<B: Backend> WebhookStore for SqlStore<B> {
    async fn callbacks_endpoint(&self, account: AccountId) -> Result<Option<WebhookEndpoint>> {
        self.read(move |c| super::webhooks::callbacks_endpoint(c, account))
            .await
    }
    async fn create_webhook(
        &self,
        account: AccountId,
        new: NewWebhookEndpoint,
        by: &Audit,
    ) -> Result<WebhookEndpoint> {
        let by = *by;
        self.write(move |c| super::webhooks::create(c, account, new, &by))
            .await
    }
    async fn webhooks(&self, account: AccountId) -> Result<Vec<WebhookEndpoint>> {
        self.read(move |c| super::webhooks::list(c, account)).await
    }
    async fn webhook(&self, account: AccountId, id: PublicId) -> Result<Option<WebhookEndpoint>> {
        self.read(move |c| super::webhooks::get(c, account, &id))
            .await
    }
    async fn set_webhook_enabled(
        &self,
        account: AccountId,
        id: PublicId,
        enabled: bool,
        by: &Audit,
    ) -> Result<bool> {
        let by = *by;
        self.write(move |c| super::webhooks::set_enabled(c, account, &id, enabled, &by))
            .await
    }
    async fn delete_webhook(&self, account: AccountId, id: PublicId, by: &Audit) -> Result<bool> {
        let by = *by;
        self.write(move |c| super::webhooks::delete(c, account, &id, &by))
            .await
    }
}
