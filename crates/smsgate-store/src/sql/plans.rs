//! SQL for rate plans, accounts' own prices and connectors' cost prices.

use async_trait::async_trait;
use smsgate_core::{AccountId, Amount, PlanId, Price, Timestamp};

use super::accounts::require_account;
use super::audit::{self, Change};
use super::{Backend, Db, Rec, SqlStore, args};
use crate::{
    Audit, AuditAction, ConnectorCost, PlanUse, PriceList, PriceStore, PricingSnapshot, RatePlan,
    Result, StoreError,
};

const PLAN_COLUMNS: &str = "id, name, owner_id, is_default, created_at, \
     (SELECT count(*) FROM accounts WHERE accounts.plan_id = rate_plans.id)";

fn plan_row(r: &Rec<'_>) -> Result<RatePlan> {
    Ok(RatePlan {
        id: PlanId(r.get(0)?),
        name: r.get(1)?,
        owner: r.get::<Option<i64>>(2)?.map(AccountId),
        is_default: r.get(3)?,
        created_at: Timestamp(r.get(4)?),
        prices: Vec::new(),
        accounts: r.get::<i64>(5)?.try_into().unwrap_or(0),
    })
}

fn price_row(r: &Rec<'_>, at: usize) -> Result<Price> {
    Ok(Price {
        route_class: r.get(at)?,
        prefix: r.get(at + 1)?,
        per_segment: Amount::from_minor(r.get(at + 2)?),
    })
}

pub(crate) fn plan(conn: &impl Db, id: PlanId) -> Result<Option<RatePlan>> {
    let sql = format!("SELECT {PLAN_COLUMNS} FROM rate_plans WHERE id = ?1");
    let Some(mut plan) = conn.one(&sql, args![id.0], plan_row)? else {
        return Ok(None);
    };
    plan.prices = prices(conn, PriceList::Plan(id))?;
    Ok(Some(plan))
}

pub(crate) fn plans(conn: &impl Db, owner: Option<AccountId>) -> Result<Vec<RatePlan>> {
    let sql = format!(
        "SELECT {PLAN_COLUMNS} FROM rate_plans WHERE COALESCE(owner_id, 0) = ?1 ORDER BY id"
    );
    let mut plans = conn.all(&sql, args![owner.map_or(0, |o| o.0)], plan_row)?;
    for p in &mut plans {
        p.prices = prices(conn, PriceList::Plan(p.id))?;
    }
    Ok(plans)
}

fn require_plan(conn: &impl Db, id: PlanId) -> Result<RatePlan> {
    plan(conn, id)?.ok_or(StoreError::NoSuchPlan(id))
}

pub(crate) fn create_plan(
    conn: &impl Db,
    name: &str,
    owner: Option<AccountId>,
    by: &Audit,
) -> Result<RatePlan> {
    if let Some(o) = owner {
        require_account(conn, o)?;
    }
    let inserted = conn.insert_id(
        "INSERT INTO rate_plans (name, owner_id, created_at) VALUES (?1, ?2, ?3)",
        args![name, owner.map(|o| o.0), by.at.0],
    );
    let id = match inserted {
        Err(e) if e.is_unique_violation() => return Err(StoreError::PlanNameTaken(name.into())),
        other => PlanId(other?),
    };
    let made = require_plan(conn, id)?;
    audit::record(
        conn,
        by,
        plan_change(AuditAction::PlanCreate, &made).after(&made),
    )?;
    Ok(made)
}

/// A change of `plan`, for the audit log: a reseller's plan concerns
/// the reseller's account.
fn plan_change(action: AuditAction, plan: &RatePlan) -> Change {
    let change = Change::new(action).subject(format!("plan {}", plan.id));
    match plan.owner {
        Some(owner) => change.account(owner),
        None => change,
    }
}

pub(crate) fn delete_plan(conn: &impl Db, id: PlanId, by: &Audit) -> Result<()> {
    let plan = require_plan(conn, id)?;
    if plan.is_default {
        return Err(StoreError::PlanInUse {
            plan: id,
            why: PlanUse::Default,
        });
    }
    if plan.accounts > 0 {
        return Err(StoreError::PlanInUse {
            plan: id,
            why: PlanUse::Accounts(plan.accounts),
        });
    }
    conn.exec("DELETE FROM plan_prices WHERE plan_id = ?1", args![id.0])?;
    conn.exec("DELETE FROM rate_plans WHERE id = ?1", args![id.0])?;
    audit::record(
        conn,
        by,
        plan_change(AuditAction::PlanDelete, &plan).before(&plan),
    )?;
    Ok(())
}

pub(crate) fn set_default_plan(conn: &impl Db, id: PlanId, by: &Audit) -> Result<()> {
    let plan = match plan(conn, id)? {
        Some(p) if p.owner.is_none() => p,
        // A reseller's plan prices its own sub-accounts only.
        _ => return Err(StoreError::NoSuchPlan(id)),
    };
    let before: Option<i64> =
        conn.one("SELECT id FROM rate_plans WHERE is_default", args![], |r| {
            r.get(0)
        })?;
    conn.exec(
        "UPDATE rate_plans SET is_default = ?1 WHERE is_default AND id <> ?2",
        args![false, id.0],
    )?;
    conn.exec(
        "UPDATE rate_plans SET is_default = ?1 WHERE id = ?2",
        args![true, id.0],
    )?;
    audit::record(
        conn,
        by,
        plan_change(AuditAction::PlanDefault, &plan)
            .before(&serde_json::json!({"default_plan": before}))
            .after(&serde_json::json!({"default_plan": id})),
    )?;
    Ok(())
}

/// The table of a list's prices and the column of its owner's id.
fn table(list: PriceList) -> (&'static str, &'static str, i64) {
    match list {
        PriceList::Plan(p) => ("plan_prices", "plan_id", p.0),
        PriceList::Account(a) => ("account_prices", "account_id", a.0),
    }
}

pub(crate) fn prices(conn: &impl Db, list: PriceList) -> Result<Vec<Price>> {
    let (table, owner, id) = table(list);
    conn.all(
        &format!(
            "SELECT route_class, prefix, price FROM {table} WHERE {owner} = ?1
             ORDER BY route_class, prefix"
        ),
        args![id],
        |r| price_row(r, 0),
    )
}

/// The price of a class and prefix in a list, if set.
fn price(conn: &impl Db, list: PriceList, class: &str, prefix: &str) -> Result<Option<Price>> {
    let (table, owner, id) = table(list);
    conn.one(
        &format!(
            "SELECT route_class, prefix, price FROM {table}
              WHERE {owner} = ?1 AND route_class = ?2 AND prefix = ?3"
        ),
        args![id, class, prefix],
        |r| price_row(r, 0),
    )
}

/// A change of a list's price, for the audit log; `NoSuchPlan` /
/// `NoSuchAccount` when the list's owner is not there.
fn price_change(conn: &impl Db, action: AuditAction, list: PriceList) -> Result<Change> {
    Ok(match list {
        PriceList::Plan(plan) => plan_change(action, &require_plan(conn, plan)?),
        PriceList::Account(account) => {
            require_account(conn, account)?;
            Change::new(action)
                .account(account)
                .subject(format!("account {account} prices"))
        }
    })
}

pub(crate) fn set_price(conn: &impl Db, list: PriceList, p: Price, by: &Audit) -> Result<()> {
    let mut change = price_change(conn, AuditAction::PriceSet, list)?.after(&p);
    if let Some(old) = price(conn, list, &p.route_class, &p.prefix)? {
        change = change.before(&old);
    }
    let (table, owner, id) = table(list);
    conn.exec(
        &format!(
            "INSERT INTO {table} ({owner}, route_class, prefix, price) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT ({owner}, route_class, prefix) DO UPDATE SET price = excluded.price"
        ),
        args![id, p.route_class, p.prefix, p.per_segment.minor()],
    )?;
    audit::record(conn, by, change)?;
    Ok(())
}

pub(crate) fn delete_price(
    conn: &impl Db,
    list: PriceList,
    class: &str,
    prefix: &str,
    by: &Audit,
) -> Result<bool> {
    let Some(old) = price(conn, list, class, prefix)? else {
        return Ok(false);
    };
    let change = price_change(conn, AuditAction::PriceDelete, list)?.before(&old);
    let (table, owner, id) = table(list);
    conn.exec(
        &format!("DELETE FROM {table} WHERE {owner} = ?1 AND route_class = ?2 AND prefix = ?3"),
        args![id, class, prefix],
    )?;
    audit::record(conn, by, change)?;
    Ok(true)
}

fn connector_cost(conn: &impl Db, connector: &str, prefix: &str) -> Result<Option<ConnectorCost>> {
    conn.one(
        "SELECT connector, prefix, cost FROM connector_costs WHERE connector = ?1 AND prefix = ?2",
        args![connector, prefix],
        |r| {
            Ok(ConnectorCost {
                connector: r.get(0)?,
                prefix: r.get(1)?,
                per_segment: Amount::from_minor(r.get(2)?),
            })
        },
    )
}

pub(crate) fn set_connector_cost(conn: &impl Db, c: ConnectorCost, by: &Audit) -> Result<()> {
    let mut change = Change::new(AuditAction::CostSet)
        .subject(format!("connector {}", c.connector))
        .after(&c);
    if let Some(old) = connector_cost(conn, &c.connector, &c.prefix)? {
        change = change.before(&old);
    }
    conn.exec(
        "INSERT INTO connector_costs (connector, prefix, cost) VALUES (?1, ?2, ?3)
         ON CONFLICT (connector, prefix) DO UPDATE SET cost = excluded.cost",
        args![c.connector, c.prefix, c.per_segment.minor()],
    )?;
    audit::record(conn, by, change)?;
    Ok(())
}

pub(crate) fn delete_connector_cost(
    conn: &impl Db,
    connector: &str,
    prefix: &str,
    by: &Audit,
) -> Result<bool> {
    let Some(old) = connector_cost(conn, connector, prefix)? else {
        return Ok(false);
    };
    conn.exec(
        "DELETE FROM connector_costs WHERE connector = ?1 AND prefix = ?2",
        args![connector, prefix],
    )?;
    audit::record(
        conn,
        by,
        Change::new(AuditAction::CostDelete)
            .subject(format!("connector {connector}"))
            .before(&old),
    )?;
    Ok(true)
}

/// Rows `(owner, price)` grouped by owner, in the order read.
fn grouped<K: PartialEq>(rows: Vec<(K, Price)>) -> Vec<(K, Vec<Price>)> {
    let mut out: Vec<(K, Vec<Price>)> = Vec::new();
    for (k, p) in rows {
        match out.last_mut() {
            Some((last, prices)) if *last == k => prices.push(p),
            _ => out.push((k, vec![p])),
        }
    }
    out
}

pub(crate) fn pricing(conn: &impl Db) -> Result<PricingSnapshot> {
    let mut plans = grouped(conn.all(
        "SELECT plan_id, route_class, prefix, price FROM plan_prices ORDER BY plan_id, route_class, prefix",
        args![],
        |r| Ok((PlanId(r.get(0)?), price_row(r, 1)?)),
    )?);
    // Plans without prices are plans too (everything at the default price).
    let ids = conn.all("SELECT id FROM rate_plans ORDER BY id", args![], |r| {
        Ok(PlanId(r.get(0)?))
    })?;
    for id in ids {
        if !plans.iter().any(|(p, _)| *p == id) {
            plans.push((id, Vec::new()));
        }
    }
    let default = conn.one("SELECT id FROM rate_plans WHERE is_default", args![], |r| {
        Ok(PlanId(r.get(0)?))
    })?;
    let own = grouped(conn.all(
        "SELECT account_id, route_class, prefix, price FROM account_prices ORDER BY account_id, route_class, prefix",
        args![],
        |r| Ok((AccountId(r.get(0)?), price_row(r, 1)?)),
    )?);
    let costs = conn.all(
        "SELECT connector, prefix, cost FROM connector_costs ORDER BY connector, prefix",
        args![],
        |r| {
            Ok(ConnectorCost {
                connector: r.get(0)?,
                prefix: r.get(1)?,
                per_segment: Amount::from_minor(r.get(2)?),
            })
        },
    )?;
    let accounts = conn.all(
        "SELECT id, plan_id, parent_id FROM accounts
          WHERE plan_id IS NOT NULL OR parent_id IS NOT NULL ORDER BY id",
        args![],
        |r| {
            Ok(smsgate_core::PlanOf {
                account: AccountId(r.get(0)?),
                plan: r.get::<Option<i64>>(1)?.map(PlanId),
                parent: r.get::<Option<i64>>(2)?.map(AccountId),
            })
        },
    )?;
    Ok(PricingSnapshot {
        plans,
        default,
        own,
        costs,
        accounts,
    })
}

// --- this file's part of the store port ------------------------------------------

#[async_trait]
impl<B: Backend> PriceStore for SqlStore<B> {
    async fn create_plan(
        &self,
        name: &str,
        owner: Option<AccountId>,
        by: &Audit,
    ) -> Result<RatePlan> {
        let (name, by) = (name.to_string(), *by);
        self.write(move |c| create_plan(c, &name, owner, &by)).await
    }
    async fn plans(&self, owner: Option<AccountId>) -> Result<Vec<RatePlan>> {
        self.read(move |c| plans(c, owner)).await
    }
    async fn plan(&self, id: PlanId) -> Result<Option<RatePlan>> {
        self.read(move |c| plan(c, id)).await
    }
    async fn delete_plan(&self, id: PlanId, by: &Audit) -> Result<()> {
        let by = *by;
        self.write(move |c| delete_plan(c, id, &by)).await
    }
    async fn set_default_plan(&self, id: PlanId, by: &Audit) -> Result<()> {
        let by = *by;
        self.write(move |c| set_default_plan(c, id, &by)).await
    }
    async fn prices(&self, list: PriceList) -> Result<Vec<Price>> {
        self.read(move |c| prices(c, list)).await
    }
    async fn set_price(&self, list: PriceList, price: Price, by: &Audit) -> Result<()> {
        let by = *by;
        self.write(move |c| set_price(c, list, price, &by)).await
    }
    async fn delete_price(
        &self,
        list: PriceList,
        route_class: &str,
        prefix: &str,
        by: &Audit,
    ) -> Result<bool> {
        let (class, prefix, by) = (route_class.to_string(), prefix.to_string(), *by);
        self.write(move |c| delete_price(c, list, &class, &prefix, &by))
            .await
    }
    async fn set_connector_cost(&self, cost: ConnectorCost, by: &Audit) -> Result<()> {
        let by = *by;
        self.write(move |c| set_connector_cost(c, cost, &by)).await
    }
    async fn delete_connector_cost(
        &self,
        connector: &str,
        prefix: &str,
        by: &Audit,
    ) -> Result<bool> {
        let (connector, prefix, by) = (connector.to_string(), prefix.to_string(), *by);
        self.write(move |c| delete_connector_cost(c, &connector, &prefix, &by))
            .await
    }
    async fn pricing(&self) -> Result<PricingSnapshot> {
        self.read(pricing).await
    }
}
