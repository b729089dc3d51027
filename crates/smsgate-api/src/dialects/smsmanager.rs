//! `smsmanager`: the SmsManager JSON API v2 (seed 004).
//!
//! `POST /v2/message` (one request), `POST /v2/messages` (up to 10
//! requests of up to 10 recipients), `GET /v2/simple/message` (key in the
//! `apikey` query parameter) and `POST /v2/simple/message` (form). The key
//! is the `x-api-key` header. Each request is a job whose id is its
//! `message_id`; its recipient `i` is `<message_id>-<i>`, the id delivery
//! notifications to `callback_url` carry, with the `payload` echoed.
//! Tags `priority` and `transactional` are special.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Map, Value, json};
use smsgate_core::send::Recipient;
use smsgate_core::zone::Zone;
use smsgate_core::{BatchId, CallbackFormat, Category, SendRequest};
use smsgate_engine::records::NewBatch;
use smsgate_engine::{AuthFailure, Caller, EngineError};
use utoipa::OpenApi;

use super::Failure;
use super::params::{Params, ParamsError};
use crate::AppState;

/// Recipients of one request, and requests of one `/v2/messages` call.
const MAX_RECIPIENTS: usize = 10;
const MAX_REQUESTS: usize = 10;
/// Recipients of one `/v2/message` request.
const MAX_SINGLE_RECIPIENTS: usize = 1_000;
const MAX_TAG_CHARS: usize = 128;
const MAX_PAYLOAD_BYTES: usize = 4_096;
/// The tag of messages dispatched ahead of the queue.
const PRIORITY: i32 = smsgate_core::send::limits::MAX_PRIORITY;

pub fn routes() -> axum::Router<AppState> {
    axum::Router::new()
        .route("/v2/message", post(message))
        .route("/v2/messages", post(messages))
        .route("/v2/simple/message", get(simple).post(simple))
        .route("/openapi/smsmanager.json", get(openapi))
}

/// `{"status": <code>, "error": <reason>}`.
#[derive(Debug)]
pub struct SmsmanagerError {
    status: StatusCode,
    error: String,
    limited: Option<crate::Limited>,
    internal: Option<crate::Internal>,
}

impl SmsmanagerError {
    fn new(status: StatusCode, error: impl Into<String>) -> SmsmanagerError {
        SmsmanagerError {
            status,
            error: error.into(),
            limited: None,
            internal: None,
        }
    }

    fn bad(error: impl Into<String>) -> SmsmanagerError {
        SmsmanagerError::new(StatusCode::BAD_REQUEST, error)
    }
}

impl IntoResponse for SmsmanagerError {
    fn into_response(self) -> Response {
        let body = ErrorBody {
            status: self.status.as_u16(),
            error: self.error,
        };
        let r = (self.status, Json(body)).into_response();
        super::carry(r, self.limited, self.internal)
    }
}

/// The body of every refusal of this dialect.
#[derive(serde::Serialize, utoipa::ToSchema)]
struct ErrorBody {
    /// The HTTP status, repeated.
    #[schema(example = 400)]
    status: u16,
    error: String,
}

impl From<ParamsError> for SmsmanagerError {
    fn from(e: ParamsError) -> Self {
        SmsmanagerError::new(e.status(), e.to_string())
    }
}

fn field_name(field: smsgate_core::send::Field) -> &'static str {
    use smsgate_core::send::Field;
    match field {
        Field::To => "to",
        Field::From => "sender",
        Field::Text => "body",
        Field::ScheduleAt => "datetime",
        Field::CallbackUrl => "callback",
        other => other.as_str(),
    }
}

impl From<EngineError> for SmsmanagerError {
    fn from(e: EngineError) -> Self {
        match Failure::from(e) {
            Failure::Invalid(fields) => SmsmanagerError::bad(
                fields
                    .iter()
                    .map(|f| format!("{}: {}", field_name(f.field), f.kind))
                    .collect::<Vec<_>>()
                    .join("; "),
            ),
            Failure::NoRecipient(r) => SmsmanagerError::bad(format!(
                "no valid recipient: {}",
                super::join_rejections(&r)
            )),
            Failure::Credits { balance, needed } => SmsmanagerError::new(
                StatusCode::PAYMENT_REQUIRED,
                format!(
                    "insufficient credit: {} left, {} needed",
                    balance.trimmed(),
                    needed.trimmed()
                ),
            ),
            Failure::Disabled => {
                SmsmanagerError::new(StatusCode::FORBIDDEN, "the account is disabled")
            }
            Failure::NotFound(what) => {
                SmsmanagerError::new(StatusCode::NOT_FOUND, format!("{what} not found"))
            }
            Failure::Conflict(why) => SmsmanagerError::new(StatusCode::CONFLICT, why),
            Failure::Limited(limited, _) => SmsmanagerError {
                limited: Some(limited),
                ..SmsmanagerError::new(StatusCode::TOO_MANY_REQUESTS, "too many requests")
            },
            Failure::Unavailable(internal) => SmsmanagerError {
                internal,
                ..SmsmanagerError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "the service could not take the request; try again",
                )
            },
        }
    }
}

/// The caller of the `x-api-key` header (or the `apikey` parameter of the
/// simple GET). Its published sample writes `string,KEY`: the key is what
/// follows the last comma. One key per request: trying every part made
/// one request a hundred thousand guesses.
async fn caller(state: &AppState, p: &Params) -> Result<Caller, SmsmanagerError> {
    let refused = |why: &str| SmsmanagerError::new(StatusCode::UNAUTHORIZED, why);
    let given = p
        .header("x-api-key")
        .map(str::to_string)
        .or_else(|| p.text("apikey"))
        .ok_or_else(|| refused("missing API key: send it in the x-api-key header"))?;
    let key = given.rsplit(',').next().unwrap_or_default().trim();
    let failure = match state.engine.authenticate(key, p.peer).await? {
        Ok(caller) => return Ok(caller),
        Err(e) => e,
    };
    Err(match failure {
        AuthFailure::AccountDisabled => {
            SmsmanagerError::new(StatusCode::FORBIDDEN, "the account is disabled")
        }
        AuthFailure::Revoked => refused("the API key has been revoked"),
        AuthFailure::AddressNotAllowed => SmsmanagerError::new(
            StatusCode::FORBIDDEN,
            "the API key may not be used from this address",
        ),
        AuthFailure::UnknownKey => refused("invalid API key"),
        AuthFailure::RateLimited(e) => rate_limited(&e),
    })
}

pub(crate) fn rate_limited(e: &smsgate_core::limits::Exhausted) -> SmsmanagerError {
    SmsmanagerError {
        limited: Some(crate::Limited::of(e)),
        ..SmsmanagerError::new(StatusCode::TOO_MANY_REQUESTS, "too many requests")
    }
}

/// One request as the client wrote it.
struct Request {
    body: String,
    to: Vec<String>,
    sender: Option<String>,
    callback_url: Option<String>,
    tag: Option<String>,
    scheduled: Option<String>,
    flow: Option<Vec<String>>,
    payload: Option<String>,
}

fn text(obj: &Map<String, Value>, name: &str) -> Option<String> {
    match obj.get(name)? {
        Value::String(s) if s.trim().is_empty() => None,
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn parse_request(value: &Value, max_recipients: usize) -> Result<Request, SmsmanagerError> {
    let obj = value
        .as_object()
        .ok_or_else(|| SmsmanagerError::bad("a request must be a JSON object"))?;
    let body = text(obj, "body").ok_or_else(|| SmsmanagerError::bad("body: required"))?;
    let to = match obj.get("to") {
        Some(Value::Array(items)) if !items.is_empty() => items
            .iter()
            .map(|item| match item {
                Value::Object(o) => text(o, "phone_number")
                    .ok_or_else(|| SmsmanagerError::bad("to[].phone_number: required")),
                Value::String(s) => Ok(s.clone()),
                _ => Err(SmsmanagerError::bad("to: a list of {\"phone_number\": …}")),
            })
            .collect::<Result<Vec<_>, _>>()?,
        _ => {
            return Err(SmsmanagerError::bad(
                "to: a non-empty list of {\"phone_number\": …}",
            ));
        }
    };
    if to.len() > max_recipients {
        return Err(SmsmanagerError::bad(format!(
            "to: {} recipients; at most {max_recipients} per request",
            to.len()
        )));
    }
    let flow = match obj.get("flow") {
        None | Some(Value::Null) => None,
        Some(Value::Array(channels)) => Some(
            channels
                .iter()
                .filter_map(|c| c.as_str().map(|c| c.trim().to_ascii_lowercase()))
                .collect(),
        ),
        Some(_) => return Err(SmsmanagerError::bad("flow: a list of channels")),
    };
    let payload = match obj.get("payload") {
        None | Some(Value::Null) => None,
        Some(p @ Value::Object(_)) => {
            let s = p.to_string();
            if s.len() > MAX_PAYLOAD_BYTES {
                return Err(SmsmanagerError::bad(format!(
                    "payload: at most {MAX_PAYLOAD_BYTES} bytes of JSON"
                )));
            }
            Some(s)
        }
        Some(_) => return Err(SmsmanagerError::bad("payload: a JSON object")),
    };
    // The reference's names first; the seed's as aliases.
    for (name, alias) in [("params", "options")] {
        match obj.get(name).or_else(|| obj.get(alias)) {
            None | Some(Value::Null) | Some(Value::Object(_)) => {}
            Some(_) => return Err(SmsmanagerError::bad(format!("{name}: a JSON object"))),
        }
    }
    Ok(Request {
        body,
        to,
        sender: text(obj, "sender"),
        callback_url: text(obj, "callback").or_else(|| text(obj, "callback_url")),
        tag: text(obj, "tag"),
        scheduled: text(obj, "datetime").or_else(|| text(obj, "scheduled")),
        flow,
        payload,
    })
}

/// What one request gave: its message id, the recipients accepted (with
/// their place) and those refused.
struct Outcome {
    message_id: BatchId,
    accepted: Vec<(u32, String)>,
    rejected: Vec<(String, String)>,
}

/// The engine's request for one of the call's requests, and its batch.
async fn prepare(
    state: &AppState,
    caller: &Caller,
    r: Request,
    request_id: &str,
) -> Result<(SendRequest, NewBatch), SmsmanagerError> {
    if let Some(flow) = &r.flow {
        if flow.is_empty() {
            return Err(SmsmanagerError::bad("flow: must not be empty when given"));
        }
        // SMS is the channel smsgate has connectors for; a flow without it
        // cannot be served.
        if !flow.iter().any(|c| c == "sms") {
            return Err(SmsmanagerError::bad(format!(
                "flow: none of {flow:?} can be served here; the channels available are [sms]"
            )));
        }
    }
    let tag = r.tag.map(|t| t.trim().to_string());
    if tag
        .as_ref()
        .is_some_and(|t| t.chars().count() > MAX_TAG_CHARS)
    {
        return Err(SmsmanagerError::bad(format!(
            "tag: at most {MAX_TAG_CHARS} characters"
        )));
    }
    let (priority, category) = match tag.as_deref().map(str::to_ascii_lowercase).as_deref() {
        Some("priority") => (PRIORITY, Category::Transactional),
        Some("transactional") => (0, Category::Transactional),
        _ => (0, Category::Promotional),
    };
    // "Always in UTC".
    let schedule_at = match r.scheduled {
        None => None,
        Some(s) => super::dates::schedule(&s, &Zone::utc()).map_err(|_| {
            SmsmanagerError::bad(format!("datetime: {s:?} is not an ISO 8601 time"))
        })?,
    };
    let sender = match r.sender {
        Some(s) => s,
        None => state.engine.dialect_sender(caller).await?.ok_or_else(|| {
            SmsmanagerError::bad("sender: required (the account has no default sender)")
        })?,
    };
    let recipients: Vec<Recipient> =
        r.to.iter()
            .map(|to| Recipient {
                to: to.clone(),
                text: None,
            })
            .collect();
    let has_callback = r.callback_url.is_some();
    let req = SendRequest {
        recipients,
        from: Some(sender),
        text: Some(r.body),
        schedule_at,
        category,
        priority,
        reference: tag,
        callback_url: r.callback_url,
        callback_format: if has_callback {
            CallbackFormat::Smsmanager
        } else {
            CallbackFormat::Native
        },
        payload: r.payload,
        max_recipients: usize::MAX,
        ..SendRequest::default()
    };
    let batch = NewBatch {
        id: BatchId::generate(),
        reference: Some(request_id.to_string()),
    };
    Ok((req, batch))
}

/// What one request of a call came to.
fn outcome(
    message_id: BatchId,
    sent: Result<smsgate_engine::records::Acceptance, EngineError>,
) -> Result<Outcome, SmsmanagerError> {
    match sent {
        Ok(a) => Ok(Outcome {
            message_id,
            accepted: a
                .messages
                .iter()
                .map(|m| (m.item, m.to.trim_start_matches('+').to_string()))
                .collect(),
            rejected: a
                .rejected
                .iter()
                .map(|r| (r.to.clone(), r.reason.clone()))
                .collect(),
        }),
        Err(EngineError::NoValidRecipient(r)) => Ok(Outcome {
            message_id,
            accepted: Vec::new(),
            rejected: r
                .into_iter()
                .map(|r| (r.to, r.reason.to_string()))
                .collect(),
        }),
        Err(e) => Err(e.into()),
    }
}

/// Sends one request.
async fn submit(
    state: &AppState,
    caller: &Caller,
    r: Request,
    request_id: &str,
) -> Result<Outcome, SmsmanagerError> {
    let (req, batch) = prepare(state, caller, r, request_id).await?;
    let message_id = batch.id;
    outcome(
        message_id,
        state.engine.send(caller, req, Some(batch), None).await,
    )
}

fn accepted_json(o: &Outcome) -> Vec<Value> {
    o.accepted
        .iter()
        .map(|(i, phone)| json!({"message_id": format!("{}-{i}", o.message_id), "phone_number": phone}))
        .collect()
}

fn rejected_json(o: &Outcome) -> Vec<Value> {
    o.rejected
        .iter()
        .map(|(phone, reason)| json!({"phone_number": phone, "reason": reason}))
        .collect()
}

/// Send one message to a list of recipients.
#[utoipa::path(post, path = "/v2/message", tag = "smsmanager",
    security(("x_api_key" = []), ("apikey" = [])),
    request_body(content = Object, description = "`{\"body\", \"to\": [{\"phone_number\"}], \"sender\"?, \"callback\"? (alias callback_url), \"tag\"?, \"datetime\"? (UTC; alias scheduled), \"flow\"? [channels], \"payload\"? {…}, \"params\"? {…} (alias options)}`"),
    responses(
        (status = 200, description = "`{\"request_id\", \"accepted\": [{\"message_id\", \"phone_number\"}], \"rejected\": [{\"phone_number\", \"reason\"}]}`"),
        (status = 400, description = "`{\"status\": 400, \"error\": …}`"),
        (status = 401, description = "Missing or invalid x-api-key"),
        (status = 402, description = "Not enough credit"),
    ))]
pub async fn message(
    State(state): State<AppState>,
    params: Result<Params, ParamsError>,
) -> Result<Response, SmsmanagerError> {
    let p = params?;
    let caller = caller(&state, &p).await?;
    let body = p
        .json_object()
        .ok_or_else(|| SmsmanagerError::bad("the body must be a JSON object"))?;
    let request = parse_request(&body, MAX_SINGLE_RECIPIENTS)?;
    let request_id = uuid::Uuid::now_v7().to_string();
    let o = submit(&state, &caller, request, &request_id).await?;
    Ok(Json(json!({
        "request_id": request_id,
        "accepted": accepted_json(&o),
        "rejected": rejected_json(&o),
    }))
    .into_response())
}

/// Send up to 10 requests, each to up to 10 recipients. Each request has
/// one `message_id`; its recipient `i` is `<message_id>-<i>`.
#[utoipa::path(post, path = "/v2/messages", tag = "smsmanager",
    security(("x_api_key" = []), ("apikey" = [])),
    request_body(content = Vec<Object>, description = "An array of the requests of /v2/message"),
    responses(
        (status = 200, description = "`{\"request_id\", \"accepted\": [{\"message_id\", \"to\": [{\"phone_number\"}]}] (one per request), \"rejected\": [{\"phone_number\", \"reason\"}]}`"),
        (status = 400, description = "`{\"status\": 400, \"error\": …}`"),
    ))]
pub async fn messages(
    State(state): State<AppState>,
    params: Result<Params, ParamsError>,
) -> Result<Response, SmsmanagerError> {
    let p = params?;
    let caller = caller(&state, &p).await?;
    let Some(Value::Array(items)) = &p.json_body else {
        return Err(SmsmanagerError::bad(
            "the body must be a JSON array of requests",
        ));
    };
    if items.is_empty() || items.len() > MAX_REQUESTS {
        return Err(SmsmanagerError::bad(format!(
            "1 to {MAX_REQUESTS} requests per call, not {}",
            items.len()
        )));
    }
    // Every request is checked before any is sent.
    let requests = items
        .iter()
        .enumerate()
        .map(|(i, item)| {
            parse_request(item, MAX_RECIPIENTS)
                .map_err(|e| SmsmanagerError::new(e.status, format!("[{i}] {}", e.error)))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let request_id = uuid::Uuid::now_v7().to_string();
    let mut prepared = Vec::with_capacity(requests.len());
    for request in requests {
        let (req, batch) = prepare(&state, &caller, request, &request_id).await?;
        prepared.push((req, Some(batch)));
    }
    let ids: Vec<BatchId> = prepared
        .iter()
        .filter_map(|(_, b)| b.as_ref().map(|b| b.id))
        .collect();
    // All or nothing: when the credits do not cover every request, none
    // is stored or charged (402).
    let sent = state.engine.send_together(&caller, prepared).await?;
    // One accepted entry per request object, with its message_id; its
    // recipient i is `<message_id>-<i>` in statuses and notifications.
    let (mut accepted, mut rejected) = (Vec::new(), Vec::new());
    for (message_id, result) in ids.into_iter().zip(sent) {
        let o = outcome(message_id, result)?;
        if !o.accepted.is_empty() {
            let to: Vec<Value> = o
                .accepted
                .iter()
                .map(|(_, phone)| json!({"phone_number": phone}))
                .collect();
            accepted.push(json!({"message_id": o.message_id.to_string(), "to": to}));
        }
        rejected.extend(rejected_json(&o));
    }
    Ok(Json(json!({
        "request_id": request_id,
        "accepted": accepted,
        "rejected": rejected,
    }))
    .into_response())
}

/// Send one SMS with query parameters (GET) or a form (POST).
#[utoipa::path(get, path = "/v2/simple/message", tag = "smsmanager",
    security(("x_api_key" = []), ("apikey" = [])),
    params(("phone_number" = String, Query), ("message" = String, Query), ("sender" = Option<String>, Query)),
    responses(
        (status = 200, description = "`{\"request_id\", \"message_id\", \"accepted\": true}`"),
        (status = 400, description = "`{\"status\": 400, \"error\": …}`"),
    ))]
pub async fn simple(
    State(state): State<AppState>,
    params: Result<Params, ParamsError>,
) -> Result<Response, SmsmanagerError> {
    let p = params?;
    let caller = caller(&state, &p).await?;
    let phone = p
        .text("phone_number")
        .ok_or_else(|| SmsmanagerError::bad("phone_number: required"))?;
    let body = p
        .text("message")
        .ok_or_else(|| SmsmanagerError::bad("message: required"))?;
    let request = Request {
        body,
        to: vec![phone],
        sender: p.text("sender"),
        callback_url: None,
        tag: None,
        scheduled: None,
        flow: None,
        payload: None,
    };
    let request_id = uuid::Uuid::now_v7().to_string();
    let o = submit(&state, &caller, request, &request_id).await?;
    if let Some((_, reason)) = o.rejected.first() {
        return Err(SmsmanagerError::bad(format!("phone_number: {reason}")));
    }
    Ok(Json(json!({
        "request_id": request_id,
        "message_id": format!("{}-0", o.message_id),
        "accepted": true,
    }))
    .into_response())
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "smsgate: smsmanager dialect",
        description = "The SmsManager JSON API v2 as smsgate serves it. See docs/dialects/smsmanager.md."
    ),
    paths(message, messages, simple),
    components(schemas(ErrorBody))
)]
pub(crate) struct SmsmanagerApi;

async fn openapi(State(state): State<AppState>) -> Response {
    crate::openapi::Face::Smsmanager.answer(&state.dialects)
}
