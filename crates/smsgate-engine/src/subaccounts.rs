//! Sub-accounts: an account (a reseller) owns accounts of its own
//! customers, funds them from its balance, prices them with plans of its
//! own, never below its own prices, and sees them; a sub-account sees
//! nothing of its parent or its siblings.

use smsgate_core::send::{Field, FieldErrorKind};
use std::sync::Arc;

use smsgate_core::{AccountId, AccountPrices, Amount, PlanId, Price, PriceTable};
use smsgate_store::{Account, PriceList, RatePlan};

use crate::accounts::IssuedKey;
use crate::{AccountChanges, AccountRequest, By, Caller, Engine, EngineError};

impl Engine {
    /// A new sub-account of the caller's account with its first key; it
    /// starts with nothing (funded by transfers) on the default plan.
    pub async fn create_subaccount(
        &self,
        caller: &Caller,
        mut req: AccountRequest,
    ) -> Result<(Account, IssuedKey), EngineError> {
        if req.credits.is_some_and(|c| c != Amount::ZERO) {
            return Err(EngineError::field(
                Field::Credits,
                FieldErrorKind::TransferOnly,
            ));
        }
        req.credits = None;
        req.parent = Some(caller.account);
        self.open_account(&By::customer(caller), req).await
    }

    /// The caller's sub-accounts.
    pub async fn subaccounts(&self, caller: &Caller) -> Result<Vec<Account>, EngineError> {
        Ok(self.inner.store.children(caller.account).await?)
    }

    /// One of the caller's sub-accounts; any other account is not found
    /// (a sibling, the parent, a stranger).
    pub async fn subaccount(&self, caller: &Caller, id: AccountId) -> Result<Account, EngineError> {
        match self.inner.store.account(id).await? {
            Some(a) if a.parent == Some(caller.account) => Ok(a),
            _ => Err(EngineError::NotFound("sub-account")),
        }
    }

    /// Moves credits between the caller and one of its sub-accounts:
    /// positive to it, negative back from it. Both balances after
    /// (the caller's, the sub-account's).
    pub async fn transfer(
        &self,
        caller: &Caller,
        child: AccountId,
        amount: Amount,
        note: Option<String>,
    ) -> Result<(Amount, Amount), EngineError> {
        self.subaccount(caller, child).await?;
        // The most negative amount has no opposite: too large either way.
        let magnitude = if amount.is_negative() {
            amount.checked_neg()
        } else {
            Some(amount)
        };
        if magnitude == Some(Amount::ZERO) {
            return Err(EngineError::field(Field::Amount, FieldErrorKind::Zero));
        }
        let Some(magnitude) = magnitude.filter(|m| *m <= Amount::MAX_BALANCE) else {
            return Err(EngineError::field(
                Field::Amount,
                FieldErrorKind::AtMostEitherWay {
                    max: Amount::MAX_BALANCE,
                },
            ));
        };
        let (from, to) = if amount.is_negative() {
            (child, caller.account)
        } else {
            (caller.account, child)
        };
        let (given, taken) = self
            .inner
            .store
            .transfer(
                from,
                to,
                magnitude,
                note,
                &self.audit(&By::customer(caller)),
            )
            .await
            .map_err(crate::credits_refused)?;
        Ok(if amount.is_negative() {
            (taken, given)
        } else {
            (given, taken)
        })
    }

    /// Disables or enables a sub-account (`status` as an operator gives
    /// it, checked by the same rule), or gives it one of the caller's
    /// plans (`Some(None)`: its parent's prices).
    pub async fn change_subaccount(
        &self,
        caller: &Caller,
        child: AccountId,
        status: Option<String>,
        plan: Option<Option<PlanId>>,
    ) -> Result<Account, EngineError> {
        self.subaccount(caller, child).await?;
        if let Some(Some(p)) = plan {
            let prices = self.own_plan(caller, p).await?.prices;
            self.within_own_prices(caller, prices)?;
        }
        let patch = AccountChanges {
            status,
            plan,
            ..AccountChanges::default()
        }
        .into_patch()?;
        self.patch_account(&By::customer(caller), child, patch)
            .await
    }

    // --- a reseller's own plans ------------------------------------------------------

    /// Refused where a plan of these prices would be below what the
    /// caller itself pays anywhere.
    fn within_own_prices(&self, caller: &Caller, prices: Vec<Price>) -> Result<(), EngineError> {
        let plan = AccountPrices::new(Arc::new(PriceTable::new(prices)), None);
        match plan.first_below(&self.prices_for(caller)) {
            None => Ok(()),
            Some(below) => Err(EngineError::field(
                Field::Price,
                FieldErrorKind::BelowOwnPrice {
                    route_class: below.route_class,
                    prefix: below.prefix,
                    price: below.price,
                    floor: below.floor,
                },
            )),
        }
    }

    /// One of the caller's own plans; another's is not found.
    pub async fn own_plan(&self, caller: &Caller, id: PlanId) -> Result<RatePlan, EngineError> {
        match self.inner.store.plan(id).await? {
            Some(p) if p.owner == Some(caller.account) => Ok(p),
            _ => Err(EngineError::field(
                Field::Plan,
                FieldErrorKind::PlanUnknown(id.0),
            )),
        }
    }

    pub async fn own_plans(&self, caller: &Caller) -> Result<Vec<RatePlan>, EngineError> {
        self.rate_plans(Some(caller.account)).await
    }

    pub async fn create_own_plan(
        &self,
        caller: &Caller,
        name: &str,
    ) -> Result<RatePlan, EngineError> {
        self.make_plan(&By::customer(caller), name, Some(caller.account))
            .await
    }

    /// Sets a price of one of the caller's plans, refused where the plan
    /// would then be below what the caller itself pays.
    pub async fn set_own_plan_price(
        &self,
        caller: &Caller,
        plan: PlanId,
        price: Price,
    ) -> Result<(), EngineError> {
        let mut prices = self.own_plan(caller, plan).await?.prices;
        prices.retain(|p| !(p.route_class == price.route_class && p.prefix == price.prefix));
        prices.push(price.clone());
        self.within_own_prices(caller, prices)?;
        self.put_price(&By::customer(caller), PriceList::Plan(plan), price)
            .await
    }

    pub async fn delete_own_plan_price(
        &self,
        caller: &Caller,
        plan: PlanId,
        route_class: &str,
        prefix: &str,
    ) -> Result<bool, EngineError> {
        let mut prices = self.own_plan(caller, plan).await?.prices;
        prices.retain(|p| !(p.route_class == route_class && p.prefix == prefix));
        self.within_own_prices(caller, prices)?;
        self.remove_price(
            &By::customer(caller),
            PriceList::Plan(plan),
            route_class,
            prefix,
        )
        .await
    }
}
