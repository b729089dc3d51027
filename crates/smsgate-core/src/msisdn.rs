//! `Msisdn`: a phone number validated and normalised to E.164.
//!
//! Parsing is libphonenumber's (the `rlibphonenumber` port); this module
//! decides which inputs mean an international number. Its first use in a
//! process builds the metadata (~20 ms): call [`warm_up`] at start.

use std::fmt;

use rlibphonenumber::{
    NumberLengthType, ParseError, PhoneNumber, PhoneNumberType, Region, ValidationError,
};
use serde::{Deserialize, Serialize};

/// A valid phone number in E.164 form (`+` and up to 15 digits).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Msisdn(String);

/// A default country for national numbers: an ISO 3166-1 alpha-2 code that
/// libphonenumber knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Country(Region);

impl Country {
    pub fn parse(code: &str) -> Result<Country, MsisdnError> {
        Region::from_code(&code.to_ascii_uppercase())
            .ok()
            // Two letters are not enough: libphonenumber must have numbering
            // rules for the region.
            .filter(|r| {
                rlibphonenumber::PHONE_NUMBER_UTIL
                    .get_country_code_for_region(*r)
                    .is_some()
            })
            .map(Country)
            .ok_or_else(|| MsisdnError::UnknownCountry(code.to_string()))
    }

    pub fn code(&self) -> String {
        self.0.to_string()
    }
}

/// What kind of line a number is, as libphonenumber's numbering plans say,
/// with satellite and international-network numbers told apart (their
/// calling codes are not a country's, and they are where SMS pumping and
/// revenue-share fraud terminate).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum NumberType {
    Mobile,
    FixedLine,
    /// A number plan that does not tell fixed from mobile (+1).
    FixedLineOrMobile,
    TollFree,
    PremiumRate,
    SharedCost,
    Voip,
    /// A number that follows its owner to another line.
    Personal,
    Pager,
    /// Universal access (one number for a company).
    Uan,
    Voicemail,
    /// +870 (Inmarsat) and +881 (global mobile satellite systems).
    Satellite,
    /// +882 and +883: networks with no country.
    InternationalNetwork,
    /// A number of plausible length in a range libphonenumber does not know
    /// (accepted only with [`NumberCheck::Possible`]).
    Unknown,
}

/// How strictly numbers are checked: `valid` (libphonenumber's ranges,
/// the default) or `possible` (a plausible length for the country), so a
/// range newer than the metadata can still be sent to.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum NumberCheck {
    #[default]
    Valid,
    Possible,
}

impl NumberCheck {
    pub const fn as_str(self) -> &'static str {
        match self {
            NumberCheck::Valid => "valid",
            NumberCheck::Possible => "possible",
        }
    }

    pub fn parse(s: &str) -> Option<NumberCheck> {
        match s {
            "valid" => Some(NumberCheck::Valid),
            "possible" => Some(NumberCheck::Possible),
            _ => None,
        }
    }
}

impl NumberType {
    pub const ALL: [NumberType; 14] = [
        NumberType::Mobile,
        NumberType::FixedLine,
        NumberType::FixedLineOrMobile,
        NumberType::TollFree,
        NumberType::PremiumRate,
        NumberType::SharedCost,
        NumberType::Voip,
        NumberType::Personal,
        NumberType::Pager,
        NumberType::Uan,
        NumberType::Voicemail,
        NumberType::Satellite,
        NumberType::InternationalNetwork,
        NumberType::Unknown,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            NumberType::Mobile => "mobile",
            NumberType::FixedLine => "fixed-line",
            NumberType::FixedLineOrMobile => "fixed-line-or-mobile",
            NumberType::TollFree => "toll-free",
            NumberType::PremiumRate => "premium-rate",
            NumberType::SharedCost => "shared-cost",
            NumberType::Voip => "voip",
            NumberType::Personal => "personal",
            NumberType::Pager => "pager",
            NumberType::Uan => "uan",
            NumberType::Voicemail => "voicemail",
            NumberType::Satellite => "satellite",
            NumberType::InternationalNetwork => "international-network",
            NumberType::Unknown => "unknown",
        }
    }

    pub fn parse(s: &str) -> Option<NumberType> {
        NumberType::ALL.into_iter().find(|t| t.as_str() == s)
    }

    /// Refused unless the account allows them: the kinds that cost the
    /// sender far more than a message is worth to anyone but the fraudster.
    pub const fn is_restricted(self) -> bool {
        matches!(
            self,
            NumberType::PremiumRate
                | NumberType::SharedCost
                | NumberType::Personal
                | NumberType::Satellite
                | NumberType::InternationalNetwork
        )
    }

    /// `None` for a number libphonenumber knows no type of: not a valid
    /// number.
    fn of(n: &PhoneNumber) -> Option<NumberType> {
        match n.country_code {
            870 | 881 => return Some(NumberType::Satellite),
            882 | 883 => return Some(NumberType::InternationalNetwork),
            _ => {}
        }
        Some(match n.get_type() {
            PhoneNumberType::Unknown => return None,
            PhoneNumberType::Mobile => NumberType::Mobile,
            PhoneNumberType::FixedLine => NumberType::FixedLine,
            PhoneNumberType::FixedLineOrMobile => NumberType::FixedLineOrMobile,
            PhoneNumberType::TollFree => NumberType::TollFree,
            PhoneNumberType::PremiumRate => NumberType::PremiumRate,
            PhoneNumberType::SharedCost => NumberType::SharedCost,
            PhoneNumberType::VoIP => NumberType::Voip,
            PhoneNumberType::PersonalNumber => NumberType::Personal,
            PhoneNumberType::Pager => NumberType::Pager,
            PhoneNumberType::UAN => NumberType::Uan,
            PhoneNumberType::VoiceMail => NumberType::Voicemail,
        })
    }
}

impl fmt::Display for NumberType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where a number leads: its country (`None` for the calling codes of no
/// country, such as +870) and its type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Destination {
    pub country: Option<Country>,
    pub kind: NumberType,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MsisdnError {
    #[error("number is empty")]
    Empty,
    #[error(
        "number contains {0:?}; only digits, a leading '+' and separators (space, '-', '.', '(', ')') are allowed"
    )]
    InvalidCharacter(char),
    #[error("national number without a country code and the account has no default country")]
    NeedsCountry,
    #[error("unknown country calling code")]
    UnknownCountryCode,
    #[error("number is too short")]
    TooShort,
    #[error("number is too long")]
    TooLong,
    #[error(
        "not a valid phone number for {0} (number_check \"valid\"; \"possible\" also takes numbers of a plausible length)"
    )]
    InvalidForCountry(String),
    #[error("not a possible phone number for {country}: {why} (number_check \"possible\")")]
    NotPossible { country: String, why: LengthProblem },
    #[error("not a valid phone number")]
    Invalid,
    #[error("unknown country code {0:?}; use an ISO 3166-1 alpha-2 code such as \"NL\"")]
    UnknownCountry(String),
}

/// Why a number's length is not plausible for its country.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum LengthProblem {
    #[error("too short")]
    TooShort,
    #[error("too long")]
    TooLong,
    #[error("no number there has this length")]
    InvalidLength,
}

/// Parses once so that the first real request does not pay for metadata
/// initialisation.
pub fn warm_up() {
    let _ = Msisdn::parse("+31612345678", None);
}

impl Msisdn {
    /// Normalises `input` to E.164.
    ///
    /// `+31612345678`, `0031612345678` and `31612345678` are international;
    /// a number without either prefix is first tried as a national number
    /// of `default_country` (if any), then as international digits.
    pub fn parse(input: &str, default_country: Option<Country>) -> Result<Msisdn, MsisdnError> {
        Self::parse_destination(input, default_country).map(|(n, _)| n)
    }

    /// As [`parse`](Self::parse), with where the number leads (learnt by the
    /// same parse: validity is having a type).
    pub fn parse_destination(
        input: &str,
        default_country: Option<Country>,
    ) -> Result<(Msisdn, Destination), MsisdnError> {
        Self::parse_checked(input, default_country, NumberCheck::Valid)
    }

    /// As [`parse_destination`](Self::parse_destination), with the check
    /// `check`.
    pub fn parse_checked(
        input: &str,
        default_country: Option<Country>,
        check: NumberCheck,
    ) -> Result<(Msisdn, Destination), MsisdnError> {
        let trimmed = input.trim();
        let mut digits = String::with_capacity(trimmed.len() + 1);
        for (i, c) in trimmed.chars().enumerate() {
            match c {
                '0'..='9' => digits.push(c),
                '+' if i == 0 => {}
                ' ' | '-' | '.' | '(' | ')' | '\u{a0}' => {}
                other => return Err(MsisdnError::InvalidCharacter(other)),
            }
        }
        if digits.is_empty() {
            return Err(MsisdnError::Empty);
        }
        let international = if trimmed.starts_with('+') {
            Some(digits.as_str())
        } else {
            digits.strip_prefix("00")
        };
        if let Some(rest) = international {
            return Self::international(rest, check);
        }
        if let Some(country) = default_country {
            let national =
                PhoneNumber::parse(&digits, Some(country.0)).map(|n| Self::found(&n, check));
            if let Ok(Ok(found)) = national {
                return Ok(found);
            }
            if digits.starts_with('0') {
                return Err(match national {
                    Ok(Err(why)) => why,
                    _ => MsisdnError::InvalidForCountry(country.code()),
                });
            }
        } else if digits.starts_with('0') {
            return Err(MsisdnError::NeedsCountry);
        }
        Self::international(&digits, check)
    }

    fn international(
        digits: &str,
        check: NumberCheck,
    ) -> Result<(Msisdn, Destination), MsisdnError> {
        // No country code plus subscriber number is shorter than this.
        if digits.len() < 4 {
            return Err(MsisdnError::TooShort);
        }
        let n = PhoneNumber::parse(format!("+{digits}"), None).map_err(|e| match e {
            ParseError::InvalidCountryCode => MsisdnError::UnknownCountryCode,
            ParseError::TooShortAfterIdd | ParseError::TooShortNsn => MsisdnError::TooShort,
            ParseError::TooLongNsn => MsisdnError::TooLong,
            ParseError::NotANumber(_) => MsisdnError::Invalid,
        })?;
        Self::found(&n, check)
    }

    /// A number that passes `check` and where it leads, or why not.
    fn found(n: &PhoneNumber, check: NumberCheck) -> Result<(Msisdn, Destination), MsisdnError> {
        let region = n.get_region_code();
        let kind = match (NumberType::of(n), check) {
            (Some(kind), _) => kind,
            (None, NumberCheck::Valid) => {
                return Err(match region {
                    Some(region) => MsisdnError::InvalidForCountry(region.to_string()),
                    None => MsisdnError::Invalid,
                });
            }
            (None, NumberCheck::Possible) => match n.is_possible_with_reason() {
                Ok(NumberLengthType::IsPossible) => NumberType::Unknown,
                Ok(NumberLengthType::IsPossibleLocalOnly) => {
                    return Err(not_possible(region, LengthProblem::TooShort));
                }
                Err(ValidationError::InvalidCountryCode) => {
                    return Err(MsisdnError::UnknownCountryCode);
                }
                Err(ValidationError::TooShort) => {
                    return Err(not_possible(region, LengthProblem::TooShort));
                }
                Err(ValidationError::TooLong) => {
                    return Err(not_possible(region, LengthProblem::TooLong));
                }
                Err(ValidationError::InvalidLength) => {
                    return Err(not_possible(region, LengthProblem::InvalidLength));
                }
            },
        };
        let country = region.filter(|r| *r != Region::World).map(Country);
        let e164 = n
            .format_as(rlibphonenumber::PhoneNumberFormat::E164)
            .into_owned();
        Ok((Msisdn(e164), Destination { country, kind }))
    }

    /// Trusts a value that was validated before it was stored.
    pub fn from_trusted(e164: String) -> Msisdn {
        Msisdn(e164)
    }

    /// The E.164 form, with the leading `+`.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The digits without the `+`, as prices and routes match them.
    pub fn digits(&self) -> &str {
        &self.0[1..]
    }
}

fn not_possible(region: Option<Region>, why: LengthProblem) -> MsisdnError {
    MsisdnError::NotPossible {
        country: region.map_or_else(|| "its calling code".into(), |r| r.to_string()),
        why,
    }
}

impl fmt::Display for Msisdn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for Msisdn {
    type Error = MsisdnError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Msisdn::parse(&s, None)
    }
}

impl From<Msisdn> for String {
    fn from(m: Msisdn) -> String {
        m.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nl() -> Option<Country> {
        Some(Country::parse("nl").unwrap())
    }

    #[test]
    fn international_forms_normalise_to_e164() {
        for input in [
            "+31612345678",
            "0031612345678",
            "31612345678",
            "+31 6 1234 5678",
            "+31 (6) 12-34-56-78",
        ] {
            assert_eq!(
                Msisdn::parse(input, None).unwrap().as_str(),
                "+31612345678",
                "{input}"
            );
        }
        assert_eq!(
            Msisdn::parse("+14155552671", None).unwrap().digits(),
            "14155552671"
        );
    }

    #[test]
    fn national_forms_need_a_default_country() {
        assert_eq!(
            Msisdn::parse("0612345678", nl()).unwrap().as_str(),
            "+31612345678"
        );
        assert_eq!(
            Msisdn::parse("0612345678", None),
            Err(MsisdnError::NeedsCountry)
        );
        // International digits still work when a default country is set.
        assert_eq!(
            Msisdn::parse("447911123456", nl()).unwrap().as_str(),
            "+447911123456"
        );
    }

    #[test]
    fn invalid_numbers_say_why() {
        assert_eq!(Msisdn::parse("", None), Err(MsisdnError::Empty));
        assert_eq!(
            Msisdn::parse("+31abc", None),
            Err(MsisdnError::InvalidCharacter('a'))
        );
        assert_eq!(Msisdn::parse("+31", None), Err(MsisdnError::TooShort));
        assert!(matches!(
            Msisdn::parse("+3161234", None),
            Err(MsisdnError::InvalidForCountry(_) | MsisdnError::TooShort)
        ));
        assert!(Msisdn::parse("+999123456789", None).is_err());
        assert_eq!(
            Msisdn::parse("0123", nl()),
            Err(MsisdnError::InvalidForCountry("NL".into()))
        );
        assert!(matches!(
            Country::parse("Q1"),
            Err(MsisdnError::UnknownCountry(_))
        ));
    }

    #[test]
    fn a_possible_check_takes_ranges_the_metadata_does_not_know() {
        // +31 67… is no Dutch range libphonenumber knows, but has the
        // length of one.
        let unknown = "+31671234567";
        assert!(matches!(
            Msisdn::parse_checked(unknown, None, NumberCheck::Valid),
            Err(MsisdnError::InvalidForCountry(c)) if c == "NL"
        ));
        let (n, d) = Msisdn::parse_checked(unknown, None, NumberCheck::Possible).unwrap();
        assert_eq!(n.as_str(), unknown);
        assert_eq!(d.kind, NumberType::Unknown);
        assert_eq!(d.country, Some(Country::parse("NL").unwrap()));
        // Valid numbers keep their type under either check.
        let (_, d) = Msisdn::parse_checked("+31612345678", None, NumberCheck::Possible).unwrap();
        assert_eq!(d.kind, NumberType::Mobile);
        // The answer says which check refused, and why.
        let e = Msisdn::parse_checked("+316712345678901", None, NumberCheck::Possible).unwrap_err();
        assert!(e.to_string().contains("number_check \"possible\""), "{e}");
        assert!(
            matches!(e, MsisdnError::NotPossible { .. } | MsisdnError::TooLong),
            "{e:?}"
        );
        let e = Msisdn::parse_checked("+31671234567", None, NumberCheck::Valid).unwrap_err();
        assert!(e.to_string().contains("number_check \"valid\""), "{e}");
        assert!(matches!(
            Msisdn::parse_checked("0612", nl(), NumberCheck::Possible),
            Err(MsisdnError::NotPossible { .. })
        ));
    }
}
