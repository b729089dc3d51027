//! Credits and prices.
//!
//! Credits are whole units (the operator decides what a unit is worth),
//! never floats. A message costs its segments times the price per segment
//! of its route class and destination, where the longest matching E.164
//! prefix wins, as carriers price.

use std::collections::{BTreeMap, HashMap};
use std::fmt;

use serde::{Deserialize, Serialize};

/// A number of credit units. Balances are never negative; amounts in the
/// ledger are signed.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct Credits(i64);

impl Credits {
    pub const ZERO: Credits = Credits(0);
    /// The largest balance an account (or one of its categories) may hold:
    /// 100,000,000,000,000 credits. Far above any business, and with room
    /// below `i64::MAX` for fractions of a credit and sums over accounts.
    pub const MAX_BALANCE: Credits = Credits(100_000_000_000_000);

    pub const fn new(units: i64) -> Credits {
        Credits(units)
    }

    pub const fn units(self) -> i64 {
        self.0
    }

    pub fn checked_add(self, other: Credits) -> Option<Credits> {
        self.0.checked_add(other.0).map(Credits)
    }

    pub fn checked_mul(self, n: usize) -> Option<Credits> {
        i64::try_from(n)
            .ok()
            .and_then(|n| self.0.checked_mul(n))
            .map(Credits)
    }
}

impl fmt::Display for Credits {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// The route class a price applies to. The native API uses
/// [`RouteClass::STANDARD`]; dialects add their own (e.g. `N`, `L`, `LL`).
pub type RouteClass = String;

/// One configured price: per segment, for a route class and a destination
/// prefix (digits of the E.164 number; `""` matches every destination).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Price {
    pub route_class: RouteClass,
    pub prefix: String,
    pub per_segment: Credits,
}

/// Prices by route class and destination prefix; what a message costs.
#[derive(Debug, Clone)]
pub struct PriceTable {
    classes: HashMap<RouteClass, BTreeMap<String, Credits>>,
    fallback: Credits,
}

/// The route class of the native API.
pub const STANDARD_ROUTE: &str = "standard";

/// The price per segment when no configured price matches: 1 credit, as
/// the seed services count "SMS units".
pub const DEFAULT_PRICE: Credits = Credits(1);

impl Default for PriceTable {
    fn default() -> Self {
        PriceTable::new(Vec::new())
    }
}

impl PriceTable {
    pub fn new(prices: impl IntoIterator<Item = Price>) -> PriceTable {
        let mut classes: HashMap<RouteClass, BTreeMap<String, Credits>> = HashMap::new();
        for p in prices {
            classes
                .entry(p.route_class)
                .or_default()
                .insert(p.prefix, p.per_segment);
        }
        PriceTable {
            classes,
            fallback: DEFAULT_PRICE,
        }
    }

    /// The price per segment to `digits` (E.164 without `+`) on
    /// `route_class`: its own prices, else the `standard` ones (a dialect's
    /// class nobody priced costs what the native API charges), else the
    /// default price. The longest prefix wins within a class.
    pub fn per_segment(&self, route_class: &str, digits: &str) -> Credits {
        let longest = |class: &str| {
            let prefixes = self.classes.get(class)?;
            (0..=digits.len())
                .rev()
                .find_map(|len| prefixes.get(&digits[..len]).copied())
        };
        longest(route_class)
            .or_else(|| longest(STANDARD_ROUTE))
            .unwrap_or(self.fallback)
    }

    /// The cost of a message of `segments` parts, or `None` on overflow.
    pub fn cost(&self, route_class: &str, digits: &str, segments: usize) -> Option<Credits> {
        self.per_segment(route_class, digits).checked_mul(segments)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn price(class: &str, prefix: &str, units: i64) -> Price {
        Price {
            route_class: class.into(),
            prefix: prefix.into(),
            per_segment: Credits::new(units),
        }
    }

    #[test]
    fn fresh_install_charges_one_credit_per_segment() {
        let t = PriceTable::default();
        assert_eq!(
            t.cost(STANDARD_ROUTE, "31612345678", 3),
            Some(Credits::new(3))
        );
    }

    #[test]
    fn longest_prefix_wins_within_the_route_class() {
        let t = PriceTable::new([
            price("standard", "", 5),
            price("standard", "31", 7),
            price("standard", "316", 9),
            price("premium", "31", 20),
        ]);
        assert_eq!(t.per_segment("standard", "31612345678"), Credits::new(9));
        assert_eq!(t.per_segment("standard", "31201234567"), Credits::new(7));
        assert_eq!(t.per_segment("standard", "447911123456"), Credits::new(5));
        assert_eq!(t.per_segment("premium", "31612345678"), Credits::new(20));
        // A class without a price for the destination costs what
        // `standard` does; with no standard price either, the default.
        assert_eq!(t.per_segment("premium", "447911123456"), Credits::new(5));
        assert_eq!(t.per_segment("N", "31612345678"), Credits::new(9));
        let only_premium = PriceTable::new([price("premium", "31", 20)]);
        assert_eq!(only_premium.per_segment("N", "31612345678"), DEFAULT_PRICE);
        assert_eq!(
            only_premium.per_segment("premium", "31612345678"),
            Credits::new(20)
        );
    }

    #[test]
    fn cost_overflow_is_detected() {
        let t = PriceTable::new([price("standard", "", i64::MAX)]);
        assert_eq!(t.cost("standard", "31612345678", 2), None);
    }
}
