//! `/v1/subaccounts` and `/v1/plans`: a reseller's own customers, funded
//! from its balance and priced by its own plans.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use smsgate_core::{AccountId, Amount, PlanId};
use smsgate_engine::records::Account;
use smsgate_engine::{AccountRequest, Caller};
use utoipa::ToSchema;

use crate::AppState;
use crate::admin::{PriceKey, PriceView};
use crate::extract::{JsonBody, SMALL};
use crate::plans::{PlanList, PlanView, plan_id, price};
use crate::problem::Problem;

#[derive(Debug, Serialize, ToSchema)]
pub struct SubaccountView {
    pub id: i64,
    pub name: String,
    #[schema(example = "active")]
    pub status: String,
    #[schema(value_type = String, example = "12.0000")]
    pub balance: Amount,
    /// One of your plans (`/v1/plans`); null: it pays your prices.
    pub plan: Option<i64>,
    pub created_at: String,
    /// Only when it is created: its first API key. Shown once.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub api_key: Option<String>,
}

impl From<&Account> for SubaccountView {
    fn from(a: &Account) -> Self {
        SubaccountView {
            id: a.id.0,
            name: a.name.clone(),
            status: a.status.as_str().into(),
            balance: a.balance,
            plan: a.plan.map(|p| p.0),
            created_at: a.created_at.to_rfc3339(),
            api_key: None,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SubaccountList {
    pub data: Vec<SubaccountView>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewSubaccount {
    /// Unique among all accounts.
    pub name: String,
    /// Password for login-based dialects (at least 8 characters).
    pub password: Option<String>,
    /// ISO 3166-1 alpha-2 country for national numbers, e.g. `NL`.
    pub default_country: Option<String>,
}

pub(crate) fn subaccount_id(id: &str) -> Result<AccountId, Problem> {
    id.parse()
        .map(AccountId)
        .map_err(|_| Problem::not_found(format!("no sub-account with id {id:?}")))
}

/// Create a sub-account (one of your customers) with its first API key.
/// It starts with no credits (fund it with a transfer) and pays your
/// prices until you give it one of your plans.
#[utoipa::path(post, path = "/v1/subaccounts", tag = "sub-accounts", request_body = NewSubaccount,
    responses((status = 201, body = SubaccountView), (status = 409, body = Problem), (status = 422, body = Problem)),
    security(("api_key" = [])))]
pub async fn create_subaccount(
    State(state): State<AppState>,
    caller: Caller,
    body: JsonBody<NewSubaccount, SMALL>,
) -> Result<(StatusCode, Json<SubaccountView>), Problem> {
    let b = body.value;
    let (account, key) = state
        .engine
        .create_subaccount(
            &caller,
            AccountRequest {
                name: b.name,
                password: b.password,
                default_country: b.default_country,
                ..AccountRequest::default()
            },
        )
        .await?;
    let mut view = SubaccountView::from(&account);
    view.api_key = Some(key.secret);
    Ok((StatusCode::CREATED, Json(view)))
}

#[utoipa::path(get, path = "/v1/subaccounts", tag = "sub-accounts",
    responses((status = 200, body = SubaccountList)), security(("api_key" = [])))]
pub async fn list_subaccounts(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<SubaccountList>, Problem> {
    let children = state.engine.subaccounts(&caller).await?;
    Ok(Json(SubaccountList {
        data: children.iter().map(SubaccountView::from).collect(),
    }))
}

#[utoipa::path(get, path = "/v1/subaccounts/{id}", tag = "sub-accounts", params(("id" = i64, Path)),
    responses((status = 200, body = SubaccountView), (status = 404, body = Problem)), security(("api_key" = [])))]
pub async fn get_subaccount(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<SubaccountView>, Problem> {
    let child = state
        .engine
        .subaccount(&caller, subaccount_id(&id)?)
        .await?;
    Ok(Json(SubaccountView::from(&child)))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChangeSubaccount {
    /// `active` or `disabled`.
    pub status: Option<String>,
    /// One of your plans, or null: your prices.
    #[serde(default, deserialize_with = "some")]
    #[schema(value_type = Option<i64>)]
    pub plan: Option<Option<PlanId>>,
}

/// A field present (even `null`) is `Some`.
fn some<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Option<PlanId>>, D::Error> {
    Option::<PlanId>::deserialize(d).map(Some)
}

/// Disable or enable a sub-account, or give it one of your plans: in
/// force for its next send.
#[utoipa::path(patch, path = "/v1/subaccounts/{id}", tag = "sub-accounts", params(("id" = i64, Path)),
    request_body = ChangeSubaccount,
    responses((status = 200, body = SubaccountView), (status = 404, body = Problem), (status = 422, body = Problem)),
    security(("api_key" = [])))]
pub async fn change_subaccount(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    body: JsonBody<ChangeSubaccount, SMALL>,
) -> Result<Json<SubaccountView>, Problem> {
    let b = body.value;
    let child = state
        .engine
        .change_subaccount(&caller, subaccount_id(&id)?, b.status, b.plan)
        .await?;
    Ok(Json(SubaccountView::from(&child)))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewTransfer {
    /// Credits to give it; negative to take them back.
    #[schema(value_type = String, example = "25.0000")]
    pub amount: Amount,
    /// Kept in both ledger entries.
    pub note: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TransferDone {
    /// Your balance after.
    #[schema(value_type = String, example = "75.0000")]
    pub balance: Amount,
    /// The sub-account's balance after.
    #[schema(value_type = String, example = "25.0000")]
    pub subaccount_balance: Amount,
}

/// Move credits between your balance and a sub-account's: two ledger
/// entries (`transfer`) in one transaction, or nothing.
#[utoipa::path(post, path = "/v1/subaccounts/{id}/transfers", tag = "sub-accounts", params(("id" = i64, Path)),
    request_body = NewTransfer,
    responses((status = 201, body = TransferDone), (status = 402, body = Problem), (status = 404, body = Problem),
        (status = 422, body = Problem)),
    security(("api_key" = [])))]
pub async fn transfer(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    body: JsonBody<NewTransfer, SMALL>,
) -> Result<(StatusCode, Json<TransferDone>), Problem> {
    let b = body.value;
    let (balance, subaccount_balance) = state
        .engine
        .transfer(&caller, subaccount_id(&id)?, b.amount, b.note)
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(TransferDone {
            balance,
            subaccount_balance,
        }),
    ))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewOwnPlan {
    /// 1 to 64 characters, unique among your plans.
    pub name: String,
}

/// Create a plan of your own for your sub-accounts; without prices it
/// costs what you pay.
#[utoipa::path(post, path = "/v1/plans", tag = "sub-accounts", request_body = NewOwnPlan,
    responses((status = 201, body = PlanView), (status = 409, body = Problem), (status = 422, body = Problem)),
    security(("api_key" = [])))]
pub async fn create_own_plan(
    State(state): State<AppState>,
    caller: Caller,
    body: JsonBody<NewOwnPlan, SMALL>,
) -> Result<(StatusCode, Json<PlanView>), Problem> {
    let plan = state
        .engine
        .create_own_plan(&caller, &body.value.name)
        .await?;
    Ok((StatusCode::CREATED, Json(plan.into())))
}

#[utoipa::path(get, path = "/v1/plans", tag = "sub-accounts",
    responses((status = 200, body = PlanList)), security(("api_key" = [])))]
pub async fn list_own_plans(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<PlanList>, Problem> {
    let plans = state.engine.own_plans(&caller).await?;
    Ok(Json(PlanList {
        data: plans.into_iter().map(PlanView::from).collect(),
    }))
}

/// Set a price of one of your plans: refused (422) where the plan would
/// be below what you pay yourself.
#[utoipa::path(put, path = "/v1/plans/{id}/prices", tag = "sub-accounts", params(("id" = i64, Path)),
    request_body = PriceView,
    responses((status = 200, body = PriceView), (status = 422, body = Problem)), security(("api_key" = [])))]
pub async fn set_own_plan_price(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    body: JsonBody<PriceView, SMALL>,
) -> Result<Json<PriceView>, Problem> {
    let p = body.value;
    state
        .engine
        .set_own_plan_price(&caller, plan_id(&id)?, price(p.clone()))
        .await?;
    Ok(Json(p))
}

#[utoipa::path(delete, path = "/v1/plans/{id}/prices", tag = "sub-accounts", params(("id" = i64, Path), PriceKey),
    responses((status = 204), (status = 404, body = Problem), (status = 422, body = Problem)), security(("api_key" = [])))]
pub async fn delete_own_plan_price(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    query: Result<Query<PriceKey>, axum::extract::rejection::QueryRejection>,
) -> Result<StatusCode, Problem> {
    let Query(k) = query.map_err(|e| Problem::invalid_field("query", e.body_text()))?;
    if state
        .engine
        .delete_own_plan_price(&caller, plan_id(&id)?, &k.route_class, &k.prefix)
        .await?
    {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(k.not_found())
    }
}
