//! Ledger pages, the same on every face that shows one: the caller's own
//! (`/v1/ledger`), a sub-account's to its parent, any account's to the
//! operator.

use std::future::Future;

use axum::Json;
use axum::extract::State;
use serde::{Deserialize, Serialize};
use smsgate_core::Amount;
use smsgate_engine::records::{LedgerEntry, LedgerFilter, LedgerKind};
use smsgate_engine::{Caller, EngineError};
use utoipa::{IntoParams, ToSchema};

use crate::AppState;
use crate::problem::Problem;
use crate::v1::model::parse_time;
use crate::v1::{cursor, page_limit};

#[derive(Debug, Serialize, ToSchema)]
pub struct LedgerView {
    /// Also the cursor of the entries older than it.
    pub id: i64,
    /// Signed: negative takes credits away.
    #[schema(value_type = String, example = "-0.0350")]
    pub amount: Amount,
    /// `debit`, `refund`, `topup`, `adjustment` or `transfer`.
    #[schema(example = "debit")]
    pub kind: &'static str,
    /// The message a debit or refund is for (a request of one message).
    pub message_id: Option<String>,
    /// The batch a debit is for (a request of several messages).
    pub batch_id: Option<String>,
    /// The other account of a transfer (the parent or the sub-account).
    pub counterparty: Option<i64>,
    pub note: Option<String>,
    pub created_at: String,
    /// The category's balance it moved (accounts with split balances).
    pub category: Option<String>,
}

impl From<&LedgerEntry> for LedgerView {
    fn from(e: &LedgerEntry) -> Self {
        LedgerView {
            id: e.id,
            amount: e.amount,
            kind: e.kind.as_str(),
            message_id: e.message_id.map(|m| m.to_string()),
            batch_id: e.batch_id.map(|b| b.to_string()),
            counterparty: e.counterparty.map(|c| c.0),
            note: e.note.clone(),
            category: e.category.map(|c| c.as_str().to_string()),
            created_at: e.created_at.to_rfc3339(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LedgerPage {
    pub data: Vec<LedgerView>,
    /// Pass as `cursor` for the next (older) page; null on the last.
    pub next_cursor: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct LedgerQuery {
    /// Made at or after this RFC 3339 time.
    since: Option<String>,
    /// Made before this RFC 3339 time.
    until: Option<String>,
    /// Only these kinds, separated by commas: `debit`, `refund`, `topup`,
    /// `adjustment`, `transfer`.
    kind: Option<String>,
    /// `next_cursor` of the previous page.
    cursor: Option<String>,
    /// Page size, 1 to 500 (default 50).
    limit: Option<usize>,
}

pub type Query =
    Result<axum::extract::Query<LedgerQuery>, axum::extract::rejection::QueryRejection>;

fn filter(q: LedgerQuery) -> Result<(LedgerFilter, usize), Problem> {
    let limit = page_limit(q.limit)?;
    let kinds = match q.kind.as_deref() {
        None => Vec::new(),
        Some(list) => list
            .split(',')
            .map(|k| {
                LedgerKind::parse(k.trim()).ok_or_else(|| {
                    Problem::invalid_field(
                        "kind",
                        format!("{k:?} is not one of debit, refund, topup, adjustment, transfer"),
                    )
                })
            })
            .collect::<Result<_, _>>()?,
    };
    Ok((
        LedgerFilter {
            before: cursor(q.cursor.as_deref())?,
            since: parse_time("since", q.since.as_deref())?,
            until: parse_time("until", q.until.as_deref())?,
            kinds,
            // One more tells whether there is a next page.
            limit: limit + 1,
        },
        limit,
    ))
}

/// One page of the entries `read` finds for the query.
pub(crate) async fn page<F, Fut>(query: Query, read: F) -> Result<Json<LedgerPage>, Problem>
where
    F: FnOnce(LedgerFilter) -> Fut,
    Fut: Future<Output = Result<Vec<LedgerEntry>, EngineError>>,
{
    let axum::extract::Query(q) =
        query.map_err(|e| Problem::invalid_field("query", e.body_text()))?;
    let (filter, limit) = filter(q)?;
    let mut rows = read(filter).await?;
    let next_cursor = if rows.len() > limit {
        rows.truncate(limit);
        rows.last().map(|e| e.id.to_string())
    } else {
        None
    };
    Ok(Json(LedgerPage {
        data: rows.iter().map(LedgerView::from).collect(),
        next_cursor,
    }))
}

/// Your account's ledger: every credit in and out, newest first, each
/// entry naming what caused it.
#[utoipa::path(get, path = "/v1/ledger", tag = "account", params(LedgerQuery),
    responses((status = 200, body = LedgerPage), (status = 422, body = Problem)), security(("api_key" = [])))]
pub async fn own_ledger(
    State(state): State<AppState>,
    caller: Caller,
    query: Query,
) -> Result<Json<LedgerPage>, Problem> {
    page(query, |filter| state.engine.own_ledger(&caller, filter)).await
}

/// A sub-account's ledger, to its parent.
#[utoipa::path(get, path = "/v1/subaccounts/{id}/ledger", tag = "sub-accounts",
    params(("id" = i64, Path), LedgerQuery),
    responses((status = 200, body = LedgerPage), (status = 404, body = Problem), (status = 422, body = Problem)),
    security(("api_key" = [])))]
pub async fn subaccount_ledger(
    State(state): State<AppState>,
    caller: Caller,
    axum::extract::Path(id): axum::extract::Path<String>,
    query: Query,
) -> Result<Json<LedgerPage>, Problem> {
    let child = crate::v1::subaccounts::subaccount_id(&id)?;
    page(query, |filter| {
        state.engine.subaccount_ledger(&caller, child, filter)
    })
    .await
}
