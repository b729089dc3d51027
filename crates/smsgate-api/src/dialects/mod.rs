//! The five provider dialects (`../shared/DIALECTS.md`): the wire formats
//! of commercial SMS APIs, so that their clients work by changing only the
//! base URL. Each module parses its format into the engine's requests and
//! renders the answers in its own shape; none has its own queue, billing
//! or status logic.
//!
//! Each can be switched off (`[dialects] ultimate = false`): its paths,
//! OpenAPI document included, then answer 404.

pub mod action;
pub mod dates;
pub mod params;
pub mod session;
pub mod smsmanager;
pub mod thesmspoint;
pub mod ultimate;

use serde::{Deserialize, Serialize};
use smsgate_core::SenderId;
use smsgate_engine::Caller;
use smsgate_store::StoreError;

use crate::AppState;

/// Which dialects are served. All are, unless switched off.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DialectsConfig {
    pub ultimate: bool,
    pub session: bool,
    pub thesmspoint: bool,
    pub action: bool,
    pub smsmanager: bool,
    /// The `action` dialect's endpoint. Default `/api/v1/action`.
    pub action_path: String,
}

impl Default for DialectsConfig {
    fn default() -> Self {
        DialectsConfig {
            ultimate: true,
            session: true,
            thesmspoint: true,
            action: true,
            smsmanager: true,
            action_path: "/api/v1/action".into(),
        }
    }
}

/// The routes of the dialects switched on.
pub fn routes(config: &DialectsConfig) -> axum::Router<AppState> {
    let mut router = axum::Router::new();
    if config.ultimate {
        router = router.merge(ultimate::routes());
    }
    if config.session {
        router = router.merge(session::routes());
    }
    if config.action {
        router = router.merge(action::routes(&config.action_path));
    }
    if config.thesmspoint {
        router = router.merge(thesmspoint::routes());
    }
    if config.smsmanager {
        router = router.merge(smsmanager::routes());
    }
    router
}

/// A 429 for a request with no key in its headers, in the shape of the
/// dialect that serves `path`; `None` for the native and admin APIs.
pub(crate) fn rate_limited(
    config: &DialectsConfig,
    path: &str,
    e: &smsgate_core::limits::Exhausted,
) -> Option<axum::response::Response> {
    use axum::response::IntoResponse;
    let session_path =
        |p: &str| p == "/login" || p == "/status" || p == "/sms" || p.starts_with("/sms/");
    Some(if config.action && path == config.action_path {
        action::rate_limited(e, "").into_response()
    } else if config.ultimate && path.starts_with("/api/http/") {
        ultimate::rate_limited(e).into_response()
    } else if config.thesmspoint && path.starts_with("/api/v1/") {
        thesmspoint::rate_limited(e).into_response()
    } else if config.smsmanager && path.starts_with("/v2/") {
        smsmanager::rate_limited(e).into_response()
    } else if config.session && session_path(path.strip_prefix("/API/v1.0/REST").unwrap_or(path)) {
        session::rate_limited(e).into_response()
    } else {
        return None;
    })
}

/// The sender of a dialect request that names none: the account's default
/// sender, else its name when that is a valid alphanumeric sender ID.
pub(crate) async fn default_sender(
    state: &AppState,
    caller: &Caller,
) -> Result<Option<String>, StoreError> {
    let Some(account) = state.engine.store().account(caller.account).await? else {
        return Ok(None);
    };
    Ok(account.default_sender.or_else(|| {
        SenderId::parse(&account.name)
            .ok()
            .map(|s| s.as_str().to_string())
    }))
}

/// A dialect's OpenAPI document as an answer.
pub(crate) fn openapi_json(doc: utoipa::openapi::OpenApi) -> axum::response::Response {
    use axum::response::IntoResponse;
    (
        [(axum::http::header::CONTENT_TYPE, "application/json")],
        doc.to_pretty_json().unwrap_or_default(),
    )
        .into_response()
}

/// Refused recipients as one line: `to: reason; to: reason`.
pub(crate) fn join_rejections(r: &[smsgate_core::send::Rejection]) -> String {
    r.iter()
        .map(|r| format!("{}: {}", r.to, r.reason))
        .collect::<Vec<_>>()
        .join("; ")
}
