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
        .route("/admin/v1/cluster", get(cluster))
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

#[derive(Debug, Serialize, ToSchema)]
pub struct Cluster {
    /// The node that answered.
    pub this_node: i64,
    /// Nodes alive, and those that ended in the last hour; newest first.
    pub nodes: Vec<Node>,
    /// Who holds which connector (its binds).
    pub leases: Vec<Lease>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Node {
    pub id: i64,
    pub name: String,
    /// Where its API listens.
    pub address: String,
    pub started_at: String,
    /// Its last heartbeat.
    pub beat_at: String,
    /// When it stopped, or was found dead by another node.
    pub ended_at: Option<String>,
    pub alive: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Lease {
    pub connector: String,
    pub node: i64,
    pub node_name: String,
    pub taken_at: String,
    /// Renewed by every heartbeat of its node; another node may take the
    /// connector after this.
    pub expires_at: String,
    /// Whether the connector can take messages at its node.
    pub available: bool,
}

/// The nodes serving the database: their heartbeats, and who holds which
/// connector.
#[utoipa::path(get, path = "/admin/v1/cluster", tag = "admin",
    responses((status = 200, body = Cluster)), security(("admin_token" = [])))]
pub async fn cluster(State(state): State<AppState>, _: Admin) -> Result<Json<Cluster>, Problem> {
    let view = state.engine.admin().cluster().await?;
    Ok(Json(Cluster {
        this_node: view.this_node.map_or(0, |n| n.0),
        nodes: view
            .nodes
            .into_iter()
            .map(|n| Node {
                id: n.id.0,
                name: n.name,
                address: n.address,
                started_at: n.started_at.to_rfc3339(),
                beat_at: n.beat_at.to_rfc3339(),
                ended_at: n.ended_at.map(|t| t.to_rfc3339()),
                alive: n.ended_at.is_none(),
            })
            .collect(),
        leases: view
            .leases
            .into_iter()
            .map(|l| Lease {
                connector: l.connector,
                node: l.node.0,
                node_name: l.node_name,
                taken_at: l.taken_at.to_rfc3339(),
                expires_at: l.expires_at.to_rfc3339(),
                available: l.available,
            })
            .collect(),
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
    Admin(by): Admin,
    body: JsonBody<RoutingConfig, SMALL>,
) -> Result<Json<RoutingConfig>, Problem> {
    state.engine.set_routing(&by, body.value).await?;
    Ok(Json(state.engine.routing().await?))
}
