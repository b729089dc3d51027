//! `Timestamp`: milliseconds since the Unix epoch, UTC. What the store
//! keeps and compares; rendered as RFC 3339 at the edges.

use std::fmt;

use serde::{Deserialize, Serialize};
use time::format_description::well_known::Rfc3339;
use time::macros::format_description;
use time::{OffsetDateTime, UtcOffset};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Timestamp(pub i64);

impl Timestamp {
    pub fn now() -> Timestamp {
        Timestamp::from_datetime(OffsetDateTime::now_utc())
    }

    pub fn from_datetime(t: OffsetDateTime) -> Timestamp {
        Timestamp((t.unix_timestamp_nanos() / 1_000_000) as i64)
    }

    pub const fn millis(self) -> i64 {
        self.0
    }

    pub const fn plus_millis(self, ms: i64) -> Timestamp {
        Timestamp(self.0.saturating_add(ms))
    }

    pub const fn plus_secs(self, s: i64) -> Timestamp {
        self.plus_millis(s.saturating_mul(1000))
    }

    pub fn to_datetime(self) -> OffsetDateTime {
        OffsetDateTime::from_unix_timestamp_nanos(i128::from(self.0) * 1_000_000)
            .unwrap_or(OffsetDateTime::UNIX_EPOCH)
    }

    /// RFC 3339 with milliseconds, e.g. `2026-11-22T13:37:00.123Z`.
    pub fn to_rfc3339(self) -> String {
        let format = format_description!(
            "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z"
        );
        self.to_datetime()
            .to_offset(UtcOffset::UTC)
            .format(&format)
            .unwrap_or_default()
    }

    /// Parses RFC 3339 (an offset is required).
    pub fn parse_rfc3339(s: &str) -> Option<Timestamp> {
        OffsetDateTime::parse(s, &Rfc3339)
            .ok()
            .map(Timestamp::from_datetime)
    }
}

/// A calendar month in UTC, written `2026-11`: the period of a statement.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Month {
    year: i32,
    month: time::Month,
}

impl Month {
    /// `YYYY-MM`, years 2000 to 9999.
    pub fn parse(s: &str) -> Option<Month> {
        let (y, m) = s.split_once('-')?;
        if y.len() != 4 || m.len() != 2 {
            return None;
        }
        let year: i32 = y.parse().ok().filter(|y| (2000..=9999).contains(y))?;
        let month = time::Month::try_from(m.parse::<u8>().ok()?).ok()?;
        Some(Month { year, month })
    }

    /// Its first millisecond.
    pub fn start(self) -> Timestamp {
        let day =
            time::Date::from_calendar_date(self.year, self.month, 1).unwrap_or(time::Date::MIN);
        Timestamp::from_datetime(day.midnight().assume_utc())
    }

    /// The first millisecond of the next month.
    pub fn end(self) -> Timestamp {
        let next = match self.month {
            time::Month::December => Month {
                year: self.year + 1,
                month: time::Month::January,
            },
            m => Month {
                year: self.year,
                month: m.next(),
            },
        };
        next.start()
    }
}

impl fmt::Display for Month {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}", self.year, u8::from(self.month))
    }
}

#[cfg(test)]
mod month_tests {
    use super::*;

    #[test]
    fn months_are_read_and_bounded_in_utc() {
        let m = Month::parse("2026-12").unwrap();
        assert_eq!(m.to_string(), "2026-12");
        assert_eq!(m.start().to_rfc3339(), "2026-12-01T00:00:00.000Z");
        assert_eq!(m.end().to_rfc3339(), "2027-01-01T00:00:00.000Z");
        assert_eq!(
            Month::parse("2024-02").unwrap().end().to_rfc3339(),
            "2024-03-01T00:00:00.000Z"
        );
        for bad in [
            "2026-13", "2026-00", "26-11", "2026-1", "2026/11", "1999-12", "",
        ] {
            assert_eq!(Month::parse(bad), None, "{bad}");
        }
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_rfc3339())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_round_trip_keeps_milliseconds() {
        let t = Timestamp::parse_rfc3339("2026-11-22T13:37:00.123+01:00").unwrap();
        assert_eq!(t.to_rfc3339(), "2026-11-22T12:37:00.123Z");
        assert_eq!(Timestamp::parse_rfc3339(&t.to_rfc3339()), Some(t));
        assert_eq!(Timestamp::parse_rfc3339("2026-11-22 13:37"), None);
        assert_eq!(
            Timestamp(1_800_000_000_000).to_rfc3339(),
            "2027-01-15T08:00:00.000Z"
        );
    }
}
