//! Webhook delivery: the relay turns outbox events into deliveries for the
//! endpoints that want them; the deliverer POSTs each, signed, and records
//! every attempt; failures are retried with exponential backoff and jitter
//! for `retry_hours`, then the delivery is dead-lettered.
//!
//! Nothing here runs on the message path. A slow or dead endpoint only
//! holds its own slots: each endpoint has `max_concurrency` deliveries in
//! flight at most and each account `max_in_flight_per_account`, counted
//! from the leases in the store (so across nodes), and the node's room is
//! shared round robin over accounts, then over each account's endpoints.
//! Deliveries wait on disk, leased while in flight, so a crash retries
//! them.
//!
//! Destinations are a weapon if unchecked (a port scanner, a metadata
//! fetcher, a loop into smsgate's own API): only http(s), https unless
//! `allow_http`, no redirects, and every address a name resolves to is
//! checked when connecting (not only when the URL is saved, so DNS cannot
//! be turned later): loopback, private, link-local, multicast and reserved
//! addresses are refused unless `allow_private`, and so is smsgate's own
//! public address.
//!
//! Every request carries:
//!
//! ```text
//! content-type: application/json
//! smsgate-event-id: ev_3f9c2a7b1e04d855
//! smsgate-event-type: message.delivered
//! smsgate-signature: t=1763892000,v1=<hex HMAC-SHA256(secret, "1763892000." + body)>
//! ```

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use smsgate_core::clock::Clock;
use smsgate_core::net::{NonPublic, non_public};
use smsgate_core::{AccountId, PublicId, Timestamp};
use smsgate_store::{
    AttemptResult, DeliveryLoad, DeliveryNext, DueDelivery, EndpointKind, OutboxStore,
};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// How webhooks are delivered.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct WebhookConfig {
    /// A delivery not answered 2xx within this is a failure. Default 10 000.
    pub timeout_ms: u64,
    /// First retry delay; doubles per attempt up to `retry_max_ms`, with
    /// jitter. Defaults 1 000 and 3 600 000.
    pub retry_base_ms: u64,
    pub retry_max_ms: u64,
    /// Retries go on this long after the event, then the delivery is
    /// dead-lettered. Default 25.
    pub retry_hours: u64,
    /// Deliveries in flight over all endpoints. Default 256.
    pub max_in_flight: usize,
    /// Deliveries in flight of one account's endpoints. Default 32.
    pub max_in_flight_per_account: u32,
    /// Deliver to loopback, private and link-local addresses (an
    /// on-premise receiver). Default false.
    pub allow_private: bool,
    /// Deliver over plain http://. Default false: https only.
    pub allow_http: bool,
    /// Events (`GET /v1/events`, replays) and the delivery log are kept
    /// this long; an event is only forgotten once every enabled endpoint
    /// has been given it. Must outlast the retries. Default 30.
    pub event_retention_days: u64,
}

impl WebhookConfig {
    pub fn validate(&self) -> Result<(), crate::config::ConfigError> {
        use crate::config::ConfigError;
        if self.event_retention_days.saturating_mul(24) <= self.retry_hours {
            return Err(ConfigError::RetentionTooShort {
                days: self.event_retention_days,
                hours: self.retry_hours,
            });
        }
        for (name, value) in [
            ("webhooks.timeout_ms", self.timeout_ms),
            ("webhooks.max_in_flight", self.max_in_flight as u64),
            (
                "webhooks.max_in_flight_per_account",
                u64::from(self.max_in_flight_per_account),
            ),
        ] {
            if value == 0 {
                return Err(ConfigError::NotPositive(name));
            }
        }
        Ok(())
    }
}

impl Default for WebhookConfig {
    fn default() -> Self {
        WebhookConfig {
            timeout_ms: 10_000,
            retry_base_ms: 1_000,
            retry_max_ms: 3_600_000,
            retry_hours: 25,
            max_in_flight: 256,
            max_in_flight_per_account: 32,
            allow_private: false,
            allow_http: false,
            event_retention_days: 30,
        }
    }
}

/// Why a webhook destination is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DestinationError {
    #[error("must be an http:// or https:// URL with a host")]
    NotHttp,
    #[error("must be https:// (plain http is off: webhooks.allow_http)")]
    PlainHttp,
    #[error(
        "{host} is {kind}; webhooks go to public addresses only (webhooks.allow_private is off)"
    )]
    NonPublic { host: String, kind: NonPublic },
    #[error("points at this smsgate server")]
    Itself,
    #[error("{0} has no address")]
    Unresolved(String),
}

/// Where webhooks may go: the policy of `WebhookConfig` and the address
/// clients reach this server at (never a destination).
#[derive(Debug, Clone)]
pub struct Destinations {
    allow_private: bool,
    allow_http: bool,
    own: Option<(String, u16)>,
}

impl Destinations {
    pub fn new(config: &WebhookConfig, public_url: &str) -> Destinations {
        let own = reqwest::Url::parse(public_url).ok().and_then(|u| {
            Some((
                u.host_str()?.to_ascii_lowercase(),
                u.port_or_known_default()?,
            ))
        });
        Destinations {
            allow_private: config.allow_private,
            allow_http: config.allow_http,
            own,
        }
    }

    /// Checks what the URL alone says: scheme, an address written in it
    /// (in any spelling: the URL parser makes `2130706433`, `127.1` and
    /// `[::1]` the addresses they are), and whether it is this server.
    pub fn check_url(&self, url: &reqwest::Url) -> Result<(), DestinationError> {
        match url.scheme() {
            "https" => {}
            "http" if self.allow_http => {}
            "http" => return Err(DestinationError::PlainHttp),
            _ => return Err(DestinationError::NotHttp),
        }
        let host = url.host_str().ok_or(DestinationError::NotHttp)?;
        if let Some((own_host, own_port)) = &self.own
            && host.eq_ignore_ascii_case(own_host)
            && url.port_or_known_default() == Some(*own_port)
        {
            return Err(DestinationError::Itself);
        }
        // The parser has written any address in its one canonical form.
        let bare = host.trim_start_matches('[').trim_end_matches(']');
        match bare.parse::<std::net::IpAddr>() {
            Ok(ip) => self.check_ip(host, ip),
            Err(_) => Ok(()),
        }
    }

    /// Checks an address a destination resolved to, as it is connected.
    pub fn check_ip(&self, host: &str, ip: std::net::IpAddr) -> Result<(), DestinationError> {
        match non_public(ip) {
            Some(kind) if !self.allow_private => Err(DestinationError::NonPublic {
                host: if host.parse::<std::net::IpAddr>().is_ok() || host.starts_with('[') {
                    host.to_string()
                } else {
                    format!("{host} ({ip})")
                },
                kind,
            }),
            _ => Ok(()),
        }
    }
}

/// The resolver of the webhook client: a name's addresses are checked as
/// it is connected, so a name that resolves (now) to an internal address
/// is refused, whatever it resolved to when the URL was saved.
struct CheckedResolver(Arc<Destinations>);

impl reqwest::dns::Resolve for CheckedResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let policy = self.0.clone();
        Box::pin(async move {
            let host = name.as_str().to_string();
            let found: Vec<std::net::SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let mut refused = None;
            let allowed: Vec<_> = found
                .into_iter()
                .filter(|a| match policy.check_ip(&host, a.ip()) {
                    Ok(()) => true,
                    Err(e) => {
                        refused = Some(e);
                        false
                    }
                })
                .collect();
            if allowed.is_empty() {
                let e = refused.unwrap_or(DestinationError::Unresolved(host));
                return Err(Box::new(e) as Box<dyn std::error::Error + Send + Sync>);
            }
            Ok(Box::new(allowed.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

/// The `smsgate-signature` header for `body` sent at `t` (Unix seconds).
pub fn signature(secret: &str, t: i64, body: &[u8]) -> String {
    let mut mac =
        Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes keys of any size");
    mac.update(t.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    format!("t={t},v1={}", hex::encode(mac.finalize().into_bytes()))
}

/// What follows a failed attempt: the next one, or the dead letter.
pub(crate) fn after_failure(
    config: &WebhookConfig,
    attempts: u32,
    created_at: Timestamp,
    now: Timestamp,
) -> DeliveryNext {
    let shift = attempts.saturating_sub(1).min(30);
    let delay = config
        .retry_base_ms
        .saturating_mul(1u64 << shift)
        .min(config.retry_max_ms);
    let delay = delay / 2 + fastrand::u64(0..=delay / 2);
    let retry_at = now.plus_millis(delay as i64);
    let deadline = created_at.plus_millis((config.retry_hours * 3_600_000) as i64);
    if retry_at.0 > deadline.0 {
        DeliveryNext::Dead
    } else {
        DeliveryNext::RetryAt(retry_at)
    }
}

const RELAY_BATCH: usize = 1_000;
const CLAIM_BATCH: usize = 128;
const LEASE: Duration = Duration::from_secs(120);
const IDLE: Duration = Duration::from_millis(200);

pub(crate) fn start(
    store: Arc<dyn OutboxStore>,
    membership: Arc<crate::cluster::Membership>,
    config: WebhookConfig,
    destinations: Arc<Destinations>,
    ids: crate::events::EventIds,
    clock: Arc<dyn Clock>,
    (tracker, stop): (&TaskTracker, CancellationToken),
) {
    tracker.spawn(relay(store.clone(), clock.clone(), stop.clone()));
    tracker.spawn(deliver(
        store,
        membership,
        config,
        destinations,
        ids,
        clock,
        stop,
    ));
}

/// Turns outbox events into deliveries, as they come.
async fn relay(store: Arc<dyn OutboxStore>, clock: Arc<dyn Clock>, stop: CancellationToken) {
    while !stop.is_cancelled() {
        match store.relay_events(RELAY_BATCH, clock.now()).await {
            Ok(n) if n == RELAY_BATCH => continue,
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "relaying events to webhooks failed; retrying"),
        }
        tokio::select! {
            _ = tokio::time::sleep(IDLE) => {}
            _ = stop.cancelled() => {}
        }
    }
}

/// How many due deliveries to claim of each endpoint, given `room` on
/// this node: one at a time round robin over accounts, and within an
/// account over its endpoints, never past an endpoint's free slots
/// (`max_concurrency` less what it has in flight) or an account's
/// (`per_account` less what it has in flight). So an account's dead
/// endpoints hold that account's slots, never another's.
pub(crate) fn share(load: &DeliveryLoad, room: usize, per_account: u32) -> Vec<(PublicId, usize)> {
    use std::collections::BTreeMap;
    let flying: HashMap<AccountId, u32> = load.accounts_in_flight.iter().copied().collect();
    // Per account: its free slots, and its endpoints with their free slots.
    let mut accounts: BTreeMap<AccountId, (u32, Vec<(usize, u32)>)> = BTreeMap::new();
    for (i, e) in load.endpoints.iter().enumerate() {
        let free = e.max_concurrency.saturating_sub(e.in_flight).min(e.due);
        let account = accounts.entry(e.account_id).or_insert_with(|| {
            let used = flying.get(&e.account_id).copied().unwrap_or(0);
            (per_account.saturating_sub(used), Vec::new())
        });
        if free > 0 {
            account.1.push((i, free));
        }
    }
    let mut take = vec![0usize; load.endpoints.len()];
    let mut cursors: Vec<usize> = vec![0; accounts.len()];
    let mut room = room;
    loop {
        let mut progressed = false;
        for ((free, endpoints), cursor) in accounts.values_mut().zip(cursors.iter_mut()) {
            if room == 0 {
                break;
            }
            if *free == 0 || endpoints.is_empty() {
                continue;
            }
            // The next endpoint of this account with a free slot.
            let n = endpoints.len();
            let Some(k) = (0..n)
                .map(|step| (*cursor + step) % n)
                .find(|&k| endpoints[k].1 > 0)
            else {
                continue;
            };
            endpoints[k].1 -= 1;
            take[endpoints[k].0] += 1;
            *free -= 1;
            *cursor = (k + 1) % n;
            room -= 1;
            progressed = true;
        }
        if !progressed || room == 0 {
            break;
        }
    }
    load.endpoints
        .iter()
        .zip(take)
        .filter(|(_, n)| *n > 0)
        .map(|(e, n)| (e.endpoint.clone(), n))
        .collect()
}

/// Claims due deliveries and sends them, within the node's, the
/// accounts' and the endpoints' room; outcomes are recorded in batches.
async fn deliver(
    store: Arc<dyn OutboxStore>,
    membership: Arc<crate::cluster::Membership>,
    config: WebhookConfig,
    destinations: Arc<Destinations>,
    ids: crate::events::EventIds,
    clock: Arc<dyn Clock>,
    stop: CancellationToken,
) {
    let client = match reqwest::Client::builder()
        .timeout(Duration::from_millis(config.timeout_ms))
        .user_agent(concat!("smsgate/", env!("CARGO_PKG_VERSION")))
        // A redirect would take a delivery to a destination never checked.
        .redirect(reqwest::redirect::Policy::none())
        .dns_resolver(Arc::new(CheckedResolver(destinations.clone())))
        .build()
    {
        Ok(c) => c,
        Err(e) => {
            tracing::error!(error = %e, "webhooks are off: no HTTP client");
            return;
        }
    };
    let config = Arc::new(config);
    let in_flight = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let (results_tx, mut results) = mpsc::unbounded_channel::<AttemptResult>();
    let recorder = tokio::spawn({
        let store = store.clone();
        async move {
            while let Some(first) = results.recv().await {
                let mut batch = vec![first];
                while let Ok(more) = results.try_recv() {
                    batch.push(more);
                }
                while let Err(e) = store.record_attempts(batch.clone()).await {
                    tracing::error!(error = %e, "recording webhook attempts failed; retrying");
                    tokio::time::sleep(Duration::from_millis(500)).await;
                }
            }
        }
    });
    use std::sync::atomic::Ordering;
    while !stop.is_cancelled() {
        let room = config
            .max_in_flight
            .saturating_sub(in_flight.load(Ordering::Acquire))
            .min(CLAIM_BATCH);
        let now = clock.now();
        let claimed = if room == 0 {
            Vec::new()
        } else {
            let lease_until = now.plus_millis(LEASE.as_millis() as i64);
            let claim = async {
                let load = store.delivery_load(now).await?;
                let take = share(&load, room, config.max_in_flight_per_account);
                if take.is_empty() {
                    return Ok(Vec::new());
                }
                store
                    .claim_deliveries(membership.id(), now, lease_until, take)
                    .await
            };
            claim.await.unwrap_or_else(|e: smsgate_store::StoreError| {
                tracing::warn!(error = %e, "claiming webhook deliveries failed");
                Vec::new()
            })
        };
        let idle = claimed.is_empty();
        for d in claimed {
            in_flight.fetch_add(1, Ordering::AcqRel);
            let (client, config, destinations, ids, results, in_flight, clock) = (
                client.clone(),
                config.clone(),
                destinations.clone(),
                ids.clone(),
                results_tx.clone(),
                in_flight.clone(),
                clock.clone(),
            );
            tokio::spawn(async move {
                let result =
                    attempt(&client, &config, &destinations, &ids, d, clock.as_ref()).await;
                let _ = results.send(result);
                in_flight.fetch_sub(1, Ordering::AcqRel);
            });
        }
        if idle {
            tokio::select! {
                _ = tokio::time::sleep(IDLE) => {}
                _ = stop.cancelled() => {}
            }
        }
    }
    drop(results_tx);
    let _ = recorder.await;
}

/// The error and its causes, `: `-joined (reqwest's own message names
/// only the request).
fn chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        let text = c.to_string();
        if !out.contains(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        cause = c.source();
    }
    out
}

/// One POST of one delivery.
async fn attempt(
    client: &reqwest::Client,
    config: &WebhookConfig,
    destinations: &Destinations,
    ids: &crate::events::EventIds,
    d: DueDelivery,
    clock: &dyn Clock,
) -> AttemptResult {
    // The URL is checked again as it is used: a message's callback URL was
    // never seen by the endpoint check, and the policy may have tightened.
    let refused = match reqwest::Url::parse(&d.url) {
        Ok(url) => destinations.check_url(&url).err(),
        Err(_) => Some(DestinationError::NotHttp),
    };
    if let Some(e) = refused {
        metrics::counter!("smsgate_webhook_refused_total").increment(1);
        let now = clock.now();
        return AttemptResult {
            delivery: d.id,
            at: now,
            status_code: None,
            latency_ms: 0,
            error: Some(format!("refused: {e}")),
            // A refused destination does not become allowed by waiting.
            next: DeliveryNext::Dead,
        };
    }
    let json = match d.endpoint.kind {
        EndpointKind::Callbacks => crate::events::callback_json(&d.event, ids),
        EndpointKind::Endpoint => crate::events::event_json(&d.event, ids),
    };
    let body = serde_json::to_vec(&json).unwrap_or_default();
    let now = clock.now();
    let t = now.0 / 1000;
    let started = Instant::now();
    let answer = client
        .post(&d.url)
        .header("content-type", "application/json")
        .header("smsgate-event-id", ids.show(d.event.id))
        .header("smsgate-event-type", d.event.event_type.as_str())
        .header("smsgate-signature", signature(&d.endpoint.secret, t, &body))
        .body(body)
        .send()
        .await;
    let latency_ms = started.elapsed().as_millis() as u64;
    let (status_code, error) = match answer {
        Ok(r) if r.status().is_success() => (Some(r.status().as_u16()), None),
        Ok(r) => (
            Some(r.status().as_u16()),
            Some(format!("answered {}", r.status())),
        ),
        Err(e) if e.is_timeout() => (
            None,
            Some(format!("no answer within {} ms", config.timeout_ms)),
        ),
        Err(e) => (None, Some(chain(&e))),
    };
    let next = if error.is_none() {
        DeliveryNext::Delivered
    } else {
        after_failure(config, d.attempts + 1, d.created_at, clock.now())
    };
    metrics::counter!("smsgate_webhook_attempts_total", "outcome" => match next {
        DeliveryNext::Delivered => "delivered",
        DeliveryNext::RetryAt(_) => "retry",
        DeliveryNext::Dead => "dead",
    })
    .increment(1);
    AttemptResult {
        delivery: d.id,
        at: now,
        status_code,
        latency_ms,
        error,
        next,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_signature_is_hmac_sha256_over_timestamp_and_body() {
        // Checked with: printf '1700000000.{"a":1}' | openssl dgst -sha256 -hmac whsec_test
        assert_eq!(
            signature("whsec_test", 1_700_000_000, br#"{"a":1}"#),
            "t=1700000000,v1=38877139021993b830af32feea6e18a8da83eb2f6e49ee50bd9e4cf4ca4d3789"
        );
    }

    fn id(n: u8) -> PublicId {
        PublicId::parse(&format!("wh_{:032x}", n)).unwrap()
    }

    fn endpoint(
        n: u8,
        account: i64,
        max: u32,
        in_flight: u32,
        due: u32,
    ) -> smsgate_store::EndpointLoad {
        smsgate_store::EndpointLoad {
            endpoint: id(n),
            account_id: AccountId(account),
            max_concurrency: max,
            in_flight,
            due,
        }
    }

    fn taken(t: &[(PublicId, usize)], n: u8) -> usize {
        t.iter().find(|(e, _)| *e == id(n)).map_or(0, |(_, k)| *k)
    }

    #[test]
    fn an_endpoint_never_gets_more_than_its_free_slots() {
        let load = DeliveryLoad {
            endpoints: vec![endpoint(1, 1, 1, 0, 100), endpoint(2, 1, 4, 3, 100)],
            accounts_in_flight: vec![(AccountId(1), 3)],
        };
        let t = share(&load, 128, 32);
        assert_eq!((taken(&t, 1), taken(&t, 2)), (1, 1));
        // Already at its limit: nothing.
        let load = DeliveryLoad {
            endpoints: vec![endpoint(1, 1, 1, 1, 100)],
            accounts_in_flight: vec![(AccountId(1), 1)],
        };
        assert!(share(&load, 128, 32).is_empty());
    }

    #[test]
    fn one_account_s_dead_endpoints_leave_room_for_the_others() {
        // Account 1: 100 endpoints, each with a thousand due; account 2:
        // one endpoint with one delivery.
        let mut endpoints: Vec<_> = (0..100).map(|n| endpoint(n, 1, 4, 0, 1_000)).collect();
        endpoints.push(endpoint(200, 2, 4, 0, 1));
        let load = DeliveryLoad {
            endpoints,
            accounts_in_flight: vec![],
        };
        let t = share(&load, 128, 32);
        assert_eq!(
            taken(&t, 200),
            1,
            "the other account is served in the first round"
        );
        let first: usize = (0..100).map(|n| taken(&t, n)).sum();
        assert_eq!(first, 32, "account 1 holds its own share only");
        // And once its share is in flight, it gets nothing more.
        let load = DeliveryLoad {
            endpoints: (0..100).map(|n| endpoint(n, 1, 4, 0, 1_000)).collect(),
            accounts_in_flight: vec![(AccountId(1), 32)],
        };
        assert!(share(&load, 128, 32).is_empty());
    }

    #[test]
    fn the_node_s_room_is_shared_round_robin() {
        let load = DeliveryLoad {
            endpoints: vec![
                endpoint(1, 1, 64, 0, 1_000),
                endpoint(2, 2, 64, 0, 1_000),
                endpoint(3, 2, 64, 0, 1_000),
            ],
            accounts_in_flight: vec![],
        };
        let t = share(&load, 9, 100);
        assert_eq!(taken(&t, 1), 5);
        assert_eq!(taken(&t, 2) + taken(&t, 3), 4);
        assert!(taken(&t, 2) >= 2 && taken(&t, 3) >= 2);
        assert!(share(&load, 0, 100).is_empty());
    }

    fn policy(allow_private: bool, allow_http: bool) -> Destinations {
        let config = WebhookConfig {
            allow_private,
            allow_http,
            ..WebhookConfig::default()
        };
        Destinations::new(&config, "https://sms.example.com")
    }

    fn check(p: &Destinations, url: &str) -> Result<(), DestinationError> {
        p.check_url(&reqwest::Url::parse(url).unwrap())
    }

    #[test]
    fn internal_addresses_are_refused_in_every_spelling() {
        let p = policy(false, true);
        for url in [
            "http://127.0.0.1/",
            "http://127.1/",
            "http://2130706433/",
            "http://0x7f000001/",
            "http://0177.0.0.1/",
            "http://[::1]:8080/",
            "http://[::ffff:127.0.0.1]/",
            "http://169.254.169.254/latest/meta-data/",
            "http://10.1.2.3/",
            "http://0.0.0.0/",
            "http://[fe80::1]/",
        ] {
            assert!(
                matches!(check(&p, url), Err(DestinationError::NonPublic { .. })),
                "{url}: {:?}",
                check(&p, url)
            );
        }
        assert_eq!(check(&p, "http://203.0.114.9/"), Ok(()));
        assert_eq!(check(&p, "https://hooks.example.org/x"), Ok(()));
        // On-premise receivers, when the operator says so.
        assert_eq!(check(&policy(true, true), "http://127.0.0.1:9/"), Ok(()));
    }

    #[test]
    fn https_unless_allowed_and_never_this_server() {
        let p = policy(false, false);
        assert_eq!(
            check(&p, "http://hooks.example.org/"),
            Err(DestinationError::PlainHttp)
        );
        assert_eq!(
            check(&p, "ftp://hooks.example.org/"),
            Err(DestinationError::NotHttp)
        );
        assert_eq!(check(&p, "https://hooks.example.org/"), Ok(()));
        assert_eq!(
            check(&p, "https://SMS.example.com/v1/messages"),
            Err(DestinationError::Itself)
        );
        assert_eq!(check(&p, "https://sms.example.com:8443/"), Ok(()));
        let local = Destinations::new(
            &WebhookConfig {
                allow_private: true,
                allow_http: true,
                ..WebhookConfig::default()
            },
            "http://127.0.0.1:8080",
        );
        assert_eq!(
            check(&local, "http://127.0.0.1:8080/v1/messages"),
            Err(DestinationError::Itself)
        );
        assert_eq!(check(&local, "http://127.0.0.1:9000/"), Ok(()));
    }

    #[tokio::test]
    async fn names_are_checked_when_resolved() {
        use reqwest::dns::Resolve;
        let resolver = CheckedResolver(Arc::new(policy(false, true)));
        let refused = resolver
            .resolve("localhost".parse().unwrap())
            .await
            .err()
            .expect("localhost is loopback");
        assert!(refused.to_string().contains("loopback"), "{refused}");
        let allowed = CheckedResolver(Arc::new(policy(true, true)));
        assert!(allowed.resolve("localhost".parse().unwrap()).await.is_ok());
    }

    #[test]
    fn failures_back_off_then_die_after_the_window() {
        let c = WebhookConfig::default();
        let t0 = Timestamp(0);
        let DeliveryNext::RetryAt(first) = after_failure(&c, 1, t0, t0) else {
            panic!()
        };
        assert!((500..=1_000).contains(&first.0), "{first:?}");
        let DeliveryNext::RetryAt(fifth) = after_failure(&c, 5, t0, t0) else {
            panic!()
        };
        assert!((8_000..=16_000).contains(&fifth.0));
        let late = Timestamp(25 * 3_600_000 - 100);
        assert_eq!(after_failure(&c, 30, t0, late), DeliveryNext::Dead);
    }
}
