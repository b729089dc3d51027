//! Usage reports, as JSON or CSV: the caller's own (and its
//! sub-accounts'), and every account's to the operator, who also sees what
//! the carriers charged and the margin.

use axum::extract::{Query, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use smsgate_core::{Amount, Timestamp};
use smsgate_engine::records::{
    UsageCounts, UsageGroups, UsageInterval, UsageQuery, UsageRow, UsageStatus,
};
use smsgate_engine::{Caller, UsageScope};
use utoipa::{IntoParams, ToSchema};

use crate::AppState;
use crate::extract::Admin;
use crate::problem::Problem;

const HOUR_MS: i64 = 3_600_000;
/// The longest range of an hourly report, and of any other.
const MAX_HOURLY_DAYS: i64 = 31;
const MAX_DAYS: i64 = 366;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct UsageParams {
    /// Messages accepted at or after: a whole hour as RFC 3339
    /// (`2026-11-01T00:00:00Z`) or a UTC date (`2026-11-01`).
    from: Option<String>,
    /// Accepted before (same forms).
    to: Option<String>,
    /// `hour` (ranges up to 31 days), `day` (default) or `total`; ranges
    /// up to 366 days.
    interval: Option<String>,
    /// Dimensions, separated by commas: `category`, `country`, `status`;
    /// `account` (the operator's, or with `subaccounts`); `connector`
    /// (the operator's).
    group_by: Option<String>,
    /// The operator: one account's usage. A customer: one of its
    /// sub-accounts'.
    account: Option<i64>,
    /// A customer: its own usage and every sub-account's.
    subaccounts: Option<bool>,
    /// `json` (default) or `csv`.
    format: Option<String>,
}

type Params = Result<Query<UsageParams>, axum::extract::rejection::QueryRejection>;

#[derive(Debug, Serialize, ToSchema)]
pub struct UsageReport {
    pub from: String,
    pub to: String,
    #[schema(example = "day")]
    pub interval: &'static str,
    #[schema(example = json!(["country", "status"]))]
    pub group_by: Vec<&'static str>,
    pub data: Vec<UsageLineView>,
}

/// One period of one group. A dimension not grouped by is left out; a
/// grouped country or connector is null where there is none (a number of
/// no country, a message not sent yet).
#[derive(Debug, Serialize, ToSchema)]
pub struct UsageLineView {
    /// The period's start (UTC).
    pub period: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub account_id: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub category: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>, example = "NL")]
    pub country: Option<Option<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub connector: Option<Option<String>>,
    /// `pending` (accepted, scheduled, queued or submitting) or the
    /// message's status.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<&'static str>,
    pub messages: u64,
    pub segments: u64,
    /// What the messages were charged, refunds not taken off.
    #[schema(value_type = String, example = "0.3500")]
    pub price: Amount,
    #[schema(value_type = String, example = "0.0350")]
    pub refunded: Amount,
    /// What the carriers charged (the operator's only).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub carrier_cost: Option<Amount>,
    /// `price - refunded - carrier_cost` (the operator's only).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub margin: Option<Amount>,
    /// Messages by how they stand now.
    pub statuses: StatusCounts,
    /// Delivered of those that left the queue (not pending, not
    /// canceled); null when none did.
    pub delivery_rate: Option<f64>,
    /// Mean time from acceptance to delivery.
    pub average_latency_ms: Option<u64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct StatusCounts {
    pub pending: u64,
    pub sent: u64,
    pub delivered: u64,
    pub undelivered: u64,
    pub expired: u64,
    pub rejected: u64,
    pub failed: u64,
    pub canceled: u64,
}

impl StatusCounts {
    fn of(c: &UsageCounts) -> StatusCounts {
        StatusCounts {
            pending: c.of(UsageStatus::Pending),
            sent: c.of(UsageStatus::Sent),
            delivered: c.of(UsageStatus::Delivered),
            undelivered: c.of(UsageStatus::Undelivered),
            expired: c.of(UsageStatus::Expired),
            rejected: c.of(UsageStatus::Rejected),
            failed: c.of(UsageStatus::Failed),
            canceled: c.of(UsageStatus::Canceled),
        }
    }
}

/// A request read and checked: what to ask the engine, and for whom.
struct Request {
    query: UsageQuery,
    interval: &'static str,
    group_by: Vec<&'static str>,
    csv: bool,
}

fn time(field: &'static str, value: Option<&str>) -> Result<Timestamp, Problem> {
    let value = value.ok_or_else(|| Problem::invalid_field(field, "is required"))?;
    let t = if value.len() == 10 {
        Timestamp::parse_rfc3339(&format!("{value}T00:00:00Z"))
    } else {
        Timestamp::parse_rfc3339(value)
    }
    .ok_or_else(|| {
        Problem::invalid_field(
            field,
            format!("{value:?} is not a date (2026-11-01) nor an RFC 3339 time"),
        )
    })?;
    if t.0 % HOUR_MS != 0 {
        return Err(Problem::invalid_field(
            field,
            "must be a whole hour: usage is counted by the hour",
        ));
    }
    Ok(t)
}

/// The request as the engine takes it; who may ask for what is the
/// engine's to say.
fn request(p: UsageParams) -> Result<Request, Problem> {
    let from = time("from", p.from.as_deref())?;
    let to = time("to", p.to.as_deref())?;
    let (interval, name, max_days) = match p.interval.as_deref() {
        Some("hour") => (UsageInterval::Hour, "hour", MAX_HOURLY_DAYS),
        None | Some("day") => (UsageInterval::Day, "day", MAX_DAYS),
        Some("total") => (UsageInterval::Whole, "total", MAX_DAYS),
        Some(other) => {
            return Err(Problem::invalid_field(
                "interval",
                format!("{other:?} is not hour, day or total"),
            ));
        }
    };
    if to.0 <= from.0 {
        return Err(Problem::invalid_field("to", "must be after from"));
    }
    if to.0 - from.0 > max_days * 24 * HOUR_MS {
        return Err(Problem::invalid_field(
            "to",
            format!("a report by {name} covers at most {max_days} days"),
        ));
    }
    let mut groups = UsageGroups::default();
    let mut group_by = Vec::new();
    for dim in p.group_by.as_deref().unwrap_or("").split(',') {
        let dim = dim.trim();
        let (slot, name) = match dim {
            "" => continue,
            "category" => (&mut groups.category, "category"),
            "country" => (&mut groups.country, "country"),
            "status" => (&mut groups.status, "status"),
            "account" => (&mut groups.account, "account"),
            "connector" => (&mut groups.connector, "connector"),
            other => {
                return Err(Problem::invalid_field(
                    "group_by",
                    format!("{other:?} is not account, category, country, connector or status"),
                ));
            }
        };
        if !*slot {
            *slot = true;
            group_by.push(name);
        }
    }
    let csv = match p.format.as_deref() {
        None | Some("json") => false,
        Some("csv") => true,
        Some(other) => {
            return Err(Problem::invalid_field(
                "format",
                format!("{other:?} is not json or csv"),
            ));
        }
    };
    Ok(Request {
        query: UsageQuery {
            from,
            to,
            accounts: None,
            interval,
            groups,
        },
        interval: name,
        group_by,
        csv,
    })
}

fn line(r: UsageRow, operator: bool) -> UsageLineView {
    let c = &r.counts;
    UsageLineView {
        period: r.period.to_rfc3339(),
        account_id: r.account.map(|a| a.0),
        category: r.category.map(|c| c.as_str()),
        country: r.country.clone(),
        connector: r.connector.clone(),
        status: r.status.map(UsageStatus::as_str),
        messages: c.messages,
        segments: c.segments,
        price: c.price,
        refunded: c.refunded,
        carrier_cost: operator.then_some(c.carrier_cost),
        margin: if operator { c.margin() } else { None },
        statuses: StatusCounts::of(c),
        delivery_rate: c.delivery_rate(),
        average_latency_ms: c.average_latency_ms(),
    }
}

impl UsageReport {
    /// A header, then one line per row; dimensions not grouped by and
    /// the operator's figures for a customer are left out.
    fn csv(&self, operator: bool) -> String {
        let mut head = vec!["period"];
        for dim in &self.group_by {
            head.push(if *dim == "account" { "account_id" } else { dim });
        }
        head.extend(["messages", "segments", "price", "refunded"]);
        if operator {
            head.extend(["carrier_cost", "margin"]);
        }
        head.extend(UsageStatus::ALL.map(UsageStatus::as_str));
        head.extend(["delivery_rate", "average_latency_ms"]);
        let mut out = head.join(",");
        out.push('\n');
        for l in &self.data {
            let mut cells = vec![l.period.clone()];
            for dim in &self.group_by {
                cells.push(match *dim {
                    "account" => l.account_id.map(|a| a.to_string()).unwrap_or_default(),
                    "category" => l.category.unwrap_or_default().to_string(),
                    "country" => l.country.clone().flatten().unwrap_or_default(),
                    "connector" => l.connector.clone().flatten().unwrap_or_default(),
                    _ => l.status.unwrap_or_default().to_string(),
                });
            }
            cells.extend([
                l.messages.to_string(),
                l.segments.to_string(),
                l.price.to_string(),
                l.refunded.to_string(),
            ]);
            if operator {
                let amount = |a: Option<Amount>| a.map(|a| a.to_string()).unwrap_or_default();
                cells.extend([amount(l.carrier_cost), amount(l.margin)]);
            }
            let s = &l.statuses;
            cells.extend(
                [
                    s.pending,
                    s.sent,
                    s.delivered,
                    s.undelivered,
                    s.expired,
                    s.rejected,
                    s.failed,
                    s.canceled,
                ]
                .map(|n| n.to_string()),
            );
            cells.push(
                l.delivery_rate
                    .map(|r| format!("{r:.4}"))
                    .unwrap_or_default(),
            );
            cells.push(
                l.average_latency_ms
                    .map(|ms| ms.to_string())
                    .unwrap_or_default(),
            );
            out.push_str(&cells.join(","));
            out.push('\n');
        }
        out
    }
}

fn render(req: Request, rows: Vec<UsageRow>, operator: bool) -> Response {
    let report = UsageReport {
        from: req.query.from.to_rfc3339(),
        to: req.query.to.to_rfc3339(),
        interval: req.interval,
        group_by: req.group_by,
        data: rows.into_iter().map(|r| line(r, operator)).collect(),
    };
    if req.csv {
        let mut r = report.csv(operator).into_response();
        r.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/csv; charset=utf-8"),
        );
        r
    } else {
        axum::Json(report).into_response()
    }
}

/// What you sent, rolled up by hour, day or the whole range, and by
/// category, country and status: messages, segments, what they were
/// charged and refunded, how they stand, the delivery rate and the time
/// to delivery. `account` reads one of your sub-accounts; `subaccounts`
/// adds all of them (group by `account` to tell them apart). Counted as
/// messages change, so texts removed or numbers erased do not change it.
#[utoipa::path(get, path = "/v1/usage", tag = "account", params(UsageParams),
    responses((status = 200, body = UsageReport), (status = 404, body = Problem), (status = 422, body = Problem)),
    security(("api_key" = [])))]
pub async fn own_usage(
    State(state): State<AppState>,
    caller: Caller,
    params: Params,
) -> Result<Response, Problem> {
    let Query(p) = params.map_err(|e| Problem::invalid_field("query", e.body_text()))?;
    let subaccounts = p.subaccounts.unwrap_or(false);
    let scope = match (p.account, subaccounts) {
        (Some(_), true) => {
            return Err(Problem::invalid_field(
                "account",
                "one sub-account, or all of them with subaccounts=true; not both",
            ));
        }
        (Some(id), false) if id == caller.account.0 => UsageScope::Own,
        (Some(id), false) => UsageScope::Subaccount(smsgate_core::AccountId(id)),
        (None, true) => UsageScope::WithSubaccounts,
        (None, false) => UsageScope::Own,
    };
    let req = request(p)?;
    let rows = state
        .engine
        .own_usage(&caller, scope, req.query.clone())
        .await?;
    Ok(render(req, rows, false))
}

/// Usage of every account (or of `account`), by hour, day or the whole
/// range and by account, category, country, connector and status, with
/// what the carriers charged and the margin.
#[utoipa::path(get, path = "/admin/v1/usage", tag = "admin", params(UsageParams),
    responses((status = 200, body = UsageReport), (status = 404, body = Problem), (status = 422, body = Problem)),
    security(("admin_token" = [])))]
pub async fn usage(
    State(state): State<AppState>,
    _: Admin,
    params: Params,
) -> Result<Response, Problem> {
    let Query(p) = params.map_err(|e| Problem::invalid_field("query", e.body_text()))?;
    if p.subaccounts.is_some() {
        return Err(Problem::invalid_field(
            "subaccounts",
            "a customer's; the operator names an account or none",
        ));
    }
    let account = p.account.map(smsgate_core::AccountId);
    let mut req = request(p)?;
    req.query.accounts = account.map(|a| vec![a]);
    let rows = state.engine.admin().usage(req.query.clone()).await?;
    Ok(render(req, rows, true))
}
