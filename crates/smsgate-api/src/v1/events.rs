//! `GET /v1/events`: the account's events, oldest first, for clients that
//! cannot receive webhooks. The same events, in the same JSON, as webhook
//! deliveries.

use axum::Json;
use axum::extract::{Query, State};
use serde::{Deserialize, Serialize};
use smsgate_engine::Caller;
use utoipa::{IntoParams, ToSchema};

use crate::AppState;
use crate::problem::Problem;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct EventsQuery {
    /// `next_cursor` of the previous page (an event id); from the start
    /// when absent.
    after: Option<String>,
    /// Page size, 1 to 500 (default 50).
    limit: Option<usize>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct EventPage {
    /// Events oldest first: `{id, type, created_at, sequence, data}`.
    #[schema(value_type = Vec<Object>)]
    pub data: Vec<serde_json::Value>,
    /// Pass as `after` for what comes next; stays the same when nothing
    /// new happened (poll with it).
    pub next_cursor: String,
}

/// The account's events after a cursor, oldest first.
#[utoipa::path(get, path = "/v1/events", tag = "events", params(EventsQuery),
    responses((status = 200, body = EventPage), (status = 422, body = Problem)),
    security(("api_key" = [])))]
pub async fn list_events(
    State(state): State<AppState>,
    caller: Caller,
    query: Result<Query<EventsQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<EventPage>, Problem> {
    let Query(q) = query.map_err(|e| Problem::invalid_field("query", e.body_text()))?;
    let limit = super::page_limit(q.limit)?;
    let ids = state.engine.event_ids();
    let after: i64 = match q.after.as_deref() {
        None => 0,
        Some(a) => ids
            .read(a)
            .ok_or_else(|| Problem::invalid_field("after", "not a cursor from this API"))?,
    };
    let events = state.engine.events(&caller, after, limit).await?;
    let next_cursor = ids.show(events.last().map_or(after, |e| e.id));
    Ok(Json(EventPage {
        data: events
            .iter()
            .map(|e| smsgate_engine::events::event_json(e, ids))
            .collect(),
        next_cursor,
    }))
}
