//! `GET /v1/inbound`: messages sent to the account's numbers (and
//! keywords), with the replies sent to each.

use axum::Json;
use axum::extract::{Path, Query, State};
use serde::{Deserialize, Serialize};
use smsgate_core::InboundId;
use smsgate_core::optout::OptOutAction;
use smsgate_engine::Caller;
use smsgate_engine::records::InboundRecord;
use utoipa::{IntoParams, ToSchema};

use crate::AppState;
use crate::problem::Problem;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct InboundQuery {
    /// `next_cursor` of the previous page.
    cursor: Option<String>,
    /// Page size, 1 to 500 (default 50).
    limit: Option<usize>,
}

/// One inbound (mobile-originated) message.
#[derive(Debug, Serialize, ToSchema)]
pub struct InboundView {
    pub id: String,
    /// The sender's number, as the carrier wrote it.
    pub from: String,
    /// The account's number it was sent to.
    pub to: String,
    pub text: String,
    /// Parts it arrived in (reassembled).
    pub parts: u32,
    pub connector: String,
    pub received_at: String,
    /// `opt_out` or `opt_in` when the text was one of the account's
    /// opt-out keywords.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>, example = "opt_out")]
    pub optout: Option<OptOutAction>,
    /// Ids of the messages sent in reply (only on `GET /v1/inbound/{id}`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub replies: Option<Vec<String>>,
}

impl From<&InboundRecord> for InboundView {
    fn from(m: &InboundRecord) -> Self {
        InboundView {
            id: m.id.to_string(),
            from: m.from.clone(),
            to: m.to.clone(),
            text: m.text.clone(),
            parts: m.parts,
            connector: m.connector.clone(),
            received_at: m.received_at.to_rfc3339(),
            optout: m.optout,
            replies: None,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct InboundPage {
    pub data: Vec<InboundView>,
    /// Pass as `cursor` for the next page; absent on the last page.
    pub next_cursor: Option<String>,
}

/// Inbound messages to the account's numbers, newest first.
#[utoipa::path(get, path = "/v1/inbound", tag = "inbound", params(InboundQuery),
    responses((status = 200, body = InboundPage), (status = 422, body = Problem)),
    security(("api_key" = [])))]
pub async fn list_inbound(
    State(state): State<AppState>,
    caller: Caller,
    query: Result<Query<InboundQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<InboundPage>, Problem> {
    let Query(q) = query.map_err(|e| Problem::invalid_field("query", e.body_text()))?;
    let limit = super::page_limit(q.limit)?;
    let before: Option<InboundId> = super::cursor(q.cursor.as_deref())?;
    let mut rows = state.engine.inbound(&caller, before, limit + 1).await?;
    let next_cursor = if rows.len() > limit {
        rows.truncate(limit);
        rows.last().map(|m| m.id.to_string())
    } else {
        None
    };
    Ok(Json(InboundPage {
        data: rows.iter().map(InboundView::from).collect(),
        next_cursor,
    }))
}

/// One inbound message with the ids of the messages sent in reply
/// (`in_reply_to` on a send).
#[utoipa::path(get, path = "/v1/inbound/{id}", tag = "inbound",
    params(("id" = String, Path, description = "Inbound message id")),
    responses((status = 200, body = InboundView), (status = 404, body = Problem)),
    security(("api_key" = [])))]
pub async fn get_inbound(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<InboundView>, Problem> {
    let id: InboundId = id
        .parse()
        .map_err(|_| Problem::not_found(format!("no inbound message with id {id:?}")))?;
    let (m, replies) = state.engine.inbound_message(caller.account, id).await?;
    Ok(Json(InboundView {
        replies: Some(replies.iter().map(ToString::to_string).collect()),
        ..InboundView::from(&m)
    }))
}
