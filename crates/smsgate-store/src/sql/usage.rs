//! Usage reports: sums of the usage counters, which triggers on `messages`
//! keep (migrations `0026_usage` and `0008_usage`).

use async_trait::async_trait;
use smsgate_core::{AccountId, Amount, Category, Timestamp};

use super::{Backend, Db, SqlStore, args};
use crate::{
    Result, StoreError, UsageCounts, UsageInterval, UsageQuery, UsageRow, UsageStatus, UsageStore,
};

const DAY_MS: i64 = 24 * 3_600_000;

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
