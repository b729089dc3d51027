//! RFC 9457 problem details: the one error shape of the native and admin
//! APIs. Every problem has a stable `type` (a relative URI naming the
//! error, documented in `docs/errors.md`), a `title` that never varies for
//! a type, and a `detail` about this occurrence.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use smsgate_core::Amount;
use smsgate_core::send::{FieldError, Rejection};
use smsgate_engine::EngineError;
use utoipa::ToSchema;

/// A problem+json body.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Problem {
    /// Stable identifier of the kind of error, e.g. `/problems/invalid-request`.
    #[serde(rename = "type", serialize_with = "problem_type")]
    #[schema(value_type = String, example = "/problems/invalid-request")]
    pub slug: &'static str,
    pub title: &'static str,
    pub status: u16,
    pub detail: String,
    /// Members only some problems have; boxed to keep results small.
    #[serde(flatten)]
    pub extra: Box<Extra>,
}

fn problem_type<S: serde::Serializer>(slug: &&'static str, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(&format_args!("/problems/{slug}"))
}

#[derive(Debug, Clone, Default, Serialize, ToSchema)]
pub struct Extra {
    /// Field-level reasons, for `invalid-request`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldReason>,
    /// Recipients refused one by one, for `no-valid-recipient`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub rejected: Vec<RecipientReason>,
    /// The balance, for `insufficient-credits`.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>, example = "12.0000")]
    pub balance: Option<Amount>,
    /// What the request would cost, for `insufficient-credits`.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>, example = "12.0000")]
    pub needed: Option<Amount>,
    /// For `rate-limited`: the `Retry-After` and `RateLimit-*` headers.
    #[serde(skip)]
    pub limited: Option<crate::Limited>,
    /// What failed inside, for the guard's log; never shown.
    #[serde(skip)]
    #[schema(ignore)]
    pub internal: Option<crate::Internal>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct FieldReason {
    /// The field, as a path into the request body (`items[3].to`).
    pub field: String,
    pub reason: String,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RecipientReason {
    pub to: String,
    /// A stable name of the reason (`invalid-number`, `opted-out`,
    /// `country-not-allowed`, `velocity-limited`, …).
    pub code: String,
    pub reason: String,
}

impl Problem {
    pub fn new(
        status: StatusCode,
        slug: &'static str,
        title: &'static str,
        detail: impl Into<String>,
    ) -> Problem {
        Problem {
            slug,
            title,
            status: status.as_u16(),
            detail: detail.into(),
            extra: Box::default(),
        }
    }

    fn with(mut self, extra: Extra) -> Problem {
        *self.extra = extra;
        self
    }

    /// 429 with `Retry-After`.
    pub fn rate_limited(detail: impl Into<String>, retry_after_secs: u64) -> Problem {
        Problem::new(
            StatusCode::TOO_MANY_REQUESTS,
            "rate-limited",
            "Too many requests",
            detail,
        )
        .with(Extra {
            limited: Some(crate::Limited {
                retry_after_secs,
                limit: None,
            }),
            ..Extra::default()
        })
    }

    /// 429 for a bucket that is empty.
    pub fn limited(detail: impl Into<String>, e: &smsgate_core::limits::Exhausted) -> Problem {
        Problem::rate_limited(detail, e.retry_after_secs).with(Extra {
            limited: Some(crate::Limited::of(e)),
            ..Extra::default()
        })
    }

    pub fn malformed_json(detail: impl Into<String>) -> Problem {
        Problem::new(
            StatusCode::BAD_REQUEST,
            "malformed-json",
            "The body is not valid JSON",
            detail,
        )
    }

    pub fn invalid(errors: Vec<FieldReason>) -> Problem {
        let detail = errors
            .iter()
            .map(|e| format!("{}: {}", e.field, e.reason))
            .collect::<Vec<_>>()
            .join("; ");
        Problem::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid-request",
            "The request is invalid",
            detail,
        )
        .with(Extra {
            errors,
            ..Extra::default()
        })
    }

    pub fn invalid_field(field: &str, reason: impl Into<String>) -> Problem {
        Problem::invalid(vec![FieldReason {
            field: field.into(),
            reason: reason.into(),
        }])
    }

    pub fn too_large(limit: usize) -> Problem {
        Problem::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload-too-large",
            "The body is too large",
            format!("the body exceeds {limit} bytes"),
        )
    }

    pub fn unauthorized(detail: impl Into<String>) -> Problem {
        Problem::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "Authentication failed",
            detail,
        )
    }

    pub fn not_found(detail: impl Into<String>) -> Problem {
        Problem::new(StatusCode::NOT_FOUND, "not-found", "Not found", detail)
    }

    pub fn unavailable(detail: impl Into<String>) -> Problem {
        Problem::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
            "Temporarily unavailable",
            detail,
        )
    }
}

fn fields(errors: Vec<FieldError>) -> Vec<FieldReason> {
    errors
        .into_iter()
        .map(|e| FieldReason {
            field: e.field.as_str().into(),
            reason: e.kind.to_string(),
        })
        .collect()
}

pub(crate) fn recipients(rejected: Vec<Rejection>) -> Vec<RecipientReason> {
    rejected
        .into_iter()
        .map(|r| RecipientReason {
            to: r.to,
            code: r.reason.code().into(),
            reason: r.reason.to_string(),
        })
        .collect()
}

impl From<EngineError> for Problem {
    fn from(e: EngineError) -> Problem {
        let detail = e.to_string();
        match e {
            EngineError::Invalid(errors) => Problem::invalid(fields(errors)),
            EngineError::NoValidRecipient(rejected) => Problem::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "no-valid-recipient",
                "No recipient can be sent to",
                "every recipient was refused; see `rejected`",
            )
            .with(Extra {
                rejected: recipients(rejected),
                ..Extra::default()
            }),
            EngineError::InsufficientCredits { balance, needed } => Problem::new(
                StatusCode::PAYMENT_REQUIRED,
                "insufficient-credits",
                "Not enough credits",
                detail,
            )
            .with(Extra {
                balance: Some(balance),
                needed: Some(needed),
                ..Extra::default()
            }),
            EngineError::IdempotencyConflict => Problem::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "idempotency-conflict",
                "Idempotency key reused with a different request",
                detail,
            ),
            EngineError::AccountDisabled => Problem::new(
                StatusCode::FORBIDDEN,
                "account-disabled",
                "The account is disabled",
                detail,
            ),
            EngineError::NotFound(_) => Problem::not_found(detail),
            EngineError::NotCancelable(_) => Problem::new(
                StatusCode::CONFLICT,
                "not-cancelable",
                "The message can no longer be canceled",
                detail,
            ),
            EngineError::NameTaken(_) => Problem::new(
                StatusCode::CONFLICT,
                "name-taken",
                "The name is already taken",
                detail,
            ),
            EngineError::Duplicate(_) => Problem::new(
                StatusCode::CONFLICT,
                "duplicate",
                "Already registered",
                detail,
            ),
            EngineError::Conflict(_) => Problem::new(
                StatusCode::CONFLICT,
                "conflict",
                "The change conflicts with what exists",
                detail,
            ),
            EngineError::RateLimited {
                retry_after_secs, ..
            } => Problem::rate_limited(detail, retry_after_secs),
            EngineError::Overloaded(_) => Problem::unavailable(detail),
            EngineError::ShuttingDown => Problem::unavailable(detail),
            EngineError::Store(_) | EngineError::Randomness => Problem::unavailable(
                "the server could not take the request; try again",
            )
            .with(Extra {
                internal: Some(crate::Internal(detail)),
                ..Extra::default()
            }),
            EngineError::Config(_) => Problem::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid-configuration",
                "The configuration is invalid",
                detail,
            ),
            EngineError::Forbidden { .. } => Problem::new(
                StatusCode::FORBIDDEN,
                "forbidden",
                "Not allowed for this role",
                detail,
            ),
        }
    }
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let unavailable = status == StatusCode::SERVICE_UNAVAILABLE;
        let unauthorized = status == StatusCode::UNAUTHORIZED;
        let limited = self.extra.limited;
        let internal = self.extra.internal.clone();
        let mut response = (status, axum::Json(self)).into_response();
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        if limited.is_none() && unavailable {
            headers.insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
        }
        if unauthorized {
            headers.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        if let Some(l) = limited {
            response.extensions_mut().insert(l);
        }
        if let Some(i) = internal {
            response.extensions_mut().insert(i);
        }
        response
    }
}
