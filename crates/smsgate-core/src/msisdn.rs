//! `Msisdn`: a phone number validated and normalised to E.164.
//!
//! Parsing is libphonenumber's (the `rlibphonenumber` port); this module
//! decides which inputs mean an international number. Its first use in a
//! process builds the metadata (~20 ms): call [`warm_up`] at start.

use std::fmt;

use rlibphonenumber::{ParseError, PhoneNumber, Region};
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
    #[error("not a valid phone number for {0}")]
    InvalidForCountry(String),
    #[error("not a valid phone number")]
    Invalid,
    #[error("unknown country code {0:?}; use an ISO 3166-1 alpha-2 code such as \"NL\"")]
    UnknownCountry(String),
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
            return Self::international(rest);
        }
        if let Some(country) = default_country {
            if let Ok(n) = PhoneNumber::parse(&digits, Some(country.0))
                && n.is_valid()
            {
                return Ok(Msisdn(
                    n.format_as(rlibphonenumber::PhoneNumberFormat::E164)
                        .into_owned(),
                ));
            }
            if digits.starts_with('0') {
                return Err(MsisdnError::InvalidForCountry(country.code()));
            }
        } else if digits.starts_with('0') {
            return Err(MsisdnError::NeedsCountry);
        }
        Self::international(&digits)
    }

    fn international(digits: &str) -> Result<Msisdn, MsisdnError> {
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
        if !n.is_valid() {
            return Err(match n.get_region_code() {
                Some(region) => MsisdnError::InvalidForCountry(region.to_string()),
                None => MsisdnError::Invalid,
            });
        }
        Ok(Msisdn(
            n.format_as(rlibphonenumber::PhoneNumberFormat::E164)
                .into_owned(),
        ))
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
}
