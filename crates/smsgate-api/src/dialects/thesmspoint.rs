//! `thesmspoint`: the TheSMSPoint API v1 (seed 002): `/api/v1/{command}`
//! with DLT sender IDs and templates and a balance per category.
//!
//! The key is the `key` header. Every command takes POST (form, multipart
//! or JSON) and GET (query string). Answers carry `status` (`success` or
//! `error`) and `message`; the documented error texts are used as
//! written (`API Key Does Not Exists`, `Request Type Not Allowed`, `SMS
//! Credits Not Available`, `Invalid Message ID`).

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::{Value, json};
use smsgate_core::kinds::Approval;
use smsgate_core::send::Recipient;
use smsgate_core::{BatchId, Category, EncodingChoice, MessageId, SendRequest, Status};
use smsgate_engine::records::{MessageFilter, MessageRecord, NewBatch, SenderRecord};
use smsgate_engine::{AuthFailure, Caller, EngineError};
use utoipa::OpenApi;

use super::Failure;
use super::params::{Params, ParamsError};
use crate::AppState;

/// Recipients of one bulk request.
const MAX_BULK: usize = 2_000;
/// Longer texts are cut to this (5 GSM-7 parts; 5 UCS-2 parts).
const MAX_GSM_CHARS: usize = 765;
const MAX_UNICODE_CHARS: usize = 335;

pub fn routes() -> axum::Router<AppState> {
    // Every command takes GET and POST; another method is "Request Type
    // Not Allowed", in the dialect's shape.
    let command = |h: axum::routing::MethodRouter<AppState>| h.fallback(not_allowed);
    axum::Router::new()
        .route(
            "/api/v1/get-sms-balance",
            command(get(balance).post(balance)),
        )
        .route("/api/v1/get-sender-id", command(get(senders).post(senders)))
        .route(
            "/api/v1/get-templates",
            command(get(templates).post(templates)),
        )
        .route(
            "/api/v1/send-single-sms",
            command(get(send_single).post(send_single)),
        )
        .route(
            "/api/v1/send-bulk-sms",
            command(get(send_bulk).post(send_bulk)),
        )
        .route(
            "/api/v1/sms-delivery-status",
            command(get(delivery_status).post(delivery_status)),
        )
        .route("/openapi/thesmspoint.json", get(openapi))
}

async fn not_allowed() -> SmsPointError {
    SmsPointError::new(StatusCode::METHOD_NOT_ALLOWED, "Request Type Not Allowed")
}

/// `{"status":"error","message":…}` (with `"data": null` where the
/// document shows it).
#[derive(Debug)]
pub struct SmsPointError {
    status: StatusCode,
    message: String,
    with_data: bool,
    limited: Option<crate::Limited>,
    internal: Option<crate::Internal>,
}

impl SmsPointError {
    fn new(status: StatusCode, message: impl Into<String>) -> SmsPointError {
        SmsPointError {
            status,
            message: message.into(),
            with_data: false,
            limited: None,
            internal: None,
        }
    }

    fn bad(message: impl Into<String>) -> SmsPointError {
        SmsPointError::new(StatusCode::BAD_REQUEST, message)
    }

    fn with_null_data(mut self) -> SmsPointError {
        self.with_data = true;
        self
    }
}

/// The body of every refusal of this dialect.
#[derive(serde::Serialize, utoipa::ToSchema)]
struct ErrorBody {
    /// Always `error`.
    #[schema(example = "error")]
    status: &'static str,
    message: String,
    /// `null` where the provider's document shows it (the status query).
    #[serde(skip_serializing_if = "Option::is_none", serialize_with = "null")]
    #[schema(value_type = Option<Object>)]
    data: Option<()>,
}

fn null<S: serde::Serializer>(_: &Option<()>, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_none()
}

impl IntoResponse for SmsPointError {
    fn into_response(self) -> Response {
        let body = ErrorBody {
            status: "error",
            message: self.message,
            data: self.with_data.then_some(()),
        };
        let r = (self.status, Json(body)).into_response();
        super::carry(r, self.limited, self.internal)
    }
}

impl From<ParamsError> for SmsPointError {
    fn from(e: ParamsError) -> Self {
        SmsPointError::new(e.status(), e.to_string())
    }
}

fn field_name(field: smsgate_core::send::Field) -> &'static str {
    use smsgate_core::send::Field;
    match field {
        Field::To => "recipient",
        Field::From => "sender_id",
        Field::Text => "message",
        other => other.as_str(),
    }
}

impl From<EngineError> for SmsPointError {
    fn from(e: EngineError) -> Self {
        match Failure::from(e) {
            Failure::Credits { .. } => {
                SmsPointError::new(StatusCode::PAYMENT_REQUIRED, "SMS Credits Not Available")
                    .with_null_data()
            }
            Failure::Invalid(fields) => SmsPointError::bad(
                fields
                    .iter()
                    .map(|f| format!("{}: {}", field_name(f.field), f.kind))
                    .collect::<Vec<_>>()
                    .join("; "),
            ),
            Failure::NoRecipient(r) => {
                SmsPointError::bad(format!("Invalid Recipient: {}", super::join_rejections(&r)))
            }
            Failure::Disabled => SmsPointError::new(StatusCode::FORBIDDEN, "Account Is Disabled"),
            Failure::NotFound(_) => {
                SmsPointError::new(StatusCode::NOT_FOUND, "Record Not Found").with_null_data()
            }
            Failure::Conflict(why) => SmsPointError::new(StatusCode::CONFLICT, why),
            Failure::Limited(limited, _) => SmsPointError {
                limited: Some(limited),
                ..SmsPointError::new(StatusCode::TOO_MANY_REQUESTS, "Too Many Requests")
            },
            Failure::Unavailable(internal) => SmsPointError {
                internal,
                ..SmsPointError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "Service Temporarily Unavailable",
                )
            },
        }
    }
}

async fn caller(state: &AppState, p: &Params) -> Result<Caller, SmsPointError> {
    let missing = || SmsPointError::new(StatusCode::UNAUTHORIZED, "API Key Does Not Exists");
    let key = p.header("key").ok_or_else(missing)?;
    match state.engine.authenticate(key, p.peer).await? {
        Ok(c) => Ok(c),
        // The key exists but may not be used from here.
        Err(AuthFailure::AddressNotAllowed) => Err(SmsPointError::new(
            StatusCode::FORBIDDEN,
            "Request Type Not Allowed",
        )),
        Err(AuthFailure::AccountDisabled) => Err(EngineError::AccountDisabled.into()),
        Err(AuthFailure::UnknownKey | AuthFailure::Revoked) => Err(missing()),
        Err(AuthFailure::RateLimited(e)) => Err(rate_limited(&e)),
    }
}

pub(crate) fn rate_limited(e: &smsgate_core::limits::Exhausted) -> SmsPointError {
    SmsPointError {
        limited: Some(crate::Limited::of(e)),
        ..SmsPointError::new(StatusCode::TOO_MANY_REQUESTS, "Too Many Requests")
    }
}

fn ok(message: &str, data: Value) -> Response {
    Json(json!({"status": "success", "message": message, "data": data})).into_response()
}

fn category_word(c: Category) -> &'static str {
    match c {
        Category::Transactional => "Transactional",
        Category::Promotional => "Promotional",
        Category::Otp => "OTP",
    }
}

fn approval_word(a: Approval) -> &'static str {
    match a {
        Approval::Pending => "Pending",
        Approval::Approved => "Approved",
    }
}

/// The remaining credits per category (one shared balance shows the same
/// figure in each, for accounts that do not keep them apart).
#[utoipa::path(post, path = "/api/v1/get-sms-balance", tag = "thesmspoint",
    security(("key" = [])),
    responses((status = 200, description = "`{\"status\":\"success\",\"message\":\"\",\"data\":{\"balance\":{\"OTP\",\"Promotional\",\"Transactional\"}}}`")))]
pub async fn balance(
    State(state): State<AppState>,
    params: Result<Params, ParamsError>,
) -> Result<Response, SmsPointError> {
    let p = params?;
    let caller = caller(&state, &p).await?;
    let account = state
        .engine
        .own_account(&caller)
        .await
        .map_err(|e| match e {
            EngineError::NotFound(_) => {
                SmsPointError::new(StatusCode::UNAUTHORIZED, "API Key Does Not Exists")
            }
            other => other.into(),
        })?;
    let mut balance = serde_json::Map::new();
    if account.split_balances {
        for (c, b) in state.engine.category_balances(&caller).await? {
            balance.insert(category_word(c).into(), b.whole_credits().into());
        }
    } else {
        for c in [
            Category::Otp,
            Category::Promotional,
            Category::Transactional,
        ] {
            balance.insert(
                category_word(c).into(),
                account.balance.whole_credits().into(),
            );
        }
    }
    Ok(ok("", json!({"balance": balance})))
}

/// The account's sender IDs.
#[utoipa::path(post, path = "/api/v1/get-sender-id", tag = "thesmspoint",
    security(("key" = [])),
    responses((status = 200, description = "`data`: `[{id, entity_id, type_value, sender_id, purpose_value, approve_status}]`")))]
pub async fn senders(
    State(state): State<AppState>,
    params: Result<Params, ParamsError>,
) -> Result<Response, SmsPointError> {
    let p = params?;
    let caller = caller(&state, &p).await?;
    let senders = state.engine.own_senders(&caller).await?;
    let data: Vec<Value> = senders
        .iter()
        .map(|s| {
            json!({
                "id": s.id.to_string(),
                "entity_id": caller.account.0.to_string(),
                "type_value": category_word(s.category),
                "sender_id": s.sender_id,
                "purpose_value": s.purpose.clone().unwrap_or_default(),
                "approve_status": approval_word(s.status),
            })
        })
        .collect();
    Ok(ok("", json!(data)))
}

/// The account's content templates.
#[utoipa::path(post, path = "/api/v1/get-templates", tag = "thesmspoint",
    security(("key" = [])),
    responses((status = 200, description = "`data`: `[{id, name, template_id, type, sender_id, message, template_status}]`")))]
pub async fn templates(
    State(state): State<AppState>,
    params: Result<Params, ParamsError>,
) -> Result<Response, SmsPointError> {
    let p = params?;
    let caller = caller(&state, &p).await?;
    let templates = state.engine.own_templates(&caller).await?;
    let data: Vec<Value> = templates
        .iter()
        .map(|t| {
            json!({
                "id": t.id.to_string(),
                "name": t.name,
                "template_id": t.template_id,
                "type": category_word(t.category),
                "sender_id": t.sender_id.clone().unwrap_or_default(),
                "message": t.text,
                "template_status": approval_word(t.status),
            })
        })
        .collect();
    Ok(ok("", json!(data)))
}

/// The sender a request names: by its text, or by the `id` the sender ID
/// list gives; it must be registered and approved.
async fn approved_sender(
    state: &AppState,
    caller: &Caller,
    given: &str,
) -> Result<SenderRecord, SmsPointError> {
    match state.engine.find_sender(caller, given).await? {
        Some(s) if s.status == Approval::Approved => Ok(s),
        Some(_) => Err(SmsPointError::bad("Sender ID Not Approved")),
        None => Err(SmsPointError::bad("Invalid Sender ID")),
    }
}

/// The template a request names: its `template_id`, or the `id` the
/// template list gives.
async fn template_id(
    state: &AppState,
    caller: &Caller,
    given: &str,
) -> Result<String, SmsPointError> {
    match state.engine.find_template(caller, given).await? {
        Some(t) => Ok(t.template_id),
        None => Err(SmsPointError::bad("Invalid Template ID")),
    }
}

fn channel(p: &Params) -> Result<Category, SmsPointError> {
    match p.text("channel").as_deref().map(str::trim) {
        Some("1") => Ok(Category::Transactional),
        Some("2") => Ok(Category::Promotional),
        Some("3") => Ok(Category::Otp),
        Some(other) => Err(SmsPointError::bad(format!(
            "channel: {other:?} is not 1 (Transactional), 2 (Promotional) or 3 (OTP)"
        ))),
        None => Err(SmsPointError::bad("channel: required (1, 2 or 3)")),
    }
}

/// The text as sent: cut to what five parts hold.
fn truncate(text: &str, unicode: bool) -> String {
    let max = if unicode {
        MAX_UNICODE_CHARS
    } else {
        MAX_GSM_CHARS
    };
    text.chars().take(max).collect()
}

fn required(p: &Params, name: &str) -> Result<String, SmsPointError> {
    p.text(name)
        .ok_or_else(|| SmsPointError::bad(format!("{name}: required")))
}

/// What single and bulk share: the sender, template, channel and coding.
struct Envelope {
    sender: String,
    template_id: String,
    category: Category,
    unicode: bool,
}

async fn envelope(
    state: &AppState,
    caller: &Caller,
    p: &Params,
) -> Result<Envelope, SmsPointError> {
    let sender = approved_sender(state, caller, &required(p, "sender_id")?).await?;
    let template_id = template_id(state, caller, &required(p, "template_id")?).await?;
    let category = channel(p)?;
    let unicode = match p.text("is_unicode") {
        None => false,
        Some(_) => p
            .flag("is_unicode")
            .ok_or_else(|| SmsPointError::bad("is_unicode: 0 or 1"))?,
    };
    Ok(Envelope {
        sender: sender.sender_id,
        template_id,
        category,
        unicode,
    })
}

async fn send(
    state: &AppState,
    caller: &Caller,
    env: Envelope,
    recipients: Vec<Recipient>,
) -> Result<Response, SmsPointError> {
    // The texts as sent, by the recipient's place (no need to read them back).
    let texts: Vec<String> = recipients
        .iter()
        .map(|r| r.text.clone().unwrap_or_default())
        .collect();
    let req = SendRequest {
        recipients,
        from: Some(env.sender),
        encoding: if env.unicode {
            EncodingChoice::Ucs2
        } else {
            EncodingChoice::Auto
        },
        category: env.category,
        template_id: Some(env.template_id),
        max_recipients: MAX_BULK,
        ..SendRequest::default()
    };
    let batch = NewBatch {
        id: BatchId::generate(),
        reference: None,
    };
    let job = batch.id;
    let a = state.engine.send(caller, req, Some(batch), None).await?;
    let mut data = Vec::with_capacity(a.messages.len());
    for m in &a.messages {
        data.push(json!({
            "Number": m.to.trim_start_matches('+'),
            "message_id": m.id.to_string(),
            "message": texts.get(m.item as usize).cloned().unwrap_or_default(),
        }));
    }
    let mut body = json!({
        "status": "success",
        "message": "SMS Sent Successfully",
        "data": {
            "ErrorCode": "000",
            "ErrorMessage": "Success",
            "JobId": job.to_string(),
            "MessageData": data,
        },
        "code": 200,
    });
    if !a.rejected.is_empty() {
        body["data"]["Rejected"] = json!(
            a.rejected
                .iter()
                .map(|r| json!({"Number": r.to, "reason": r.reason}))
                .collect::<Vec<_>>()
        );
    }
    Ok(Json(body).into_response())
}

/// Send one SMS with an approved sender ID and template.
#[utoipa::path(post, path = "/api/v1/send-single-sms", tag = "thesmspoint",
    security(("key" = [])),
    params(("recipient" = String, Query), ("message" = String, Query),
        ("sender_id" = String, Query), ("template_id" = String, Query),
        ("channel" = String, Query, description = "1 Transactional, 2 Promotional, 3 OTP"),
        ("is_unicode" = String, Query, description = "0 or 1")),
    responses(
        (status = 200, description = "`{\"status\":\"success\",\"message\":\"SMS Sent Successfully\",\"data\":{\"ErrorCode\":\"000\",\"ErrorMessage\":\"Success\",\"JobId\",\"MessageData\":[{\"Number\",\"message_id\",\"message\"}]},\"code\":200}`"),
        (status = 400, description = "`{\"status\":\"error\",\"message\":…}`"),
        (status = 402, description = "`SMS Credits Not Available`"),
    ))]
pub async fn send_single(
    State(state): State<AppState>,
    params: Result<Params, ParamsError>,
) -> Result<Response, SmsPointError> {
    let p = params?;
    let caller = caller(&state, &p).await?;
    let to = required(&p, "recipient")?;
    let message = required(&p, "message")?;
    let env = envelope(&state, &caller, &p).await?;
    let text = truncate(&message, env.unicode);
    send(
        &state,
        &caller,
        env,
        vec![Recipient {
            to,
            text: Some(text),
        }],
    )
    .await
}

/// Send personalised SMS: `recipient` is a JSON array (or a string
/// holding one) of `{"number", "text"}`, at most 2,000.
#[utoipa::path(post, path = "/api/v1/send-bulk-sms", tag = "thesmspoint",
    security(("key" = [])),
    responses((status = 200, description = "As send-single-sms, one MessageData entry per recipient")))]
pub async fn send_bulk(
    State(state): State<AppState>,
    params: Result<Params, ParamsError>,
) -> Result<Response, SmsPointError> {
    let p = params?;
    let caller = caller(&state, &p).await?;
    let list = match p.get("recipient") {
        Some(Value::Array(items)) => items.clone(),
        // A form field (or a JSON string) holding the encoded array, as
        // the PHP and C# samples send it.
        Some(Value::String(s)) => match serde_json::from_str::<Value>(s) {
            Ok(Value::Array(items)) => items,
            _ => {
                return Err(SmsPointError::bad(
                    "recipient: a JSON array of {\"number\", \"text\"}",
                ));
            }
        },
        _ => {
            return Err(SmsPointError::bad(
                "recipient: required, a JSON array of {\"number\", \"text\"}",
            ));
        }
    };
    if list.is_empty() || list.len() > MAX_BULK {
        return Err(SmsPointError::bad(format!(
            "recipient: 1 to {MAX_BULK} entries, not {}",
            list.len()
        )));
    }
    let env = envelope(&state, &caller, &p).await?;
    let recipients = list
        .iter()
        .enumerate()
        .map(|(i, item)| {
            let field = |name: &str| match item.get(name) {
                Some(Value::String(s)) => Some(s.clone()),
                Some(Value::Number(n)) => Some(n.to_string()),
                _ => None,
            };
            match (field("number"), field("text")) {
                (Some(number), Some(text)) => Ok(Recipient {
                    to: number,
                    text: Some(truncate(&text, env.unicode)),
                }),
                _ => Err(SmsPointError::bad(format!(
                    "recipient[{i}]: needs \"number\" and \"text\""
                ))),
            }
        })
        .collect::<Result<Vec<_>, _>>()?;
    send(&state, &caller, env, recipients).await
}

/// The dialect's status words, and their numeric ids.
fn status_word(s: Status) -> (&'static str, u8) {
    match s {
        Status::Accepted | Status::Scheduled | Status::Queued | Status::Submitting => {
            ("Pending", 1)
        }
        Status::Sent => ("Sent", 2),
        Status::Delivered => ("Delivered", 3),
        Status::Undelivered => ("UnDelivered", 4),
        Status::Expired => ("Expired", 5),
        Status::Rejected | Status::Failed | Status::Canceled => ("Rejected", 6),
    }
}

/// The delivery status of a job (`job_id`) or of one message
/// (`message_id`).
#[utoipa::path(post, path = "/api/v1/sms-delivery-status", tag = "thesmspoint",
    security(("key" = [])),
    params(("job_id" = Option<String>, Query), ("message_id" = Option<String>, Query)),
    responses(
        (status = 200, description = "With job_id: `{\"status\":\"success\",\"job_id\",\"data\":[{status_name, mobile_number, content, message_id}],\"code\":\"200\"}`; with message_id: `data` = `{status, recipient, sender_id, content, delivery_status_id, delivery_status_remark}`"),
        (status = 404, description = "`Invalid Message ID`"),
    ))]
pub async fn delivery_status(
    State(state): State<AppState>,
    params: Result<Params, ParamsError>,
) -> Result<Response, SmsPointError> {
    let p = params?;
    let caller = caller(&state, &p).await?;
    let invalid =
        || SmsPointError::new(StatusCode::NOT_FOUND, "Invalid Message ID").with_null_data();
    if let Some(job) = p.text("job_id") {
        let id: BatchId = job.trim().parse().map_err(|_| invalid())?;
        state.engine.batch(&caller, id).await?.ok_or_else(invalid)?;
        let mut messages = state
            .engine
            .messages(
                &caller,
                MessageFilter {
                    batch: Some(id),
                    ..MessageFilter::newest(MAX_BULK)
                },
            )
            .await?;
        messages.reverse();
        let data: Vec<Value> = messages
            .iter()
            .map(|m| {
                json!({
                    "status_name": status_word(m.status).0,
                    "mobile_number": m.to.trim_start_matches('+'),
                    "content": m.text,
                    "message_id": m.id.to_string(),
                })
            })
            .collect();
        return Ok(Json(json!({
            "status": "success",
            "job_id": job.trim(),
            "data": data,
            "code": "200",
        }))
        .into_response());
    }
    let given = p.text("message_id").ok_or_else(invalid)?;
    let id: MessageId = given.trim().parse().map_err(|_| invalid())?;
    let detail = state
        .engine
        .message(&caller, id)
        .await?
        .ok_or_else(invalid)?;
    Ok(ok("", single_status(&detail.message)))
}

fn single_status(m: &MessageRecord) -> Value {
    let (word, id) = status_word(m.status);
    json!({
        "status": word,
        "recipient": m.to.trim_start_matches('+'),
        "sender_id": m.from,
        "content": m.text,
        "delivery_status_id": id,
        "delivery_status_remark": m.error.clone().unwrap_or_else(|| word.to_string()),
    })
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "smsgate: thesmspoint dialect",
        description = "The TheSMSPoint API v1 as smsgate serves it. See docs/dialects/thesmspoint.md."
    ),
    paths(balance, senders, templates, send_single, send_bulk, delivery_status),
    components(schemas(ErrorBody))
)]
pub(crate) struct SmsPointApi;

async fn openapi(State(state): State<AppState>) -> Response {
    crate::openapi::Face::Thesmspoint.answer(&state.dialects)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn texts_are_cut_to_five_parts() {
        let long = "x".repeat(800);
        assert_eq!(truncate(&long, false).chars().count(), 765);
        assert_eq!(truncate(&long, true).chars().count(), 335);
        let measured =
            smsgate_core::text::measure(&truncate(&long, false), EncodingChoice::Auto, 10).unwrap();
        assert_eq!(measured.parts, 5, "765 GSM-7 characters are 5 credits");
        let unicode = smsgate_core::text::measure(
            &truncate(&"ж".repeat(800), true),
            EncodingChoice::Ucs2,
            10,
        )
        .unwrap();
        assert_eq!(unicode.parts, 5);
        assert_eq!(truncate("short", false), "short");
    }
}
