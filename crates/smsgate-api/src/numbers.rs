//! The admin API for inbound routing: which account receives the inbound
//! messages sent to a number, or to a keyword on a shared number; and
//! inbound messages made up by the simulator, for trying all of it out.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{delete, get, post};
use serde::{Deserialize, Serialize};
use smsgate_core::AccountId;
use smsgate_engine::records::{KeywordAssignment, NumberAssignment};
use utoipa::ToSchema;

use crate::AppState;
use crate::extract::{Admin, JsonBody, SMALL};
use crate::problem::Problem;
use crate::v1::inbound::InboundView;

pub fn routes() -> axum::Router<AppState> {
    axum::Router::new()
        .route("/admin/v1/numbers", get(list_numbers).post(assign_number))
        .route("/admin/v1/numbers/{number}", delete(unassign_number))
        .route(
            "/admin/v1/keywords",
            get(list_keywords).post(assign_keyword),
        )
        .route(
            "/admin/v1/keywords/{number}/{keyword}",
            delete(unassign_keyword),
        )
        .route("/admin/v1/simulator/inbound", post(simulate_inbound))
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
    Admin(by): Admin,
    body: JsonBody<AssignNumber, SMALL>,
) -> Result<(StatusCode, Json<NumberView>), Problem> {
    let n = state
        .engine
        .assign_number(&by, &body.value.number, AccountId(body.value.account_id))
        .await?;
    Ok((StatusCode::CREATED, Json(NumberView::from(&n))))
}

#[utoipa::path(get, path = "/admin/v1/numbers", tag = "admin",
    responses((status = 200, body = NumberList)), security(("admin_token" = [])))]
pub async fn list_numbers(
    State(state): State<AppState>,
    _: Admin,
) -> Result<Json<NumberList>, Problem> {
    let numbers = state.engine.admin().numbers().await?;
    Ok(Json(NumberList {
        data: numbers.iter().map(NumberView::from).collect(),
    }))
}

#[utoipa::path(delete, path = "/admin/v1/numbers/{number}", tag = "admin",
    params(("number" = String, Path, description = "The number, digits")),
    responses((status = 204), (status = 404, body = Problem)), security(("admin_token" = [])))]
pub async fn unassign_number(
    State(state): State<AppState>,
    Admin(by): Admin,
    Path(number): Path<String>,
) -> Result<StatusCode, Problem> {
    if state.engine.unassign_number(&by, &number).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(Problem::not_found(format!(
            "number {number:?} is not assigned"
        )))
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AssignKeyword {
    /// The shared number (digits, `+` optional) or short code.
    #[schema(example = "4400")]
    pub number: String,
    /// One word; inbound texts to `number` starting with it (any case)
    /// belong to the account.
    #[schema(example = "ACME")]
    pub keyword: String,
    pub account_id: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct KeywordView {
    pub number: String,
    pub keyword: String,
    pub account_id: i64,
    pub created_at: String,
}

impl From<&KeywordAssignment> for KeywordView {
    fn from(k: &KeywordAssignment) -> Self {
        KeywordView {
            number: k.number.clone(),
            keyword: k.keyword.clone(),
            account_id: k.account_id.0,
            created_at: k.created_at.to_rfc3339(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct KeywordList {
    pub data: Vec<KeywordView>,
}

/// Route inbound texts to a shared number that start with a keyword to an
/// account (ahead of the number's owner).
#[utoipa::path(post, path = "/admin/v1/keywords", tag = "admin", request_body = AssignKeyword,
    responses((status = 201, body = KeywordView), (status = 404, body = Problem), (status = 422, body = Problem)),
    security(("admin_token" = [])))]
pub async fn assign_keyword(
    State(state): State<AppState>,
    Admin(by): Admin,
    body: JsonBody<AssignKeyword, SMALL>,
) -> Result<(StatusCode, Json<KeywordView>), Problem> {
    let b = body.value;
    let k = state
        .engine
        .assign_keyword(&by, &b.number, &b.keyword, AccountId(b.account_id))
        .await?;
    Ok((StatusCode::CREATED, Json(KeywordView::from(&k))))
}

#[utoipa::path(get, path = "/admin/v1/keywords", tag = "admin",
    responses((status = 200, body = KeywordList)), security(("admin_token" = [])))]
pub async fn list_keywords(
    State(state): State<AppState>,
    _: Admin,
) -> Result<Json<KeywordList>, Problem> {
    let keywords = state.engine.keywords().await?;
    Ok(Json(KeywordList {
        data: keywords.iter().map(KeywordView::from).collect(),
    }))
}

#[utoipa::path(delete, path = "/admin/v1/keywords/{number}/{keyword}", tag = "admin",
    params(("number" = String, Path), ("keyword" = String, Path)),
    responses((status = 204), (status = 404, body = Problem), (status = 422, body = Problem)),
    security(("admin_token" = [])))]
pub async fn unassign_keyword(
    State(state): State<AppState>,
    Admin(by): Admin,
    Path((number, keyword)): Path<(String, String)>,
) -> Result<StatusCode, Problem> {
    if state
        .engine
        .unassign_keyword(&by, &number, &keyword)
        .await?
    {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(Problem::not_found(format!(
            "keyword {keyword:?} is not assigned on {number:?}"
        )))
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SimulatedInbound {
    /// The mobile's number, digits (`+` optional).
    #[schema(example = "31612345678")]
    pub from: String,
    /// The number or short code it was sent to.
    #[schema(example = "4400")]
    pub to: String,
    #[schema(example = "STOP")]
    pub text: String,
}

/// An inbound message as if the simulator's carrier had delivered it:
/// routed by number and keyword, checked for opt-out keywords, stored and
/// evented exactly like one from a carrier.
#[utoipa::path(post, path = "/admin/v1/simulator/inbound", tag = "admin", request_body = SimulatedInbound,
    responses((status = 201, body = InboundView), (status = 422, body = Problem)),
    security(("admin_token" = [])))]
pub async fn simulate_inbound(
    State(state): State<AppState>,
    _: Admin,
    body: JsonBody<SimulatedInbound, SMALL>,
) -> Result<(StatusCode, Json<InboundView>), Problem> {
    let b = body.value;
    let m = state
        .engine
        .simulate_inbound(&b.from, &b.to, &b.text)
        .await?;
    Ok((StatusCode::CREATED, Json(InboundView::from(&m))))
}
