//! `ultimate`: the "Ultimate SMS" HTTP API (seed 000, as run by Tonkra SMS).
//!
//! `POST|GET /api/http/sms/send`, `GET /api/http/sms/{uid}`, `GET
//! /api/http/sms` (pages), `GET /api/http/balance`. The key is `api_token`
//! in the body or query string, or `Authorization: Bearer`. Answers are
//! `{"status":"success","message":…,"data":…}` or
//! `{"status":"error","message":…}` with a 4xx status.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::Serialize;
use serde_json::{Value, json};
use smsgate_core::send::{Recipient, limits};
use smsgate_core::{Encoding, EncodingChoice, MessageId, SendRequest, Status};
use smsgate_engine::records::{MessageFilter, MessageRecord};
use smsgate_engine::{AuthFailure, Caller, EngineError};
use utoipa::{OpenApi, ToSchema};

use super::Failure;
use super::params::{Params, ParamsError};
use crate::AppState;

pub fn routes() -> axum::Router<AppState> {
    axum::Router::new()
        .route("/api/http/sms/send", get(send).post(send))
        .route("/api/http/sms", get(list).post(list))
        .route("/api/http/sms/{uid}", get(view).post(view))
        .route("/api/http/balance", get(balance).post(balance))
        .route("/openapi/ultimate.json", get(openapi))
}

/// An error answer: `{"status":"error","message":…}`.
#[derive(Debug)]
pub struct UltimateError {
    status: StatusCode,
    message: String,
    limited: Option<crate::Limited>,
    internal: Option<crate::Internal>,
}

impl UltimateError {
    fn new(status: StatusCode, message: impl Into<String>) -> UltimateError {
        UltimateError {
            status,
            message: message.into(),
            limited: None,
            internal: None,
        }
    }

    fn invalid(message: impl Into<String>) -> UltimateError {
        UltimateError::new(StatusCode::UNPROCESSABLE_ENTITY, message)
    }
}

impl IntoResponse for UltimateError {
    fn into_response(self) -> Response {
        let body = ErrorBody {
            status: "error",
            message: self.message,
        };
        let r = (self.status, Json(body)).into_response();
        super::carry(r, self.limited, self.internal)
    }
}

/// The body of every refusal of this dialect.
#[derive(Serialize, ToSchema)]
struct ErrorBody {
    /// Always `error`.
    #[schema(example = "error")]
    status: &'static str,
    message: String,
}

impl From<ParamsError> for UltimateError {
    fn from(e: ParamsError) -> Self {
        UltimateError::new(e.status(), e.to_string())
    }
}

/// The dialect's names for the core's fields, in error messages.
fn field_name(field: smsgate_core::send::Field) -> &'static str {
    use smsgate_core::send::Field;
    match field {
        Field::To => "recipient",
        Field::From => "sender_id",
        Field::Text => "message",
        Field::ScheduleAt => "schedule_time",
        Field::TemplateId => "dlt_template_id",
        other => other.as_str(),
    }
}

impl From<EngineError> for UltimateError {
    fn from(e: EngineError) -> Self {
        match Failure::from(e) {
            Failure::Invalid(fields) => UltimateError::invalid(
                fields
                    .iter()
                    .map(|f| format!("The {} {}.", field_name(f.field), f.kind))
                    .collect::<Vec<_>>()
                    .join(" "),
            ),
            Failure::NoRecipient(r) => UltimateError::invalid(format!(
                "No valid recipient: {}",
                super::join_rejections(&r)
            )),
            Failure::Credits { balance, needed } => UltimateError::new(
                StatusCode::PAYMENT_REQUIRED,
                format!(
                    "You do not have enough sms unit to send this message: balance {}, needed {}",
                    balance.trimmed(),
                    needed.trimmed()
                ),
            ),
            Failure::Disabled => {
                UltimateError::new(StatusCode::FORBIDDEN, "Your account is disabled")
            }
            Failure::NotFound(what) => {
                UltimateError::new(StatusCode::NOT_FOUND, format!("The {what} was not found"))
            }
            Failure::Conflict(why) => UltimateError::new(StatusCode::CONFLICT, why),
            Failure::Limited(limited, _) => UltimateError {
                limited: Some(limited),
                ..UltimateError::new(StatusCode::TOO_MANY_REQUESTS, "Too Many Attempts.")
            },
            Failure::Unavailable(internal) => UltimateError {
                internal,
                ..UltimateError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "The service could not take the request; try again",
                )
            },
        }
    }
}

/// The caller named by `api_token` (body or query) or a bearer token.
async fn caller(state: &AppState, p: &Params) -> Result<Caller, UltimateError> {
    let unauthenticated = || UltimateError::new(StatusCode::UNAUTHORIZED, "Unauthenticated.");
    let token = p
        .text("api_token")
        .or_else(|| p.bearer().map(str::to_string))
        .ok_or_else(unauthenticated)?;
    match state.engine.authenticate(token.trim(), p.peer).await? {
        Ok(caller) => Ok(caller),
        Err(AuthFailure::AddressNotAllowed) => Err(UltimateError::new(
            StatusCode::FORBIDDEN,
            "This API token may not be used from your IP address",
        )),
        Err(AuthFailure::AccountDisabled) => Err(EngineError::AccountDisabled.into()),
        Err(AuthFailure::UnknownKey | AuthFailure::Revoked) => Err(unauthenticated()),
        Err(AuthFailure::RateLimited(e)) => Err(rate_limited(&e)),
    }
}

pub(crate) fn rate_limited(e: &smsgate_core::limits::Exhausted) -> UltimateError {
    UltimateError {
        limited: Some(crate::Limited::of(e)),
        ..UltimateError::new(StatusCode::TOO_MANY_REQUESTS, "Too Many Attempts.")
    }
}

/// The dialect's status words.
fn status_word(s: Status) -> &'static str {
    match s {
        Status::Scheduled => "Scheduled",
        Status::Accepted | Status::Queued | Status::Submitting => "Queued",
        Status::Sent => "Sent",
        Status::Delivered => "Delivered",
        Status::Undelivered => "Undelivered",
        Status::Rejected | Status::Failed => "Failed",
        Status::Expired => "Expired",
        Status::Canceled => "Canceled",
    }
}

/// A message report.
#[derive(Debug, Serialize, ToSchema)]
pub struct Report {
    /// The message id; `GET /api/http/sms/{uid}` shows it.
    pub uid: String,
    /// The recipient, international digits without `+`.
    #[schema(example = "31612345678")]
    pub to: String,
    pub from: String,
    pub message: String,
    /// `Scheduled`, `Queued`, `Sent`, `Delivered`, `Undelivered`,
    /// `Failed`, `Expired` or `Canceled`.
    #[schema(example = "Delivered")]
    pub status: &'static str,
    /// `plain` or `unicode`.
    #[serde(rename = "type")]
    pub sms_type: &'static str,
    /// Segments charged.
    pub sms_count: usize,
    /// What the message cost: a number, an integer when whole.
    #[schema(value_type = f64, example = 1)]
    pub cost: serde_json::Value,
    pub schedule_time: Option<String>,
    pub created_at: String,
    pub updated_at: String,
}

impl Report {
    fn new(m: &MessageRecord, caller: &Caller) -> Report {
        let local = |t: smsgate_core::Timestamp| caller.zone.civil(t).ymd_hms();
        Report {
            uid: m.id.to_string(),
            to: m.to.trim_start_matches('+').to_string(),
            from: m.from.clone(),
            message: m.text.clone(),
            status: status_word(m.status),
            sms_type: sms_type(m.encoding),
            sms_count: m.segments,
            cost: super::amount_number(m.cost),
            schedule_time: m.schedule_at.map(local),
            created_at: m.created_at.to_rfc3339(),
            updated_at: m.updated_at.to_rfc3339(),
        }
    }
}

fn sms_type(e: Encoding) -> &'static str {
    match e {
        Encoding::Ucs2 => "unicode",
        Encoding::Gsm7 => "plain",
    }
}

fn success(message: &str, data: Value) -> Response {
    (
        StatusCode::OK,
        Json(json!({"status": "success", "message": message, "data": data})),
    )
        .into_response()
}

fn required(p: &Params, name: &str) -> Result<String, UltimateError> {
    p.text(name)
        .ok_or_else(|| UltimateError::invalid(format!("The {name} field is required.")))
}

/// Send an SMS to one or more recipients (comma-separated).
#[utoipa::path(post, path = "/api/http/sms/send", tag = "ultimate",
    security(("api_token" = []), ("bearer" = [])),
    params(
        ("recipient" = String, Query, description = "One number with country code, or several separated by commas"),
        ("sender_id" = String, Query, description = "A number with country code, or up to 11 letters and digits"),
        ("type" = String, Query, description = "`plain` (GSM-7 when possible) or `unicode`"),
        ("message" = String, Query),
        ("schedule_time" = Option<String>, Query, description = "`Y-m-d H:i` in the account's time zone"),
        ("dlt_template_id" = Option<String>, Query, description = "A registered content template the message must match"),
    ),
    responses(
        (status = 200, description = "`data`: the report, or an array of reports for several recipients", body = Report),
        (status = 401, description = "`{\"status\":\"error\",\"message\":\"Unauthenticated.\"}`"),
        (status = 402, description = "Not enough credits"),
        (status = 422, description = "A field is missing or invalid"),
    ))]
pub async fn send(
    State(state): State<AppState>,
    params: Result<Params, ParamsError>,
) -> Result<Response, UltimateError> {
    let p = params?;
    let caller = caller(&state, &p).await?;
    let recipients: Vec<Recipient> = required(&p, "recipient")?
        .split([',', ';'])
        .map(str::trim)
        .filter(|r| !r.is_empty())
        .map(|to| Recipient {
            to: to.to_string(),
            text: None,
        })
        .collect();
    let sender = required(&p, "sender_id")?;
    let encoding = match required(&p, "type")?.to_ascii_lowercase().as_str() {
        "plain" => EncodingChoice::Auto,
        "unicode" => EncodingChoice::Ucs2,
        other => {
            return Err(UltimateError::invalid(format!(
                "The selected type {other:?} is invalid: use plain or unicode."
            )));
        }
    };
    let text = required(&p, "message")?;
    // A time already past sends at once.
    let schedule_at = match p.text("schedule_time") {
        None => None,
        Some(s) => super::dates::schedule(&s, &caller.zone).map_err(|_| {
            UltimateError::invalid(format!(
                "The schedule time {s:?} does not match the format Y-m-d H:i."
            ))
        })?,
    };
    let req = SendRequest {
        recipients,
        from: Some(sender.clone()),
        text: Some(text.clone()),
        encoding,
        schedule_at,
        template_id: p.text("dlt_template_id"),
        max_recipients: limits::MAX_RECIPIENTS,
        ..SendRequest::default()
    };
    let acceptance = state.engine.send(&caller, req, None, None).await?;
    // The reports from what was accepted, without reading each back.
    let at = acceptance
        .accepted_at
        .unwrap_or_else(smsgate_core::Timestamp::now)
        .to_rfc3339();
    let mut reports: Vec<Report> = acceptance
        .messages
        .iter()
        .map(|m| Report {
            uid: m.id.to_string(),
            to: m.to.trim_start_matches('+').to_string(),
            from: sender.clone(),
            message: text.clone(),
            status: status_word(m.status),
            sms_type: sms_type(m.encoding),
            sms_count: m.segments,
            cost: super::amount_number(m.cost),
            schedule_time: schedule_at.map(|t| caller.zone.civil(t).ymd_hms()),
            created_at: at.clone(),
            updated_at: at.clone(),
        })
        .collect();
    let data = if reports.len() == 1 && acceptance.rejected.is_empty() {
        json!(reports.remove(0))
    } else {
        json!(reports)
    };
    let mut body = json!({
        "status": "success",
        "message": "Your message was successfully queued",
        "data": data,
    });
    if !acceptance.rejected.is_empty() {
        body["rejected"] = json!(
            acceptance
                .rejected
                .iter()
                .map(|r| json!({"to": r.to, "reason": r.reason}))
                .collect::<Vec<_>>()
        );
    }
    Ok((StatusCode::OK, Json(body)).into_response())
}

/// One message's report.
#[utoipa::path(get, path = "/api/http/sms/{uid}", tag = "ultimate",
    security(("api_token" = []), ("bearer" = [])),
    params(("uid" = String, Path)),
    responses((status = 200, body = Report), (status = 404, description = "Not the account's message")))]
pub async fn view(
    State(state): State<AppState>,
    Path(uid): Path<String>,
    params: Result<Params, ParamsError>,
) -> Result<Response, UltimateError> {
    let p = params?;
    let caller = caller(&state, &p).await?;
    let not_found = || UltimateError::new(StatusCode::NOT_FOUND, "SMS not found");
    let id: MessageId = uid.parse().map_err(|_| not_found())?;
    let detail = state
        .engine
        .message(&caller, id)
        .await?
        .ok_or_else(not_found)?;
    Ok(success(
        "SMS details",
        json!(Report::new(&detail.message, &caller)),
    ))
}

/// The account's reports, newest first, `page` by `page` (`per_page`,
/// default 25, at most 100).
#[utoipa::path(get, path = "/api/http/sms", tag = "ultimate",
    security(("api_token" = []), ("bearer" = [])),
    params(("page" = Option<u64>, Query), ("per_page" = Option<u64>, Query)),
    responses((status = 200, description = "`data`: `{current_page, data, first_page_url, from, last_page, per_page, to, total}`")))]
pub async fn list(
    State(state): State<AppState>,
    params: Result<Params, ParamsError>,
) -> Result<Response, UltimateError> {
    let p = params?;
    let caller = caller(&state, &p).await?;
    let number = |name: &str, default: u64, max: u64| -> Result<u64, UltimateError> {
        match p.text(name) {
            None => Ok(default),
            Some(s) => s
                .trim()
                .parse::<u64>()
                .ok()
                .filter(|n| (1..=max).contains(n))
                .ok_or_else(|| {
                    UltimateError::invalid(format!("The {name} must be a number from 1 to {max}."))
                }),
        }
    };
    let page = number("page", 1, 1_000_000)?;
    let per_page = number("per_page", 25, 100)?;
    let total = state.engine.count_messages(&caller).await?;
    let rows = state
        .engine
        .messages(
            &caller,
            MessageFilter {
                offset: ((page - 1) * per_page) as usize,
                ..MessageFilter::newest(per_page as usize)
            },
        )
        .await?;
    let last_page = total.div_ceil(per_page).max(1);
    let first = (page - 1) * per_page + 1;
    let reports: Vec<Report> = rows.iter().map(|m| Report::new(m, &caller)).collect();
    let to = (!reports.is_empty()).then(|| first + reports.len() as u64 - 1);
    Ok(success(
        "SMS reports",
        json!({
            "current_page": page,
            "data": reports,
            "from": to.map(|_| first),
            "to": to,
            "last_page": last_page,
            "per_page": per_page,
            "total": total,
        }),
    ))
}

/// The account's remaining credits ("SMS units").
#[utoipa::path(get, path = "/api/http/balance", tag = "ultimate",
    security(("api_token" = []), ("bearer" = [])),
    responses((status = 200, description = "`data`: `{remaining_unit}`")))]
pub async fn balance(
    State(state): State<AppState>,
    params: Result<Params, ParamsError>,
) -> Result<Response, UltimateError> {
    let p = params?;
    let caller = caller(&state, &p).await?;
    let account = state.engine.own_account(&caller).await?;
    Ok(success(
        "SMS units",
        json!({"remaining_unit": super::amount_number(account.balance)}),
    ))
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "smsgate: ultimate dialect",
        description = "The Ultimate SMS HTTP API (api/http) as smsgate serves it. See docs/dialects/ultimate.md."
    ),
    paths(send, view, list, balance),
    components(schemas(Report, ErrorBody))
)]
pub(crate) struct UltimateApi;

async fn openapi(State(state): State<AppState>) -> Response {
    crate::openapi::Face::Ultimate.answer(&state.dialects)
}
