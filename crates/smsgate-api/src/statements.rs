//! Monthly statements, as JSON or CSV, the same on every face that shows
//! one: the caller's own, a sub-account's to its parent, any account's to
//! the operator.

use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use smsgate_core::timestamp::Month;
use smsgate_core::{AccountId, Amount};
use smsgate_engine::Caller;
use smsgate_engine::records::Statement;
use utoipa::{IntoParams, ToSchema};

use crate::AppState;
use crate::extract::Admin;
use crate::problem::Problem;

#[derive(Debug, Serialize, ToSchema)]
pub struct StatementView {
    pub account_id: i64,
    /// `YYYY-MM`, in UTC.
    #[schema(example = "2026-11")]
    pub month: String,
    pub from: String,
    pub to: String,
    #[schema(value_type = String, example = "100.0000")]
    pub opening_balance: Amount,
    #[schema(value_type = String)]
    pub topups: Amount,
    /// Credits the operator removed (negative).
    #[schema(value_type = String)]
    pub adjustments: Amount,
    #[schema(value_type = String)]
    pub transfers_in: Amount,
    /// Credits transferred to or back from sub-accounts (negative).
    #[schema(value_type = String)]
    pub transfers_out: Amount,
    /// What the month's sends were charged (negative); `usage` breaks it
    /// down.
    #[schema(value_type = String)]
    pub usage_total: Amount,
    #[schema(value_type = String)]
    pub refunds: Amount,
    /// `opening_balance` plus every line above.
    #[schema(value_type = String, example = "80.0000")]
    pub closing_balance: Amount,
    pub usage: Vec<UsageView>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct UsageView {
    #[schema(example = "transactional")]
    pub category: &'static str,
    /// ISO 3166-1 alpha-2; null for numbers of no country.
    #[schema(example = "NL")]
    pub country: Option<String>,
    pub messages: u64,
    pub segments: u64,
    /// What they were charged.
    #[schema(value_type = String, example = "0.0700")]
    pub amount: Amount,
}

impl StatementView {
    fn new(account: AccountId, month: Month, s: Statement) -> StatementView {
        StatementView {
            account_id: account.0,
            month: month.to_string(),
            from: s.from.to_rfc3339(),
            to: s.to.to_rfc3339(),
            opening_balance: s.opening,
            topups: s.topups,
            adjustments: s.adjustments,
            transfers_in: s.transfers_in,
            transfers_out: s.transfers_out,
            usage_total: s.debits,
            refunds: s.refunds,
            closing_balance: s.closing,
            usage: s
                .usage
                .into_iter()
                .map(|u| UsageView {
                    category: u.category.as_str(),
                    country: u.country,
                    messages: u.messages,
                    segments: u.segments,
                    amount: u.amount,
                })
                .collect(),
        }
    }

    /// One line per figure: `line,category,country,messages,segments,amount`.
    fn csv(&self) -> String {
        let mut out = String::from("line,category,country,messages,segments,amount\n");
        let mut figure = |line: &str, amount: Amount| {
            out.push_str(&format!("{line},,,,,{amount}\n"));
        };
        figure("opening_balance", self.opening_balance);
        figure("topups", self.topups);
        figure("adjustments", self.adjustments);
        figure("transfers_in", self.transfers_in);
        figure("transfers_out", self.transfers_out);
        figure("usage_total", self.usage_total);
        figure("refunds", self.refunds);
        figure("closing_balance", self.closing_balance);
        for u in &self.usage {
            out.push_str(&format!(
                "usage,{},{},{},{},{}\n",
                u.category,
                u.country.as_deref().unwrap_or(""),
                u.messages,
                u.segments,
                u.amount
            ));
        }
        out
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct StatementQuery {
    /// `json` (default) or `csv`.
    format: Option<String>,
}

type FormatQuery = Result<Query<StatementQuery>, axum::extract::rejection::QueryRejection>;

fn month(m: &str) -> Result<Month, Problem> {
    Month::parse(m).ok_or_else(|| {
        Problem::invalid_field(
            "month",
            format!("{m:?} is not a month as YYYY-MM, e.g. 2026-11"),
        )
    })
}

fn render(query: FormatQuery, view: StatementView) -> Result<Response, Problem> {
    let Query(q) = query.map_err(|e| Problem::invalid_field("query", e.body_text()))?;
    match q.format.as_deref() {
        None | Some("json") => Ok(axum::Json(view).into_response()),
        Some("csv") => {
            let mut r = view.csv().into_response();
            r.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/csv; charset=utf-8"),
            );
            Ok(r)
        }
        Some(other) => Err(Problem::invalid_field(
            "format",
            format!("{other:?} is not json or csv"),
        )),
    }
}

/// Your statement for a month (UTC): opening balance, top-ups,
/// adjustments, transfers, usage by category and country, refunds,
/// closing balance; as JSON or CSV (`?format=csv`).
#[utoipa::path(get, path = "/v1/statements/{month}", tag = "account",
    params(("month" = String, Path, description = "YYYY-MM"), StatementQuery),
    responses((status = 200, body = StatementView), (status = 422, body = Problem)), security(("api_key" = [])))]
pub async fn own_statement(
    State(state): State<AppState>,
    caller: Caller,
    Path(m): Path<String>,
    query: FormatQuery,
) -> Result<Response, Problem> {
    let month = month(&m)?;
    let s = state.engine.own_statement(&caller, month).await?;
    render(query, StatementView::new(caller.account, month, s))
}

/// A sub-account's statement for a month, to its parent.
#[utoipa::path(get, path = "/v1/subaccounts/{id}/statements/{month}", tag = "sub-accounts",
    params(("id" = i64, Path), ("month" = String, Path, description = "YYYY-MM"), StatementQuery),
    responses((status = 200, body = StatementView), (status = 404, body = Problem), (status = 422, body = Problem)),
    security(("api_key" = [])))]
pub async fn subaccount_statement(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, m)): Path<(String, String)>,
    query: FormatQuery,
) -> Result<Response, Problem> {
    let child = crate::v1::subaccounts::subaccount_id(&id)?;
    let month = month(&m)?;
    let s = state
        .engine
        .subaccount_statement(&caller, child, month)
        .await?;
    render(query, StatementView::new(child, month, s))
}

/// An account's statement for a month.
#[utoipa::path(get, path = "/admin/v1/accounts/{id}/statements/{month}", tag = "admin",
    params(("id" = i64, Path), ("month" = String, Path, description = "YYYY-MM"), StatementQuery),
    responses((status = 200, body = StatementView), (status = 404, body = Problem), (status = 422, body = Problem)),
    security(("admin_token" = [])))]
pub async fn account_statement(
    State(state): State<AppState>,
    _: Admin,
    Path((id, m)): Path<(String, String)>,
    query: FormatQuery,
) -> Result<Response, Problem> {
    let account = crate::admin::account_id(&id)?;
    let month = month(&m)?;
    let s = state.engine.admin().statement(account, month).await?;
    render(query, StatementView::new(account, month, s))
}
