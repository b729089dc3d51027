//! The admin API for carrier links: every connector's live state, and the
//! connectors and routes in force, changed without a restart.

use axum::Json;
use axum::extract::State;
use axum::routing::get;
use serde::Serialize;
use smsgate_engine::RoutingConfig;
use utoipa::ToSchema;

use crate::AppState;
use crate::extract::{Admin, JsonBody, SMALL};
use crate::problem::Problem;

pub fn routes() -> axum::Router<AppState> {
    axum::Router::new()
        .route("/admin/v1/connectors", get(list_connectors))
        .route("/admin/v1/routing", get(get_routing).put(set_routing))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ConnectorList {
    /// Per connector: kind, binds with their state, window use, last error
    /// and reconnect count, the rate in force, counters.
    #[schema(value_type = Vec<Object>)]
    pub data: Vec<serde_json::Value>,
}

/// Every connector's live state.
#[utoipa::path(get, path = "/admin/v1/connectors", tag = "admin",
    responses((status = 200, body = ConnectorList)), security(("admin_token" = [])))]
pub async fn list_connectors(
    State(state): State<AppState>,
    _: Admin,
) -> Result<Json<ConnectorList>, Problem> {
    Ok(Json(ConnectorList {
        data: state.engine.connector_statuses()?,
    }))
}

/// The connectors and routes in force.
#[utoipa::path(get, path = "/admin/v1/routing", tag = "admin",
    responses((status = 200, body = Object)), security(("admin_token" = [])))]
pub async fn get_routing(
    State(state): State<AppState>,
    _: Admin,
) -> Result<Json<RoutingConfig>, Problem> {
    Ok(Json(state.engine.routing().await?))
}

/// Replace the connectors and routes, without a restart. Connectors whose
/// settings are unchanged keep their binds. Kept in the database: from now
/// on they win over the config file's.
#[utoipa::path(put, path = "/admin/v1/routing", tag = "admin", request_body = Object,
    responses((status = 200, body = Object), (status = 422, body = Problem)), security(("admin_token" = [])))]
pub async fn set_routing(
    State(state): State<AppState>,
    _: Admin,
    body: JsonBody<RoutingConfig, SMALL>,
) -> Result<Json<RoutingConfig>, Problem> {
    state.engine.set_routing(body.value).await?;
    Ok(Json(state.engine.routing().await?))
}
