//! The admin API for numbers: which account receives the inbound messages
//! sent to a number.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{delete, get};
use serde::{Deserialize, Serialize};
use smsgate_core::AccountId;
use smsgate_store::NumberAssignment;
use utoipa::ToSchema;

use crate::AppState;
use crate::extract::{Admin, JsonBody, SMALL};
use crate::problem::Problem;

pub fn routes() -> axum::Router<AppState> {
    axum::Router::new()
        .route("/admin/v1/numbers", get(list_numbers).post(assign_number))
        .route("/admin/v1/numbers/{number}", delete(unassign_number))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AssignNumber {
    /// A number in E.164 (`+` optional) or a short code: digits only.
    #[schema(example = "+3197010000001")]
    pub number: String,
    pub account_id: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct NumberView {
    pub number: String,
    pub account_id: i64,
    pub created_at: String,
}

impl From<&NumberAssignment> for NumberView {
    fn from(n: &NumberAssignment) -> Self {
        NumberView {
            number: n.number.clone(),
            account_id: n.account_id.0,
            created_at: n.created_at.to_rfc3339(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct NumberList {
    pub data: Vec<NumberView>,
}

/// Route a number's inbound messages to an account (replacing its owner).
#[utoipa::path(post, path = "/admin/v1/numbers", tag = "admin", request_body = AssignNumber,
    responses((status = 201, body = NumberView), (status = 404, body = Problem), (status = 422, body = Problem)),
    security(("admin_token" = [])))]
pub async fn assign_number(
    State(state): State<AppState>,
    _: Admin,
    body: JsonBody<AssignNumber, SMALL>,
) -> Result<(StatusCode, Json<NumberView>), Problem> {
    let n = state
        .engine
        .assign_number(&body.value.number, AccountId(body.value.account_id))
        .await?;
    Ok((StatusCode::CREATED, Json(NumberView::from(&n))))
}

#[utoipa::path(get, path = "/admin/v1/numbers", tag = "admin",
    responses((status = 200, body = NumberList)), security(("admin_token" = [])))]
pub async fn list_numbers(
    State(state): State<AppState>,
    _: Admin,
) -> Result<Json<NumberList>, Problem> {
    let numbers = state.engine.store().numbers().await?;
    Ok(Json(NumberList {
        data: numbers.iter().map(NumberView::from).collect(),
    }))
}

#[utoipa::path(delete, path = "/admin/v1/numbers/{number}", tag = "admin",
    params(("number" = String, Path, description = "The number, digits")),
    responses((status = 204), (status = 404, body = Problem)), security(("admin_token" = [])))]
pub async fn unassign_number(
    State(state): State<AppState>,
    _: Admin,
    Path(number): Path<String>,
) -> Result<StatusCode, Problem> {
    let digits = number.trim_start_matches('+');
    if state.engine.store().unassign_number(digits).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(Problem::not_found(format!(
            "number {number:?} is not assigned"
        )))
    }
}
