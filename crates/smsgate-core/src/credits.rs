//! Prices: rate plans and the accounts' own prices.
//!
//! Amounts are exact decimals ([`Amount`]; the operator decides what a
//! credit is worth), never floats. A message costs its segments times the
//! price per segment of its route class and destination, where the
//! longest matching E.164 prefix wins, as carriers price. An account pays
//! its own prices where it has them, else its rate plan's (the default
//! plan unless it was given another).

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::amount::Amount;
use crate::ids::{AccountId, PlanId};

/// The route class a price applies to. The native API uses
/// [`STANDARD_ROUTE`]; dialects add their own (e.g. `N`, `L`, `LL`).
pub type RouteClass = String;

/// One configured price: per segment, for a route class and a destination
/// prefix (digits of the E.164 number; `""` matches every destination).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Price {
    pub route_class: RouteClass,
    pub prefix: String,
    pub per_segment: Amount,
}

/// The route class of the native API.
pub const STANDARD_ROUTE: &str = "standard";

/// The price per segment when no configured price matches: 1 credit, as
/// the seed services count "SMS units".
pub const DEFAULT_PRICE: Amount = Amount::credits(1);

/// One price list: prices by route class and destination prefix.
#[derive(Debug, Clone, Default)]
pub struct PriceTable {
    classes: HashMap<RouteClass, BTreeMap<String, Amount>>,
}

impl PriceTable {
    pub fn new(prices: impl IntoIterator<Item = Price>) -> PriceTable {
        let mut classes: HashMap<RouteClass, BTreeMap<String, Amount>> = HashMap::new();
        for p in prices {
            classes
                .entry(p.route_class)
                .or_default()
                .insert(p.prefix, p.per_segment);
        }
        PriceTable { classes }
    }

    /// The price of the longest prefix of `digits` (E.164 without `+`)
    /// within `route_class`, if the list has one.
    pub fn find(&self, route_class: &str, digits: &str) -> Option<Amount> {
        let prefixes = self.classes.get(route_class)?;
        (0..=digits.len())
            .rev()
            .filter(|&len| digits.is_char_boundary(len))
            .find_map(|len| prefixes.get(&digits[..len]).copied())
    }
}

/// The prices one account pays: its own on top of its plan's.
#[derive(Debug, Clone, Default)]
pub struct AccountPrices {
    own: Option<Arc<PriceTable>>,
    plan: Arc<PriceTable>,
}

impl AccountPrices {
    pub fn new(plan: Arc<PriceTable>, own: Option<Arc<PriceTable>>) -> AccountPrices {
        AccountPrices { own, plan }
    }

    /// The price per segment to `digits` on `route_class`: the account's
    /// own price for the class, else its plan's; else the same for the
    /// `standard` class (a dialect's class nobody priced costs what the
    /// native API charges); else [`DEFAULT_PRICE`]. The longest prefix
    /// wins within each list.
    pub fn per_segment(&self, route_class: &str, digits: &str) -> Amount {
        let in_class = |class: &str| {
            self.own
                .as_ref()
                .and_then(|own| own.find(class, digits))
                .or_else(|| self.plan.find(class, digits))
        };
        in_class(route_class)
            .or_else(|| in_class(STANDARD_ROUTE))
            .unwrap_or(DEFAULT_PRICE)
    }

    /// The cost of a message of `segments` parts, or `None` on overflow.
    pub fn cost(&self, route_class: &str, digits: &str, segments: usize) -> Option<Amount> {
        self.per_segment(route_class, digits)
            .checked_mul(i64::try_from(segments).ok()?)
    }
}

/// Every price list in force: the rate plans, which one is the default,
/// and the accounts' own prices.
#[derive(Debug, Clone, Default)]
pub struct Pricing {
    plans: HashMap<PlanId, Arc<PriceTable>>,
    default: Option<PlanId>,
    own: HashMap<AccountId, Arc<PriceTable>>,
}

impl Pricing {
    pub fn new(
        plans: impl IntoIterator<Item = (PlanId, Vec<Price>)>,
        default: Option<PlanId>,
        own: impl IntoIterator<Item = (AccountId, Vec<Price>)>,
    ) -> Pricing {
        Pricing {
            plans: plans
                .into_iter()
                .map(|(id, prices)| (id, Arc::new(PriceTable::new(prices))))
                .collect(),
            default,
            own: own
                .into_iter()
                .map(|(id, prices)| (id, Arc::new(PriceTable::new(prices))))
                .collect(),
        }
    }

    /// What `account` pays on `plan` (`None`: the default plan). A plan
    /// not known here (removed since the account was read) is the
    /// default.
    pub fn for_account(&self, account: AccountId, plan: Option<PlanId>) -> AccountPrices {
        let plan = plan
            .and_then(|p| self.plans.get(&p))
            .or_else(|| self.default.and_then(|d| self.plans.get(&d)))
            .cloned()
            .unwrap_or_default();
        AccountPrices::new(plan, self.own.get(&account).cloned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn price(class: &str, prefix: &str, units: i64) -> Price {
        Price {
            route_class: class.into(),
            prefix: prefix.into(),
            per_segment: Amount::credits(units),
        }
    }

    fn plan_only(prices: Vec<Price>) -> AccountPrices {
        AccountPrices::new(Arc::new(PriceTable::new(prices)), None)
    }

    #[test]
    fn fresh_install_charges_one_credit_per_segment() {
        let t = Pricing::default().for_account(AccountId(1), None);
        assert_eq!(
            t.cost(STANDARD_ROUTE, "31612345678", 3),
            Some(Amount::credits(3))
        );
    }

    #[test]
    fn longest_prefix_wins_within_the_route_class() {
        let t = plan_only(vec![
            price("standard", "", 5),
            price("standard", "31", 7),
            price("standard", "316", 9),
            price("premium", "31", 20),
        ]);
        assert_eq!(t.per_segment("standard", "31612345678"), Amount::credits(9));
        assert_eq!(t.per_segment("standard", "31201234567"), Amount::credits(7));
        assert_eq!(
            t.per_segment("standard", "447911123456"),
            Amount::credits(5)
        );
        assert_eq!(t.per_segment("premium", "31612345678"), Amount::credits(20));
        // A class without a price for the destination costs what
        // `standard` does; with no standard price either, the default.
        assert_eq!(t.per_segment("premium", "447911123456"), Amount::credits(5));
        assert_eq!(t.per_segment("N", "31612345678"), Amount::credits(9));
        let only_premium = plan_only(vec![price("premium", "31", 20)]);
        assert_eq!(only_premium.per_segment("N", "31612345678"), DEFAULT_PRICE);
        assert_eq!(
            only_premium.per_segment("premium", "31612345678"),
            Amount::credits(20)
        );
    }

    /// The account's own prices come first within a class, even where its
    /// plan has a longer prefix; a class priced by the plan beats the
    /// account's standard price.
    #[test]
    fn own_prices_are_on_top_of_the_plan() {
        let plan = Arc::new(PriceTable::new([
            price("standard", "31", 7),
            price("standard", "316", 9),
            price("premium", "", 30),
        ]));
        let own = Arc::new(PriceTable::new([price("standard", "31", 4)]));
        let t = AccountPrices::new(plan, Some(own));
        assert_eq!(t.per_segment("standard", "31612345678"), Amount::credits(4));
        assert_eq!(t.per_segment("standard", "447911123456"), DEFAULT_PRICE);
        assert_eq!(t.per_segment("premium", "31612345678"), Amount::credits(30));
        assert_eq!(t.per_segment("N", "31612345678"), Amount::credits(4));
    }

    #[test]
    fn an_account_pays_its_plan_or_the_default_one() {
        let pricing = Pricing::new(
            [
                (PlanId(1), vec![price("standard", "", 2)]),
                (PlanId(2), vec![price("standard", "", 3)]),
            ],
            Some(PlanId(1)),
            [(AccountId(9), vec![price("standard", "44", 1)])],
        );
        let per = |account, plan| {
            pricing
                .for_account(AccountId(account), plan)
                .per_segment("standard", "31612345678")
        };
        assert_eq!(per(1, None), Amount::credits(2));
        assert_eq!(per(1, Some(PlanId(2))), Amount::credits(3));
        assert_eq!(
            per(1, Some(PlanId(77))),
            Amount::credits(2),
            "gone: the default"
        );
        assert_eq!(
            pricing
                .for_account(AccountId(9), Some(PlanId(2)))
                .per_segment("standard", "447911123456"),
            Amount::credits(1)
        );
    }

    #[test]
    fn cost_overflow_is_detected() {
        let t = plan_only(vec![Price {
            route_class: "standard".into(),
            prefix: "".into(),
            per_segment: Amount::from_minor(i64::MAX),
        }]);
        assert_eq!(t.cost("standard", "31612345678", 2), None);
    }
}
