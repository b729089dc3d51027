//! Rate plans, accounts' own prices and connectors' cost prices: checked
//! here, kept by the store, held in memory for every send (reloaded when
//! any node changes one).

use std::collections::HashMap;
use std::sync::Arc;

use smsgate_core::credits::STANDARD_ROUTE;
use smsgate_core::send::{Field, FieldErrorKind};
use smsgate_core::{AccountId, AccountPrices, Amount, PlanId, Price, PriceTable, Pricing};
use smsgate_store::{Change, ConnectorCost, PriceList, PricingSnapshot, RatePlan, StoreError};

use smsgate_core::operators::Permission;

use crate::{By, Caller, Engine, EngineError};

/// The price lists in force, shared by the engine and the dispatcher.
pub(crate) type SharedPrices = Arc<std::sync::RwLock<Arc<PriceBook>>>;

/// Every price list in force: what accounts pay and what carriers charge.
#[derive(Debug, Default)]
pub(crate) struct PriceBook {
    pricing: Pricing,
    /// Per connector, its cost prices (class `standard`).
    costs: HashMap<String, PriceTable>,
}

impl PriceBook {
    pub(crate) fn new(snapshot: PricingSnapshot) -> PriceBook {
        let mut costs: HashMap<String, Vec<Price>> = HashMap::new();
        for c in snapshot.costs {
            costs.entry(c.connector).or_default().push(Price {
                route_class: STANDARD_ROUTE.into(),
                prefix: c.prefix,
                per_segment: c.per_segment,
            });
        }
        PriceBook {
            pricing: Pricing::new(
                snapshot.plans,
                snapshot.default,
                snapshot.own,
                snapshot.accounts,
            ),
            costs: costs
                .into_iter()
                .map(|(name, prices)| (name, PriceTable::new(prices)))
                .collect(),
        }
    }

    /// What a message of `segments` parts to `digits` costs on
    /// `connector`: its cost price per segment for the longest prefix, or
    /// nothing when it has none.
    pub(crate) fn carrier_cost(&self, connector: &str, digits: &str, segments: usize) -> Amount {
        self.costs
            .get(connector)
            .and_then(|t| t.find(STANDARD_ROUTE, digits))
            .and_then(|per| per.checked_mul(i64::try_from(segments).ok()?))
            .unwrap_or(Amount::ZERO)
    }
}

/// A price as given: not negative, a prefix of up to 15 digits, a route
/// class named.
fn check_price(price: &Price) -> Result<(), EngineError> {
    if price.per_segment < Amount::ZERO {
        return Err(EngineError::field(Field::Price, FieldErrorKind::Negative));
    }
    if price.per_segment > Amount::MAX_BALANCE {
        return Err(EngineError::field(
            Field::Price,
            FieldErrorKind::AtMost {
                max: Amount::MAX_BALANCE,
            },
        ));
    }
    check_prefix(&price.prefix)?;
    if price.route_class.is_empty() || price.route_class.chars().count() > 32 {
        return Err(EngineError::field(
            Field::RouteClass,
            FieldErrorKind::Chars { max: 32 },
        ));
    }
    Ok(())
}

fn check_prefix(prefix: &str) -> Result<(), EngineError> {
    if !prefix.bytes().all(|b| b.is_ascii_digit()) || prefix.len() > 15 {
        return Err(EngineError::field(
            Field::Prefix,
            FieldErrorKind::PrefixDigits,
        ));
    }
    Ok(())
}

/// The store's refusals of a price change, as the engine tells them.
fn refused(e: StoreError) -> EngineError {
    match e {
        StoreError::NoSuchPlan(_) => EngineError::NotFound("rate plan"),
        StoreError::NoSuchAccount(_) => EngineError::NotFound("account"),
        e @ (StoreError::PlanNameTaken(_) | StoreError::PlanInUse { .. }) => {
            EngineError::Conflict(e.to_string())
        }
        e => e.into(),
    }
}

impl Engine {
    /// What `caller` pays: its own prices on top of its plan's (or of its
    /// parent's prices).
    pub fn prices_for(&self, caller: &Caller) -> AccountPrices {
        self.price_book().pricing.for_account(caller.account)
    }

    pub(crate) fn price_book(&self) -> Arc<PriceBook> {
        self.inner
            .prices
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    pub(crate) async fn reload_prices(&self) -> Result<(), EngineError> {
        let book = PriceBook::new(self.inner.store.pricing().await?);
        *self.inner.prices.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(book);
        Ok(())
    }

    /// Every node holds the new prices before the next send.
    pub(crate) async fn prices_changed(&self) -> Result<(), EngineError> {
        self.reload_prices().await?;
        self.announce(Change::Prices).await;
        Ok(())
    }

    async fn default_plan(&self) -> Result<PlanId, EngineError> {
        self.inner
            .store
            .plans(None)
            .await?
            .into_iter()
            .find(|p| p.is_default)
            .map(|p| p.id)
            .ok_or(EngineError::NotFound("default rate plan"))
    }

    // --- the default plan (`/admin/v1/prices`) ---------------------------------------

    /// The default plan's prices.
    pub async fn default_prices(&self) -> Result<Vec<Price>, EngineError> {
        let id = self.default_plan().await?;
        self.list_prices(PriceList::Plan(id)).await
    }

    pub async fn set_price(&self, by: &By, price: Price) -> Result<(), EngineError> {
        let id = self.default_plan().await?;
        self.set_list_price(by, PriceList::Plan(id), price).await
    }

    pub async fn delete_price(
        &self,
        by: &By,
        route_class: &str,
        prefix: &str,
    ) -> Result<bool, EngineError> {
        let id = self.default_plan().await?;
        self.delete_list_price(by, PriceList::Plan(id), route_class, prefix)
            .await
    }

    // --- rate plans ------------------------------------------------------------------

    pub async fn create_plan(
        &self,
        by: &By,
        name: &str,
        owner: Option<AccountId>,
    ) -> Result<RatePlan, EngineError> {
        self.allow(by, Permission::Change)?;
        self.make_plan(by, name, owner).await
    }

    /// A new plan: the caller checked who may make it.
    pub(crate) async fn make_plan(
        &self,
        by: &By,
        name: &str,
        owner: Option<AccountId>,
    ) -> Result<RatePlan, EngineError> {
        let name = name.trim();
        if name.is_empty() || name.chars().count() > 64 {
            return Err(EngineError::field(
                Field::Name,
                FieldErrorKind::Chars { max: 64 },
            ));
        }
        let plan = self
            .inner
            .store
            .create_plan(name, owner, &self.audit(by))
            .await
            .map_err(refused)?;
        self.prices_changed().await?;
        Ok(plan)
    }

    /// The operator's plans (`owner` `None`) or a reseller's.
    pub async fn rate_plans(&self, owner: Option<AccountId>) -> Result<Vec<RatePlan>, EngineError> {
        Ok(self.inner.store.plans(owner).await?)
    }

    pub async fn rate_plan(&self, id: PlanId) -> Result<RatePlan, EngineError> {
        self.inner
            .store
            .plan(id)
            .await?
            .ok_or(EngineError::NotFound("rate plan"))
    }

    pub async fn delete_plan(&self, by: &By, id: PlanId) -> Result<(), EngineError> {
        self.allow(by, Permission::Change)?;
        self.inner
            .store
            .delete_plan(id, &self.audit(by))
            .await
            .map_err(refused)?;
        self.prices_changed().await
    }

    pub async fn set_default_plan(&self, by: &By, id: PlanId) -> Result<(), EngineError> {
        self.allow(by, Permission::Change)?;
        self.inner
            .store
            .set_default_plan(id, &self.audit(by))
            .await
            .map_err(refused)?;
        self.prices_changed().await
    }

    // --- prices of a plan or of one account ----------------------------------------

    /// A plan's prices or an account's own.
    pub async fn list_prices(&self, list: PriceList) -> Result<Vec<Price>, EngineError> {
        if let PriceList::Plan(id) = list {
            self.rate_plan(id).await?;
        }
        Ok(self.inner.store.prices(list).await?)
    }

    pub async fn set_list_price(
        &self,
        by: &By,
        list: PriceList,
        price: Price,
    ) -> Result<(), EngineError> {
        self.allow(by, Permission::Change)?;
        self.put_price(by, list, price).await
    }

    /// Sets a price: the caller checked who may.
    pub(crate) async fn put_price(
        &self,
        by: &By,
        list: PriceList,
        price: Price,
    ) -> Result<(), EngineError> {
        check_price(&price)?;
        self.inner
            .store
            .set_price(list, price, &self.audit(by))
            .await
            .map_err(refused)?;
        self.prices_changed().await
    }

    /// Whether there was such a price to remove.
    pub async fn delete_list_price(
        &self,
        by: &By,
        list: PriceList,
        route_class: &str,
        prefix: &str,
    ) -> Result<bool, EngineError> {
        self.allow(by, Permission::Change)?;
        self.remove_price(by, list, route_class, prefix).await
    }

    /// Removes a price: the caller checked who may.
    pub(crate) async fn remove_price(
        &self,
        by: &By,
        list: PriceList,
        route_class: &str,
        prefix: &str,
    ) -> Result<bool, EngineError> {
        let deleted = self
            .inner
            .store
            .delete_price(list, route_class, prefix, &self.audit(by))
            .await?;
        self.prices_changed().await?;
        Ok(deleted)
    }

    // --- what carriers charge --------------------------------------------------------

    pub async fn connector_costs(&self) -> Result<Vec<ConnectorCost>, EngineError> {
        Ok(self.inner.store.pricing().await?.costs)
    }

    pub async fn set_connector_cost(
        &self,
        by: &By,
        cost: ConnectorCost,
    ) -> Result<(), EngineError> {
        self.allow(by, Permission::Change)?;
        if cost.connector.is_empty() || cost.connector.chars().count() > 64 {
            return Err(EngineError::field(
                Field::Connector,
                FieldErrorKind::Chars { max: 64 },
            ));
        }
        check_price(&Price {
            route_class: STANDARD_ROUTE.into(),
            prefix: cost.prefix.clone(),
            per_segment: cost.per_segment,
        })?;
        self.inner
            .store
            .set_connector_cost(cost, &self.audit(by))
            .await?;
        self.prices_changed().await
    }

    pub async fn delete_connector_cost(
        &self,
        by: &By,
        connector: &str,
        prefix: &str,
    ) -> Result<bool, EngineError> {
        self.allow(by, Permission::Change)?;
        let deleted = self
            .inner
            .store
            .delete_connector_cost(connector, prefix, &self.audit(by))
            .await?;
        self.prices_changed().await?;
        Ok(deleted)
    }
}
