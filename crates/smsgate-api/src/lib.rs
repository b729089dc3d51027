//! smsgate's HTTP faces: the native API (`/v1`), the admin API
//! (`/admin/v1`), the OpenAPI document, health, readiness and metrics.
//!
//! Handlers parse the wire format, call the engine, and render the result;
//! they hold no business rules. Errors become RFC 9457 problems here and
//! nowhere else.

pub mod admin;
pub mod bodies;
pub mod connectors;
pub mod dialects;
mod docs;
pub mod extract;
pub mod ledger;
pub mod numbers;
pub mod openapi;
pub mod operators;
pub mod plans;
pub mod problem;
pub mod registry;
pub mod server;
pub mod statements;
pub mod usage;
pub mod v1;

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{StatusCode, header};
use axum::middleware;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use smsgate_engine::Engine;
use utoipa::OpenApi;

use problem::Problem;

/// Renders the Prometheus exposition text.
pub type MetricsRender = Arc<dyn Fn() -> String + Send + Sync>;

#[derive(Clone)]
pub struct AppState {
    pub engine: Engine,
    /// SHA-256 of the admin token.
    pub admin_token_hash: [u8; 32],
    pub metrics: Option<MetricsRender>,
    pub dialects: dialects::DialectsConfig,
    /// Deadlines and the budget of request bodies.
    pub bodies: bodies::BodyLimits,
}

impl AppState {
    /// Whether `token` is the operator's. Hashes are compared, so the
    /// comparison time says nothing of the token.
    pub fn is_admin_token(&self, token: &str) -> bool {
        smsgate_engine::accounts::hash_key(token) == self.admin_token_hash
    }
}

/// The whole HTTP surface.
pub fn router(state: AppState) -> axum::Router {
    axum::Router::new()
        .merge(dialects::routes(&state.dialects))
        .merge(v1::routes())
        .merge(admin::routes())
        .merge(plans::routes())
        .merge(connectors::routes())
        .merge(numbers::routes())
        .merge(registry::routes())
        .merge(operators::routes())
        .route("/l/{code}", get(short_link))
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics_text))
        .route(
            "/openapi.json",
            get(|State(state): State<AppState>| async move {
                openapi::Face::Native.answer(&state.dialects)
            }),
        )
        .route("/docs", get(docs::index))
        .route("/docs/{face}", get(docs::face))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(middleware::from_fn_with_state(state.clone(), bodies::guard))
        .with_state(state)
}

/// An internal failure behind an answer (a database error, a failed
/// random generator): carried on the response so that the guard logs it
/// once, with the request; never shown to the client.
#[derive(Debug, Clone)]
pub struct Internal(pub String);

/// A refusal for a rate limit, carried on a response of any face so that
/// every face answers it with the same headers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limited {
    pub retry_after_secs: u64,
    /// The bucket's size, when the refusal came from one.
    pub limit: Option<u32>,
}

impl Limited {
    pub fn of(e: &smsgate_core::limits::Exhausted) -> Limited {
        Limited {
            retry_after_secs: e.retry_after_secs,
            limit: Some(e.quota.limit),
        }
    }
}

/// `Retry-After` and `RateLimit-Limit/Remaining/Reset` on a response
/// refused for a rate limit, whichever face made it.
pub(crate) fn with_rate_limit_headers(mut response: Response) -> Response {
    if let Some(l) = response.extensions().get::<Limited>().copied() {
        let headers = response.headers_mut();
        headers.insert(header::RETRY_AFTER, l.retry_after_secs.into());
        if let Some(limit) = l.limit {
            headers.insert("ratelimit-limit", limit.into());
        }
        headers.insert("ratelimit-remaining", 0u32.into());
        headers.insert("ratelimit-reset", l.retry_after_secs.into());
    }
    response
}

/// A webhook of this smsgate (or another) aimed at its API would send a
/// message per event, each making more events, until the credits run out:
/// requests signed as webhook deliveries are refused before anything else.
pub(crate) fn refuse_webhook_loop() -> Response {
    metrics::counter!("smsgate_webhook_loops_refused_total").increment(1);
    Problem::new(
        StatusCode::FORBIDDEN,
        "webhook-loop",
        "A webhook delivery cannot call the API",
        "this request carries an smsgate-signature header: it is a webhook delivery, and \
         smsgate does not act on its own (or another smsgate's) webhooks",
    )
    .into_response()
}

async fn not_found() -> Problem {
    Problem::not_found("no such endpoint; see /openapi.json")
}

async fn method_not_allowed() -> Problem {
    Problem::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method-not-allowed",
        "Method not allowed",
        "this endpoint does not accept that method; see /openapi.json",
    )
}

/// A tracked short link: counts the click and redirects to the target.
async fn short_link(
    State(state): State<AppState>,
    axum::extract::Path(code): axum::extract::Path<String>,
    req: Request,
) -> Response {
    let client = extract::peer(req.extensions());
    match state.engine.click(&code, client).await {
        // Targets are checked when the link is made; one from before that
        // is not sent as a header it cannot be.
        Ok(Some(url)) => match axum::http::HeaderValue::from_str(&url) {
            Ok(location) => (StatusCode::FOUND, [(header::LOCATION, location)]).into_response(),
            Err(_) => Problem::not_found("no such link").into_response(),
        },
        Ok(None) => Problem::not_found("no such link").into_response(),
        Err(e) => Problem::from(e).into_response(),
    }
}

/// Liveness: the process answers.
async fn healthz() -> &'static str {
    "ok"
}

/// Readiness: the database answers.
async fn readyz(State(state): State<AppState>) -> Response {
    match state.engine.admin().queue_depth().await {
        Ok(depth) => axum::Json(serde_json::json!({
            "status": "ready",
            "queue": {"scheduled": depth.scheduled, "queued": depth.queued, "submitting": depth.submitting},
        }))
        .into_response(),
        Err(e) => Problem::unavailable(format!("the database does not answer: {e}")).into_response(),
    }
}

async fn metrics_text(State(state): State<AppState>) -> Response {
    match &state.metrics {
        Some(render) => (
            [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
            render(),
        )
            .into_response(),
        None => Problem::not_found("metrics are not enabled").into_response(),
    }
}

#[derive(OpenApi)]
#[openapi(
    info(title = "smsgate", description = "The native API of smsgate, a self-hostable SMS gateway. \
        Every 2xx means the request is on disk. Errors are RFC 9457 problem+json."),
    paths(
        v1::send_message, v1::preview_message, v1::list_messages, v1::get_message, v1::cancel_message,
        v1::send_batch, v1::get_batch, v1::balance,
        admin::create_account, admin::list_accounts, admin::get_account, admin::update_account,
        admin::create_key, admin::list_keys, admin::revoke_key, admin::update_key, admin::adjust_credits, admin::ledger,
        admin::list_prices, admin::set_price, admin::delete_price,
        plans::create_plan, plans::list_plans, plans::get_plan, plans::delete_plan, plans::make_default,
        plans::set_plan_price, plans::delete_plan_price, plans::account_prices, plans::set_account_price,
        plans::delete_account_price, plans::list_costs, plans::set_cost, plans::delete_cost,
        v1::subaccounts::create_subaccount, v1::subaccounts::list_subaccounts, v1::subaccounts::get_subaccount,
        v1::subaccounts::change_subaccount, v1::subaccounts::transfer, v1::subaccounts::create_own_plan,
        v1::subaccounts::list_own_plans, v1::subaccounts::set_own_plan_price, v1::subaccounts::delete_own_plan_price,
        ledger::own_ledger, ledger::subaccount_ledger,
        statements::own_statement, statements::subaccount_statement, statements::account_statement,
        usage::own_usage, usage::usage,
        v1::keys::list_keys, v1::keys::create_key, v1::keys::revoke_key, v1::keys::rotate_key,
        connectors::list_connectors, connectors::get_routing, connectors::set_routing,
        connectors::cluster,
        numbers::assign_number, numbers::list_numbers, numbers::unassign_number,
        numbers::assign_keyword, numbers::list_keywords, numbers::unassign_keyword,
        numbers::simulate_inbound,
        v1::inbound::list_inbound, v1::inbound::get_inbound, v1::events::list_events,
        v1::optout::list_suppressions, v1::optout::add_suppression, v1::optout::remove_suppression,
        v1::optout::import_suppressions, v1::optout::get_keywords, v1::optout::set_keywords,
        v1::optout::reset_keywords, v1::optout::erase_number, v1::optout::erase_account_number,
        v1::campaigns::create_campaign, v1::campaigns::list_campaigns, v1::campaigns::subscribe,
        v1::campaigns::unsubscribe, v1::campaigns::subscribers,
        registry::own_sender, registry::own_senders, registry::own_template, registry::own_templates,
        registry::account_sender, registry::account_senders, registry::account_template,
        registry::account_templates, registry::approve_sender, registry::approve_template,
        v1::webhooks::create_webhook, v1::webhooks::list_webhooks, v1::webhooks::update_webhook,
        v1::webhooks::delete_webhook, v1::webhooks::list_deliveries, v1::webhooks::replay,
        v1::webhooks::test,
        operators::login, operators::me, operators::own_tokens, operators::create_own_token,
        operators::revoke_own_token, operators::create_operator, operators::list_operators,
        operators::get_operator, operators::update_operator, operators::operator_tokens,
        operators::create_operator_token, operators::revoke_operator_token, operators::audit_log,
    ),
    tags(
        (name = "messages", description = "Send and follow messages"),
        (name = "batches", description = "Personalised bulk sends"),
        (name = "account", description = "The caller's account"),
        (name = "sub-accounts", description = "A reseller's own customers, funded from its balance and priced by its own plans"),
        (name = "admin", description = "Operator endpoints (the admin token or an operator's token; each role may do what docs/security.md says)"),
        (name = "opt-out", description = "Suppression list and opt-out keywords"),
        (name = "senders and templates", description = "Sender IDs and content templates, approved by the operator"),
    )
)]
pub struct ApiDoc;
