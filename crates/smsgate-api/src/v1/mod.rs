//! The native API, `/v1`: send, preview, batches, messages, balance.
//! Authenticated with `Authorization: Bearer <api key>`.

pub mod campaigns;
pub mod events;
pub mod inbound;
pub mod keys;
pub mod model;
pub mod optout;
pub mod subaccounts;
pub mod webhooks;

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use sha2::{Digest, Sha256};
use smsgate_core::send::{Recipient, limits};
use smsgate_core::{BatchId, MessageId, SendRequest, Status, credits::STANDARD_ROUTE};
use smsgate_engine::Caller;
use smsgate_engine::records::{Idempotency, MessageFilter, NewBatch};
use utoipa::IntoParams;

use crate::AppState;
use crate::extract::{JsonBody, LARGE, SMALL};
use crate::problem::{Problem, recipients};
use model::*;

pub fn routes() -> axum::Router<AppState> {
    axum::Router::new()
        .route("/v1/messages", post(send_message).get(list_messages))
        .route("/v1/messages/preview", post(preview_message))
        .route("/v1/messages/{id}", get(get_message).delete(cancel_message))
        .route("/v1/batches", post(send_batch))
        .route("/v1/batches/{id}", get(get_batch))
        .route("/v1/balance", get(balance))
        .route(
            "/v1/subaccounts",
            post(subaccounts::create_subaccount).get(subaccounts::list_subaccounts),
        )
        .route(
            "/v1/subaccounts/{id}",
            get(subaccounts::get_subaccount).patch(subaccounts::change_subaccount),
        )
        .route(
            "/v1/subaccounts/{id}/transfers",
            post(subaccounts::transfer),
        )
        .route(
            "/v1/subaccounts/{id}/ledger",
            get(crate::ledger::subaccount_ledger),
        )
        .route("/v1/ledger", get(crate::ledger::own_ledger))
        .route("/v1/usage", get(crate::usage::own_usage))
        .route(
            "/v1/statements/{month}",
            get(crate::statements::own_statement),
        )
        .route(
            "/v1/subaccounts/{id}/statements/{month}",
            get(crate::statements::subaccount_statement),
        )
        .route("/v1/keys", get(keys::list_keys).post(keys::create_key))
        .route("/v1/keys/{id}", axum::routing::delete(keys::revoke_key))
        .route("/v1/keys/{id}/rotate", post(keys::rotate_key))
        .route(
            "/v1/plans",
            post(subaccounts::create_own_plan).get(subaccounts::list_own_plans),
        )
        .route(
            "/v1/plans/{id}/prices",
            axum::routing::put(subaccounts::set_own_plan_price)
                .delete(subaccounts::delete_own_plan_price),
        )
        .route(
            "/v1/campaigns",
            get(campaigns::list_campaigns).post(campaigns::create_campaign),
        )
        .route(
            "/v1/campaigns/{ref}/subscribers",
            get(campaigns::subscribers).post(campaigns::subscribe),
        )
        .route(
            "/v1/campaigns/{ref}/subscribers/{number}",
            axum::routing::delete(campaigns::unsubscribe),
        )
        .route("/v1/inbound", get(inbound::list_inbound))
        .route("/v1/inbound/{id}", get(inbound::get_inbound))
        .route(
            "/v1/suppressions",
            get(optout::list_suppressions).post(optout::add_suppression),
        )
        .route(
            "/v1/suppressions/{number}",
            axum::routing::delete(optout::remove_suppression),
        )
        .route(
            "/v1/numbers/{number}/data",
            axum::routing::delete(optout::erase_number),
        )
        .route(
            "/admin/v1/accounts/{id}/numbers/{number}/data",
            axum::routing::delete(optout::erase_account_number),
        )
        .route(
            "/v1/suppressions/import",
            post(optout::import_suppressions).layer(axum::extract::DefaultBodyLimit::max(LARGE)),
        )
        .route(
            "/v1/optout/keywords",
            get(optout::get_keywords)
                .put(optout::set_keywords)
                .delete(optout::reset_keywords),
        )
        .route("/v1/events", get(events::list_events))
        .route(
            "/v1/webhooks",
            post(webhooks::create_webhook).get(webhooks::list_webhooks),
        )
        .route(
            "/v1/webhooks/{id}",
            axum::routing::patch(webhooks::update_webhook).delete(webhooks::delete_webhook),
        )
        .route(
            "/v1/webhooks/{id}/deliveries",
            get(webhooks::list_deliveries),
        )
        .route("/v1/webhooks/{id}/replay", post(webhooks::replay))
        .route("/v1/webhooks/{id}/test", post(webhooks::test))
}

const MAX_IDEMPOTENCY_KEY: usize = 255;

fn idempotency(
    headers: &HeaderMap,
    path: &str,
    body: &[u8],
) -> Result<Option<Idempotency>, Problem> {
    let Some(value) = headers.get("idempotency-key") else {
        return Ok(None);
    };
    let key = value
        .to_str()
        .ok()
        .filter(|k| !k.is_empty() && k.len() <= MAX_IDEMPOTENCY_KEY)
        .ok_or_else(|| {
            Problem::invalid_field(
                "Idempotency-Key",
                "must be 1 to 255 visible ASCII characters",
            )
        })?;
    let mut h = Sha256::new();
    h.update(path.as_bytes());
    h.update([0]);
    h.update(body);
    Ok(Some(Idempotency {
        key: key.to_string(),
        fingerprint: h.finalize().into(),
    }))
}

fn send_request(m: SendMessage) -> Result<SendRequest, Problem> {
    Ok(SendRequest {
        recipients: m
            .to
            .0
            .into_iter()
            .map(|to| Recipient { to, text: None })
            .collect(),
        from: m.from,
        text: m.text,
        encoding: m.encoding,
        schedule_at: parse_time("schedule_at", m.schedule_at.as_deref())?,
        category: m.category,
        route_class: STANDARD_ROUTE.into(),
        reference: m.reference,
        validity_secs: m.validity,
        max_recipients: limits::MAX_RECIPIENTS,
        in_reply_to: m
            .in_reply_to
            .map(|id| {
                id.parse()
                    .map_err(|_| Problem::invalid_field("in_reply_to", "not an inbound message id"))
            })
            .transpose()?,
        callback_url: m.callback_url,
        template_id: m.template_id,
        campaign_ref: m.campaign_ref,
        click_tracking: m.click_tracking,
        priority: m.priority,
        ..SendRequest::default()
    })
}

fn accepted(a: &smsgate_engine::records::Acceptance) -> Response {
    let mut headers = HeaderMap::new();
    if a.replayed {
        headers.insert(
            "idempotent-replayed",
            "true".parse().expect("static header"),
        );
    }
    // One message: where to follow it.
    if let [only] = a.messages.as_slice()
        && let Ok(location) = format!("/v1/messages/{}", only.id).parse()
    {
        headers.insert(axum::http::header::LOCATION, location);
    }
    (StatusCode::ACCEPTED, headers, Json(SendResponse::from(a))).into_response()
}

/// Send one text to one or more recipients.
///
/// Answers after the messages and their charge are on disk. Recipients
/// that cannot be sent to are listed in `rejected` and not charged.
#[utoipa::path(post, path = "/v1/messages", tag = "messages", request_body = SendMessage,
    params(("Idempotency-Key" = Option<String>, Header, description = "Replays the first answer for 24 h; the same key with another body is refused")),
    responses(
        (status = 202, description = "Accepted and stored", body = SendResponse,
            headers(("Location" = String, description = "`/v1/messages/{id}`, when one message was accepted"))),
        (status = 400, description = "Malformed JSON", body = Problem),
        (status = 401, description = "Missing, unknown or revoked key", body = Problem),
        (status = 402, description = "Not enough credits", body = Problem),
        (status = 413, description = "Body too large", body = Problem),
        (status = 422, description = "Invalid request, no valid recipient, or idempotency conflict", body = Problem),
    ),
    security(("api_key" = [])))]
pub async fn send_message(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    body: JsonBody<SendMessage, SMALL>,
) -> Result<Response, Problem> {
    let idem = idempotency(&headers, "/v1/messages", &body.raw)?;
    let req = send_request(body.value)?;
    let acceptance = state.engine.send(&caller, req, None, idem).await?;
    Ok(accepted(&acceptance))
}

/// Encoding, segments and cost of a send, without sending or charging.
#[utoipa::path(post, path = "/v1/messages/preview", tag = "messages", request_body = SendMessage,
    responses((status = 200, body = PreviewResponse), (status = 422, body = Problem)),
    security(("api_key" = [])))]
pub async fn preview_message(
    State(state): State<AppState>,
    caller: Caller,
    body: JsonBody<SendMessage, SMALL>,
) -> Result<Json<PreviewResponse>, Problem> {
    let plan = state
        .engine
        .preview(&caller, send_request(body.value)?)
        .await?;
    Ok(Json(PreviewResponse {
        messages: plan
            .messages
            .iter()
            .map(|m| PreviewItem {
                to: m.to.to_string(),
                segments: m.segments.parts,
                encoding: m.segments.encoding.as_str().into(),
                cost: m.cost,
            })
            .collect(),
        rejected: recipients(plan.rejected),
        total_cost: plan.total_cost,
    }))
}

/// Send personalised texts: up to 10,000 items in one request.
///
/// The envelope (sender, options) is validated as a whole; each item is
/// accepted or refused on its own.
#[utoipa::path(post, path = "/v1/batches", tag = "batches", request_body = SendBatch,
    params(("Idempotency-Key" = Option<String>, Header, description = "As for /v1/messages")),
    responses((status = 202, body = SendResponse), (status = 402, body = Problem), (status = 413, body = Problem), (status = 422, body = Problem)),
    security(("api_key" = [])))]
pub async fn send_batch(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    body: JsonBody<SendBatch, LARGE>,
) -> Result<Response, Problem> {
    let idem = idempotency(&headers, "/v1/batches", &body.raw)?;
    let b = body.value;
    let req = SendRequest {
        recipients: b
            .items
            .into_iter()
            .map(|i| Recipient {
                to: i.to,
                text: i.text,
            })
            .collect(),
        from: b.from,
        text: b.text,
        encoding: b.encoding,
        schedule_at: parse_time("schedule_at", b.schedule_at.as_deref())?,
        category: b.category,
        route_class: STANDARD_ROUTE.into(),
        reference: b.reference.clone(),
        validity_secs: b.validity,
        priority: 0,
        max_recipients: limits::MAX_BATCH_ITEMS,
        in_reply_to: None,
        callback_url: b.callback_url,
        template_id: b.template_id,
        ..SendRequest::default()
    };
    let batch = NewBatch {
        id: BatchId::generate(),
        reference: b.reference,
    };
    let acceptance = state.engine.send(&caller, req, Some(batch), idem).await?;
    Ok(accepted(&acceptance))
}

/// A list's page size: 1 to 500, 50 unless asked.
pub(crate) fn page_limit(limit: Option<usize>) -> Result<usize, Problem> {
    let limit = limit.unwrap_or(50);
    if !(1..=500).contains(&limit) {
        return Err(Problem::invalid_field("limit", "must be between 1 and 500"));
    }
    Ok(limit)
}

/// A list's cursor: the id of the last item of the previous page.
pub(crate) fn cursor<T: std::str::FromStr>(cursor: Option<&str>) -> Result<Option<T>, Problem> {
    cursor
        .map(|c| {
            c.parse()
                .map_err(|_| Problem::invalid_field("cursor", "not a cursor from this API"))
        })
        .transpose()
}

fn parse_id<T: std::str::FromStr>(what: &str, id: &str) -> Result<T, Problem> {
    id.parse()
        .map_err(|_| Problem::not_found(format!("no {what} with id {id:?}")))
}

/// A message with its status and its history.
#[utoipa::path(get, path = "/v1/messages/{id}", tag = "messages",
    params(("id" = String, Path, description = "Message id")),
    responses((status = 200, body = MessageView), (status = 404, body = Problem)),
    security(("api_key" = [])))]
pub async fn get_message(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<MessageView>, Problem> {
    let mid: MessageId = parse_id("message", &id)?;
    let detail = state
        .engine
        .message(&caller, mid)
        .await?
        .ok_or_else(|| Problem::not_found(format!("no message with id {id:?}")))?;
    Ok(Json(MessageView::detailed(&detail)))
}

/// Cancel a message that has not been sent yet; its charge is refunded.
#[utoipa::path(delete, path = "/v1/messages/{id}", tag = "messages",
    params(("id" = String, Path, description = "Message id")),
    responses((status = 200, body = CancelResponse), (status = 404, body = Problem), (status = 409, description = "Already sent or final", body = Problem)),
    security(("api_key" = [])))]
pub async fn cancel_message(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<CancelResponse>, Problem> {
    let mid: MessageId = parse_id("message", &id)?;
    let (refunded, balance) = state.engine.cancel(&caller, mid).await?;
    Ok(Json(CancelResponse {
        id: mid.to_string(),
        status: Status::Canceled.to_string(),
        refunded,
        balance,
    }))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    /// Only messages in this status.
    status: Option<String>,
    /// Only messages to this number (E.164).
    to: Option<String>,
    batch_id: Option<String>,
    reference: Option<String>,
    /// Created at or after this RFC 3339 time.
    since: Option<String>,
    /// Created before this RFC 3339 time.
    until: Option<String>,
    /// `next_cursor` of the previous page.
    cursor: Option<String>,
    /// Page size, 1 to 500 (default 50).
    limit: Option<usize>,
}

/// Messages of the account, newest first, with cursor pagination.
#[utoipa::path(get, path = "/v1/messages", tag = "messages", params(ListQuery),
    responses((status = 200, body = MessagePage), (status = 422, body = Problem)),
    security(("api_key" = [])))]
pub async fn list_messages(
    State(state): State<AppState>,
    caller: Caller,
    query: Result<Query<ListQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<MessagePage>, Problem> {
    let Query(q) = query.map_err(|e| Problem::invalid_field("query", e.body_text()))?;
    let limit = page_limit(q.limit)?;
    let status = match q.status.as_deref() {
        None => None,
        Some(s) => Some(
            Status::parse(s)
                .ok_or_else(|| Problem::invalid_field("status", format!("unknown status {s:?}")))?,
        ),
    };
    let batch = match q.batch_id.as_deref() {
        None => None,
        Some(b) => Some(
            b.parse::<BatchId>()
                .map_err(|_| Problem::invalid_field("batch_id", "not a batch id"))?,
        ),
    };
    let before: Option<MessageId> = cursor(q.cursor.as_deref())?;
    let to = match q.to {
        None => None,
        Some(t) => Some(
            smsgate_core::Msisdn::parse(&t, caller.default_country)
                .map_err(|e| Problem::invalid_field("to", e.to_string()))?
                .to_string(),
        ),
    };
    let filter = MessageFilter {
        offset: 0,
        status,
        to,
        batch,
        reference: q.reference,
        since: parse_time("since", q.since.as_deref())?,
        until: parse_time("until", q.until.as_deref())?,
        before,
        limit: limit + 1,
    };
    let mut rows = state.engine.messages(&caller, filter).await?;
    let next_cursor = if rows.len() > limit {
        rows.truncate(limit);
        rows.last().map(|m| m.id.to_string())
    } else {
        None
    };
    Ok(Json(MessagePage {
        data: rows.iter().map(MessageView::new).collect(),
        next_cursor,
    }))
}

/// A batch with its message counts per status.
#[utoipa::path(get, path = "/v1/batches/{id}", tag = "batches",
    params(("id" = String, Path, description = "Batch id")),
    responses((status = 200, body = BatchView), (status = 404, body = Problem)),
    security(("api_key" = [])))]
pub async fn get_batch(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<BatchView>, Problem> {
    let bid: BatchId = parse_id("batch", &id)?;
    let b = state
        .engine
        .batch(&caller, bid)
        .await?
        .ok_or_else(|| Problem::not_found(format!("no batch with id {id:?}")))?;
    Ok(Json(BatchView {
        id: b.id.to_string(),
        reference: b.reference,
        accepted: b.accepted,
        rejected: b.rejected,
        created_at: b.created_at.to_rfc3339(),
        statuses: b
            .statuses
            .into_iter()
            .map(|(s, n)| (s.to_string(), n.into()))
            .collect(),
    }))
}

/// The caller's account as it is now.
pub(crate) async fn own_account(
    state: &AppState,
    caller: &Caller,
) -> Result<smsgate_engine::records::Account, Problem> {
    state.engine.own_account(caller).await.map_err(|e| match e {
        smsgate_engine::EngineError::NotFound(_) => {
            Problem::not_found("the account no longer exists")
        }
        other => other.into(),
    })
}

/// The account's credit balance.
#[utoipa::path(get, path = "/v1/balance", tag = "account",
    responses((status = 200, body = BalanceView), (status = 401, body = Problem)),
    security(("api_key" = [])))]
pub async fn balance(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<BalanceView>, Problem> {
    let account = own_account(&state, &caller).await?;
    let balances = if account.split_balances {
        let by_category = state.engine.category_balances(&caller).await?;
        Some(
            by_category
                .into_iter()
                .map(|(c, b)| (c.as_str().to_string(), b.to_string().into()))
                .collect(),
        )
    } else {
        None
    };
    Ok(Json(BalanceView {
        account_id: account.id.0,
        name: account.name,
        balance: account.balance,
        balances,
    }))
}
