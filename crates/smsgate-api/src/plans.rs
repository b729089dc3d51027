//! `/admin/v1/plans`, accounts' own prices and connectors' cost prices:
//! what customers pay and what carriers charge.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::routing::{get, post, put};
use serde::{Deserialize, Serialize};
use smsgate_core::{Amount, PlanId, Price};
use smsgate_engine::By;
use smsgate_engine::records::{ConnectorCost, PriceList, RatePlan};
use utoipa::{IntoParams, ToSchema};

use crate::AppState;
use crate::admin::{PriceKey, PriceView, account_id};
use crate::extract::{Admin, JsonBody, SMALL};
use crate::problem::Problem;

pub fn routes() -> axum::Router<AppState> {
    axum::Router::new()
        .route("/admin/v1/plans", post(create_plan).get(list_plans))
        .route("/admin/v1/plans/{id}", get(get_plan).delete(delete_plan))
        .route("/admin/v1/plans/{id}/default", post(make_default))
        .route(
            "/admin/v1/plans/{id}/prices",
            put(set_plan_price).delete(delete_plan_price),
        )
        .route(
            "/admin/v1/accounts/{id}/prices",
            get(account_prices)
                .put(set_account_price)
                .delete(delete_account_price),
        )
        .route(
            "/admin/v1/costs",
            get(list_costs).put(set_cost).delete(delete_cost),
        )
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PlanView {
    pub id: i64,
    pub name: String,
    /// Accounts given no plan pay this one.
    pub is_default: bool,
    /// Accounts given this plan.
    pub accounts: u64,
    pub created_at: String,
    pub prices: Vec<PriceView>,
}

fn price_views(prices: Vec<Price>) -> Vec<PriceView> {
    prices
        .into_iter()
        .map(|p| PriceView {
            route_class: p.route_class,
            prefix: p.prefix,
            price: p.per_segment,
        })
        .collect()
}

pub(crate) fn price(p: PriceView) -> Price {
    Price {
        route_class: p.route_class,
        prefix: p.prefix,
        per_segment: p.price,
    }
}

impl From<RatePlan> for PlanView {
    fn from(p: RatePlan) -> PlanView {
        PlanView {
            id: p.id.0,
            name: p.name,
            is_default: p.is_default,
            accounts: p.accounts,
            created_at: p.created_at.to_rfc3339(),
            prices: price_views(p.prices),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PlanList {
    pub data: Vec<PlanView>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewPlan {
    /// 1 to 64 characters, unique.
    pub name: String,
}

pub(crate) fn plan_id(id: &str) -> Result<PlanId, Problem> {
    id.parse()
        .map(PlanId)
        .map_err(|_| Problem::not_found(format!("no rate plan with id {id:?}")))
}

/// Create a rate plan (a named price list; without prices every segment
/// costs the default price). Give it to accounts with
/// `PATCH /admin/v1/accounts/{id}` `{"plan": id}`.
#[utoipa::path(post, path = "/admin/v1/plans", tag = "admin", request_body = NewPlan,
    responses((status = 201, body = PlanView), (status = 409, body = Problem), (status = 422, body = Problem)),
    security(("admin_token" = [])))]
pub async fn create_plan(
    State(state): State<AppState>,
    Admin(by): Admin,
    body: JsonBody<NewPlan, SMALL>,
) -> Result<(StatusCode, Json<PlanView>), Problem> {
    let plan = state
        .engine
        .create_plan(&by, &body.value.name, None)
        .await?;
    Ok((StatusCode::CREATED, Json(plan.into())))
}

#[utoipa::path(get, path = "/admin/v1/plans", tag = "admin",
    responses((status = 200, body = PlanList)), security(("admin_token" = [])))]
pub async fn list_plans(
    State(state): State<AppState>,
    _: Admin,
) -> Result<Json<PlanList>, Problem> {
    let plans = state.engine.rate_plans(None).await?;
    Ok(Json(PlanList {
        data: plans.into_iter().map(PlanView::from).collect(),
    }))
}

#[utoipa::path(get, path = "/admin/v1/plans/{id}", tag = "admin", params(("id" = i64, Path)),
    responses((status = 200, body = PlanView), (status = 404, body = Problem)), security(("admin_token" = [])))]
pub async fn get_plan(
    State(state): State<AppState>,
    _: Admin,
    Path(id): Path<String>,
) -> Result<Json<PlanView>, Problem> {
    Ok(Json(state.engine.rate_plan(plan_id(&id)?).await?.into()))
}

/// Remove a plan no account is on (not the default one).
#[utoipa::path(delete, path = "/admin/v1/plans/{id}", tag = "admin", params(("id" = i64, Path)),
    responses((status = 204), (status = 404, body = Problem), (status = 409, body = Problem)),
    security(("admin_token" = [])))]
pub async fn delete_plan(
    State(state): State<AppState>,
    Admin(by): Admin,
    Path(id): Path<String>,
) -> Result<StatusCode, Problem> {
    state.engine.delete_plan(&by, plan_id(&id)?).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Make the plan the default: accounts given no plan pay it from their
/// next send.
#[utoipa::path(post, path = "/admin/v1/plans/{id}/default", tag = "admin", params(("id" = i64, Path)),
    responses((status = 200, body = PlanView), (status = 404, body = Problem)), security(("admin_token" = [])))]
pub async fn make_default(
    State(state): State<AppState>,
    Admin(by): Admin,
    Path(id): Path<String>,
) -> Result<Json<PlanView>, Problem> {
    let id = plan_id(&id)?;
    state.engine.set_default_plan(&by, id).await?;
    Ok(Json(state.engine.rate_plan(id).await?.into()))
}

/// Sets a price in `list` as given; answers it back.
async fn put_price(
    state: &AppState,
    by: &By,
    list: PriceList,
    p: PriceView,
) -> Result<Json<PriceView>, Problem> {
    state
        .engine
        .set_list_price(by, list, price(p.clone()))
        .await?;
    Ok(Json(p))
}

/// Removes the price the query names from `list`: 204, or 404 when there
/// was none.
async fn remove_price(
    state: &AppState,
    by: &By,
    list: PriceList,
    query: Result<Query<PriceKey>, axum::extract::rejection::QueryRejection>,
) -> Result<StatusCode, Problem> {
    let Query(k) = query.map_err(|e| Problem::invalid_field("query", e.body_text()))?;
    if let PriceList::Plan(id) = list {
        state.engine.rate_plan(id).await?;
    }
    if state
        .engine
        .delete_list_price(by, list, &k.route_class, &k.prefix)
        .await?
    {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(k.not_found())
    }
}

type PriceQuery = Result<Query<PriceKey>, axum::extract::rejection::QueryRejection>;

/// Set a plan's price per segment for a route class and destination
/// prefix (the longest prefix wins).
#[utoipa::path(put, path = "/admin/v1/plans/{id}/prices", tag = "admin", params(("id" = i64, Path)),
    request_body = PriceView,
    responses((status = 200, body = PriceView), (status = 404, body = Problem), (status = 422, body = Problem)),
    security(("admin_token" = [])))]
pub async fn set_plan_price(
    State(state): State<AppState>,
    Admin(by): Admin,
    Path(id): Path<String>,
    body: JsonBody<PriceView, SMALL>,
) -> Result<Json<PriceView>, Problem> {
    put_price(&state, &by, PriceList::Plan(plan_id(&id)?), body.value).await
}

#[utoipa::path(delete, path = "/admin/v1/plans/{id}/prices", tag = "admin",
    params(("id" = i64, Path), PriceKey),
    responses((status = 204), (status = 404, body = Problem)), security(("admin_token" = [])))]
pub async fn delete_plan_price(
    State(state): State<AppState>,
    Admin(by): Admin,
    Path(id): Path<String>,
    query: PriceQuery,
) -> Result<StatusCode, Problem> {
    remove_price(&state, &by, PriceList::Plan(plan_id(&id)?), query).await
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AccountPriceList {
    /// The account's own prices, on top of its plan's.
    pub data: Vec<PriceView>,
}

#[utoipa::path(get, path = "/admin/v1/accounts/{id}/prices", tag = "admin", params(("id" = i64, Path)),
    responses((status = 200, body = AccountPriceList), (status = 404, body = Problem)),
    security(("admin_token" = [])))]
pub async fn account_prices(
    State(state): State<AppState>,
    _: Admin,
    Path(id): Path<String>,
) -> Result<Json<AccountPriceList>, Problem> {
    let id = account_id(&id)?;
    state.engine.admin().account(id).await?;
    let prices = state.engine.list_prices(PriceList::Account(id)).await?;
    Ok(Json(AccountPriceList {
        data: price_views(prices),
    }))
}

/// Set one of the account's own prices: within its route class it comes
/// before every price of its plan, whatever their prefixes.
#[utoipa::path(put, path = "/admin/v1/accounts/{id}/prices", tag = "admin", params(("id" = i64, Path)),
    request_body = PriceView,
    responses((status = 200, body = PriceView), (status = 404, body = Problem), (status = 422, body = Problem)),
    security(("admin_token" = [])))]
pub async fn set_account_price(
    State(state): State<AppState>,
    Admin(by): Admin,
    Path(id): Path<String>,
    body: JsonBody<PriceView, SMALL>,
) -> Result<Json<PriceView>, Problem> {
    put_price(
        &state,
        &by,
        PriceList::Account(account_id(&id)?),
        body.value,
    )
    .await
}

#[utoipa::path(delete, path = "/admin/v1/accounts/{id}/prices", tag = "admin",
    params(("id" = i64, Path), PriceKey),
    responses((status = 204), (status = 404, body = Problem)), security(("admin_token" = [])))]
pub async fn delete_account_price(
    State(state): State<AppState>,
    Admin(by): Admin,
    Path(id): Path<String>,
    query: PriceQuery,
) -> Result<StatusCode, Problem> {
    remove_price(&state, &by, PriceList::Account(account_id(&id)?), query).await
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CostView {
    /// The connector's name (as in the routing).
    pub connector: String,
    /// E.164 digits without `+`; `""` matches every destination.
    pub prefix: String,
    /// What its carrier charges per segment.
    #[schema(value_type = String, example = "0.0120")]
    pub cost: Amount,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CostList {
    /// A message sent through a connector with no cost for its
    /// destination is recorded as costing nothing.
    pub data: Vec<CostView>,
}

#[utoipa::path(get, path = "/admin/v1/costs", tag = "admin",
    responses((status = 200, body = CostList)), security(("admin_token" = [])))]
pub async fn list_costs(
    State(state): State<AppState>,
    _: Admin,
) -> Result<Json<CostList>, Problem> {
    let costs = state.engine.connector_costs().await?;
    Ok(Json(CostList {
        data: costs
            .into_iter()
            .map(|c| CostView {
                connector: c.connector,
                prefix: c.prefix,
                cost: c.per_segment,
            })
            .collect(),
    }))
}

/// Set what a connector's carrier charges per segment to a destination
/// prefix: recorded with every message sent there from now on.
#[utoipa::path(put, path = "/admin/v1/costs", tag = "admin", request_body = CostView,
    responses((status = 200, body = CostView), (status = 422, body = Problem)), security(("admin_token" = [])))]
pub async fn set_cost(
    State(state): State<AppState>,
    Admin(by): Admin,
    body: JsonBody<CostView, SMALL>,
) -> Result<Json<CostView>, Problem> {
    let c = body.value;
    state
        .engine
        .set_connector_cost(
            &by,
            ConnectorCost {
                connector: c.connector.clone(),
                prefix: c.prefix.clone(),
                per_segment: c.cost,
            },
        )
        .await?;
    Ok(Json(c))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct CostKey {
    connector: String,
    prefix: String,
}

#[utoipa::path(delete, path = "/admin/v1/costs", tag = "admin", params(CostKey),
    responses((status = 204), (status = 404, body = Problem)), security(("admin_token" = [])))]
pub async fn delete_cost(
    State(state): State<AppState>,
    Admin(by): Admin,
    query: Result<Query<CostKey>, axum::extract::rejection::QueryRejection>,
) -> Result<StatusCode, Problem> {
    let Query(k) = query.map_err(|e| Problem::invalid_field("query", e.body_text()))?;
    if state
        .engine
        .delete_connector_cost(&by, &k.connector, &k.prefix)
        .await?
    {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(Problem::not_found(format!(
            "no cost for connector {:?} and prefix {:?}",
            k.connector, k.prefix
        )))
    }
}
