//! The guard in front of every route (`guard`): it refuses webhook
//! deliveries aimed at the API, identifies the caller from the headers
//! alone, limits keyless requests per client address, and bounds bodies.
//! Every body must arrive within `body_read_timeout_secs`. A request whose
//! headers carry no valid key (a dialect that takes its key in the body,
//! or no key at all) may only read its body within a budget of bytes
//! shared by all such requests: its declared length (or 64 KiB when it
//! declares none) is reserved before the handler reads it, and past the
//! budget it is refused at once. So a hundred stalled 8 MiB uploads from
//! strangers cannot hold 800 MB.

use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use axum::body::{Body, Bytes};
use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderMap, Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http_body::{Frame, SizeHint};
use tokio::sync::Semaphore;

use smsgate_core::AccountId;
use smsgate_engine::Caller;

use crate::AppState;
use crate::problem::Problem;
use crate::server::HttpLimits;

/// What a body without a declared length may be, before authentication.
const UNDECLARED: usize = 64 * 1024;
/// The largest body any route takes.
const LARGEST: usize = 8 * 1024 * 1024;

/// The body limits of a running server.
#[derive(Clone)]
pub struct BodyLimits {
    timeout: Duration,
    budget: Arc<Semaphore>,
}

impl BodyLimits {
    pub fn new(limits: &HttpLimits) -> BodyLimits {
        BodyLimits {
            timeout: Duration::from_secs(limits.body_read_timeout_secs.max(1)),
            budget: Arc::new(Semaphore::new(
                limits
                    .unauthenticated_body_budget
                    .clamp(LARGEST, Semaphore::MAX_PERMITS),
            )),
        }
    }
}

impl Default for BodyLimits {
    fn default() -> Self {
        BodyLimits::new(&HttpLimits::default())
    }
}

#[derive(Debug, thiserror::Error)]
#[error("the body did not arrive within {0:?}")]
pub(crate) struct BodyTimeout(Duration);

/// Whether a body read failed on its deadline.
pub(crate) fn timed_out(e: &(dyn std::error::Error + 'static)) -> bool {
    let mut cause = Some(e);
    while let Some(c) = cause {
        if c.is::<BodyTimeout>() {
            return true;
        }
        cause = c.source();
    }
    false
}

/// A body that fails once its deadline passes.
struct DeadlineBody {
    inner: Body,
    deadline: Pin<Box<tokio::time::Sleep>>,
    after: Duration,
}

impl http_body::Body for DeadlineBody {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        let this = &mut *self;
        if this.deadline.as_mut().poll(cx).is_ready() {
            return Poll::Ready(Some(Err(axum::Error::new(BodyTimeout(this.after)))));
        }
        Pin::new(&mut this.inner).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

/// How the guard identified a request, handed to the face that serves it
/// so that the face counts the request without looking the caller up
/// again (a session costs three reads).
#[derive(Debug, Clone)]
pub struct Identified {
    pub caller: Caller,
    pub by: Credential,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Credential {
    /// `Authorization: Bearer <API key>`.
    Bearer,
    /// `x-api-key` or `access_token`.
    KeyHeader,
    /// `user_key` with `Session_key`.
    Session,
}

/// Who the headers (or the query's key) alone say the caller is.
enum Known {
    Caller(Identified),
    Operator,
    /// A valid key in the query string (`api_token`, `apikey`): the face
    /// reads it again itself (from the auth cache).
    QueryKey(AccountId),
}

async fn identify(
    state: &AppState,
    headers: &HeaderMap,
    query: Option<&str>,
    peer: Option<std::net::IpAddr>,
) -> Option<Known> {
    match identify_by_headers(state, headers, peer).await {
        Some(known) => Some(known),
        None => identify_by_query(state, query?, peer).await,
    }
}

/// The ultimate dialect's `api_token` and smsmanager's `apikey` (the part
/// after the last comma, as that dialect reads it) in the query string.
async fn identify_by_query(
    state: &AppState,
    query: &str,
    peer: Option<std::net::IpAddr>,
) -> Option<Known> {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(query).ok()?;
    let key = pairs.iter().find_map(|(name, value)| match name.as_str() {
        "api_token" => Some(value.trim()),
        "apikey" => value.rsplit(',').next().map(str::trim),
        _ => None,
    })?;
    match state.engine.identify(key, peer).await {
        Ok(Ok(caller)) => Some(Known::QueryKey(caller.account)),
        _ => None,
    }
}

async fn identify_by_headers(
    state: &AppState,
    headers: &HeaderMap,
    peer: Option<std::net::IpAddr>,
) -> Option<Known> {
    let found = |caller, by| Some(Known::Caller(Identified { caller, by }));
    let text = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
    };
    if let Some(token) = crate::extract::bearer(headers) {
        if let Ok(Ok(caller)) = state.engine.identify(token, peer).await {
            return found(caller, Credential::Bearer);
        }
        if state.is_admin_token(token) {
            return Some(Known::Operator);
        }
    }
    for key in [text("x-api-key"), text("access_token")]
        .into_iter()
        .flatten()
    {
        if let Ok(Ok(caller)) = state.engine.identify(key, peer).await {
            return found(caller, Credential::KeyHeader);
        }
    }
    let (user, session) = (text("user_key")?, text("session_key")?);
    match state.engine.identify_session(user, session, peer).await {
        Ok(Ok(caller)) => found(caller, Credential::Session),
        _ => None,
    }
}

const REQUEST_ID: header::HeaderName = header::HeaderName::from_static("x-request-id");

/// The client's `x-request-id` if it is a sensible one (1 to 128 visible
/// ASCII characters), else a new one.
fn request_id(headers: &HeaderMap) -> header::HeaderValue {
    headers
        .get(&REQUEST_ID)
        .filter(|v| {
            let b = v.as_bytes();
            (1..=128).contains(&b.len()) && b.iter().all(|c| c.is_ascii_graphic())
        })
        .cloned()
        .unwrap_or_else(|| {
            header::HeaderValue::from_str(&uuid::Uuid::now_v7().simple().to_string())
                .expect("hex is a header value")
        })
}

/// Who a request came from, as far as the guard knows it.
#[derive(Clone, Copy)]
enum Who {
    /// No key in the headers or the query (perhaps one in the body).
    Unknown,
    Account(AccountId),
    Operator,
}

/// The one layer in front of every route: refuses webhook deliveries
/// aimed at the API, identifies the caller from the headers, limits
/// requests without a key per client address and their bodies by the
/// budget, puts a deadline on every body, gives every 429 of any face its
/// `Retry-After` and `RateLimit-*` headers, counts and times requests per
/// route, and writes the access log. (One layer rather than six: each
/// `from_fn` layer costs a boxed future per request.)
pub(crate) async fn guard(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let started = Instant::now();
    // Every answer carries the request's id (the client's, or a new one).
    let id = request_id(req.headers());
    // Cheap: `Method` and `Uri` share their bytes.
    let (method, uri) = (req.method().clone(), req.uri().clone());
    let route = req.extensions().get::<MatchedPath>().cloned();
    let (mut response, who) = guarded(state, req, next).await;
    let elapsed = started.elapsed();
    let status = response.status().as_u16();
    let route = route.as_ref().map_or("unmatched", MatchedPath::as_str);
    metrics::histogram!("smsgate_http_request_duration_seconds", "method" => method.to_string(), "route" => route.to_string())
        .record(elapsed.as_secs_f64());
    metrics::counter!("smsgate_http_requests_total", "method" => method.to_string(), "route" => route.to_string(), "status" => status.to_string())
        .increment(1);
    // The path only: query strings carry keys and passwords (`api_token`,
    // `apikey`, the session dialect's `/login`).
    let (account, operator) = match who {
        Who::Account(a) => (Some(a.0), false),
        Who::Operator => (None, true),
        Who::Unknown => (None, false),
    };
    let request_id = id.to_str().unwrap_or_default();
    // Every face's internal failure is logged here, once, with its request.
    if let Some(crate::Internal(error)) = response.extensions().get::<crate::Internal>() {
        tracing::error!(
            %method,
            path = uri.path(),
            request_id,
            status,
            %error,
            "request failed on the server side"
        );
    }
    tracing::info!(
        target: "smsgate::access",
        %method,
        path = uri.path(),
        status,
        latency_ms = elapsed.as_secs_f64() * 1000.0,
        account,
        operator,
        request_id,
        "request"
    );
    response.headers_mut().insert(REQUEST_ID, id);
    response
}

async fn guarded(state: AppState, req: Request, next: Next) -> (Response, Who) {
    if req.headers().contains_key("smsgate-signature") {
        return (crate::refuse_webhook_loop(), Who::Unknown);
    }
    let limits = &state.bodies;
    let (mut parts, body) = req.into_parts();
    let declared: Option<usize> = parts
        .headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok()?.parse().ok());
    let bodyless = declared == Some(0)
        || (declared.is_none()
            && !parts.headers.contains_key(header::TRANSFER_ENCODING)
            && matches!(
                parts.method,
                Method::GET | Method::HEAD | Method::DELETE | Method::OPTIONS
            ));
    let peer = crate::extract::peer(&parts.extensions);
    let who = match identify(&state, &parts.headers, parts.uri.query(), peer).await {
        Some(Known::Caller(identified)) => {
            let account = identified.caller.account;
            parts.extensions.insert(identified);
            Who::Account(account)
        }
        Some(Known::QueryKey(account)) => Who::Account(account),
        Some(Known::Operator) => Who::Operator,
        None => Who::Unknown,
    };
    let known = !matches!(who, Who::Unknown);
    // Requests with no valid key in their headers or query count against
    // their address.
    if !known
        && parts.uri.path() != "/healthz"
        && let Some(ip) = peer
        && let Err(e) = state.engine.count_anonymous(ip)
    {
        let answer = crate::dialects::rate_limited(&state.dialects, parts.uri.path(), &e)
            .unwrap_or_else(|| {
                Problem::limited(
                    format!(
                        "too many requests without a key from this address; try again in {} s",
                        e.retry_after_secs
                    ),
                    &e,
                )
                .into_response()
            });
        return (crate::with_rate_limit_headers(answer), who);
    }
    let mut reserved = None;
    let body = if bodyless {
        body
    } else {
        let body = if known {
            body
        } else {
            let size = declared.unwrap_or(UNDECLARED).min(LARGEST);
            match limits.budget.clone().try_acquire_many_owned(size as u32) {
                Ok(permit) => reserved = Some(permit),
                Err(_) => {
                    metrics::counter!("smsgate_http_bodies_refused_total").increment(1);
                    let refusal = Problem::unavailable(
                        "too many uploads without a key in their headers are being read; try again",
                    );
                    return (refusal.into_response(), who);
                }
            }
            if declared.is_none() {
                Body::new(http_body_util::Limited::new(body, UNDECLARED))
            } else {
                body
            }
        };
        Body::new(DeadlineBody {
            inner: body,
            deadline: Box::pin(tokio::time::sleep(limits.timeout)),
            after: limits.timeout,
        })
    };
    let response = next.run(Request::from_parts(parts, body)).await;
    drop(reserved);
    (crate::with_rate_limit_headers(response), who)
}
