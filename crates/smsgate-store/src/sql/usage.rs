//! The usage counters: kept in the transaction of every change that
//! moves a message between them, and summed for reports.
//!
//! On PostgreSQL, statement triggers on `messages` keep them (migration
//! `0008_usage`): bulk inserts and updates move each counter once. On
//! SQLite the two statements that change what a message counts for (its
//! insert, its status change) call [`count`] and [`moved`]: a trigger
//! there makes every statement on `messages` open a statement journal and
//! runs as interpreted bytecode, ≈145k instructions a message against
//! ≈45k for these statements (callgrind, `lifecycle` example).

use async_trait::async_trait;
use smsgate_core::{AccountId, Amount, Category, Status, Timestamp};

use super::{Backend, Db, Dialect, SqlStore, args};
use crate::{
    Result, StoreError, UsageCounts, UsageInterval, UsageQuery, UsageRow, UsageStatus, UsageStore,
};

const HOUR_MS: i64 = 3_600_000;
const DAY_MS: i64 = 24 * HOUR_MS;

/// What of a message decides how it counts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Counted {
    pub account: i64,
    pub created_at: i64,
    pub category: String,
    pub country: Option<String>,
    pub segments: i64,
    pub price: i64,
    pub status: Status,
    pub connector: Option<String>,
    pub refunded: bool,
    pub carrier_cost: Option<i64>,
    pub updated_at: i64,
}

/// A message's row of the counters and what it adds there: the same
/// rules as the triggers of PostgreSQL (and the backfill of SQLite).
#[derive(PartialEq, Eq)]
struct Contribution<'a> {
    account: i64,
    hour: i64,
    category: &'a str,
    country: &'a str,
    connector: &'a str,
    status: UsageStatus,
    segments: i64,
    price: i64,
    refunded: i64,
    carrier_cost: i64,
    latency_ms: i64,
}

impl Counted {
    fn contribution(&self) -> Contribution<'_> {
        let status = UsageStatus::of(self.status);
        let pending = status == UsageStatus::Pending;
        Contribution {
            account: self.account,
            hour: self.created_at - self.created_at.rem_euclid(HOUR_MS),
            category: &self.category,
            country: self.country.as_deref().unwrap_or(""),
            connector: match (&self.connector, pending) {
                (Some(c), false) => c,
                _ => "",
            },
            status,
            segments: self.segments,
            price: self.price,
            refunded: if self.refunded { self.price } else { 0 },
            carrier_cost: if pending {
                0
            } else {
                self.carrier_cost.unwrap_or(0)
            },
            latency_ms: if status == UsageStatus::Delivered {
                self.updated_at - self.created_at
            } else {
                0
            },
        }
    }
}

/// Adds a contribution (`sign` -1: takes it out).
pub(crate) const UPSERT: &str =
    "INSERT INTO usage_counters (account_id, hour, category, country, connector, status, shard,
         messages, segments, price, refunded, carrier_cost, latency_ms)
     VALUES (?1, ?2, ?3, ?4, ?5, ?6, 0, ?7, ?8, ?9, ?10, ?11, ?12)
     ON CONFLICT (account_id, hour, category, country, connector, status, shard) DO UPDATE SET
         messages = messages + excluded.messages, segments = segments + excluded.segments,
         price = price + excluded.price, refunded = refunded + excluded.refunded,
         carrier_cost = carrier_cost + excluded.carrier_cost,
         latency_ms = latency_ms + excluded.latency_ms";

fn upsert(conn: &impl Db, c: &Contribution<'_>, sign: i64) -> Result<()> {
    conn.exec(
        UPSERT,
        args![
            c.account,
            c.hour,
            c.category,
            c.country,
            c.connector,
            c.status.as_str(),
            sign,
            sign * c.segments,
            sign * c.price,
            sign * c.refunded,
            sign * c.carrier_cost,
            sign * c.latency_ms
        ],
    )?;
    Ok(())
}

/// Counts a new message (SQLite; PostgreSQL's trigger does it there).
pub(crate) fn count(conn: &impl Db, new: &Counted) -> Result<()> {
    if conn.dialect() == Dialect::Sqlite {
        upsert(conn, &new.contribution(), 1)?;
    }
    Ok(())
}

/// Moves a changed message's count, where what it counts for changed
/// (SQLite; PostgreSQL's trigger does it there).
pub(crate) fn moved(conn: &impl Db, old: &Counted, new: &Counted) -> Result<()> {
    let (was, is) = (old.contribution(), new.contribution());
    if conn.dialect() == Dialect::Sqlite && was != is {
        upsert(conn, &was, -1)?;
        upsert(conn, &is, 1)?;
    }
    Ok(())
}

/// A row of the query below, before rows of one key are folded.
struct Summed {
    period: i64,
    account: Option<i64>,
    category: Option<String>,
    country: Option<String>,
    connector: Option<String>,
    status: String,
    sums: [i64; 6],
}

pub(crate) fn usage(conn: &impl Db, q: &UsageQuery) -> Result<Vec<UsageRow>> {
    let g = q.groups;
    let period = match q.interval {
        UsageInterval::Hour => "hour".to_string(),
        UsageInterval::Day => format!("hour - hour % {DAY_MS}"),
        UsageInterval::Whole => "CAST(0 AS BIGINT)".to_string(),
    };
    // The dimensions asked for, in this order; absent ones as NULLs so
    // that every shape of query reads the same columns.
    let dims = [
        (g.account, "account_id", "CAST(NULL AS BIGINT)"),
        (g.category, "category", "CAST(NULL AS TEXT)"),
        (g.country, "country", "CAST(NULL AS TEXT)"),
        (g.connector, "connector", "CAST(NULL AS TEXT)"),
    ];
    let mut select = vec![period.clone()];
    let mut group = vec![period];
    for (on, column, none) in dims {
        select.push(if on { column } else { none }.to_string());
        if on {
            group.push(column.to_string());
        }
    }
    group.push("status".into());
    let accounts = match &q.accounts {
        None => String::new(),
        // Ids are integers: written into the text, not bound.
        Some(ids) => {
            let ids: Vec<String> = ids.iter().map(|a| a.0.to_string()).collect();
            format!(" AND account_id IN ({})", ids.join(", "))
        }
    };
    let sql = format!(
        "SELECT {}, status, CAST(SUM(messages) AS BIGINT), CAST(SUM(segments) AS BIGINT),
                CAST(SUM(price) AS BIGINT), CAST(SUM(refunded) AS BIGINT),
                CAST(SUM(carrier_cost) AS BIGINT), CAST(SUM(latency_ms) AS BIGINT)
           FROM usage_counters WHERE hour >= ?1 AND hour < ?2{accounts}
          GROUP BY {} HAVING SUM(messages) <> 0 ORDER BY {}",
        select.join(", "),
        group.join(", "),
        group.join(", "),
    );
    let summed: Vec<Summed> = conn.all(&sql, args![q.from.0, q.to.0], |r| {
        Ok(Summed {
            period: r.get(0)?,
            account: r.get(1)?,
            category: r.get(2)?,
            country: r.get(3)?,
            connector: r.get(4)?,
            status: r.get(5)?,
            sums: [
                r.get(6)?,
                r.get(7)?,
                r.get(8)?,
                r.get(9)?,
                r.get(10)?,
                r.get(11)?,
            ],
        })
    })?;
    let mut rows: Vec<UsageRow> = Vec::new();
    for s in summed {
        let status = UsageStatus::parse(&s.status)
            .ok_or_else(|| StoreError::Corrupt(format!("usage status {:?}", s.status)))?;
        let category = match &s.category {
            None => None,
            Some(c) => Some(
                Category::parse(c)
                    .ok_or_else(|| StoreError::Corrupt(format!("usage category {c:?}")))?,
            ),
        };
        let absent_is_none = |v: Option<String>| v.map(|v| Some(v).filter(|v| !v.is_empty()));
        let row = UsageRow {
            period: Timestamp(if q.interval == UsageInterval::Whole {
                q.from.0
            } else {
                s.period
            }),
            account: s.account.map(AccountId),
            category,
            country: absent_is_none(s.country),
            connector: absent_is_none(s.connector),
            status: g.status.then_some(status),
            counts: UsageCounts::default(),
        };
        // Rows of one key are adjacent (the order is the grouping's);
        // without `status` in the key they fold into one.
        let same_key = rows.last().is_some_and(|last| {
            (
                last.period,
                last.account,
                last.category,
                &last.country,
                &last.connector,
                last.status,
            ) == (
                row.period,
                row.account,
                row.category,
                &row.country,
                &row.connector,
                row.status,
            )
        });
        if !same_key {
            rows.push(row);
        }
        let counts = &mut rows.last_mut().expect("a row was pushed").counts;
        add(counts, status, s.sums)?;
    }
    // One order on both backends (PostgreSQL's collation is not SQLite's).
    rows.sort_by(|a, b| {
        (
            a.period,
            a.account,
            a.category.map(Category::as_str),
            &a.country,
            &a.connector,
            a.status,
        )
            .cmp(&(
                b.period,
                b.account,
                b.category.map(Category::as_str),
                &b.country,
                &b.connector,
                b.status,
            ))
    });
    Ok(rows)
}

fn add(c: &mut UsageCounts, status: UsageStatus, sums: [i64; 6]) -> Result<()> {
    let count =
        |v: i64| u64::try_from(v).map_err(|_| StoreError::Corrupt(format!("a usage count of {v}")));
    let overflow = || StoreError::Corrupt("a usage sum passes the largest amount".into());
    let [messages, segments, price, refunded, carrier_cost, latency] = sums;
    let messages = count(messages)?;
    c.messages += messages;
    c.by_status[status as usize] += messages;
    c.segments += count(segments)?;
    c.latency_ms += count(latency)?;
    for (slot, v) in [
        (&mut c.price, price),
        (&mut c.refunded, refunded),
        (&mut c.carrier_cost, carrier_cost),
    ] {
        *slot = slot
            .checked_add(Amount::from_minor(v))
            .ok_or_else(overflow)?;
    }
    Ok(())
}

#[async_trait]
impl<B: Backend> UsageStore for SqlStore<B> {
    async fn usage(&self, query: UsageQuery) -> Result<Vec<UsageRow>> {
        self.read(move |c| usage(c, &query)).await
    }
}
