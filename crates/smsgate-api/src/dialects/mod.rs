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
    /// The session dialect's other message types and the route class each
    /// is sent on. Default `GP` → `N`, `TI` → `L`, `SI` → `LL` (the
    /// platform family's high, medium and low quality).
    pub session_message_types: std::collections::BTreeMap<String, String>,
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
            session_message_types: [("GP", "N"), ("TI", "L"), ("SI", "LL")]
                .into_iter()
                .map(|(t, class)| (t.to_string(), class.to_string()))
                .collect(),
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

/// An amount as a JSON number, for dialects whose clients read numbers:
/// an integer when it is whole (`1`), else its decimal (`0.035`), as the
/// client would have written it.
pub(crate) fn amount_number(a: smsgate_core::Amount) -> serde_json::Value {
    serde_json::from_str(&a.trimmed().to_string()).unwrap_or(serde_json::Value::Null)
}

/// What went wrong, as every dialect tells it: each dialect keeps only its
/// own status, code and words per class, and matches all of them.
pub(crate) enum Failure {
    Invalid(Vec<smsgate_core::send::FieldError>),
    NoRecipient(Vec<smsgate_core::send::Rejection>),
    Credits {
        balance: smsgate_core::Amount,
        needed: smsgate_core::Amount,
    },
    Disabled,
    NotFound(&'static str),
    /// The request contradicts what exists (an idempotency key reused, a
    /// message no longer cancelable, a name taken); the sentence says how.
    Conflict(String),
    Limited(crate::Limited, String),
    /// Not now: shutting down, too busy, or an internal failure (`Some`:
    /// logged by the guard, never shown).
    Unavailable(Option<crate::Internal>),
}

impl From<smsgate_engine::EngineError> for Failure {
    fn from(e: smsgate_engine::EngineError) -> Failure {
        use smsgate_engine::EngineError as E;
        let sentence = e.to_string();
        match e {
            E::Invalid(fields) => Failure::Invalid(fields),
            E::NoValidRecipient(r) => Failure::NoRecipient(r),
            E::InsufficientCredits { balance, needed } => Failure::Credits { balance, needed },
            E::AccountDisabled => Failure::Disabled,
            E::NotFound(what) => Failure::NotFound(what),
            E::IdempotencyConflict
            | E::NotCancelable(_)
            | E::NameTaken(_)
            | E::Duplicate(_)
            | E::Conflict(_)
            // No dialect reaches an operator's change; refused as one.
            | E::Forbidden { .. } => Failure::Conflict(sentence),
            E::RateLimited {
                retry_after_secs, ..
            } => Failure::Limited(
                crate::Limited {
                    retry_after_secs,
                    limit: None,
                },
                sentence,
            ),
            E::Overloaded(_) | E::ShuttingDown => Failure::Unavailable(None),
            E::Randomness | E::Config(_) | E::Store(_) => {
                Failure::Unavailable(Some(crate::Internal(sentence)))
            }
        }
    }
}

/// Puts what an answer carries for the guard (a rate limit, an internal
/// failure) on its response.
pub(crate) fn carry(
    mut response: axum::response::Response,
    limited: Option<crate::Limited>,
    internal: Option<crate::Internal>,
) -> axum::response::Response {
    if let Some(l) = limited {
        response.extensions_mut().insert(l);
    }
    if let Some(i) = internal {
        response.extensions_mut().insert(i);
    }
    response
}

/// A 429 for a request with no key in its headers, in the shape of the
/// dialect that serves `path`; `None` for the native and admin APIs.
pub(crate) fn rate_limited(
    config: &DialectsConfig,
    path: &str,
    e: &smsgate_core::limits::Exhausted,
) -> Option<axum::response::Response> {
    use axum::response::IntoResponse;
    let session_path = |p: &str| {
        matches!(
            p,
            "/login" | "/token" | "/status" | "/sms" | "/smshistory" | "/alias"
        ) || p.starts_with("/sms/")
            || p.starts_with("/alias/")
            || p.starts_with("/srsmshistory")
    };
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

/// Refused recipients as one line: `to: reason; to: reason`.
pub(crate) fn join_rejections(r: &[smsgate_core::send::Rejection]) -> String {
    r.iter()
        .map(|r| format!("{}: {}", r.to, r.reason))
        .collect::<Vec<_>>()
        .join("; ")
}

#[cfg(test)]
mod tests {
    use axum::http::StatusCode;
    use axum::response::{IntoResponse, Response};
    use smsgate_engine::EngineError;

    const SECRET: &str = "disk I/O error at /var/lib/smsgate/smsgate.db";

    fn internal() -> EngineError {
        EngineError::Store(smsgate_store::StoreError::CommitFailed(SECRET.into()))
    }

    async fn body(r: Response) -> String {
        let bytes = axum::body::to_bytes(r.into_body(), 1 << 16).await.unwrap();
        String::from_utf8(bytes.to_vec()).unwrap()
    }

    /// Every face answers an internal failure 503 in its own shape, with no
    /// internal text, and hands the failure to the guard to log once.
    #[tokio::test]
    async fn internal_failures_are_unavailable_everywhere_and_never_shown() {
        let answers: Vec<(&str, Response)> = vec![
            (
                "native",
                crate::problem::Problem::from(internal()).into_response(),
            ),
            (
                "ultimate",
                super::ultimate::UltimateError::from(internal()).into_response(),
            ),
            (
                "thesmspoint",
                super::thesmspoint::SmsPointError::from(internal()).into_response(),
            ),
            (
                "smsmanager",
                super::smsmanager::SmsmanagerError::from(internal()).into_response(),
            ),
            (
                "session",
                super::session::SessionError::from(internal()).into_response(),
            ),
        ];
        for (face, r) in answers {
            assert_eq!(r.status(), StatusCode::SERVICE_UNAVAILABLE, "{face}");
            let logged = r.extensions().get::<crate::Internal>().cloned();
            assert!(
                logged.is_some_and(|i| i.0.contains(SECRET)),
                "{face}: the guard gets the failure"
            );
            let text = body(r).await;
            assert!(!text.contains("disk"), "{face}: {text}");
        }
    }

    /// A thing that is not there is 404 on every face (thesmspoint answered
    /// 503).
    #[tokio::test]
    async fn not_found_is_404_everywhere() {
        let gone = || EngineError::NotFound("message");
        for r in [
            super::ultimate::UltimateError::from(gone()).into_response(),
            super::thesmspoint::SmsPointError::from(gone()).into_response(),
            super::smsmanager::SmsmanagerError::from(gone()).into_response(),
            super::session::SessionError::from(gone()).into_response(),
        ] {
            assert_eq!(r.status(), StatusCode::NOT_FOUND);
        }
    }
}
