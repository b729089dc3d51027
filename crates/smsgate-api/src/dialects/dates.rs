//! The date forms the dialects' clients send, read into instants: with an
//! offset as written, without one in the account's time zone.
//!
//! - `Y-m-d H:i` and `Y-m-d H:i:s` (PHP), also with `T`;
//! - ISO 8601 / RFC 3339 with or without an offset or fraction (Python,
//!   C#);
//! - `yyyyMMddHHmmss` (PHP `date('YmdHis')`, Node);
//! - Java Gson's default `Date` form: `Aug 18, 2017 1:31:00 PM` (Java 8),
//!   `Aug 18, 2017, 1:31:00 PM` (Java 9+), with U+202F before `PM` (Java
//!   20+).

use smsgate_core::Timestamp;
use smsgate_core::zone::{Civil, Zone};

/// A text that is none of the date forms.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("not a date")]
pub struct NotADate;

/// A schedule as the dialects take it: a time already past means "now"
/// (their samples carry fixed dates from years ago, and the services they
/// copy sent those at once).
pub fn schedule(s: &str, zone: &Zone) -> Result<Option<Timestamp>, NotADate> {
    let t = parse(s, zone).ok_or(NotADate)?;
    Ok((t > Timestamp::now()).then_some(t))
}

/// Reads `s` in one of the forms above; `None` when it is none of them
/// or not a real date.
pub fn parse(s: &str, zone: &Zone) -> Option<Timestamp> {
    let s = s.trim();
    if let Some(t) = Timestamp::parse_rfc3339(s) {
        return Some(t);
    }
    if let Some((civil, offset_min)) = iso(s) {
        return match offset_min {
            Some(off) => Zone::utc()
                .instant(civil)
                .map(|t| t.plus_millis(-i64::from(off) * 60_000)),
            None => zone.instant(civil),
        };
    }
    compact(s).or_else(|| gson(s)).and_then(|c| zone.instant(c))
}

fn num<T: std::str::FromStr>(s: &str) -> Option<T> {
    (!s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()))
        .then(|| s.parse().ok())
        .flatten()
}

/// `2021-12-20 07:00`, `2021-12-20T07:00:00.123`, with an optional `Z` or
/// `±hh:mm` / `±hhmm` offset (in minutes).
fn iso(s: &str) -> Option<(Civil, Option<i32>)> {
    let (date, rest) = s.split_at_checked(10)?;
    let mut d = date.split('-');
    let (year, month, day) = (num(d.next()?)?, num(d.next()?)?, num(d.next()?)?);
    if date.as_bytes().get(4) != Some(&b'-') {
        return None;
    }
    let rest = rest.strip_prefix(['T', ' '])?;
    // Split off the offset.
    let (time, offset) = if let Some(t) = rest.strip_suffix('Z') {
        (t, Some(0))
    } else if let Some(i) = rest.rfind(['+', '-']) {
        let (t, off) = rest.split_at(i);
        let sign = if off.starts_with('-') { -1 } else { 1 };
        let digits: String = off[1..].chars().filter(|c| *c != ':').collect();
        if digits.len() != 4 {
            return None;
        }
        let (h, m): (i32, i32) = (num(&digits[..2])?, num(&digits[2..])?);
        (t, Some(sign * (h * 60 + m)))
    } else {
        (rest, None)
    };
    let time = time.split('.').next()?;
    let mut t = time.split(':');
    let (hour, minute) = (num(t.next()?)?, num(t.next()?)?);
    let second = match t.next() {
        Some(s) => num(s)?,
        None => 0,
    };
    if t.next().is_some() {
        return None;
    }
    Some((
        Civil {
            year,
            month,
            day,
            hour,
            minute,
            second,
        },
        offset,
    ))
}

/// `20170818133100`.
fn compact(s: &str) -> Option<Civil> {
    if s.len() != 14 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some(Civil {
        year: num(&s[0..4])?,
        month: num(&s[4..6])?,
        day: num(&s[6..8])?,
        hour: num(&s[8..10])?,
        minute: num(&s[10..12])?,
        second: num(&s[12..14])?,
    })
}

/// `Aug 18, 2017 1:31:00 PM` and its later-JDK variants.
fn gson(s: &str) -> Option<Civil> {
    const MONTHS: [&str; 12] = [
        "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
    ];
    let s = s.replace(['\u{202f}', '\u{a0}'], " ").replace(',', " ");
    let words: Vec<&str> = s.split_whitespace().collect();
    let [month, day, year, time, half] = words.as_slice() else {
        return None;
    };
    let month = MONTHS
        .iter()
        .position(|m| month.to_ascii_lowercase().starts_with(m))?;
    let mut t = time.split(':');
    let (hour12, minute): (i8, i8) = (num(t.next()?)?, num(t.next()?)?);
    let second = match t.next() {
        Some(s) => num(s)?,
        None => 0,
    };
    if !(1..=12).contains(&hour12) {
        return None;
    }
    let hour = match half.to_ascii_uppercase().as_str() {
        "AM" => hour12 % 12,
        "PM" => hour12 % 12 + 12,
        _ => return None,
    };
    Some(Civil {
        year: num(year)?,
        month: month as i8 + 1,
        day: num(day)?,
        hour,
        minute,
        second,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> Option<String> {
        let ams = Zone::parse("Europe/Amsterdam").unwrap();
        parse(s, &ams).map(|t| t.to_rfc3339())
    }

    #[test]
    fn every_form_the_samples_send() {
        let want = Some("2017-08-18T11:31:00.000Z".to_string());
        for s in [
            "2017-08-18 13:31",
            "2017-08-18 13:31:00",
            "2017-08-18T13:31:00",
            "2017-08-18T13:31:00.250",
            "2017-08-18T11:31:00Z",
            "2017-08-18T13:31:00+02:00",
            "2017-08-18T13:31:00+0200",
            "2017-08-18T06:31:00-05:00",
            "20170818133100",
            "Aug 18, 2017 1:31:00 PM",
            "Aug 18, 2017, 1:31:00 PM",
            "Aug 18, 2017, 1:31:00\u{202f}PM",
        ] {
            assert_eq!(at(s), want, "{s:?}");
        }
        assert_eq!(
            at("Aug 18, 2017 12:05:00 AM").unwrap(),
            "2017-08-17T22:05:00.000Z"
        );
    }

    #[test]
    fn what_is_not_a_date_is_refused() {
        for s in [
            "",
            "tomorrow",
            "2017-02-30 10:00",
            "2017-08-18",
            "20170818",
            "2017-08-18 25:00",
            "Foo 18, 2017 1:31:00 PM",
            "Aug 18, 2017 13:31:00 PM",
            "2017-08-18T13:31:00+2",
        ] {
            assert_eq!(at(s), None, "{s:?}");
        }
    }
}
