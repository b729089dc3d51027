//! `/v1/keys`: an account's own API keys.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use smsgate_core::KeyId;
use smsgate_engine::Caller;
use utoipa::ToSchema;

use crate::AppState;
use crate::admin::{CreateKey, KeyView};
use crate::extract::{JsonBody, SMALL};
use crate::problem::Problem;

#[derive(Debug, Serialize, ToSchema)]
pub struct OwnKeys {
    /// Every key of the account, revoked ones too; `revoked_at` in the
    /// future is the end of a rotated key's overlap.
    pub data: Vec<KeyView>,
}

fn key_id(id: &str) -> Result<KeyId, Problem> {
    id.parse()
        .map(KeyId)
        .map_err(|_| Problem::not_found(format!("no API key with id {id:?}")))
}

#[utoipa::path(get, path = "/v1/keys", tag = "account", operation_id = "list_own_keys",
    responses((status = 200, body = OwnKeys)), security(("api_key" = [])))]
pub async fn list_keys(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<OwnKeys>, Problem> {
    let keys = state.engine.own_keys(&caller).await?;
    Ok(Json(OwnKeys {
        data: keys.iter().map(KeyView::from).collect(),
    }))
}

/// A new API key with a label and, optionally, the networks it may be
/// used from. Its secret is shown once.
#[utoipa::path(post, path = "/v1/keys", tag = "account", operation_id = "create_own_key", request_body = CreateKey,
    responses((status = 201, body = KeyView), (status = 422, body = Problem)), security(("api_key" = [])))]
pub async fn create_key(
    State(state): State<AppState>,
    caller: Caller,
    body: JsonBody<CreateKey, SMALL>,
) -> Result<(StatusCode, Json<KeyView>), Problem> {
    let b = body.value;
    let issued = state
        .engine
        .create_own_key(&caller, b.label, b.allowed_ips)
        .await?;
    issued_view(&state, &caller, issued).await
}

async fn issued_view(
    state: &AppState,
    caller: &Caller,
    issued: smsgate_engine::accounts::IssuedKey,
) -> Result<(StatusCode, Json<KeyView>), Problem> {
    let keys = state.engine.own_keys(caller).await?;
    let info = keys
        .iter()
        .find(|k| k.id == issued.id)
        .ok_or_else(|| Problem::not_found("the new key is gone"))?;
    let mut view = KeyView::from(info);
    view.api_key = Some(issued.secret);
    Ok((StatusCode::CREATED, Json(view)))
}

/// Revoke one of the account's keys at once.
#[utoipa::path(delete, path = "/v1/keys/{id}", tag = "account", operation_id = "revoke_own_key", params(("id" = i64, Path)),
    responses((status = 200, body = KeyView), (status = 404, body = Problem)), security(("api_key" = [])))]
pub async fn revoke_key(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<KeyView>, Problem> {
    let info = state.engine.revoke_own_key(&caller, key_id(&id)?).await?;
    Ok(Json(KeyView::from(&info)))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Rotate {
    /// How long the old key keeps working, 0 to 2,592,000 seconds (30
    /// days); default 86,400 (a day).
    pub overlap_secs: Option<u64>,
}

/// Rotate a key: a new key with its label and networks, the old one
/// working until the overlap ends.
#[utoipa::path(post, path = "/v1/keys/{id}/rotate", tag = "account", operation_id = "rotate_own_key", params(("id" = i64, Path)),
    request_body = Rotate,
    responses((status = 201, body = KeyView), (status = 404, body = Problem), (status = 422, body = Problem)),
    security(("api_key" = [])))]
pub async fn rotate_key(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    body: JsonBody<Rotate, SMALL>,
) -> Result<(StatusCode, Json<KeyView>), Problem> {
    let overlap = body.value.overlap_secs.unwrap_or(24 * 3600);
    let (info, issued) = state
        .engine
        .rotate_own_key(&caller, key_id(&id)?, overlap)
        .await?;
    let mut view = KeyView::from(&info);
    view.api_key = Some(issued.secret);
    Ok((StatusCode::CREATED, Json(view)))
}
