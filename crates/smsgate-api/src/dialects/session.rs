//! `session`: a login/session REST API (seed 001).
//!
//! `GET /login?username=&password=` answers `USER_KEY;SESSION_KEY` as
//! text; requests then carry the headers `user_key` and `Session_key` (or
//! `Access_token`: an API key, which does not expire). `POST /sms` sends
//! (201 `{"result":"OK",…}`), `GET /sms/{order_id}` follows an order,
//! `DELETE /sms/{order_id}` cancels what of it is still scheduled, `GET
//! /status` tells the credits. Errors are `{"result":"KO","error":…}`.
//! Served at the root and under `/API/v1.0/REST/`, where the original
//! lives.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::{Value, json};
use smsgate_core::send::{Recipient, limits};
use smsgate_core::{BatchId, SendRequest, Status};
use smsgate_engine::By;
use smsgate_engine::sessions::LoginRefusal;

use crate::bodies::Credential;
use smsgate_engine::records::{BatchSummary, MessageFilter, NewBatch};
use smsgate_engine::{AuthFailure, Caller, EngineError};
use utoipa::OpenApi;

use super::Failure;
use super::params::{Params, ParamsError};
use crate::AppState;
use smsgate_core::zone::Zone;

/// Route classes by message type: high, medium and low quality.
const MESSAGE_TYPES: [&str; 3] = ["N", "L", "LL"];
const MAX_ORDER_ID_CHARS: usize = 128;

pub fn routes() -> axum::Router<AppState> {
    let api = axum::Router::new()
        .route("/login", get(login).post(login))
        .route("/token", get(token).post(token))
        .route("/sms", axum::routing::post(send))
        .route("/sms/{order_id}", get(order).delete(cancel))
        .route("/status", get(status))
        .route("/smshistory", get(history))
        .route("/srsmshistory", get(received_all))
        .route("/srsmshistory/{id_sim}", get(received))
        .route("/alias", get(aliases).post(create_alias))
        .route("/alias/{id}", get(alias).delete(delete_alias));
    axum::Router::new()
        .merge(api.clone())
        .nest("/API/v1.0/REST", api)
        .route("/openapi/session.json", get(openapi))
}

/// `{"result":"KO","error":…}` with its status.
#[derive(Debug)]
pub struct SessionError {
    status: StatusCode,
    error: String,
    limited: Option<crate::Limited>,
    internal: Option<crate::Internal>,
}

impl SessionError {
    fn new(status: StatusCode, error: impl Into<String>) -> SessionError {
        SessionError {
            status,
            error: error.into(),
            limited: None,
            internal: None,
        }
    }

    fn bad(error: impl Into<String>) -> SessionError {
        SessionError::new(StatusCode::BAD_REQUEST, error)
    }
}

/// The body of every refusal of this dialect.
#[derive(serde::Serialize, utoipa::ToSchema)]
struct ErrorBody {
    /// Always `KO`.
    #[schema(example = "KO")]
    result: &'static str,
    error: String,
}

impl IntoResponse for SessionError {
    fn into_response(self) -> Response {
        let body = ErrorBody {
            result: "KO",
            error: self.error,
        };
        let mut response = (self.status, Json(body)).into_response();
        if self.limited.is_none() && self.status == StatusCode::SERVICE_UNAVAILABLE {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, header::HeaderValue::from_static("1"));
        }
        super::carry(response, self.limited, self.internal)
    }
}

impl From<ParamsError> for SessionError {
    fn from(e: ParamsError) -> Self {
        SessionError::new(e.status(), e.to_string())
    }
}

fn field_name(field: smsgate_core::send::Field) -> &'static str {
    use smsgate_core::send::Field;
    match field {
        Field::To => "recipient",
        Field::From => "sender",
        Field::Text => "message",
        Field::ScheduleAt => "scheduled_delivery_time",
        Field::Page => "pageNumber",
        Field::PageSize => "pageSize",
        other => other.as_str(),
    }
}

impl From<EngineError> for SessionError {
    fn from(e: EngineError) -> Self {
        match Failure::from(e) {
            Failure::Invalid(fields) => SessionError::bad(
                fields
                    .iter()
                    .map(|f| format!("{}: {}", field_name(f.field), f.kind))
                    .collect::<Vec<_>>()
                    .join("; "),
            ),
            Failure::NoRecipient(r) => SessionError::bad(format!(
                "no valid recipient: {}",
                super::join_rejections(&r)
            )),
            Failure::Credits { balance, needed } => SessionError::new(
                StatusCode::PAYMENT_REQUIRED,
                format!(
                    "not enough credits: {} left, {} needed",
                    balance.trimmed(),
                    needed.trimmed()
                ),
            ),
            Failure::Disabled => {
                SessionError::new(StatusCode::UNAUTHORIZED, "the account is disabled")
            }
            Failure::NotFound(what) => {
                SessionError::new(StatusCode::NOT_FOUND, format!("{what} not found"))
            }
            Failure::Conflict(why) => SessionError::new(StatusCode::CONFLICT, why),
            Failure::Limited(limited, why) => SessionError {
                limited: Some(limited),
                ..SessionError::new(StatusCode::TOO_MANY_REQUESTS, why)
            },
            Failure::Unavailable(internal) => SessionError {
                internal,
                ..SessionError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "the service could not take the request; try again",
                )
            },
        }
    }
}

/// The caller of `user_key` with `Session_key` (or `Access_token`).
async fn caller(state: &AppState, p: &Params) -> Result<Caller, SessionError> {
    let refused = |why: &str| SessionError::new(StatusCode::UNAUTHORIZED, why);
    let user_key = p
        .header("user_key")
        .ok_or_else(|| refused("the user_key header is missing"))?;
    let result = if let Some(session) = p.header("session_key") {
        match &p.identified {
            // The guard has read this session already: only count it.
            Some(i) if i.by == Credential::Session => {
                state.engine.count(&i.caller).map(|()| i.caller.clone())
            }
            _ => {
                state
                    .engine
                    .authenticate_session(user_key, session, p.peer)
                    .await?
            }
        }
    } else if let Some(token) = p.header("access_token") {
        match state.engine.authenticate(token, p.peer).await? {
            Ok(c) if c.account.0.to_string() == user_key => Ok(c),
            Ok(_) => Err(AuthFailure::UnknownKey),
            Err(e) => Err(e),
        }
    } else {
        return Err(refused(
            "the Session_key (or Access_token) header is missing",
        ));
    };
    result.map_err(auth_refusal)
}

/// How the platform words a refused session or token.
fn auth_refusal(e: AuthFailure) -> SessionError {
    let refused = |why: &str| SessionError::new(StatusCode::UNAUTHORIZED, why);
    match e {
        AuthFailure::UnknownKey => refused("invalid user_key or Session_key"),
        AuthFailure::Revoked => refused("the session has expired; log in again"),
        AuthFailure::AccountDisabled => refused("the account is disabled"),
        AuthFailure::AddressNotAllowed => SessionError::new(
            StatusCode::FORBIDDEN,
            "the account may not be used from this address",
        ),
        AuthFailure::RateLimited(e) => rate_limited(&e),
    }
}

pub(crate) fn rate_limited(e: &smsgate_core::limits::Exhausted) -> SessionError {
    SessionError {
        limited: Some(crate::Limited::of(e)),
        ..SessionError::new(StatusCode::TOO_MANY_REQUESTS, "too many requests")
    }
}

/// Log in with the account's name and password.
#[utoipa::path(get, path = "/login", tag = "session",
    security(("basic" = []), ()),
    params(("username" = Option<String>, Query, description = "or HTTP Basic"), ("password" = Option<String>, Query)),
    responses(
        (status = 200, description = "`USER_KEY;SESSION_KEY` as text/plain", content_type = "text/plain", body = String),
        (status = 404, description = "Wrong username or password"),
    ))]
pub async fn login(
    State(state): State<AppState>,
    params: Result<Params, ParamsError>,
) -> Result<Response, SessionError> {
    let p = params?;
    let (username, password) = credentials(&p)?;
    let session = state
        .engine
        .login(&username, &password, p.peer)
        .await?
        .map_err(refused_login)?;
    Ok(keys(session.account, &session.key))
}

/// A user token for `Access_token` authentication.
#[utoipa::path(get, path = "/token", tag = "session",
    security(("basic" = []), ()),
    params(("username" = Option<String>, Query, description = "or HTTP Basic"), ("password" = Option<String>, Query)),
    responses(
        (status = 200, description = "`USER_KEY;ACCESS_TOKEN` as text/plain", content_type = "text/plain", body = String),
        (status = 404, description = "Wrong username or password"),
    ))]
pub async fn token(
    State(state): State<AppState>,
    params: Result<Params, ParamsError>,
) -> Result<Response, SessionError> {
    let p = params?;
    let (username, password) = credentials(&p)?;
    let (account, token) = state
        .engine
        .issue_token(&username, &password, p.peer)
        .await?
        .map_err(refused_login)?;
    Ok(keys(account, &token))
}

/// The name and password of a login: query or form parameters, or HTTP
/// Basic.
fn credentials(p: &Params) -> Result<(String, String), SessionError> {
    match (p.text("username"), p.text("password")) {
        (Some(u), Some(pw)) => Ok((u, pw)),
        _ => p.basic().ok_or_else(|| {
            SessionError::bad("username and password are required (parameters or HTTP Basic)")
        }),
    }
}

/// `USER_KEY;KEY` as the platform answers a login.
fn keys(account: smsgate_core::AccountId, key: &str) -> Response {
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        format!("{};{key}", account.0),
    )
        .into_response()
}

fn refused_login(refusal: LoginRefusal) -> SessionError {
    match refusal {
        // The platform answers wrong credentials 404.
        LoginRefusal::WrongCredentials => {
            SessionError::new(StatusCode::NOT_FOUND, "wrong username or password")
        }
        LoginRefusal::AddressNotAllowed => SessionError::new(
            StatusCode::FORBIDDEN,
            "the account may not be used from this address",
        ),
    }
}

fn recipients(value: Option<&Value>) -> Result<Vec<Recipient>, SessionError> {
    let list: Vec<String> = match value {
        Some(Value::Array(items)) => items
            .iter()
            .map(|v| match v {
                Value::String(s) => Ok(s.clone()),
                Value::Number(n) => Ok(n.to_string()),
                other => Err(SessionError::bad(format!(
                    "recipient: {other} is not a phone number"
                ))),
            })
            .collect::<Result<_, _>>()?,
        // A form or query string: numbers separated by commas.
        Some(Value::String(s)) => s.split(',').map(|n| n.trim().to_string()).collect(),
        _ => {
            return Err(SessionError::bad(
                "recipient: a list of numbers is required",
            ));
        }
    };
    let list: Vec<Recipient> = list
        .into_iter()
        .filter(|n| !n.is_empty())
        .map(|to| Recipient { to, text: None })
        .collect();
    if list.is_empty() {
        return Err(SessionError::bad(
            "recipient: a list of numbers is required",
        ));
    }
    Ok(list)
}

/// Send an SMS to a list of recipients.
#[utoipa::path(post, path = "/sms", tag = "session",
    security(("user_key" = [], "session_key" = []), ("user_key" = [], "access_token" = [])),
    request_body(content = Object, description = "`message`, `recipient` [numbers], `message_type` N|L|LL, `sender`, `scheduled_delivery_time`, `returnCredits`, `order_id`"),
    responses(
        (status = 201, description = "`{\"result\":\"OK\",\"order_id\",\"total_sent\",\"remaining_credits\",\"internal_order_id\"}`"),
        (status = 400, description = "`{\"result\":\"KO\",\"error\":…}`"),
        (status = 401, description = "Bad keys"),
        (status = 402, description = "Not enough credits"),
    ))]
pub async fn send(
    State(state): State<AppState>,
    params: Result<Params, ParamsError>,
) -> Result<Response, SessionError> {
    let p = params?;
    let caller = caller(&state, &p).await?;
    let message = p
        .text("message")
        .ok_or_else(|| SessionError::bad("message is required"))?;
    let recipients = recipients(p.get("recipient"))?;
    let message_type = p
        .text("message_type")
        .map(|t| t.trim().to_ascii_uppercase())
        .unwrap_or_else(|| "N".into());
    let other_types = &state.dialects.session_message_types;
    let message_type = match other_types.get(&message_type) {
        Some(class) => class.clone(),
        None if MESSAGE_TYPES.contains(&message_type.as_str()) => message_type,
        None => {
            let mut known: Vec<&str> = MESSAGE_TYPES.to_vec();
            known.extend(other_types.keys().map(String::as_str));
            return Err(SessionError::bad(format!(
                "message_type {message_type:?} is not one of {}",
                known.join(", ")
            )));
        }
    };
    let sender = match p.text("sender") {
        Some(s) => s,
        None => state.engine.dialect_sender(&caller).await?.ok_or_else(|| {
            SessionError::bad("sender is null and the account has no default sender; name one")
        })?,
    };
    // A time already past sends at once.
    let schedule_at = match p.get("scheduled_delivery_time") {
        None => None,
        Some(v) => {
            let s = match v {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            super::dates::schedule(&s, &caller.zone).map_err(|_| {
                SessionError::bad(format!(
                    "scheduled_delivery_time {s:?} is not a date (yyyyMMddHHmmss, ISO 8601 or \"Aug 18, 2017 1:31:00 PM\")"
                ))
            })?
        }
    };
    let order_id = p.text("order_id");
    if order_id
        .as_ref()
        .is_some_and(|o| o.chars().count() > MAX_ORDER_ID_CHARS)
    {
        return Err(SessionError::bad(format!(
            "order_id: at most {MAX_ORDER_ID_CHARS} characters"
        )));
    }
    let return_credits = p.flag("returnCredits").unwrap_or(false);
    let req = SendRequest {
        recipients,
        from: Some(sender),
        text: Some(message),
        schedule_at,
        route_class: message_type,
        max_recipients: limits::MAX_RECIPIENTS,
        ..SendRequest::default()
    };
    let batch = NewBatch {
        id: BatchId::generate(),
        reference: order_id.clone(),
    };
    let internal = batch.id;
    let acceptance = state.engine.send(&caller, req, Some(batch), None).await?;
    let mut body = json!({
        "result": "OK",
        "order_id": order_id.unwrap_or_else(|| internal.to_string()),
        "total_sent": acceptance.messages.len(),
        "internal_order_id": internal.to_string(),
    });
    if return_credits {
        body["remaining_credits"] = json!(acceptance.balance.whole_credits());
    }
    if !acceptance.rejected.is_empty() {
        body["rejected"] = json!(
            acceptance
                .rejected
                .iter()
                .map(|r| json!({"recipient": r.to, "error": r.reason}))
                .collect::<Vec<_>>()
        );
    }
    Ok((StatusCode::CREATED, Json(body)).into_response())
}

/// The order named by the client's `order_id`, or by `internal_order_id`.
async fn find_order(
    state: &AppState,
    caller: &Caller,
    order_id: &str,
) -> Result<BatchSummary, SessionError> {
    state
        .engine
        .find_batch(caller, order_id)
        .await?
        .ok_or_else(|| {
            SessionError::new(
                StatusCode::NOT_FOUND,
                format!("order {order_id:?} not found"),
            )
        })
}

/// The dialect's recipient states.
fn state_word(s: Status) -> &'static str {
    match s {
        Status::Accepted | Status::Scheduled | Status::Queued | Status::Submitting => "WAITING",
        Status::Sent => "SENT",
        Status::Delivered => "DELIVERED",
        Status::Undelivered | Status::Rejected | Status::Failed => "NOT_DELIVERED",
        Status::Expired => "EXPIRED",
        Status::Canceled => "CANCELED",
    }
}

async fn order_messages(
    state: &AppState,
    caller: &Caller,
    batch: &BatchSummary,
) -> Result<Vec<smsgate_engine::records::MessageRecord>, SessionError> {
    Ok(state
        .engine
        .messages(
            caller,
            MessageFilter {
                batch: Some(batch.id),
                ..MessageFilter::newest(limits::MAX_BATCH_ITEMS)
            },
        )
        .await?)
}

/// The state of each recipient of an order.
#[utoipa::path(get, path = "/sms/{order_id}", tag = "session",
    security(("user_key" = [], "session_key" = []), ("user_key" = [], "access_token" = [])),
    params(("order_id" = String, Path)),
    responses(
        (status = 200, description = "`{\"result\":\"OK\",\"order_id\",\"recipient_number\",\"recipients\":[{\"destination\",\"status\",\"delivery_date\"}]}`; status WAITING, SENT, DELIVERED, NOT_DELIVERED, EXPIRED or CANCELED"),
        (status = 404, description = "No such order for this account"),
    ))]
pub async fn order(
    State(state): State<AppState>,
    Path(order_id): Path<String>,
    params: Result<Params, ParamsError>,
) -> Result<Response, SessionError> {
    let p = params?;
    let caller = caller(&state, &p).await?;
    let batch = find_order(&state, &caller, &order_id).await?;
    let mut messages = order_messages(&state, &caller, &batch).await?;
    messages.reverse();
    let recipients: Vec<Value> = messages
        .iter()
        .map(|m| {
            let delivered =
                (m.status == Status::Delivered).then(|| compact(m.updated_at, &caller.zone));
            json!({
                "destination": m.to,
                "status": state_word(m.status),
                "delivery_date": delivered,
                "message_id": m.id.to_string(),
            })
        })
        .collect();
    Ok(Json(json!({
        "result": "OK",
        "order_id": batch.reference.clone().unwrap_or_else(|| batch.id.to_string()),
        "internal_order_id": batch.id.to_string(),
        "recipient_number": recipients.len(),
        "recipients": recipients,
    }))
    .into_response())
}

/// Cancel what of an order has not been sent (scheduled messages);
/// refunded.
#[utoipa::path(delete, path = "/sms/{order_id}", tag = "session",
    security(("user_key" = [], "session_key" = []), ("user_key" = [], "access_token" = [])),
    params(("order_id" = String, Path)),
    responses(
        (status = 200, description = "`{\"result\":\"OK\",\"canceled\":n}`"),
        (status = 400, description = "Nothing of the order can be canceled any more"),
        (status = 404, description = "No such order"),
    ))]
pub async fn cancel(
    State(state): State<AppState>,
    Path(order_id): Path<String>,
    params: Result<Params, ParamsError>,
) -> Result<Response, SessionError> {
    let p = params?;
    let caller = caller(&state, &p).await?;
    let batch = find_order(&state, &caller, &order_id).await?;
    let messages = order_messages(&state, &caller, &batch).await?;
    let mut canceled = 0;
    for m in messages.iter().filter(|m| m.status == Status::Scheduled) {
        match state.engine.cancel(&caller, m.id).await {
            Ok(_) => canceled += 1,
            Err(EngineError::NotCancelable(_)) => {}
            Err(e) => return Err(e.into()),
        }
    }
    if canceled == 0 {
        return Err(SessionError::bad(format!(
            "order {order_id:?} has nothing scheduled left to cancel"
        )));
    }
    Ok(Json(json!({"result": "OK", "canceled": canceled})).into_response())
}

/// `yyyyMMddHHmmss` in `zone`, as the platform writes times.
fn compact(t: smsgate_core::Timestamp, zone: &Zone) -> String {
    let c = zone.civil(t);
    format!(
        "{:04}{:02}{:02}{:02}{:02}{:02}",
        c.year, c.month, c.day, c.hour, c.minute, c.second
    )
}

/// An alias (TPOA) as the platform shows it: smsgate's sender ID, with
/// `alias-state` 0 (unconfirmed) or 1 (confirmed).
fn alias_json(s: &smsgate_engine::records::SenderRecord) -> Value {
    json!({
        "id": s.id.to_string(),
        "alias": s.sender_id,
        "company-name": s.purpose,
        "alias-state": match s.status {
            smsgate_core::kinds::Approval::Pending => 0,
            smsgate_core::kinds::Approval::Approved => 1,
        },
    })
}

/// Registers an alias (TPOA): a sender ID of the account, to be approved
/// by the operator.
#[utoipa::path(post, path = "/alias", tag = "session",
    security(("user_key" = [], "session_key" = []), ("user_key" = [], "access_token" = [])),
    request_body(content = Object, description = "`{\"alias\": {\"alias\": \"Acme\", \"company-name\": …, …}}` (the other fields of the platform are accepted)"),
    responses(
        (status = 200, description = "`{\"result\":\"OK\",\"id\"}`"),
        (status = 400, description = "No alias, or not a valid sender ID"),
        (status = 409, description = "The account has this alias already"),
    ))]
pub async fn create_alias(
    State(state): State<AppState>,
    params: Result<Params, ParamsError>,
) -> Result<Response, SessionError> {
    let p = params?;
    let caller = caller(&state, &p).await?;
    // The platform nests the fields in an object named `alias`; flat
    // fields are taken too.
    let nested = match p.get("alias") {
        Some(Value::Object(o)) => Some(o.clone()),
        _ => None,
    };
    let text = |name: &str| match &nested {
        Some(o) => match o.get(name) {
            Some(Value::String(s)) if !s.trim().is_empty() => Some(s.trim().to_string()),
            _ => None,
        },
        None => p.text(name).map(|s| s.trim().to_string()),
    };
    let name = text("alias").ok_or_else(|| SessionError::bad("alias: required"))?;
    let sender = state
        .engine
        .register_sender(
            &By::customer(&caller),
            caller.account,
            &name,
            smsgate_core::Category::Transactional,
            text("company-name"),
        )
        .await?;
    Ok(Json(json!({"result": "OK", "id": sender.id.to_string()})).into_response())
}

/// The account's aliases (TPOA), paged.
#[utoipa::path(get, path = "/alias", tag = "session",
    security(("user_key" = [], "session_key" = []), ("user_key" = [], "access_token" = [])),
    params(("pageNumber" = Option<u32>, Query), ("pageSize" = Option<u32>, Query), ("hide-not-approved" = Option<bool>, Query),
           ),
    responses((status = 200, description = "`{\"result\":\"OK\",\"total\",\"pageNumber\",\"pageSize\",\"alias\":[{\"id\",\"alias\",\"company-name\",\"alias-state\"}]}`")))]
pub async fn aliases(
    State(state): State<AppState>,
    params: Result<Params, ParamsError>,
) -> Result<Response, SessionError> {
    let p = params?;
    let caller = caller(&state, &p).await?;
    let (page, size) = page_params(&p)?;
    // The engine's paging rule, as for the histories.
    let offset = smsgate_engine::page_offset(page, size)?;
    let hide_pending = p.flag("hide-not-approved").unwrap_or(false);
    let all: Vec<_> = state
        .engine
        .senders(caller.account)
        .await?
        .into_iter()
        .filter(|s| !hide_pending || s.status == smsgate_core::kinds::Approval::Approved)
        .collect();
    let shown: Vec<Value> = all.iter().skip(offset).take(size).map(alias_json).collect();
    Ok(Json(json!({
        "result": "OK",
        "total": all.len(),
        "pageNumber": page,
        "pageSize": size,
        "alias": shown,
    }))
    .into_response())
}

/// One alias (TPOA) of the account.
#[utoipa::path(get, path = "/alias/{id}", tag = "session",
    security(("user_key" = [], "session_key" = []), ("user_key" = [], "access_token" = [])),
    params(("id" = String, Path)),
    responses((status = 200, description = "`{\"result\":\"OK\",\"alias\":{…}}`"), (status = 404, description = "No such alias")))]
pub async fn alias(
    State(state): State<AppState>,
    Path(id): Path<String>,
    params: Result<Params, ParamsError>,
) -> Result<Response, SessionError> {
    let p = params?;
    let caller = caller(&state, &p).await?;
    let sender = state
        .engine
        .sender(caller.account, &id)
        .await?
        .ok_or_else(|| SessionError::new(StatusCode::NOT_FOUND, "alias not found"))?;
    Ok(Json(json!({"result": "OK", "alias": alias_json(&sender)})).into_response())
}

/// Removes an alias (TPOA) of the account.
#[utoipa::path(delete, path = "/alias/{id}", tag = "session",
    security(("user_key" = [], "session_key" = []), ("user_key" = [], "access_token" = [])),
    params(("id" = String, Path)),
    responses((status = 200, description = "`{\"result\":\"OK\"}`"), (status = 404, description = "No such alias")))]
pub async fn delete_alias(
    State(state): State<AppState>,
    Path(id): Path<String>,
    params: Result<Params, ParamsError>,
) -> Result<Response, SessionError> {
    let p = params?;
    let caller = caller(&state, &p).await?;
    state
        .engine
        .delete_sender(&By::customer(&caller), caller.account, &id)
        .await?;
    Ok(Json(json!({"result": "OK"})).into_response())
}

/// `pageNumber` (default 1) and `pageSize` (default 10) as given; the
/// engine checks their range.
fn page_params(p: &Params) -> Result<(usize, usize), SessionError> {
    let number = |name: &str, default: usize| -> Result<usize, SessionError> {
        match p.text(name) {
            None => Ok(default),
            Some(s) => s
                .trim()
                .parse()
                .map_err(|_| SessionError::bad(format!("{name} {s:?} is not a number"))),
        }
    };
    Ok((number("pageNumber", 1)?, number("pageSize", 10)?))
}

/// The time range and page of a history request: `from`, `to`
/// (`yyyyMMddHHmmss`, `to` inclusive and by default now), `timezone`,
/// `pageNumber`, `pageSize`.
struct HistoryQuery {
    zone: Zone,
    from: smsgate_core::Timestamp,
    to: smsgate_core::Timestamp,
    page: usize,
    size: usize,
}

impl HistoryQuery {
    fn of(p: &Params, caller: &Caller) -> Result<HistoryQuery, SessionError> {
        let zone = match p.text("timezone") {
            None => caller.zone.clone(),
            Some(z) => Zone::parse(&z).map_err(|_| {
                SessionError::bad(format!("timezone {z:?} is not an IANA time zone"))
            })?,
        };
        let date = |name: &str| -> Result<Option<smsgate_core::Timestamp>, SessionError> {
            match p.text(name) {
                None => Ok(None),
                Some(s) => super::dates::parse(&s, &zone).map(Some).ok_or_else(|| {
                    SessionError::bad(format!("{name} {s:?} is not a date (yyyyMMddHHmmss)"))
                }),
            }
        };
        let from =
            date("from")?.ok_or_else(|| SessionError::bad("from is required (yyyyMMddHHmmss)"))?;
        let to = date("to")?
            .map(|t| t.plus_millis(1000))
            .unwrap_or_else(|| smsgate_core::Timestamp::now().plus_millis(1));
        let (page, size) = page_params(p)?;
        Ok(HistoryQuery {
            from,
            to,
            page,
            size,
            zone,
        })
    }
}

async fn received_all(
    state: State<AppState>,
    params: Result<Params, ParamsError>,
) -> Result<Response, SessionError> {
    received(state, None, params).await
}

/// The received messages in a time range, newest first (all the
/// account's numbers, or those of `id_sim`, separated by commas).
#[utoipa::path(get, path = "/srsmshistory", tag = "session",
    security(("user_key" = [], "session_key" = []), ("user_key" = [], "access_token" = [])),
    params(("from" = String, Query, description = "yyyyMMddHHmmss"), ("to" = Option<String>, Query),
           ("timezone" = Option<String>, Query), ("pageNumber" = Option<u32>, Query), ("pageSize" = Option<u32>, Query),
           ),
    responses(
        (status = 200, description = "`{\"total\",\"pageNumber\",\"pageSize\",\"srsmshistory\":[{\"id_message\",\"id_sim\",\"sender\",\"message\",\"sms_date\"}]}`"),
        (status = 400, description = "from missing, or a date or time zone that does not parse"),
    ))]
pub async fn received(
    State(state): State<AppState>,
    sim: Option<Path<String>>,
    params: Result<Params, ParamsError>,
) -> Result<Response, SessionError> {
    let p = params?;
    let caller = caller(&state, &p).await?;
    let q = HistoryQuery::of(&p, &caller)?;
    // Numbers as the platform writes them: +39…, 0039… or digits; stored
    // as digits.
    let numbers: Vec<String> = sim
        .map(|Path(sims)| {
            sims.split(',')
                .map(|n| n.trim())
                .map(|n| {
                    n.strip_prefix('+')
                        .or_else(|| n.strip_prefix("00"))
                        .unwrap_or(n)
                })
                .filter(|n| !n.is_empty())
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default();
    let (total, messages) = state
        .engine
        .inbound_history(&caller, numbers, q.from, q.to, q.page, q.size)
        .await?;
    let list: Vec<Value> = messages
        .iter()
        .map(|m| {
            json!({
                "id_message": m.id.to_string(),
                "id_sim": format!("+{}", m.to.trim_start_matches('+')),
                "sender": format!("+{}", m.from.trim_start_matches('+')),
                "message": m.text,
                "sms_date": compact(m.received_at, &q.zone),
            })
        })
        .collect();
    Ok(Json(json!({
        "total": total,
        "pageNumber": q.page,
        "pageSize": q.size,
        "srsmshistory": list,
    }))
    .into_response())
}

/// The sent history: the account's orders in a time range, newest first.
#[utoipa::path(get, path = "/smshistory", tag = "session",
    security(("user_key" = [], "session_key" = []), ("user_key" = [], "access_token" = [])),
    params(("from" = String, Query, description = "yyyyMMddHHmmss"), ("to" = Option<String>, Query, description = "default now"),
           ("timezone" = Option<String>, Query, description = "IANA zone of from and to; default the account's"),
           ("pageNumber" = Option<u32>, Query), ("pageSize" = Option<u32>, Query, description = "default 10, at most 100"),
           ),
    responses(
        (status = 200, description = "`{\"total\",\"pageNumber\",\"pageSize\",\"smshistory\":[{\"order_id\",\"create_time\",\"schedule_time\",\"message_type\",\"sender\",\"num_recipients\"}]}`"),
        (status = 400, description = "from missing, or a date or time zone that does not parse"),
    ))]
pub async fn history(
    State(state): State<AppState>,
    params: Result<Params, ParamsError>,
) -> Result<Response, SessionError> {
    let p = params?;
    let caller = caller(&state, &p).await?;
    let HistoryQuery {
        zone,
        from,
        to,
        page,
        size,
    } = HistoryQuery::of(&p, &caller)?;
    let (total, orders) = state
        .engine
        .batch_history(&caller, from, to, page, size)
        .await?;
    let orders: Vec<Value> = orders
        .iter()
        .map(|o| {
            json!({
                "order_id": o.reference.clone().unwrap_or_else(|| o.id.to_string()),
                "create_time": compact(o.created_at, &zone),
                "schedule_time": o.schedule_at.map(|t| compact(t, &zone)),
                "message_type": o.route_class,
                "sender": o.sender,
                "num_recipients": o.accepted,
            })
        })
        .collect();
    Ok(Json(json!({
        "total": total,
        "pageNumber": page,
        "pageSize": size,
        "smshistory": orders,
    }))
    .into_response())
}

/// The credits left, and how many single SMS of each message type they
/// buy (at its price without a destination prefix).
#[utoipa::path(get, path = "/status", tag = "session",
    security(("user_key" = [], "session_key" = []), ("user_key" = [], "access_token" = [])),
    responses((status = 200, description = "`{\"result\":\"OK\",\"money\":n,\"sms\":[{\"type\":\"N\",\"quantity\":n},…]}`")))]
pub async fn status(
    State(state): State<AppState>,
    params: Result<Params, ParamsError>,
) -> Result<Response, SessionError> {
    let p = params?;
    let caller = caller(&state, &p).await?;
    let account = state
        .engine
        .own_account(&caller)
        .await
        .map_err(|e| match e {
            EngineError::NotFound(_) => {
                SessionError::new(StatusCode::UNAUTHORIZED, "the account no longer exists")
            }
            other => other.into(),
        })?;
    let balance = account.balance;
    let prices = state.engine.prices_for(&caller);
    let sms: Vec<Value> = MESSAGE_TYPES
        .iter()
        .map(|t| {
            let price = prices.per_segment(t, "").minor();
            let quantity = match price {
                0 => balance.whole_credits(),
                price => balance.minor() / price,
            };
            json!({"type": t, "quantity": quantity})
        })
        .collect();
    Ok(
        Json(json!({"result": "OK", "money": super::amount_number(balance), "sms": sms}))
            .into_response(),
    )
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "smsgate: session dialect",
        description = "The login/session SMS REST API as smsgate serves it (also under /API/v1.0/REST/). See docs/dialects/session.md."
    ),
    paths(
        login,
        token,
        send,
        order,
        cancel,
        status,
        history,
        received,
        aliases,
        create_alias,
        alias,
        delete_alias
    ),
    components(schemas(ErrorBody))
)]
pub(crate) struct SessionApi;

async fn openapi(State(state): State<AppState>) -> Response {
    crate::openapi::Face::Session.answer(&state.dialects)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_ended_session_is_told_to_log_in_again() {
        let e = auth_refusal(AuthFailure::Revoked);
        assert_eq!(e.status, StatusCode::UNAUTHORIZED);
        assert!(e.error.contains("expired"), "{}", e.error);
    }
}
