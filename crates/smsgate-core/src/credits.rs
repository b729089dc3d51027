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

    /// Every route class and prefix the list prices.
    fn entries(&self) -> impl Iterator<Item = (&str, &str)> {
        self.classes.iter().flat_map(|(class, prefixes)| {
            prefixes
                .keys()
                .map(move |prefix| (class.as_str(), prefix.as_str()))
        })
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

/// The prices one account pays: its own on top of its plan's (for a
/// sub-account without a plan: its own on top of its parent's).
#[derive(Debug, Clone, Default)]
pub struct AccountPrices {
    /// Own prices, the account's first, then its parents' up to the one
    /// whose plan it pays.
    own: Vec<Arc<PriceTable>>,
    plan: Arc<PriceTable>,
}

impl AccountPrices {
    pub fn new(plan: Arc<PriceTable>, own: Option<Arc<PriceTable>>) -> AccountPrices {
        AccountPrices {
            own: own.into_iter().collect(),
            plan,
        }
    }

    /// The price per segment to `digits` on `route_class`: the account's
    /// own price for the class, else its plan's; else the same for the
    /// `standard` class (a dialect's class nobody priced costs what the
    /// native API charges); else [`DEFAULT_PRICE`]. The longest prefix
    /// wins within each list.
    pub fn per_segment(&self, route_class: &str, digits: &str) -> Amount {
        let in_class = |class: &str| {
            self.own
                .iter()
                .find_map(|own| own.find(class, digits))
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

    fn tables(&self) -> impl Iterator<Item = &PriceTable> {
        self.own
            .iter()
            .map(|t| t.as_ref())
            .chain([self.plan.as_ref()])
    }

    /// The first route class and destination prefix where these prices
    /// are below `floor`'s, with both prices; `None` when they are nowhere
    /// below (a reseller's plan within its own prices).
    ///
    /// Exact, not sampled: a price changes only at a prefix some list
    /// names, so comparing at every such prefix, in every class either
    /// names plus one neither does, compares every destination.
    pub fn first_below(&self, floor: &AccountPrices) -> Option<Below> {
        let entries: Vec<(&str, &str)> = self
            .tables()
            .chain(floor.tables())
            .flat_map(PriceTable::entries)
            .collect();
        let mut classes: Vec<&str> = entries.iter().map(|(c, _)| *c).collect();
        classes.extend([STANDARD_ROUTE, "\u{0}unnamed"]);
        classes.sort_unstable();
        classes.dedup();
        let mut prefixes: Vec<&str> = entries.iter().map(|(_, p)| *p).collect();
        prefixes.push("");
        prefixes.sort_unstable();
        prefixes.dedup();
        classes.iter().find_map(|class| {
            prefixes.iter().find_map(|prefix| {
                let (price, least) = (
                    self.per_segment(class, prefix),
                    floor.per_segment(class, prefix),
                );
                (price < least).then(|| Below {
                    route_class: class.to_string(),
                    prefix: prefix.to_string(),
                    price,
                    floor: least,
                })
            })
        })
    }
}

/// Where one price list is below another.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Below {
    pub route_class: RouteClass,
    pub prefix: String,
    pub price: Amount,
    pub floor: Amount,
}

/// Which plan an account is on and which account owns it: of the
/// accounts given a plan or owned by another (the others pay the default
/// plan).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PlanOf {
    pub account: AccountId,
    pub plan: Option<PlanId>,
    pub parent: Option<AccountId>,
}

/// Deeper chains of resellers than this pay the default plan (the
/// hierarchy is made one account at a time, so it never loops; the bound
/// only keeps a hand-edited database from looping).
const MAX_DEPTH: usize = 16;

/// Every price list in force: the rate plans, which one is the default,
/// the accounts' own prices, and which account pays which plan.
#[derive(Debug, Clone, Default)]
pub struct Pricing {
    plans: HashMap<PlanId, Arc<PriceTable>>,
    default: Option<PlanId>,
    own: HashMap<AccountId, Arc<PriceTable>>,
    accounts: HashMap<AccountId, PlanOf>,
}

impl Pricing {
    pub fn new(
        plans: impl IntoIterator<Item = (PlanId, Vec<Price>)>,
        default: Option<PlanId>,
        own: impl IntoIterator<Item = (AccountId, Vec<Price>)>,
        accounts: impl IntoIterator<Item = PlanOf>,
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
            accounts: accounts.into_iter().map(|a| (a.account, a)).collect(),
        }
    }

    /// What `account` pays: its own prices on top of its plan's; without
    /// a plan, on top of its parent's prices if another account owns it,
    /// else of the default plan's.
    pub fn for_account(&self, account: AccountId) -> AccountPrices {
        let mut own = Vec::new();
        let mut at = account;
        let mut plan = None;
        for _ in 0..MAX_DEPTH {
            own.extend(self.own.get(&at).cloned());
            match self.accounts.get(&at) {
                Some(PlanOf { plan: Some(p), .. }) => {
                    plan = Some(*p);
                    break;
                }
                Some(PlanOf {
                    parent: Some(parent),
                    ..
                }) => at = *parent,
                _ => break,
            }
        }
        // A plan not known here (removed since) is the default.
        let plan = plan
            .and_then(|p| self.plans.get(&p))
            .or_else(|| self.default.and_then(|d| self.plans.get(&d)))
            .cloned()
            .unwrap_or_default();
        AccountPrices { own, plan }
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
        let t = Pricing::default().for_account(AccountId(1));
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

    /// An account pays its plan, else (a sub-account) its parent's
    /// prices, else the default plan; own prices on top at each step.
    #[test]
    fn an_account_pays_its_plan_its_parent_s_prices_or_the_default() {
        let of = |account, plan: Option<i64>, parent: Option<i64>| PlanOf {
            account: AccountId(account),
            plan: plan.map(PlanId),
            parent: parent.map(AccountId),
        };
        let pricing = Pricing::new(
            [
                (PlanId(1), vec![price("standard", "", 2)]),
                (PlanId(2), vec![price("standard", "", 3)]),
            ],
            Some(PlanId(1)),
            [(AccountId(9), vec![price("standard", "44", 1)])],
            [
                of(2, Some(2), None),
                of(3, Some(77), None),
                of(9, Some(2), None),
                // 10 is 9's customer on no plan, 11 is 10's.
                of(10, None, Some(9)),
                of(11, None, Some(10)),
                of(12, Some(1), Some(9)),
            ],
        );
        let per = |account, to| {
            pricing
                .for_account(AccountId(account))
                .per_segment("standard", to)
        };
        let (nl, uk) = ("31612345678", "447911123456");
        assert_eq!(per(1, nl), Amount::credits(2), "the default plan");
        assert_eq!(per(2, nl), Amount::credits(3));
        assert_eq!(per(3, nl), Amount::credits(2), "a plan gone: the default");
        assert_eq!(
            (per(9, nl), per(9, uk)),
            (Amount::credits(3), Amount::credits(1))
        );
        assert_eq!(
            (per(10, nl), per(10, uk)),
            (Amount::credits(3), Amount::credits(1))
        );
        assert_eq!(
            (per(11, nl), per(11, uk)),
            (Amount::credits(3), Amount::credits(1))
        );
        assert_eq!(
            per(12, uk),
            Amount::credits(2),
            "its own plan, not its parent's prices"
        );
    }

    /// A plan is below another exactly where some destination costs less
    /// on it, however the two lists split their prefixes.
    #[test]
    fn a_list_below_another_is_found_wherever_it_is() {
        let floor = plan_only(vec![
            price("standard", "31", 2),
            price("standard", "316", 3),
        ]);
        let above = plan_only(vec![price("standard", "", 3)]);
        assert_eq!(above.first_below(&floor), None);
        // Cheaper only to +316…: found at that prefix.
        let mobile = plan_only(vec![price("standard", "", 2)]);
        let below = mobile.first_below(&floor).unwrap();
        assert_eq!(
            (below.prefix.as_str(), below.price, below.floor),
            ("316", Amount::credits(2), Amount::credits(3))
        );
        // Elsewhere the floor's default (1 credit) is the bound.
        let cheap_world = plan_only(vec![price("standard", "", 4), price("standard", "44", 0)]);
        assert_eq!(cheap_world.first_below(&floor).unwrap().prefix, "44");
        // A class the floor prices apart.
        let floor = plan_only(vec![price("N", "", 5)]);
        let flat = plan_only(vec![price("standard", "", 4)]);
        assert_eq!(flat.first_below(&floor).unwrap().route_class, "N");
        assert_eq!(
            plan_only(vec![price("standard", "", 5)]).first_below(&floor),
            None
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
