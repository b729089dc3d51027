//! `action`: a single JSON endpoint driven by an `action` field (seed 003).
//!
//! `POST /api/v1/action` (the path is `[dialects] action_path`) with the
//! key in the `x-api-key` header (compared exactly) and `"action":
//! "sendsms"` (any case). Answers `{"status":"Success","tracking-id",…}`
//! or `{"status":"Failure","error-code","error-info","to"}` with a 4xx
//! status; the error codes are a stable table ([`ErrorCode`]). Delivery
//! postbacks go to the account's `postback_url` with the tracking-id.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::json;
use smsgate_core::send::Recipient;
use smsgate_core::send::{Field, FieldError, FieldErrorKind, RejectReason};
use smsgate_core::{CallbackFormat, SendRequest, SenderId};
use smsgate_engine::{AuthFailure, Caller, EngineError};
use utoipa::OpenApi;

use super::params::{Params, ParamsError};
use crate::AppState;

/// The characters of `from-mask` kept; the rest is cut off.
const MASK_CHARS: usize = 11;

pub fn routes(path: &str) -> axum::Router<AppState> {
    axum::Router::new()
        .route(path, post(action))
        .route("/openapi/action.json", get(openapi))
}

/// The dialect's error codes: stable, documented in
/// `docs/dialects/action.md`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorCode {
    MalformedBody,
    MissingKey,
    InvalidKey,
    AccountDisabled,
    InvalidAction,
    MissingText,
    InvalidNumber,
    TextTooLong,
    InvalidSender,
    SenderNotApproved,
    CampaignRequired,
    UnknownCampaign,
    NotSubscribed,
    OptedOut,
    DestinationNotAllowed,
    VelocityLimited,
    InsufficientCredits,
    InvalidField,
    AddressNotAllowed,
    RateLimited,
    Unavailable,
}

impl ErrorCode {
    pub const ALL: [ErrorCode; 20] = [
        ErrorCode::MalformedBody,
        ErrorCode::MissingKey,
        ErrorCode::InvalidKey,
        ErrorCode::AccountDisabled,
        ErrorCode::InvalidAction,
        ErrorCode::MissingText,
        ErrorCode::InvalidNumber,
        ErrorCode::TextTooLong,
        ErrorCode::InvalidSender,
        ErrorCode::SenderNotApproved,
        ErrorCode::CampaignRequired,
        ErrorCode::UnknownCampaign,
        ErrorCode::NotSubscribed,
        ErrorCode::OptedOut,
        ErrorCode::DestinationNotAllowed,
        ErrorCode::VelocityLimited,
        ErrorCode::InsufficientCredits,
        ErrorCode::InvalidField,
        ErrorCode::AddressNotAllowed,
        ErrorCode::Unavailable,
    ];

    /// The code, its HTTP status and its text.
    pub const fn describe(self) -> (&'static str, StatusCode, &'static str) {
        use ErrorCode::*;
        match self {
            MalformedBody => ("E100", StatusCode::BAD_REQUEST, "Malformed request body."),
            MissingKey => ("E101", StatusCode::UNAUTHORIZED, "Missing API key."),
            InvalidKey => ("E102", StatusCode::UNAUTHORIZED, "Invalid API key."),
            AccountDisabled => ("E103", StatusCode::FORBIDDEN, "Account disabled."),
            InvalidAction => ("E104", StatusCode::BAD_REQUEST, "Invalid action."),
            MissingText => ("E105", StatusCode::BAD_REQUEST, "Missing message text."),
            InvalidNumber => (
                "E106",
                StatusCode::BAD_REQUEST,
                "Invalid destination number.",
            ),
            TextTooLong => ("E107", StatusCode::BAD_REQUEST, "Message text too long."),
            InvalidSender => ("E111", StatusCode::BAD_REQUEST, "Invalid Sender."),
            SenderNotApproved => ("E112", StatusCode::BAD_REQUEST, "Sender not approved."),
            CampaignRequired => (
                "E121",
                StatusCode::BAD_REQUEST,
                "Campaign reference required.",
            ),
            UnknownCampaign => (
                "E122",
                StatusCode::BAD_REQUEST,
                "Unknown campaign reference.",
            ),
            NotSubscribed => (
                "E123",
                StatusCode::BAD_REQUEST,
                "Number not subscribed to the campaign.",
            ),
            OptedOut => ("E124", StatusCode::BAD_REQUEST, "Number opted out."),
            DestinationNotAllowed => (
                "E125",
                StatusCode::FORBIDDEN,
                "Destination not allowed for this account.",
            ),
            VelocityLimited => (
                "E151",
                StatusCode::TOO_MANY_REQUESTS,
                "Too many messages to this destination range; it is blocked for a while.",
            ),
            InsufficientCredits => (
                "E130",
                StatusCode::PAYMENT_REQUIRED,
                "Insufficient credits.",
            ),
            InvalidField => ("E140", StatusCode::BAD_REQUEST, "Invalid request field."),
            AddressNotAllowed => (
                "E108",
                StatusCode::FORBIDDEN,
                "API key not allowed from this address.",
            ),
            RateLimited => (
                "E150",
                StatusCode::TOO_MANY_REQUESTS,
                "Too many requests; try again later.",
            ),
            Unavailable => (
                "E190",
                StatusCode::SERVICE_UNAVAILABLE,
                "Service temporarily unavailable; try again.",
            ),
        }
    }
}

/// The body of every refusal of this dialect.
#[derive(serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "kebab-case")]
struct ErrorBody {
    /// Always `Failure`.
    #[schema(example = "Failure")]
    status: &'static str,
    /// `E101` … `E190`: docs/dialects/action.md.
    #[schema(example = "E130")]
    error_code: &'static str,
    error_info: String,
    /// The recipient, without its `+`.
    to: String,
}

/// A failure answer.
#[derive(Debug)]
pub struct ActionError {
    code: ErrorCode,
    /// More than the code's text, when there is more to say.
    detail: Option<String>,
    to: String,
    limited: Option<crate::Limited>,
    internal: Option<crate::Internal>,
}

impl ActionError {
    fn new(code: ErrorCode, to: &str) -> ActionError {
        ActionError {
            code,
            detail: None,
            to: to.to_string(),
            limited: None,
            internal: None,
        }
    }

    fn detail(mut self, detail: impl Into<String>) -> ActionError {
        self.detail = Some(detail.into());
        self
    }

    /// The engine's refusal, in the dialect's codes.
    fn engine(e: EngineError, to: &str) -> ActionError {
        use ErrorCode::*;
        let (mut limited, mut internal) = (None, None);
        let (code, detail) = match super::Failure::from(e) {
            super::Failure::Invalid(fields) => match fields.first() {
                Some(f) => (
                    invalid(f),
                    Some(format!("{}: {}", field_name(f.field), f.kind)),
                ),
                None => (InvalidField, None),
            },
            super::Failure::NoRecipient(r) => match r.first() {
                Some(r) => (refused(&r.reason), Some(r.reason.to_string())),
                None => (InvalidNumber, None),
            },
            super::Failure::Credits { balance, needed } => (
                InsufficientCredits,
                Some(format!(
                    "balance {}, needed {}",
                    balance.trimmed(),
                    needed.trimmed()
                )),
            ),
            super::Failure::Disabled => (AccountDisabled, None),
            // The dialect only sends; what it names is a field.
            super::Failure::NotFound(what) => (InvalidField, Some(format!("{what} not found"))),
            super::Failure::Conflict(why) => (InvalidField, Some(why)),
            super::Failure::Limited(l, _) => {
                limited = Some(l);
                (RateLimited, None)
            }
            super::Failure::Unavailable(i) => {
                internal = i;
                (Unavailable, None)
            }
        };
        ActionError {
            code,
            detail,
            to: to.to_string(),
            limited,
            internal,
        }
    }
}

impl IntoResponse for ActionError {
    fn into_response(self) -> Response {
        let (code, status, text) = self.code.describe();
        let info = match self.detail {
            Some(d) => format!("{text} {d}"),
            None => text.to_string(),
        };
        let body = ErrorBody {
            status: "Failure",
            error_code: code,
            error_info: info,
            to: self.to.trim_start_matches('+').to_string(),
        };
        let r = (status, Json(body)).into_response();
        super::carry(r, self.limited, self.internal)
    }
}

/// Countries where carriers refuse alphanumeric senders (a `from-mask` is
/// ignored there): North America.
fn masks_allowed(to_digits: &str) -> bool {
    !to_digits.starts_with('1')
}

async fn caller(state: &AppState, p: &Params, to: &str) -> Result<Caller, ActionError> {
    let key = p
        .header("x-api-key")
        .ok_or_else(|| ActionError::new(ErrorCode::MissingKey, to))?;
    match state.engine.authenticate(key, p.peer).await {
        Ok(Ok(caller)) => Ok(caller),
        Ok(Err(AuthFailure::AddressNotAllowed)) => {
            Err(ActionError::new(ErrorCode::AddressNotAllowed, to))
        }
        Ok(Err(AuthFailure::AccountDisabled)) => {
            Err(ActionError::new(ErrorCode::AccountDisabled, to))
        }
        Ok(Err(AuthFailure::RateLimited(e))) => Err(rate_limited(&e, to)),
        Ok(Err(AuthFailure::UnknownKey | AuthFailure::Revoked)) => {
            Err(ActionError::new(ErrorCode::InvalidKey, to))
        }
        Err(e) => Err(ActionError::engine(e, to)),
    }
}

/// Send an SMS (`"action": "sendsms"`).
#[utoipa::path(post, path = "/api/v1/action", tag = "action",
    security(("x_api_key" = [])),
    request_body(content = Object, description = "`{\"action\": \"sendsms\", \"message-text\", \"to\", \"from\", \"from-mask\"?, \"campaign-ref\"?, \"click-tracking\"?}`"),
    responses(
        (status = 200, description = "`{\"status\":\"Success\",\"tracking-id\",\"to\",\"from\",\"status-details\"}`"),
        (status = 400, description = "`{\"status\":\"Failure\",\"error-code\",\"error-info\",\"to\"}`; codes in docs/dialects/action.md"),
        (status = 401, description = "E101 / E102"),
        (status = 402, description = "E130"),
    ))]
pub async fn action(
    State(state): State<AppState>,
    params: Result<Params, ParamsError>,
) -> Result<Response, ActionError> {
    let p =
        params.map_err(|e| ActionError::new(ErrorCode::MalformedBody, "").detail(e.to_string()))?;
    let to = p.text("to").unwrap_or_default();
    let caller = caller(&state, &p, &to).await?;
    match p
        .text("action")
        .map(|a| a.trim().to_ascii_lowercase())
        .as_deref()
    {
        Some("sendsms") => {}
        other => {
            return Err(ActionError::new(ErrorCode::InvalidAction, &to)
                .detail(format!("{other:?} is not one of [\"sendsms\"]")));
        }
    }
    let text = p
        .text("message-text")
        .ok_or_else(|| ActionError::new(ErrorCode::MissingText, &to))?;
    if to.is_empty() {
        return Err(ActionError::new(ErrorCode::InvalidNumber, &to).detail("to is required"));
    }
    // `from` is a number (short code, toll-free, 10DLC).
    let from = p
        .text("from")
        .filter(|f| matches!(SenderId::parse(f), Ok(SenderId::Numeric(_))))
        .ok_or_else(|| ActionError::new(ErrorCode::InvalidSender, &to))?;
    let to_digits: String = to.chars().filter(char::is_ascii_digit).collect();
    let sender = match p.text("from-mask") {
        Some(mask) if masks_allowed(&to_digits) => {
            let cut: String = mask.trim().chars().take(MASK_CHARS).collect();
            let cut = cut.trim_end().to_string();
            SenderId::parse(&cut).map_err(|e| {
                ActionError::new(ErrorCode::InvalidSender, &to).detail(e.to_string())
            })?;
            cut
        }
        _ => from.clone(),
    };
    let postback = caller.postback_url.clone();
    let req = SendRequest {
        recipients: vec![Recipient {
            to: to.clone(),
            text: None,
        }],
        from: Some(sender),
        text: Some(text),
        campaign_ref: p.text("campaign-ref"),
        click_tracking: p.flag("click-tracking").unwrap_or(false),
        callback_format: if postback.is_some() {
            CallbackFormat::Action
        } else {
            CallbackFormat::Native
        },
        callback_url: postback,
        max_recipients: 1,
        ..SendRequest::default()
    };
    let acceptance = state
        .engine
        .send(&caller, req, None, None)
        .await
        .map_err(|e| ActionError::engine(e, &to))?;
    let Some(m) = acceptance.messages.first() else {
        // Only the store refuses after planning: the suppression list.
        let reason = acceptance
            .rejected
            .first()
            .map(|r| r.reason.clone())
            .unwrap_or_default();
        return Err(ActionError::new(ErrorCode::OptedOut, &to).detail(reason));
    };
    Ok(Json(json!({
        "status": "Success",
        "tracking-id": m.id.to_string(),
        "to": to,
        "from": from,
        "status-details": "SMS request accepted and queued for delivery",
    }))
    .into_response())
}

pub(crate) fn rate_limited(e: &smsgate_core::limits::Exhausted, to: &str) -> ActionError {
    ActionError {
        limited: Some(crate::Limited::of(e)),
        ..ActionError::new(ErrorCode::RateLimited, to)
    }
}

/// The dialect's names for the core's fields, in error details.
fn field_name(field: Field) -> &'static str {
    match field {
        Field::Text => "message-text",
        Field::CampaignRef => "campaign-ref",
        other => other.as_str(),
    }
}

/// The code for a field the engine refused.
fn invalid(f: &FieldError) -> ErrorCode {
    use smsgate_core::text::TextError;
    match &f.kind {
        FieldErrorKind::Required(_) => match f.field {
            Field::To => ErrorCode::InvalidNumber,
            Field::Text => ErrorCode::MissingText,
            Field::From => ErrorCode::InvalidSender,
            _ => ErrorCode::InvalidField,
        },
        FieldErrorKind::TooManyRecipients { .. } | FieldErrorKind::Number(_) => {
            ErrorCode::InvalidNumber
        }
        FieldErrorKind::Sender(_) => ErrorCode::InvalidSender,
        FieldErrorKind::SenderNotRegistered(_)
        | FieldErrorKind::SenderNotApproved(_)
        | FieldErrorKind::SenderProtected(_) => ErrorCode::SenderNotApproved,
        FieldErrorKind::Text(TextError::TooManyParts { .. }) => ErrorCode::TextTooLong,
        FieldErrorKind::Text(TextError::Empty) => ErrorCode::MissingText,
        FieldErrorKind::CampaignRequired => ErrorCode::CampaignRequired,
        FieldErrorKind::CampaignUnknown(_) => ErrorCode::UnknownCampaign,
        FieldErrorKind::Text(TextError::NotGsm7 { .. })
        | FieldErrorKind::CampaignReference { .. }
        | FieldErrorKind::TemplateText(_)
        | FieldErrorKind::TemplateMismatch(_)
        | FieldErrorKind::TemplateUnknown(_)
        | FieldErrorKind::TemplateNotApproved(_)
        | FieldErrorKind::TemplateSender { .. }
        | FieldErrorKind::Empty
        | FieldErrorKind::TooManyNumbers { .. }
        | FieldErrorKind::NetworkCount { .. }
        | FieldErrorKind::Chars { .. }
        | FieldErrorKind::TooLong { .. }
        | FieldErrorKind::TooShort { .. }
        | FieldErrorKind::Range { .. }
        | FieldErrorKind::Seconds { .. }
        | FieldErrorKind::Negative
        | FieldErrorKind::Zero
        | FieldErrorKind::AtMost { .. }
        | FieldErrorKind::AtMostEitherWay { .. }
        | FieldErrorKind::PlanUnknown(_)
        | FieldErrorKind::TransferOnly
        | FieldErrorKind::ParentUnknown(_)
        | FieldErrorKind::BelowOwnPrice { .. }
        | FieldErrorKind::NumberDigits
        | FieldErrorKind::PrefixDigits
        | FieldErrorKind::InPast
        | FieldErrorKind::TooFarAhead
        | FieldErrorKind::Url(_)
        | FieldErrorKind::Network(_)
        | FieldErrorKind::Keyword(_)
        // Account settings: not what a send is refused for.
        | FieldErrorKind::NotOneOf { .. }
        | FieldErrorKind::Zone(_)
        | FieldErrorKind::Reach(_)
        | FieldErrorKind::Velocity(_)
        | FieldErrorKind::RateZero
        | FieldErrorKind::UnknownEventType { .. }
        | FieldErrorKind::NoInboundMessage => ErrorCode::InvalidField,
    }
}

/// The code for a recipient the engine refused.
fn refused(reason: &RejectReason) -> ErrorCode {
    use smsgate_core::text::TextError;
    match reason {
        RejectReason::InvalidNumber(_) | RejectReason::Duplicate => ErrorCode::InvalidNumber,
        RejectReason::Text(TextError::TooManyParts { .. }) => ErrorCode::TextTooLong,
        RejectReason::Text(TextError::Empty) => ErrorCode::MissingText,
        RejectReason::Text(TextError::NotGsm7 { .. })
        | RejectReason::TemplateMismatch(_)
        | RejectReason::PriceOverflow => ErrorCode::InvalidField,
        RejectReason::Suppressed => ErrorCode::OptedOut,
        RejectReason::NotSubscribed(_) => ErrorCode::NotSubscribed,
        RejectReason::CountryNotAllowed(_) | RejectReason::NumberTypeNotAllowed(_) => {
            ErrorCode::DestinationNotAllowed
        }
        RejectReason::VelocityLimited(_) => ErrorCode::VelocityLimited,
    }
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "smsgate: action dialect",
        description = "The action: sendsms JSON API as smsgate serves it. See docs/dialects/action.md for the error codes."
    ),
    paths(action),
    components(schemas(ErrorBody))
)]
pub(crate) struct ActionApi;

async fn openapi(State(state): State<AppState>) -> Response {
    crate::openapi::Face::Action.answer(&state.dialects)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_codes_are_unique() {
        let mut codes: Vec<&str> = ErrorCode::ALL.iter().map(|c| c.describe().0).collect();
        codes.sort();
        codes.dedup();
        assert_eq!(codes.len(), ErrorCode::ALL.len());
        assert_eq!(ErrorCode::InvalidSender.describe().2, "Invalid Sender.");
        assert_eq!(ErrorCode::InvalidSender.describe().0, "E111");
    }

    /// Codes no request of this dialect can reach through its own fields:
    /// a field refused deeper in the engine, and an internal failure.
    #[test]
    fn engine_failures_have_their_codes_and_keep_internals_out() {
        let invalid = EngineError::Invalid(vec![FieldError::new(
            Field::Priority,
            FieldErrorKind::Range { min: 0, max: 10 },
        )]);
        let e = ActionError::engine(invalid, "+447911123456");
        assert_eq!(e.code.describe().0, "E140");
        assert_eq!(
            e.detail.as_deref(),
            Some("priority: must be between 0 and 10")
        );
        let internal = EngineError::Store(smsgate_store::StoreError::CommitFailed(
            "disk I/O error at /var/lib/smsgate/smsgate.db".into(),
        ));
        let e = ActionError::engine(internal, "+447911123456");
        assert_eq!(e.code.describe().0, "E190");
        assert_eq!(e.code.describe().1, StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(e.detail, None, "no database text in an answer");
    }
}
