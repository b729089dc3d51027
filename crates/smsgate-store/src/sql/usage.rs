//! The usage counters: kept in the transaction of every change that
//! moves a message between them, and summed for reports.
//!
//! The statements that change what a message counts for (its insert, its
//! status change, alone or in bulk) call [`count`] and [`moved`]; the
//! writer's connection keeps what they add in memory ([`Pending`]) until
//! its group commit, which writes each counter it moved once, summed.
//! Triggers were measured first (bench/RESULTS.md): on SQLite one made
//! every statement on `messages` open a statement journal and ran as
//! interpreted bytecode (+145k instructions a message); on PostgreSQL
//! statement triggers cost about 9% of the messages delivered a second.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;

use async_trait::async_trait;
use smsgate_core::{AccountId, Amount, Category, Status, Timestamp};

use super::messages::Current;
use super::{Backend, Db, SqlStore, args};
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
    pub category: Category,
    pub country: Option<String>,
    pub segments: i64,
    pub price: i64,
    pub status: Status,
    pub connector: Option<String>,
    pub refunded: bool,
    pub carrier_cost: Option<i64>,
    pub updated_at: i64,
}

impl Counted {
    /// A message as it is inserted.
    pub(crate) fn new_message(
        account: AccountId,
        m: &smsgate_core::send::NewMessage,
        status: Status,
        now: Timestamp,
    ) -> Counted {
        Counted {
            account: account.0,
            created_at: now.0,
            category: m.category,
            country: m.country.map(|c| c.code()),
            segments: m.segments.parts as i64,
            price: m.cost.minor(),
            status,
            connector: None,
            refunded: false,
            carrier_cost: None,
            updated_at: now.0,
        }
    }

    /// The message after `u` moved it (as `UPDATE_STATUS` writes it), with
    /// its charge given back or not.
    pub(crate) fn after(&self, u: &crate::StatusUpdate, refunded: bool) -> Counted {
        Counted {
            status: u.status,
            connector: u.connector.clone().or_else(|| self.connector.clone()),
            refunded: self.refunded || refunded,
            carrier_cost: u.carrier_cost.map(Amount::minor).or(self.carrier_cost),
            updated_at: u.at.0,
            ..self.clone()
        }
    }

    /// The message `cur` is, with the columns of [`COUNTED_COLUMNS`]
    /// read from `at`.
    pub(crate) fn from_row(r: &super::Rec<'_>, cur: &Current, at: usize) -> Result<Counted> {
        let category: String = r.get(at + 1)?;
        Ok(Counted {
            account: cur.account.0,
            created_at: r.get(at)?,
            category: Category::parse(&category)
                .ok_or_else(|| StoreError::Corrupt(format!("message category {category:?}")))?,
            country: r.get(at + 2)?,
            segments: r.get(at + 3)?,
            price: cur.cost.minor(),
            status: cur.status,
            connector: r.get(at + 4)?,
            refunded: cur.refunded,
            carrier_cost: r.get(at + 5)?,
            updated_at: r.get(at + 6)?,
        })
    }
}

/// What [`Counted::from_row`] reads of a message, after its current
/// columns.
pub(crate) const COUNTED_COLUMNS: &str =
    "created_at, category, country, segments, connector, carrier_cost, updated_at";

/// A row of the counters.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Key {
    account: i64,
    hour: i64,
    category: Category,
    country: String,
    connector: String,
    status: UsageStatus,
}

/// What is added to a row.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Sums {
    messages: i64,
    segments: i64,
    price: i64,
    refunded: i64,
    carrier_cost: i64,
    latency_ms: i64,
}

impl Sums {
    fn add(&mut self, o: Sums) {
        self.messages += o.messages;
        self.segments += o.segments;
        self.price += o.price;
        self.refunded += o.refunded;
        self.carrier_cost += o.carrier_cost;
        self.latency_ms += o.latency_ms;
    }

    /// What takes these out again.
    fn negated(self) -> Sums {
        Sums {
            messages: -self.messages,
            segments: -self.segments,
            price: -self.price,
            refunded: -self.refunded,
            carrier_cost: -self.carrier_cost,
            latency_ms: -self.latency_ms,
        }
    }
}

impl Counted {
    /// Its row and what it adds there: the rules the migrations' backfill
    /// applies to the messages already there.
    fn contribution(&self) -> (Key, Sums) {
        let status = UsageStatus::of(self.status);
        let pending = status == UsageStatus::Pending;
        let key = Key {
            account: self.account,
            hour: self.created_at - self.created_at.rem_euclid(HOUR_MS),
            category: self.category,
            country: self.country.clone().unwrap_or_default(),
            connector: match (&self.connector, pending) {
                (Some(c), false) => c.clone(),
                _ => String::new(),
            },
            status,
        };
        let sums = Sums {
            messages: 1,
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
        };
        (key, sums)
    }
}

/// Adds to a row, making it if it is not there.
pub(crate) const UPSERT: &str =
    "INSERT INTO usage_counters (account_id, hour, category, country, connector, status, shard,
         messages, segments, price, refunded, carrier_cost, latency_ms)
     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?13, ?7, ?8, ?9, ?10, ?11, ?12)
     ON CONFLICT (account_id, hour, category, country, connector, status, shard) DO UPDATE SET
         messages = usage_counters.messages + excluded.messages,
         segments = usage_counters.segments + excluded.segments,
         price = usage_counters.price + excluded.price,
         refunded = usage_counters.refunded + excluded.refunded,
         carrier_cost = usage_counters.carrier_cost + excluded.carrier_cost,
         latency_ms = usage_counters.latency_ms + excluded.latency_ms";

pub(crate) fn upsert(conn: &impl Db, key: &Key, s: Sums, shard: i64) -> Result<()> {
    conn.exec(
        UPSERT,
        args![
            key.account,
            key.hour,
            key.category.as_str(),
            key.country,
            key.connector,
            key.status.as_str(),
            s.messages,
            s.segments,
            s.price,
            s.refunded,
            s.carrier_cost,
            s.latency_ms,
            shard
        ],
    )?;
    Ok(())
}

/// Counts a new message.
pub(crate) fn count(conn: &impl Db, new: &Counted) -> Result<()> {
    let (key, sums) = new.contribution();
    conn.add_usage(key, sums)
}

/// Moves a changed message's count, where what it counts for changed.
pub(crate) fn moved(conn: &impl Db, old: &Counted, new: &Counted) -> Result<()> {
    let (was, is) = (old.contribution(), new.contribution());
    if was != is {
        conn.add_usage(was.0, was.1.negated())?;
        conn.add_usage(is.0, is.1)?;
    }
    Ok(())
}

/// The counters' changes of a writer's group commit not written yet, and
/// where the running job's begin (so that a job undone takes its own
/// back).
pub struct Pending {
    changes: RefCell<Vec<(Key, Sums)>>,
    job_start: Cell<usize>,
    /// The rows this writer counts in: on PostgreSQL each node's writer
    /// has its own, so that nodes never wait on (or deadlock over) each
    /// other's counters; reports sum over them.
    shard: i64,
}

impl Pending {
    pub(crate) fn new(shard: i64) -> Pending {
        Pending {
            changes: RefCell::default(),
            job_start: Cell::new(0),
            shard,
        }
    }

    pub(crate) fn add(&self, key: Key, sums: Sums) {
        self.changes.borrow_mut().push((key, sums));
    }

    pub(crate) fn job_begins(&self) {
        self.job_start.set(self.changes.borrow().len());
    }

    pub(crate) fn job_undone(&self) {
        self.changes.borrow_mut().truncate(self.job_start.get());
    }

    /// Forgets every change (the group commit was rolled back).
    pub(crate) fn clear(&self) {
        self.changes.borrow_mut().clear();
        self.job_start.set(0);
    }

    /// Writes the changes, each row once with their sum, before the
    /// group commits; forgets them.
    pub(crate) fn write(&self, conn: &impl Db) -> Result<()> {
        let changes = std::mem::take(&mut *self.changes.borrow_mut());
        self.job_start.set(0);
        let mut rows: HashMap<Key, Sums, foldhash::fast::RandomState> =
            HashMap::with_capacity_and_hasher(changes.len(), Default::default());
        for (key, sums) in changes {
            rows.entry(key).or_default().add(sums);
        }
        for (key, sums) in rows {
            if sums != Sums::default() {
                upsert(conn, &key, sums, self.shard)?;
            }
        }
        Ok(())
    }
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
        let same_key = rows.last().is_some_and(|last| order(last) == order(&row));
        if !same_key {
            rows.push(row);
        }
        let counts = &mut rows.last_mut().expect("a row was pushed").counts;
        add(counts, status, s.sums)?;
    }
    // One order on both backends (PostgreSQL's collation is not SQLite's).
    rows.sort_by(|a, b| order(a).cmp(&order(b)));
    Ok(rows)
}

/// A report line's key, in the reports' order.
fn order(r: &UsageRow) -> impl Ord + '_ {
    (
        r.period,
        r.account,
        r.category.map(Category::as_str),
        &r.country,
        &r.connector,
        r.status,
    )
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
