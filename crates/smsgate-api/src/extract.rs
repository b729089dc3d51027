//! Request extractors that fail with specific problems instead of axum's
//! plain-text rejections: malformed JSON, a wrong type at a named path,
//! a body over its limit, a missing or bad key.

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::Method;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use serde::de::DeserializeOwned;
use smsgate_core::Amount;
use smsgate_core::operators::Permission;
use smsgate_engine::{AuthFailure, By, Caller};

use crate::AppState;
use crate::problem::{FieldReason, Problem};

/// A JSON body of at most `LIMIT` bytes, whatever its Content-Type says.
/// Also keeps the raw bytes (for idempotency fingerprints).
pub struct JsonBody<T, const LIMIT: usize> {
    pub value: T,
    pub raw: Bytes,
}

/// 256 KiB: a `POST /v1/messages` with 1,000 recipients fits.
pub const SMALL: usize = 256 * 1024;
/// 8 MiB: a batch of 10,000 personalised items fits.
pub const LARGE: usize = 8 * 1024 * 1024;

impl<S: Send + Sync, T: DeserializeOwned, const LIMIT: usize> FromRequest<S>
    for JsonBody<T, LIMIT>
{
    type Rejection = Problem;

    async fn from_request(req: Request, _: &S) -> Result<Self, Problem> {
        let raw = axum::body::to_bytes(req.into_body(), LIMIT)
            .await
            .map_err(|e| {
                // to_bytes fails on the limit or on a broken connection.
                let e = e.into_inner();
                if e.is::<http_body_util::LengthLimitError>() {
                    Problem::too_large(LIMIT)
                } else if crate::bodies::timed_out(e.as_ref()) {
                    Problem::new(
                        axum::http::StatusCode::REQUEST_TIMEOUT,
                        "request-timeout",
                        "The body did not arrive in time",
                        e.to_string(),
                    )
                } else {
                    Problem::malformed_json(format!("the body could not be read: {e}"))
                }
            })?;
        let value = parse_json(&raw)?;
        Ok(JsonBody { value, raw })
    }
}

pub fn parse_json<T: DeserializeOwned>(raw: &[u8]) -> Result<T, Problem> {
    if raw.iter().all(u8::is_ascii_whitespace) {
        return Err(Problem::malformed_json(
            "the body is empty; a JSON object is expected",
        ));
    }
    let mut de = serde_json::Deserializer::from_slice(raw);
    let parsed = serde_path_to_error::deserialize::<_, T>(&mut de);
    if parsed.is_ok() {
        // Trailing characters after the JSON value.
        de.end()
            .map_err(|e| Problem::malformed_json(e.to_string()))?;
    }
    match parsed {
        Ok(v) => Ok(v),
        Err(e) => {
            let path = e.path().to_string();
            let inner = e.into_inner();
            if inner.is_syntax() || inner.is_eof() {
                Err(Problem::malformed_json(inner.to_string()))
            } else {
                let field = if path == "." {
                    "body".to_string()
                } else {
                    path
                };
                // serde's message ends with " at line L column C"; the
                // field path says where more usefully.
                let reason = inner.to_string();
                let reason = reason
                    .split(" at line ")
                    .next()
                    .unwrap_or(&reason)
                    .to_string();
                Err(Problem::invalid(vec![FieldReason { field, reason }]))
            }
        }
    }
}

/// The authenticated account of a native API request (`Authorization:
/// Bearer <api key>`).
impl FromRequestParts<AppState> for Caller {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Problem> {
        // Identified from its headers already (the guard): only counted here.
        let known = parts
            .extensions
            .remove::<crate::bodies::Identified>()
            .filter(|i| i.by == crate::bodies::Credential::Bearer)
            .map(|i| i.caller);
        let secret = bearer(&parts.headers).ok_or_else(|| {
            Problem::unauthorized("send the API key as `Authorization: Bearer <key>`")
        })?;
        let result = match known {
            Some(caller) => state.engine.count(&caller).map(|()| caller),
            None => {
                state
                    .engine
                    .authenticate(secret, peer(&parts.extensions))
                    .await?
            }
        };
        match result {
            Ok(mut caller) => {
                caller.address = peer(&parts.extensions);
                Ok(caller)
            }
            Err(AuthFailure::AddressNotAllowed) => Err(Problem::new(
                axum::http::StatusCode::FORBIDDEN,
                "address-not-allowed",
                "Not allowed from this address",
                "the API key is limited to other client addresses",
            )),
            Err(AuthFailure::UnknownKey) => Err(Problem::unauthorized("the API key is not valid")),
            Err(AuthFailure::Revoked) => Err(Problem::unauthorized("the API key has been revoked")),
            Err(AuthFailure::AccountDisabled) => {
                Err(smsgate_engine::EngineError::AccountDisabled.into())
            }
            Err(AuthFailure::RateLimited(e)) => Err(Problem::limited(
                format!(
                    "too many requests for this key or account; try again in {} s",
                    e.retry_after_secs
                ),
                &e,
            )),
        }
    }
}

/// The client's address, when the server was started with it.
pub fn peer(extensions: &axum::http::Extensions) -> Option<std::net::IpAddr> {
    extensions
        .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
        .map(|c| c.0.ip())
}

/// The client's address, when the server was started with it.
pub struct ClientAddress(pub Option<std::net::IpAddr>);

impl<S: Send + Sync> FromRequestParts<S> for ClientAddress {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(ClientAddress(peer(&parts.extensions)))
    }
}

/// The token of `Authorization: Bearer <token>`.
pub fn bearer(headers: &axum::http::HeaderMap) -> Option<&str> {
    let value = headers.get(AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim())
        .filter(|t| !t.is_empty())
}

/// The operator of an admin request (the configuration's admin token,
/// or an operator's token), whose role allows what the request does.
pub struct Admin(pub By);

impl FromRequestParts<AppState> for Admin {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Problem> {
        let token = bearer(&parts.headers).ok_or_else(|| {
            Problem::unauthorized(
                "send the admin token or an operator token as `Authorization: Bearer <token>`",
            )
        })?;
        let address = peer(&parts.extensions);
        let by = if state.is_admin_token(token) {
            By::admin_token(address)
        } else {
            state
                .engine
                .authenticate_operator(token, address)
                .await?
                .ok_or_else(|| {
                    Problem::unauthorized("the admin token or operator token is not valid")
                })?
        };
        if let Some(what) = permission(&parts.method, parts.uri.path()) {
            state.engine.allow(&by, what)?;
        }
        Ok(Admin(by))
    }
}

/// What an admin request does, as roles tell requests apart; `None`:
/// what every operator may do (its own tokens). The engine checks again
/// where a permission depends on the request (the size of a credit
/// change, whose token).
pub fn permission(method: &Method, path: &str) -> Option<Permission> {
    let path = path.trim_end_matches('/');
    if path == "/admin/v1/me" || path.starts_with("/admin/v1/me/") {
        None
    } else if path.starts_with("/admin/v1/operators") {
        Some(Permission::Operators)
    } else if method == Method::GET || method == Method::HEAD {
        Some(Permission::Read)
    } else if path.ends_with("/approve") {
        Some(Permission::Approve)
    } else if path.ends_with("/credits") {
        // Allowed up to the role's limit: the engine sees the amount.
        Some(Permission::Credits(Amount::ZERO))
    } else {
        Some(Permission::Change)
    }
}
