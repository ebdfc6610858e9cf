//! Dates as Facebook writes them: US Pacific time in error messages, e.g.
//! `Wednesday, 16-Nov-22 07:45:51 PST` (`%A, %d-%b-%y %H:%M:%S %Z`), Graph's
//! `2026-11-23T14:05:00+0000`, and ISO dates for people. Calendars and time zones are jiff's
//! (the tz database is bundled, so every machine agrees on `America/Los_Angeles`).

use jiff::civil::{Date, DateTime};
use jiff::tz::TimeZone;
use jiff::Timestamp;

use crate::model::Unix;

/// The zone Facebook's messages are written in.
const PACIFIC: &str = "America/Los_Angeles";

/// A timestamp jiff can hold (years -9999 … 9999; anything outside is clamped to the ends).
fn timestamp(t: Unix) -> Timestamp {
    let t = t.clamp(Timestamp::MIN.as_second(), Timestamp::MAX.as_second());
    Timestamp::from_second(t).unwrap_or(Timestamp::UNIX_EPOCH)
}

fn pacific_zone() -> TimeZone {
    TimeZone::get(PACIFIC).unwrap_or(TimeZone::UTC)
}

/// `Wednesday, 16-Nov-22 07:45:51 PST`.
pub fn pacific(t: Unix) -> String {
    timestamp(t)
        .to_zoned(pacific_zone())
        .strftime("%A, %d-%b-%y %H:%M:%S %Z")
        .to_string()
}

/// `2026-11-23 14:05:00 UTC`, for people (CLI output).
pub fn utc(t: Unix) -> String {
    timestamp(t).strftime("%Y-%m-%d %H:%M:%S UTC").to_string()
}

/// An HTTP `Date` (RFC 9110): `Tue, 01 Dec 2026 14:05:00 GMT`.
pub fn http_date(t: Unix) -> String {
    jiff::fmt::rfc2822::DateTimePrinter::new()
        .timestamp_to_rfc9110_string(&timestamp(t))
        .unwrap_or_default()
}

/// Graph's time format: `2026-11-23T14:05:00+0000`.
pub fn graph_time(t: Unix) -> String {
    timestamp(t).strftime("%Y-%m-%dT%H:%M:%S+0000").to_string()
}

/// Parses `YYYY-MM-DD`, `YYYY-MM-DDTHH:MM[:SS][Z]` or `YYYY-MM-DD HH:MM[:SS]` (UTC), or unix
/// seconds. A date that does not exist (`2026-02-31`) is no date.
pub fn parse_utc(s: &str) -> Option<Unix> {
    let s = s.trim();
    if let Ok(n) = s.parse::<i64>() {
        return Some(n);
    }
    // With an offset (`Z`, `+05:00`), it names an instant; without, a UTC wall-clock time.
    if let Ok(t) = s.parse::<Timestamp>() {
        return Some(t.as_second());
    }
    let at: DateTime = match s.parse::<DateTime>() {
        Ok(dt) if s.len() > 10 => dt,
        _ => s
            .parse::<Date>()
            .ok()?
            .to_datetime(jiff::civil::Time::midnight()),
    };
    Some(at.to_zoned(TimeZone::UTC).ok()?.timestamp().as_second())
}

/// Midnight, Pacific time, that starts `day` (days since 1970-01-01), in unix seconds.
pub fn pacific_midnight(day: i64) -> Unix {
    date_of_day(day)
        .to_zoned(pacific_zone())
        .map_or(day.saturating_mul(86_400), |z| z.timestamp().as_second())
}

/// The first day of the month `months` before (or after, when negative) the month of `day`.
pub fn month_start(day: i64, months_back: i32) -> i64 {
    let date = date_of_day(day).first_of_month();
    let date = date
        .checked_sub(jiff::Span::new().months(months_back))
        .unwrap_or(date);
    day_number(date)
}

fn day_number(date: Date) -> i64 {
    let epoch = Date::constant(1970, 1, 1);
    epoch
        .until(date)
        .map_or(0, |span| i64::from(span.get_days()))
}

/// The date `day` days after 1970-01-01, clamped to the calendar's years -9999 to 9999.
fn date_of_day(day: i64) -> Date {
    let epoch = Date::constant(1970, 1, 1);
    let days = day.clamp(-FAR_DAYS, FAR_DAYS);
    jiff::Span::new()
        .try_days(days)
        .ok()
        .and_then(|span| epoch.checked_add(span).ok())
        .unwrap_or(if day < 0 { Date::MIN } else { Date::MAX })
}

/// More days than lie between 1970 and either end of the calendar (years -9999 and 9999), and
/// fewer than a span may hold.
const FAR_DAYS: i64 = 4_000_000;

/// The last second of the year 9999 (9999-12-31T23:59:59Z), in unix seconds.
pub const LAST_SECOND: Unix = 253_402_300_799;
/// The first second of the year 1 (0001-01-01T00:00:00Z), in unix seconds.
pub const FIRST_SECOND: Unix = -62_135_596_800;

/// Whether the unix time `t` falls in the years 1 to 9999.
pub fn in_calendar(t: Unix) -> bool {
    (FIRST_SECOND..=LAST_SECOND).contains(&t)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_facebooks_captured_messages() {
        // From a captured debug_token body: expires_at 1668613551.
        assert_eq!(pacific(1_668_613_551), "Wednesday, 16-Nov-22 07:45:51 PST");
        // 2022-10-06 07:00:00 UTC is midnight PDT.
        assert_eq!(pacific(1_665_039_600), "Thursday, 06-Oct-22 00:00:00 PDT");
    }

    #[test]
    fn dst_edges_follow_the_tz_database() {
        // DST starts 2026-03-08 10:00 UTC and ends 2026-11-01 09:00 UTC.
        let start = parse_utc("2026-03-08T10:00:00Z").unwrap_or_default();
        assert!(pacific(start - 1).ends_with("01:59:59 PST"));
        assert!(pacific(start).ends_with("03:00:00 PDT"));
        let end = parse_utc("2026-11-01T09:00:00Z").unwrap_or_default();
        assert!(pacific(end - 1).ends_with("01:59:59 PDT"));
        assert!(pacific(end).ends_with("01:00:00 PST"));
        // Before 2007 the US rules were different: DST began on the first Sunday of April.
        let old = parse_utc("2005-04-03T10:00:00Z").unwrap_or_default();
        assert!(pacific(old - 1).ends_with("01:59:59 PST"));
        assert!(pacific(old).ends_with("03:00:00 PDT"));
        assert!(pacific(parse_utc("2005-03-20T12:00Z").unwrap_or_default()).ends_with("PST"));
    }

    #[test]
    fn parsing_and_days() {
        assert_eq!(parse_utc("1970-01-02"), Some(86_400));
        assert_eq!(parse_utc("2026-11-23T14:05Z"), Some(1_795_442_700));
        assert_eq!(parse_utc("2026-11-23 14:05:00"), Some(1_795_442_700));
        assert_eq!(parse_utc("2026-11-23T19:05:00+05:00"), Some(1_795_442_700));
        assert_eq!(utc(1_795_442_700), "2026-11-23 14:05:00 UTC");
        assert_eq!(graph_time(1_795_442_700), "2026-11-23T14:05:00+0000");
        assert_eq!(parse_utc("2026-13-01"), None);
        assert_eq!(parse_utc("2026-02-31"), None);
        assert_eq!(parse_utc("soon"), None);
        // Midnight Pacific of 2026-11-23 is 08:00 UTC (PST).
        let day = 20_780; // 2026-11-23
        assert_eq!(pacific_midnight(day), 1_795_442_700 - 6 * 3600 - 5 * 60);
        assert_eq!(month_start(day, 0), day - 22);
        assert_eq!(month_start(day, 1), day - 22 - 31);
    }
}
