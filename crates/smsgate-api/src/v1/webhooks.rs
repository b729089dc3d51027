//! `/v1/webhooks`: an account's webhook endpoints, and their delivery log.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use smsgate_core::Timestamp;
use smsgate_core::kinds::EndpointKind;
use smsgate_engine::By;
use smsgate_engine::Caller;
use smsgate_engine::records::{DeliveryRecord, Replay, WebhookEndpoint};
use utoipa::ToSchema;

use crate::AppState;
use crate::extract::{JsonBody, SMALL};
use crate::problem::Problem;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewWebhook {
    #[schema(example = "https://example.com/smsgate")]
    pub url: String,
    /// Event types wanted; all when absent or empty.
    #[serde(default)]
    #[schema(example = json!(["message.delivered", "inbound.received"]))]
    pub events: Vec<String>,
    /// Deliveries in flight to this endpoint at most (1 to 64, default 4).
    pub max_concurrency: Option<u32>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WebhookPatch {
    pub enabled: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookView {
    /// Opaque (`wh_` and 32 hex digits); never reused.
    #[schema(example = "wh_8c1f0e5a9d3b47e2a6f1c0d9b8e7a654")]
    pub id: String,
    /// `endpoint`, or `callbacks`: the one smsgate makes for the account's
    /// per-message `callback_url`s (its `url` is empty; each delivery goes
    /// to its message's URL, signed with its `secret`).
    #[schema(example = "endpoint")]
    pub kind: String,
    pub url: String,
    /// Signs every delivery: `smsgate-signature: t=<unix>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`.
    pub secret: String,
    pub events: Vec<String>,
    pub enabled: bool,
    pub max_concurrency: u32,
    pub created_at: String,
}

impl From<&WebhookEndpoint> for WebhookView {
    fn from(w: &WebhookEndpoint) -> Self {
        WebhookView {
            id: w.id.to_string(),
            kind: w.kind.as_str().into(),
            url: w.url.clone(),
            secret: w.secret.clone(),
            events: w.events.iter().map(|e| e.as_str().to_string()).collect(),
            enabled: w.enabled,
            max_concurrency: w.max_concurrency,
            created_at: w.created_at.to_rfc3339(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookList {
    pub data: Vec<WebhookView>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DeliveryLog {
    /// Newest first: event, status (`pending`, `delivered`, `dead`),
    /// attempts with their HTTP status and latency.
    #[schema(value_type = Vec<Object>)]
    pub data: Vec<DeliveryRecord>,
}

/// Add a webhook endpoint.
#[utoipa::path(post, path = "/v1/webhooks", tag = "webhooks", request_body = NewWebhook,
    responses((status = 201, body = WebhookView), (status = 422, body = Problem)),
    security(("api_key" = [])))]
pub async fn create_webhook(
    State(state): State<AppState>,
    caller: Caller,
    body: JsonBody<NewWebhook, SMALL>,
) -> Result<(StatusCode, Json<WebhookView>), Problem> {
    let b = body.value;
    let w = state
        .engine
        .create_webhook(
            &By::customer(&caller),
            caller.account,
            &b.url,
            &b.events,
            b.max_concurrency,
        )
        .await?;
    Ok((StatusCode::CREATED, Json(WebhookView::from(&w))))
}

#[utoipa::path(get, path = "/v1/webhooks", tag = "webhooks",
    responses((status = 200, body = WebhookList)), security(("api_key" = [])))]
pub async fn list_webhooks(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<WebhookList>, Problem> {
    let all = state.engine.webhooks(&caller).await?;
    Ok(Json(WebhookList {
        data: all.iter().map(WebhookView::from).collect(),
    }))
}

/// Enable or disable an endpoint. Events that happen while it is disabled
/// are not delivered to it.
#[utoipa::path(patch, path = "/v1/webhooks/{id}", tag = "webhooks", request_body = WebhookPatch,
    params(("id" = String, Path)),
    responses((status = 200, body = WebhookView), (status = 404, body = Problem)),
    security(("api_key" = [])))]
pub async fn update_webhook(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    body: JsonBody<WebhookPatch, SMALL>,
) -> Result<Json<WebhookView>, Problem> {
    let endpoint = state
        .engine
        .set_webhook_enabled(
            &By::customer(&caller),
            caller.account,
            &id,
            body.value.enabled,
        )
        .await?;
    Ok(Json(WebhookView::from(&endpoint)))
}

/// Remove an endpoint; deliveries still pending for it end dead.
#[utoipa::path(delete, path = "/v1/webhooks/{id}", tag = "webhooks", params(("id" = String, Path)),
    responses((status = 204), (status = 404, body = Problem)), security(("api_key" = [])))]
pub async fn delete_webhook(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<StatusCode, Problem> {
    state
        .engine
        .delete_webhook(&By::customer(&caller), caller.account, &id)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// An endpoint's deliveries, newest first, with every attempt.
#[utoipa::path(get, path = "/v1/webhooks/{id}/deliveries", tag = "webhooks",
    params(("id" = String, Path)),
    responses((status = 200, body = DeliveryLog), (status = 404, body = Problem)),
    security(("api_key" = [])))]
pub async fn list_deliveries(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<DeliveryLog>, Problem> {
    Ok(Json(DeliveryLog {
        data: state
            .engine
            .webhook_deliveries(caller.account, &id, 200)
            .await?,
    }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReplayRequest {
    /// One event to deliver again, by id…
    pub event_id: Option<String>,
    /// …or every event created in `[since, until)` (RFC 3339).
    pub since: Option<String>,
    pub until: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Queued {
    /// Deliveries made (events of types the endpoint does not want are
    /// skipped).
    pub deliveries: usize,
}

/// Deliver past events to the endpoint again: one event, or a time range.
#[utoipa::path(post, path = "/v1/webhooks/{id}/replay", tag = "webhooks", request_body = ReplayRequest,
    params(("id" = String, Path)),
    responses((status = 202, body = Queued), (status = 404, body = Problem), (status = 422, body = Problem)),
    security(("api_key" = [])))]
pub async fn replay(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    body: JsonBody<ReplayRequest, SMALL>,
) -> Result<(StatusCode, Json<Queued>), Problem> {
    let endpoint = state.engine.webhook(caller.account, &id).await?;
    let time = |field: &'static str, v: &Option<String>| -> Result<Option<Timestamp>, Problem> {
        v.as_deref()
            .map(|s| {
                Timestamp::parse_rfc3339(s)
                    .ok_or_else(|| Problem::invalid_field(field, "must be an RFC 3339 time"))
            })
            .transpose()
    };
    let b = body.value;
    let which = match (
        &b.event_id,
        time("since", &b.since)?,
        time("until", &b.until)?,
    ) {
        (Some(e), None, None) => Replay::Event(
            state
                .engine
                .event_ids()
                .read(e)
                .ok_or_else(|| Problem::invalid_field("event_id", "not an event id"))?,
        ),
        (None, Some(since), until) => Replay::Range {
            since,
            until: until.unwrap_or_else(|| Timestamp::now().plus_millis(1)),
        },
        _ => {
            return Err(Problem::invalid_field(
                "event_id",
                "give either event_id, or since (and optionally until)",
            ));
        }
    };
    let deliveries = state.engine.replay_webhook(endpoint, which).await?;
    Ok((StatusCode::ACCEPTED, Json(Queued { deliveries })))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TestQueued {
    pub event_id: String,
}

/// Send a `webhook.test` event to this endpoint alone.
#[utoipa::path(post, path = "/v1/webhooks/{id}/test", tag = "webhooks", params(("id" = String, Path)),
    responses((status = 202, body = TestQueued), (status = 404, body = Problem)),
    security(("api_key" = [])))]
pub async fn test(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<(StatusCode, Json<TestQueued>), Problem> {
    let endpoint = state.engine.webhook(caller.account, &id).await?;
    if endpoint.kind == EndpointKind::Callbacks {
        return Err(Problem::new(
            StatusCode::CONFLICT,
            "no-url",
            "Endpoint has no URL",
            "the callbacks endpoint posts to each message's callback_url; send a message with one to test it",
        ));
    }
    let event = state.engine.test_webhook(endpoint).await?;
    Ok((
        StatusCode::ACCEPTED,
        Json(TestQueued {
            event_id: state.engine.event_ids().show(event),
        }),
    ))
}
