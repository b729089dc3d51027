//! Opt-out: the account's suppression list (numbers it must not send to)
//! and the keywords with which recipients opt out and back in.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use serde::{Deserialize, Serialize};
use smsgate_core::optout::{OptOutAction, OptOutKeywords};
use smsgate_engine::By;
use smsgate_engine::Caller;
use smsgate_engine::inbound::ImportOutcome;
use smsgate_engine::records::Suppression;
use utoipa::{IntoParams, ToSchema};

use crate::AppState;
use crate::extract::{JsonBody, LARGE, SMALL, parse_json};
use crate::problem::Problem;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct SuppressionQuery {
    /// `next_cursor` of the previous page.
    cursor: Option<String>,
    /// Page size, 1 to 500 (default 50).
    limit: Option<usize>,
}

/// A number the account does not send to.
#[derive(Debug, Serialize, ToSchema)]
pub struct SuppressionView {
    #[schema(example = "+31612345678")]
    pub number: String,
    /// `keyword` (the recipient sent one), `api` or `import`.
    #[schema(example = "keyword")]
    pub source: String,
    /// The word the recipient sent, for `keyword`.
    pub keyword: Option<String>,
    pub created_at: String,
}

impl From<&Suppression> for SuppressionView {
    fn from(s: &Suppression) -> Self {
        SuppressionView {
            number: s.number.clone(),
            source: s.source.as_str().into(),
            keyword: s.keyword.clone(),
            created_at: s.created_at.to_rfc3339(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SuppressionPage {
    pub data: Vec<SuppressionView>,
    /// Pass as `cursor` for the next page; absent on the last page.
    pub next_cursor: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AddSuppression {
    /// E.164, international digits, or national with the account's
    /// default country.
    #[schema(example = "+31612345678")]
    pub number: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SuppressionChange {
    pub number: String,
    /// False when the number was already on the list.
    pub changed: bool,
}

/// What an import did.
#[derive(Debug, Serialize, ToSchema)]
pub struct ImportView {
    pub added: usize,
    /// Numbers that were on the list already.
    pub already: usize,
    /// Lines that are not numbers, each with its reason; they change nothing.
    #[schema(value_type = Vec<Object>)]
    pub invalid: Vec<smsgate_engine::inbound::InvalidLine>,
}

impl From<ImportOutcome> for ImportView {
    fn from(o: ImportOutcome) -> Self {
        ImportView {
            added: o.added,
            already: o.already,
            invalid: o.invalid,
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ImportJson {
    pub numbers: Vec<String>,
}

/// The account's opt-out and opt-in keywords.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct KeywordLists {
    /// Words that put the sender on the suppression list.
    #[schema(example = json!(["STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT"]))]
    pub stop: Vec<String>,
    /// Words that take the sender off it again.
    #[schema(example = json!(["START", "UNSTOP"]))]
    pub start: Vec<String>,
}

impl From<&OptOutKeywords> for KeywordLists {
    fn from(k: &OptOutKeywords) -> Self {
        KeywordLists {
            stop: k.stop().to_vec(),
            start: k.start().to_vec(),
        }
    }
}

/// The account's suppression list, in number order.
#[utoipa::path(get, path = "/v1/suppressions", tag = "opt-out", params(SuppressionQuery),
    responses((status = 200, body = SuppressionPage), (status = 422, body = Problem)),
    security(("api_key" = [])))]
pub async fn list_suppressions(
    State(state): State<AppState>,
    caller: Caller,
    query: Result<Query<SuppressionQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<SuppressionPage>, Problem> {
    let Query(q) = query.map_err(|e| Problem::invalid_field("query", e.body_text()))?;
    let limit = super::page_limit(q.limit)?;
    let mut rows = state
        .engine
        .suppressions(caller.account, q.cursor, limit + 1)
        .await?;
    let next_cursor = if rows.len() > limit {
        rows.truncate(limit);
        rows.last().map(|s| s.number.clone())
    } else {
        None
    };
    Ok(Json(SuppressionPage {
        data: rows.iter().map(SuppressionView::from).collect(),
        next_cursor,
    }))
}

/// Put a number on the suppression list: sends to it are refused, per
/// recipient and without charge, until it is removed or the recipient
/// opts back in.
#[utoipa::path(post, path = "/v1/suppressions", tag = "opt-out", request_body = AddSuppression,
    responses((status = 201, description = "Added", body = SuppressionChange),
        (status = 200, description = "Already on the list", body = SuppressionChange),
        (status = 422, body = Problem)),
    security(("api_key" = [])))]
pub async fn add_suppression(
    State(state): State<AppState>,
    caller: Caller,
    body: JsonBody<AddSuppression, SMALL>,
) -> Result<(StatusCode, Json<SuppressionChange>), Problem> {
    let (number, changed) = state
        .engine
        .set_suppressed(
            &By::customer(&caller),
            caller.account,
            &body.value.number,
            OptOutAction::OptOut,
        )
        .await?;
    let status = if changed {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((
        status,
        Json(SuppressionChange {
            number: number.to_string(),
            changed,
        }),
    ))
}

/// Take a number off the suppression list.
#[utoipa::path(delete, path = "/v1/suppressions/{number}", tag = "opt-out",
    params(("number" = String, Path, description = "The number, as when it was added")),
    responses((status = 204), (status = 404, body = Problem), (status = 422, body = Problem)),
    security(("api_key" = [])))]
pub async fn remove_suppression(
    State(state): State<AppState>,
    caller: Caller,
    Path(number): Path<String>,
) -> Result<StatusCode, Problem> {
    let (number, changed) = state
        .engine
        .set_suppressed(
            &By::customer(&caller),
            caller.account,
            &number,
            OptOutAction::OptIn,
        )
        .await?;
    if changed {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(Problem::not_found(format!(
            "{number} is not on the suppression list"
        )))
    }
}

/// Add many numbers: a text or CSV body with one number per line (the
/// first column; a header line and `#` comments are skipped), or JSON
/// `{"numbers": [...]}`. At most 100,000 numbers.
#[utoipa::path(post, path = "/v1/suppressions/import", tag = "opt-out",
    request_body(content = String, content_type = "text/csv"),
    responses((status = 200, body = ImportView), (status = 413, body = Problem), (status = 422, body = Problem)),
    security(("api_key" = [])))]
pub async fn import_suppressions(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    body: Result<Bytes, axum::extract::rejection::BytesRejection>,
) -> Result<Json<ImportView>, Problem> {
    let body = body.map_err(|e| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            Problem::too_large(LARGE)
        } else {
            Problem::invalid_field("body", e.body_text())
        }
    })?;
    let is_json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    let text = if is_json {
        parse_json::<ImportJson>(&body)?.numbers.join("\n")
    } else {
        String::from_utf8(body.to_vec())
            .map_err(|_| Problem::invalid_field("body", "must be UTF-8 text"))?
    };
    let outcome = state
        .engine
        .import_suppressions(&By::customer(&caller), caller.account, &text)
        .await?;
    Ok(Json(outcome.into()))
}

/// The account's opt-out and opt-in keywords.
#[utoipa::path(get, path = "/v1/optout/keywords", tag = "opt-out",
    responses((status = 200, body = KeywordLists)), security(("api_key" = [])))]
pub async fn get_keywords(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<KeywordLists>, Problem> {
    let account = super::own_account(&state, &caller).await?;
    Ok(Json(KeywordLists::from(&account.optout_keywords)))
}

/// Replace the keyword lists (single words, any case; `stop` must not be
/// empty and no word may be in both).
#[utoipa::path(put, path = "/v1/optout/keywords", tag = "opt-out", request_body = KeywordLists,
    responses((status = 200, body = KeywordLists), (status = 422, body = Problem)),
    security(("api_key" = [])))]
pub async fn set_keywords(
    State(state): State<AppState>,
    caller: Caller,
    body: JsonBody<KeywordLists, SMALL>,
) -> Result<Json<KeywordLists>, Problem> {
    let KeywordLists { stop, start } = body.value;
    let k = state
        .engine
        .set_optout_keywords(&By::customer(&caller), caller.account, Some((stop, start)))
        .await?;
    Ok(Json(KeywordLists::from(&k)))
}

/// Go back to the default lists.
#[utoipa::path(delete, path = "/v1/optout/keywords", tag = "opt-out",
    responses((status = 200, body = KeywordLists)), security(("api_key" = [])))]
pub async fn reset_keywords(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<KeywordLists>, Problem> {
    let k = state
        .engine
        .set_optout_keywords(&By::customer(&caller), caller.account, None)
        .await?;
    Ok(Json(KeywordLists::from(&k)))
}

/// What erasing a number's data removed.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct ErasedView {
    /// The number, as read (E.164).
    pub number: String,
    /// Messages to it whose text and click targets were removed.
    pub messages: u64,
    /// Messages to it still waiting to be sent, kept whole: cancel them,
    /// or erase again once they are sent.
    pub pending: u64,
    /// Inbound messages from it whose text was removed.
    pub inbound: u64,
}

fn erased_view(number: &str, e: smsgate_engine::records::Erased) -> ErasedView {
    ErasedView {
        number: number.to_string(),
        messages: e.messages,
        pending: e.pending,
        inbound: e.inbound,
    }
}

/// Erase what your account keeps of a number (GDPR): the texts of your
/// messages to it and their click targets, the texts of its messages to
/// you. Statuses, prices and statements stay, and so does its
/// suppression entry; the erasure is in the audit log with the number
/// masked.
#[utoipa::path(delete, path = "/v1/numbers/{number}/data", tag = "opt-out",
    params(("number" = String, Path, description = "E.164, or national in the account's country")),
    responses((status = 200, body = ErasedView), (status = 422, body = Problem)),
    security(("api_key" = [])))]
pub async fn erase_number(
    State(state): State<AppState>,
    caller: Caller,
    Path(number): Path<String>,
) -> Result<axum::Json<ErasedView>, Problem> {
    let erased = state
        .engine
        .erase_number(&By::customer(&caller), caller.account, &number)
        .await?;
    Ok(axum::Json(erased_view(&number, erased)))
}

/// Erase what an account keeps of a number (an operator's act for a
/// data subject's request).
#[utoipa::path(delete, path = "/admin/v1/accounts/{id}/numbers/{number}/data", tag = "admin",
    params(("id" = i64, Path), ("number" = String, Path)),
    responses((status = 200, body = ErasedView), (status = 404, body = Problem), (status = 422, body = Problem)),
    security(("admin_token" = [])))]
pub async fn erase_account_number(
    State(state): State<AppState>,
    crate::extract::Admin(by): crate::extract::Admin,
    Path((id, number)): Path<(String, String)>,
) -> Result<axum::Json<ErasedView>, Problem> {
    let account = id
        .parse()
        .map(smsgate_core::AccountId)
        .map_err(|_| Problem::not_found("account not found"))?;
    let erased = state.engine.erase_number(&by, account, &number).await?;
    Ok(axum::Json(erased_view(&number, erased)))
}
