//! Where an account may send: its destination countries (geo
//! permissions) and the restricted number types it is allowed.
//!
//! Premium-rate, shared-cost, personal, satellite and international-network
//! numbers are refused unless allowed ([`NumberType::is_restricted`]): SMS
//! pumping sends to them because someone is paid for each message.

use crate::msisdn::{Country, Destination, MsisdnError, NumberType};

/// An account's destination rules. The default reaches every country and
/// no restricted number type.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Reach {
    /// `None`: every country. A list also excludes numbers of no country
    /// (+870, +882, …).
    countries: Option<Vec<Country>>,
    /// Restricted types the account may still send to.
    allowed_types: Vec<NumberType>,
}

/// Why a destination is out of an account's reach.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutOfReach {
    /// The country, or `None` for a number of no country.
    Country(Option<Country>),
    NumberType(NumberType),
}

/// A refused setting.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReachError {
    #[error(transparent)]
    Country(#[from] MsisdnError),
    #[error(
        "unknown number type {0:?}; restricted types are premium-rate, shared-cost, personal, satellite and international-network"
    )]
    UnknownType(String),
    #[error("{0} numbers are never restricted; only restricted types can be allowed")]
    NotRestricted(NumberType),
}

impl Reach {
    /// From an admin's lists: ISO 3166-1 alpha-2 codes (`None`: every
    /// country) and restricted number types.
    pub fn new<C, T>(countries: Option<C>, allowed_types: T) -> Result<Reach, ReachError>
    where
        C: IntoIterator,
        C::Item: AsRef<str>,
        T: IntoIterator,
        T::Item: AsRef<str>,
    {
        let countries = match countries {
            Some(list) => {
                let mut out = Vec::new();
                for code in list {
                    let c = Country::parse(code.as_ref().trim())?;
                    if !out.contains(&c) {
                        out.push(c);
                    }
                }
                out.sort_by_key(Country::code);
                Some(out)
            }
            None => None,
        };
        let mut types = Vec::new();
        for name in allowed_types {
            let name = name.as_ref().trim();
            let t = NumberType::parse(name).ok_or_else(|| ReachError::UnknownType(name.into()))?;
            if !t.is_restricted() {
                return Err(ReachError::NotRestricted(t));
            }
            if !types.contains(&t) {
                types.push(t);
            }
        }
        types.sort();
        Ok(Reach {
            countries,
            allowed_types: types,
        })
    }

    /// From the stored form ([`stored_countries`](Self::stored_countries),
    /// [`stored_types`](Self::stored_types)); entries that no longer parse
    /// are dropped, so a hand-edited row narrows the reach rather than
    /// widening it.
    pub fn from_stored(countries: Option<&str>, types: Option<&str>) -> Reach {
        Reach {
            countries: countries.map(|s| {
                s.split_whitespace()
                    .filter_map(|c| Country::parse(c).ok())
                    .collect()
            }),
            allowed_types: types
                .unwrap_or_default()
                .split_whitespace()
                .filter_map(NumberType::parse)
                .filter(|t| t.is_restricted())
                .collect(),
        }
    }

    pub fn stored_countries(&self) -> Option<String> {
        self.countries.as_deref().map(store_countries)
    }

    pub fn stored_types(&self) -> Option<String> {
        store_types(&self.allowed_types)
    }

    pub fn countries(&self) -> Option<&[Country]> {
        self.countries.as_deref()
    }

    pub fn allowed_types(&self) -> &[NumberType] {
        &self.allowed_types
    }

    /// `Some` when the account may not send to `to`.
    pub fn refusal(&self, to: Destination) -> Option<OutOfReach> {
        if let Some(list) = &self.countries
            && !to.country.is_some_and(|c| list.contains(&c))
        {
            return Some(OutOfReach::Country(to.country));
        }
        if to.kind.is_restricted() && !self.allowed_types.contains(&to.kind) {
            return Some(OutOfReach::NumberType(to.kind));
        }
        None
    }
}

/// The stored form of a country list.
pub fn store_countries(list: &[Country]) -> String {
    list.iter().map(Country::code).collect::<Vec<_>>().join(" ")
}

/// The stored form of allowed types (`None` for none).
pub fn store_types(types: &[NumberType]) -> Option<String> {
    (!types.is_empty()).then(|| {
        types
            .iter()
            .map(|t| t.as_str())
            .collect::<Vec<_>>()
            .join(" ")
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Msisdn;

    fn destination(number: &str) -> Destination {
        Msisdn::parse_destination(number, None).unwrap().1
    }

    #[test]
    fn restricted_types_are_refused_until_allowed() {
        let open = Reach::default();
        // Mobile and fixed lines reach; premium rate (+44 909, +31 906),
        // shared cost (+34 901), personal (+44 70), satellite (+870,
        // +8816) and international networks (+882) do not.
        assert_eq!(open.refusal(destination("+447911123456")), None);
        assert_eq!(open.refusal(destination("+31201234567")), None);
        for (number, kind) in [
            ("+449098790000", NumberType::PremiumRate),
            ("+31906123456", NumberType::PremiumRate),
            ("+34901123456", NumberType::SharedCost),
            ("+447012345678", NumberType::Personal),
            ("+870773111632", NumberType::Satellite),
            ("+881612345678", NumberType::Satellite),
            ("+882163456789", NumberType::InternationalNetwork),
        ] {
            assert_eq!(destination(number).kind, kind, "{number}");
            assert_eq!(
                open.refusal(destination(number)),
                Some(OutOfReach::NumberType(kind)),
                "{number}"
            );
        }
        let premium = Reach::new(None::<[&str; 0]>, ["premium-rate"]).unwrap();
        assert_eq!(premium.refusal(destination("+449098790000")), None);
        assert!(premium.refusal(destination("+870773111632")).is_some());
    }

    #[test]
    fn a_country_list_reaches_only_its_countries() {
        let reach = Reach::new(Some(["nl", "BE", "NL"]), ["satellite"]).unwrap();
        assert_eq!(reach.stored_countries().as_deref(), Some("BE NL"));
        assert_eq!(reach.refusal(destination("+31612345678")), None);
        assert_eq!(reach.refusal(destination("+32470123456")), None);
        let gb = destination("+447911123456");
        assert_eq!(
            reach.refusal(gb),
            Some(OutOfReach::Country(gb.country)),
            "GB is not listed"
        );
        // A number of no country is outside any list, whatever its type.
        assert_eq!(
            reach.refusal(destination("+870773111632")),
            Some(OutOfReach::Country(None))
        );
        // An empty list reaches nowhere.
        let nowhere = Reach::new(Some([""; 0]), [""; 0]).unwrap();
        assert!(nowhere.refusal(destination("+31612345678")).is_some());
    }

    #[test]
    fn settings_are_checked_and_round_trip() {
        assert!(matches!(
            Reach::new(Some(["XX"]), [""; 0]),
            Err(ReachError::Country(_))
        ));
        assert_eq!(
            Reach::new(None::<[&str; 0]>, ["premium"]),
            Err(ReachError::UnknownType("premium".into()))
        );
        assert_eq!(
            Reach::new(None::<[&str; 0]>, ["mobile"]),
            Err(ReachError::NotRestricted(NumberType::Mobile))
        );
        let reach = Reach::new(Some(["DE"]), ["satellite", "premium-rate"]).unwrap();
        let back = Reach::from_stored(
            reach.stored_countries().as_deref(),
            reach.stored_types().as_deref(),
        );
        assert_eq!(back, reach);
        assert_eq!(Reach::from_stored(None, None), Reach::default());
        // Entries that no longer parse narrow, never widen.
        let narrowed = Reach::from_stored(Some("ZZ"), Some("mobile nonsense"));
        assert_eq!(narrowed.countries(), Some(&[][..]));
        assert!(narrowed.allowed_types().is_empty());
    }
}
