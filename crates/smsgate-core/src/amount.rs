//! Exact amounts of money with four decimal places: a segment can cost
//! 0.0350. Integers underneath (1 credit = 10,000 minor units), never
//! floats; sums and products are checked, so an amount is exact or an
//! error, never rounded.
//!
//! Written as text with all four places (`"0.0350"`, `"-12.0000"`), so a
//! client reads the precision as well as the value. Read from text or a
//! JSON number: a number with more places than four (other than zeros) is
//! refused, not rounded.

use std::fmt;

use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Minor units in one credit.
pub const SCALE: i64 = 10_000;
/// Decimal places of an amount.
pub const PLACES: usize = 4;

/// An amount of credits, signed (ledger entries are), in minor units.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Amount(i64);

/// Why a text is not an amount.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AmountError {
    #[error("an amount is digits with at most one '.', e.g. 12 or 0.0350")]
    Malformed,
    #[error("an amount has at most {PLACES} decimal places")]
    TooManyPlaces,
    #[error("the amount is too large")]
    OutOfRange,
}

impl Amount {
    pub const ZERO: Amount = Amount(0);
    /// The largest balance an account (or one of its categories) may hold:
    /// 1,000,000,000,000 credits. Far above any business, with room below
    /// `i64::MAX` for sums over thousands of accounts.
    pub const MAX_BALANCE: Amount = Amount::credits(1_000_000_000_000);

    /// `n` whole credits, for amounts written in the code; amounts read
    /// from outside go through [`Amount::whole`] or [`Amount::parse`].
    pub const fn credits(n: i64) -> Amount {
        match n.checked_mul(SCALE) {
            Some(minor) => Amount(minor),
            None => panic!("an amount in the code overflows"),
        }
    }

    pub const fn from_minor(minor: i64) -> Amount {
        Amount(minor)
    }

    pub const fn minor(self) -> i64 {
        self.0
    }

    /// `credits` whole credits.
    pub fn whole(credits: i64) -> Option<Amount> {
        credits.checked_mul(SCALE).map(Amount)
    }

    pub fn checked_add(self, other: Amount) -> Option<Amount> {
        self.0.checked_add(other.0).map(Amount)
    }

    pub fn checked_sub(self, other: Amount) -> Option<Amount> {
        self.0.checked_sub(other.0).map(Amount)
    }

    /// `n` times this amount (a price per segment times the segments).
    pub fn checked_mul(self, n: i64) -> Option<Amount> {
        self.0.checked_mul(n).map(Amount)
    }

    pub fn checked_neg(self) -> Option<Amount> {
        self.0.checked_neg().map(Amount)
    }

    pub fn is_negative(self) -> bool {
        self.0 < 0
    }

    /// The whole credits in this amount, the fraction cut off (towards
    /// zero): for the dialects whose clients read an integer.
    pub const fn whole_credits(self) -> i64 {
        self.0 / SCALE
    }

    /// Shown without the trailing zeros of its fraction (`1`, `0.035`),
    /// for sentences and for clients that read a plain number.
    pub fn trimmed(self) -> Trimmed {
        Trimmed(self)
    }

    /// Reads `12`, `-3`, `0.035`, `0.0350`, `.5`; refuses signs other
    /// than a leading `-`, exponents, spaces and a fifth place that is not
    /// zero.
    pub fn parse(text: &str) -> Result<Amount, AmountError> {
        let (negative, digits) = match text.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, text),
        };
        let (whole, fraction) = digits.split_once('.').unwrap_or((digits, ""));
        let all_digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
        if (whole.is_empty() && fraction.is_empty()) || !all_digits(whole) || !all_digits(fraction)
        {
            return Err(AmountError::Malformed);
        }
        if digits.ends_with('.') {
            return Err(AmountError::Malformed);
        }
        let fraction = fraction.trim_end_matches('0');
        if fraction.len() > PLACES {
            return Err(AmountError::TooManyPlaces);
        }
        // In i128, so that the most negative amount reads back too.
        let whole: i128 = if whole.is_empty() {
            0
        } else {
            whole.parse().map_err(|_| AmountError::OutOfRange)?
        };
        let mut minor_part: i128 = 0;
        for (i, b) in fraction.bytes().enumerate() {
            minor_part += i128::from(b - b'0') * 10i128.pow((PLACES - 1 - i) as u32);
        }
        let magnitude = whole
            .checked_mul(i128::from(SCALE))
            .and_then(|w| w.checked_add(minor_part))
            .ok_or(AmountError::OutOfRange)?;
        let minor = if negative { -magnitude } else { magnitude };
        i64::try_from(minor)
            .map(Amount)
            .map_err(|_| AmountError::OutOfRange)
    }
}

impl fmt::Display for Amount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.0 < 0 { "-" } else { "" };
        let magnitude = self.0.unsigned_abs();
        let scale = SCALE as u64;
        write!(f, "{sign}{}.{:04}", magnitude / scale, magnitude % scale)
    }
}

/// An amount shown without the trailing zeros of its fraction.
pub struct Trimmed(Amount);

impl fmt::Display for Trimmed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let full = self.0.to_string();
        f.write_str(full.trim_end_matches('0').trim_end_matches('.'))
    }
}

impl std::str::FromStr for Amount {
    type Err = AmountError;
    fn from_str(s: &str) -> Result<Amount, AmountError> {
        Amount::parse(s)
    }
}

/// As text with four places: exact in every JSON reader.
impl Serialize for Amount {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// From text or a JSON number.
impl<'de> Deserialize<'de> for Amount {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Amount, D::Error> {
        struct AmountVisitor;
        impl Visitor<'_> for AmountVisitor {
            type Value = Amount;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an amount with at most four decimal places, as a number or text")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Amount, E> {
                Amount::parse(v).map_err(E::custom)
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Amount, E> {
                Amount::whole(v).ok_or_else(|| E::custom(AmountError::OutOfRange))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Amount, E> {
                i64::try_from(v)
                    .ok()
                    .and_then(Amount::whole)
                    .ok_or_else(|| E::custom(AmountError::OutOfRange))
            }
            // A JSON number with a fraction: its shortest text (what the
            // client wrote, for up to 15 significant digits), read exactly.
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Amount, E> {
                if !v.is_finite() {
                    return Err(E::custom(AmountError::OutOfRange));
                }
                Amount::parse(&format!("{v}")).map_err(E::custom)
            }
        }
        d.deserialize_any(AmountVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn texts_read_and_written_exactly() {
        for (text, minor, shown) in [
            ("12", 120_000, "12.0000"),
            ("0.035", 350, "0.0350"),
            ("0.0350", 350, "0.0350"),
            ("-3.5", -35_000, "-3.5000"),
            (".5", 5_000, "0.5000"),
            ("0.00350", 35, "0.0035"),
            ("-0.0001", -1, "-0.0001"),
        ] {
            let a = Amount::parse(text).unwrap();
            assert_eq!(a.minor(), minor, "{text}");
            assert_eq!(a.to_string(), shown, "{text}");
        }
    }

    #[test]
    fn what_is_not_an_exact_amount_is_refused() {
        for text in [
            "", "-", ".", "1.", "1,5", "+1", " 1", "1e3", "0x10", "1.2.3", "--1",
        ] {
            assert_eq!(Amount::parse(text), Err(AmountError::Malformed), "{text:?}");
        }
        assert_eq!(Amount::parse("0.00001"), Err(AmountError::TooManyPlaces));
        assert_eq!(
            Amount::parse("99999999999999999999"),
            Err(AmountError::OutOfRange)
        );
        assert_eq!(
            Amount::parse("922337203685478"),
            Err(AmountError::OutOfRange),
            "fits i64 whole, not in minor units"
        );
    }

    #[test]
    fn the_extremes_read_back() {
        for a in [Amount::from_minor(i64::MIN), Amount::from_minor(i64::MAX)] {
            assert_eq!(Amount::parse(&a.to_string()), Ok(a));
        }
    }

    #[test]
    fn json_reads_numbers_and_text_and_writes_text() {
        let read = |json: &str| serde_json::from_str::<Amount>(json);
        assert_eq!(read("0.035").unwrap().minor(), 350);
        assert_eq!(read("\"0.0350\"").unwrap().minor(), 350);
        assert_eq!(read("7").unwrap().minor(), 70_000);
        assert!(read("0.00001").is_err());
        assert!(read("true").is_err());
        assert_eq!(
            serde_json::to_string(&Amount::from_minor(-350)).unwrap(),
            "\"-0.0350\""
        );
    }

    #[test]
    fn dialects_read_whole_credits() {
        let a = |t: &str| Amount::parse(t).unwrap();
        assert_eq!(a("12.9999").whole_credits(), 12);
        assert_eq!(a("-0.5").whole_credits(), 0);
        for (text, shown) in [
            ("7", "7"),
            ("0.035", "0.035"),
            ("-2.5", "-2.5"),
            ("0", "0"),
            ("10", "10"),
        ] {
            assert_eq!(a(text).trimmed().to_string(), shown);
        }
    }

    proptest! {
        #[test]
        fn every_amount_reads_back_as_written(minor in any::<i64>()) {
            let a = Amount::from_minor(minor);
            prop_assert_eq!(Amount::parse(&a.to_string()), Ok(a));
            let json = serde_json::to_string(&a).unwrap();
            prop_assert_eq!(serde_json::from_str::<Amount>(&json).unwrap(), a);
        }

        /// Hundreds of thousands of random additions and subtractions
        /// drift by nothing: the sum of the parts is the whole, to the
        /// minor unit, and taking them away again leaves zero.
        #[test]
        fn sums_never_drift(parts in proptest::collection::vec(-10_000_000i64..10_000_000, 1..2_000)) {
            let total = parts
                .iter()
                .try_fold(Amount::ZERO, |sum, &p| sum.checked_add(Amount::from_minor(p)))
                .unwrap();
            prop_assert_eq!(total.minor(), parts.iter().sum::<i64>());
            let back = parts
                .iter()
                .try_fold(total, |left, &p| left.checked_sub(Amount::from_minor(p)))
                .unwrap();
            prop_assert_eq!(back, Amount::ZERO);
        }
    }
}
