//! Time zones: the wall-clock times dialects read and write ("2021-12-20
//! 07:00" in the account's zone) turned into [`Timestamp`]s and back.
//! IANA names (`Europe/Amsterdam`), with the tz database built in so a
//! machine without one behaves the same.

use jiff::civil::DateTime;
use jiff::tz::TimeZone;

use crate::Timestamp;

/// A time zone an account's local times are read in.
#[derive(Debug, Clone)]
pub struct Zone(TimeZone);

/// A wall-clock time, as dialects write dates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Civil {
    pub year: i16,
    pub month: i8,
    pub day: i8,
    pub hour: i8,
    pub minute: i8,
    pub second: i8,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown time zone {0:?}; use an IANA name such as Europe/Amsterdam")]
pub struct UnknownZone(pub String);

impl Zone {
    pub fn utc() -> Zone {
        Zone(TimeZone::UTC)
    }

    pub fn parse(name: &str) -> Result<Zone, UnknownZone> {
        TimeZone::get(name.trim())
            .map(Zone)
            .map_err(|_| UnknownZone(name.to_string()))
    }

    /// The instant a wall-clock time names here; `None` when it is not a
    /// date. A time skipped by a clock change counts as the one after it,
    /// a repeated one as the first.
    pub fn instant(&self, c: Civil) -> Option<Timestamp> {
        let dt = DateTime::new(c.year, c.month, c.day, c.hour, c.minute, c.second, 0).ok()?;
        let ts = self.0.to_timestamp(dt).ok()?;
        Some(Timestamp(ts.as_millisecond()))
    }

    /// The wall-clock time here at `t`.
    pub fn civil(&self, t: Timestamp) -> Civil {
        let ts = jiff::Timestamp::from_millisecond(t.0).unwrap_or(jiff::Timestamp::UNIX_EPOCH);
        let dt = self.0.to_datetime(ts);
        Civil {
            year: dt.year(),
            month: dt.month(),
            day: dt.day(),
            hour: dt.hour(),
            minute: dt.minute(),
            second: dt.second(),
        }
    }
}

impl Civil {
    /// `Y-m-d H:i:s`, as PHP writes it.
    pub fn ymd_hms(&self) -> String {
        format!(
            "{:04}-{:02}-{:02} {:02}:{:02}:{:02}",
            self.year, self.month, self.day, self.hour, self.minute, self.second
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn civil(year: i16, month: i8, day: i8, hour: i8, minute: i8) -> Civil {
        Civil {
            year,
            month,
            day,
            hour,
            minute,
            second: 0,
        }
    }

    #[test]
    fn local_times_are_read_in_the_zone() {
        let ams = Zone::parse("Europe/Amsterdam").unwrap();
        let winter = ams.instant(civil(2021, 12, 20, 7, 0)).unwrap();
        assert_eq!(winter.to_rfc3339(), "2021-12-20T06:00:00.000Z");
        let summer = ams.instant(civil(2021, 7, 20, 7, 0)).unwrap();
        assert_eq!(summer.to_rfc3339(), "2021-07-20T05:00:00.000Z");
        assert_eq!(ams.civil(winter), civil(2021, 12, 20, 7, 0));
        let utc = Zone::utc().instant(civil(2021, 12, 20, 7, 0)).unwrap();
        assert_eq!(utc.to_rfc3339(), "2021-12-20T07:00:00.000Z");
        assert_eq!(Zone::utc().civil(utc).ymd_hms(), "2021-12-20 07:00:00");
    }

    #[test]
    fn bad_zones_and_dates_are_refused() {
        assert!(Zone::parse("Mars/Olympus").is_err());
        assert!(Zone::utc().instant(civil(2021, 2, 30, 7, 0)).is_none());
        // 02:30 on the spring-forward night does not exist: the time after.
        let ams = Zone::parse("Europe/Amsterdam").unwrap();
        let gap = ams.instant(civil(2021, 3, 28, 2, 30)).unwrap();
        assert_eq!(gap.to_rfc3339(), "2021-03-28T01:30:00.000Z");
    }
}
