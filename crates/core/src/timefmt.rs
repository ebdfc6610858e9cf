//! Dates as Facebook writes them in error messages: US Pacific time, e.g.
//! `Wednesday, 16-Nov-22 07:45:51 PST` (`%A, %d-%b-%y %H:%M:%S %Z`), and ISO dates for people.

use crate::model::Unix;

const DAYS: [&str; 7] = [
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
    "Monday",
    "Tuesday",
    "Wednesday",
];
const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// (year, month 1-12, day 1-31) of a day count since 1970-01-01 (Howard Hinnant's algorithm).
pub fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// Days since 1970-01-01 of a civil date.
pub fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let m = m as i64;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The n-th Sunday (1-based) of a month, as a day count.
fn nth_sunday(y: i64, m: u32, n: i64) -> i64 {
    let first = days_from_civil(y, m, 1);
    // 1970-01-01 was a Thursday; Sunday is index 3 in DAYS.
    let weekday = (first.rem_euclid(7) + 7 - 3) % 7; // 0 = Sunday
    first + (7 - weekday) % 7 + 7 * (n - 1)
}

/// Whether US daylight saving time (since 2007: second Sunday of March 02:00 local to the first
/// Sunday of November 02:00 local) is in force at a UTC instant, for the Pacific zone.
fn pacific_dst(t: Unix) -> bool {
    let (y, _, _) = civil_from_days(t.div_euclid(86_400));
    let start = nth_sunday(y, 3, 2) * 86_400 + 2 * 3600 + 8 * 3600; // 02:00 PST = 10:00 UTC
    let end = nth_sunday(y, 11, 1) * 86_400 + 2 * 3600 + 7 * 3600; // 02:00 PDT = 09:00 UTC
    t >= start && t < end
}

/// `Wednesday, 16-Nov-22 07:45:51 PST`.
pub fn pacific(t: Unix) -> String {
    let dst = pacific_dst(t);
    let local = t + if dst { -7 * 3600 } else { -8 * 3600 };
    let days = local.div_euclid(86_400);
    let secs = local.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    format!(
        "{}, {:02}-{}-{:02} {:02}:{:02}:{:02} {}",
        DAYS[days.rem_euclid(7) as usize],
        d,
        MONTHS[(m - 1) as usize],
        y.rem_euclid(100),
        secs / 3600,
        secs % 3600 / 60,
        secs % 60,
        if dst { "PDT" } else { "PST" }
    )
}

/// `2026-11-23 14:05:00 UTC`, for people (CLI output).
pub fn utc(t: Unix) -> String {
    let days = t.div_euclid(86_400);
    let secs = t.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02} UTC",
        secs / 3600,
        secs % 3600 / 60,
        secs % 60
    )
}

/// Parses `YYYY-MM-DD`, `YYYY-MM-DDTHH:MM[:SS][Z]` or `YYYY-MM-DD HH:MM[:SS]` (UTC), or unix seconds.
pub fn parse_utc(s: &str) -> Option<Unix> {
    let s = s.trim();
    if let Ok(n) = s.parse::<i64>() {
        return Some(n);
    }
    let s = s.strip_suffix('Z').unwrap_or(s);
    let (date, time) = match s.split_once(['T', ' ']) {
        Some((d, t)) => (d, Some(t)),
        None => (s, None),
    };
    let mut dp = date.split('-');
    let y: i64 = dp.next()?.parse().ok()?;
    let m: u32 = dp.next()?.parse().ok()?;
    let d: u32 = dp.next()?.parse().ok()?;
    if dp.next().is_some() || !(1..=12).contains(&m) || !(1..=31).contains(&d) {
        return None;
    }
    let mut secs = 0i64;
    if let Some(t) = time {
        let parts: Vec<&str> = t.split(':').collect();
        if parts.len() < 2 || parts.len() > 3 {
            return None;
        }
        let h: i64 = parts[0].parse().ok()?;
        let mi: i64 = parts[1].parse().ok()?;
        let se: i64 = match parts.get(2) {
            Some(p) => p.parse().ok()?,
            None => 0,
        };
        if h > 23 || mi > 59 || se > 60 {
            return None;
        }
        secs = h * 3600 + mi * 60 + se;
    }
    Some(days_from_civil(y, m, d) * 86_400 + secs)
}

/// Graph's time format: `2026-11-23T14:05:00+0000`.
pub fn graph_time(t: Unix) -> String {
    let days = t.div_euclid(86_400);
    let secs = t.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}+0000",
        secs / 3600,
        secs % 3600 / 60,
        secs % 60
    )
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
    fn dst_edges_2026() {
        // DST starts 2026-03-08 10:00 UTC and ends 2026-11-01 09:00 UTC.
        let start = parse_utc("2026-03-08T10:00:00Z").unwrap_or_default();
        assert!(pacific(start - 1).ends_with("01:59:59 PST"));
        assert!(pacific(start).ends_with("03:00:00 PDT"));
        let end = parse_utc("2026-11-01T09:00:00Z").unwrap_or_default();
        assert!(pacific(end - 1).ends_with("01:59:59 PDT"));
        assert!(pacific(end).ends_with("01:00:00 PST"));
    }

    #[test]
    fn civil_round_trip_and_parsing() {
        for d in [-1000, 0, 59, 365, 10_957, 20_000, 30_000] {
            let (y, m, dd) = civil_from_days(d);
            assert_eq!(days_from_civil(y, m, dd), d);
        }
        assert_eq!(parse_utc("1970-01-02"), Some(86_400));
        assert_eq!(parse_utc("2026-11-23T14:05Z"), Some(1_795_442_700));
        assert_eq!(utc(1_795_442_700), "2026-11-23 14:05:00 UTC");
        assert_eq!(parse_utc("2026-13-01"), None);
        assert_eq!(parse_utc("soon"), None);
    }
}
