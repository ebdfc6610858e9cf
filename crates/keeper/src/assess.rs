//! A verdict on a kept token from what `debug_token` says of it: fine, needs attention soon,
//! or broken, with the words and the fix.

use crate::explain::explain;
use crate::graph::Inspection;

const DAY: i64 = 86_400;

/// How bad it is (ordered: the worst decides `check`'s exit status).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    /// Works, and nothing is due within the warning window.
    Fine,
    /// Works, but something is due soon (an expiry, data access) or a permission is gone.
    Soon,
    /// Does not work.
    Broken,
    /// Could not be asked (the Graph API did not answer).
    Unknown,
}

impl Level {
    /// `check`'s exit status: 0 fine, 1 soon, 2 broken, 3 unknown (the monitoring plugins'
    /// convention).
    pub fn exit_code(self) -> u8 {
        match self {
            Level::Fine => 0,
            Level::Soon => 1,
            Level::Broken => 2,
            Level::Unknown => 3,
        }
    }

    /// The level that decides a run's exit status: a broken token outranks one that could
    /// not be asked (an outage must not hide a breakage), which outranks the rest.
    pub fn worst(levels: impl IntoIterator<Item = Level>) -> Level {
        let mut all: Vec<Level> = levels.into_iter().collect();
        all.sort();
        if all.contains(&Level::Broken) {
            Level::Broken
        } else {
            all.pop().unwrap_or(Level::Fine)
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Level::Fine => "ok",
            Level::Soon => "attention",
            Level::Broken => "broken",
            Level::Unknown => "unknown",
        }
    }
}

/// The verdict on one token.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Verdict {
    pub level: Level,
    /// What is the matter (or that all is well), in words.
    pub words: String,
    /// What to do, when something is to be done.
    pub fix: Option<String>,
}

/// Whose token it is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Holder {
    /// The person's long-lived token; `pages`: Page tokens were derived from it (they never
    /// expire, so the person's own expiry is no alarm).
    Person {
        pages: bool,
    },
    Page,
}

/// A date for people: `2027-01-30`.
pub fn date(t: i64) -> String {
    jiff::Timestamp::from_second(t)
        .map(|t| t.strftime("%Y-%m-%d").to_string())
        .unwrap_or_else(|_| t.to_string())
}

/// `in 3 days`, `in 5 hours`, `2 days ago`.
pub fn relative(t: i64, now: i64) -> String {
    let d = t.saturating_sub(now);
    let (n, unit) = match d.unsigned_abs().min(i64::MAX as u64) as i64 {
        a if a >= 2 * DAY => (a / DAY, "days"),
        a if a >= DAY => (1, "day"),
        a if a >= 7_200 => (a / 3_600, "hours"),
        a if a >= 3_600 => (1, "hour"),
        a => ((a / 60).max(1), if a >= 120 { "minutes" } else { "minute" }),
    };
    if d >= 0 {
        format!("in {n} {unit}")
    } else {
        format!("{n} {unit} ago")
    }
}

/// The verdict on a token, at the server's now (`i.now`). `expected`: the permissions it had
/// when kept; `warn_days`: how far ahead an expiry counts as soon.
pub fn assess(i: &Inspection, holder: Holder, expected: &[String], warn_days: i64) -> Verdict {
    let now = i.now;
    let window = warn_days.saturating_mul(DAY);
    let left = |t: i64| t.saturating_sub(now);
    if !i.is_valid || i.error.is_some() {
        let e = i.error.clone().unwrap_or_else(|| crate::graph::GraphError {
            code: 190,
            subcode: None,
            message: "debug_token says the token is not valid".into(),
            kind: String::new(),
            is_transient: false,
        });
        if holder == (Holder::Person { pages: true }) && e.subcode == Some(463) {
            return Verdict {
                level: Level::Fine,
                words: format!(
                    "expired {} ({}), as a person's long-lived token does after 60 days; the \
                     Page tokens do not need it",
                    date(i.expires_at),
                    relative(i.expires_at, now)
                ),
                fix: Some(
                    "to derive Page tokens again later (`rotate`), the person logs in again \
                     (`graphtoken keeper login`)"
                        .into(),
                ),
            };
        }
        let why = explain(&e);
        return Verdict {
            level: Level::Broken,
            words: format!("does not work: {} ({})", why.cause, code_of(&e)),
            fix: Some(why.fix),
        };
    }
    if let Some(da) = i.data_access_expires_at.filter(|da| *da != 0 && *da <= now) {
        return Verdict {
            level: Level::Broken,
            words: format!(
                "data access expired {} ({}): the person has not used the app for 90 days",
                date(da),
                relative(da, now)
            ),
            fix: Some(
                "the person must log in to the app again (`graphtoken keeper login`), which \
                 renews data access"
                    .into(),
            ),
        };
    }
    let mut soon = Vec::new();
    let mut fixes = Vec::new();
    if i.expires_at != 0 && left(i.expires_at) <= window {
        let words = format!(
            "expires {} ({})",
            date(i.expires_at),
            relative(i.expires_at, now)
        );
        match holder {
            Holder::Person { pages: true } => {}
            Holder::Person { pages: false } => {
                soon.push(words);
                fixes.push("the person logs in again before then (`graphtoken keeper login`)");
            }
            Holder::Page => {
                soon.push(words);
                fixes.push(
                    "this Page token came from a short-lived token: `graphtoken keeper add` \
                     with the person's token exchanges it and keeps Page tokens that never expire",
                );
            }
        }
    }
    if let Some(da) = i
        .data_access_expires_at
        .filter(|da| *da != 0 && left(*da) <= window)
    {
        soon.push(format!(
            "data access ends {} ({})",
            date(da),
            relative(da, now)
        ));
        fixes.push("the person uses the app (logs in again) before then to renew data access");
    }
    let missing: Vec<&str> = expected
        .iter()
        .filter(|s| !i.scopes.contains(s))
        .map(String::as_str)
        .collect();
    if !missing.is_empty() {
        soon.push(format!("no longer granted: {}", missing.join(", ")));
        fixes.push(
            "ask the person to grant it again: log in again, and Facebook re-asks declined \
             permissions with auth_type=rerequest",
        );
    }
    if soon.is_empty() {
        let life = if i.expires_at == 0 {
            "never expires".to_string()
        } else {
            format!(
                "expires {} ({})",
                date(i.expires_at),
                relative(i.expires_at, now)
            )
        };
        return Verdict {
            level: Level::Fine,
            words: format!("works; {life}"),
            fix: None,
        };
    }
    Verdict {
        level: Level::Soon,
        words: format!("works, but {}", soon.join("; ")),
        fix: Some(fixes.join("; ")),
    }
}

fn code_of(e: &crate::graph::GraphError) -> String {
    match e.subcode {
        Some(s) => format!("{}/{s}", e.code),
        None => e.code.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graph::GraphError;

    const NOW: i64 = 1_800_000_000;

    fn valid(expires_at: i64, data_access: i64, scopes: &[&str]) -> Inspection {
        Inspection {
            is_valid: true,
            expires_at,
            data_access_expires_at: Some(data_access),
            scopes: scopes.iter().map(|s| s.to_string()).collect(),
            now: NOW,
            ..Inspection::default()
        }
    }

    #[test]
    fn a_never_expiring_page_token_far_from_its_data_access_end_is_fine() {
        let v = assess(&valid(0, NOW + 80 * DAY, &[]), Holder::Page, &[], 14);
        assert_eq!(v.level, Level::Fine);
        assert!(v.words.contains("never expires"), "{}", v.words);
    }

    #[test]
    fn the_warning_window_decides_soon() {
        let i = valid(0, NOW + 10 * DAY, &[]);
        assert_eq!(assess(&i, Holder::Page, &[], 14).level, Level::Soon);
        assert_eq!(assess(&i, Holder::Page, &[], 7).level, Level::Fine);
        let past = valid(0, NOW - 1, &[]);
        assert_eq!(assess(&past, Holder::Page, &[], 14).level, Level::Broken);
    }

    #[test]
    fn a_persons_expiry_only_matters_without_page_tokens() {
        let i = valid(NOW + 3 * DAY, NOW + 80 * DAY, &[]);
        assert_eq!(
            assess(&i, Holder::Person { pages: true }, &[], 14).level,
            Level::Fine
        );
        assert_eq!(
            assess(&i, Holder::Person { pages: false }, &[], 14).level,
            Level::Soon
        );
        let expired = Inspection {
            is_valid: false,
            error: Some(GraphError {
                code: 190,
                subcode: Some(463),
                message: String::new(),
                kind: String::new(),
                is_transient: false,
            }),
            ..valid(NOW - DAY, NOW + 80 * DAY, &[])
        };
        assert_eq!(
            assess(&expired, Holder::Person { pages: true }, &[], 14).level,
            Level::Fine
        );
        assert_eq!(
            assess(&expired, Holder::Person { pages: false }, &[], 14).level,
            Level::Broken
        );
    }

    #[test]
    fn a_permission_gone_is_named() {
        let i = valid(0, NOW + 80 * DAY, &["public_profile"]);
        let v = assess(&i, Holder::Page, &["pages_show_list".into()], 14);
        assert_eq!(v.level, Level::Soon);
        assert!(v.words.contains("pages_show_list"), "{}", v.words);
    }

    #[test]
    fn outside_values_do_not_overflow() {
        let i = valid(i64::MIN, i64::MAX, &[]);
        let _ = assess(
            &Inspection {
                now: i64::MAX,
                ..i.clone()
            },
            Holder::Page,
            &[],
            i64::MAX,
        );
        let _ = assess(
            &Inspection { now: i64::MIN, ..i },
            Holder::Page,
            &[],
            i64::MIN,
        );
        let _ = relative(i64::MIN, i64::MAX);
    }

    #[test]
    fn a_broken_token_outranks_one_that_could_not_be_asked() {
        use Level::*;
        assert_eq!(Level::worst([Unknown, Broken, Fine]), Broken);
        assert_eq!(Level::worst([Soon, Unknown]), Unknown);
        assert_eq!(Level::worst([Soon, Fine]), Soon);
        assert_eq!(Level::worst([]), Fine);
    }

    #[test]
    fn relative_times_read_well() {
        assert_eq!(relative(NOW + 3 * DAY, NOW), "in 3 days");
        assert_eq!(relative(NOW - DAY, NOW), "1 day ago");
        assert_eq!(relative(NOW + 30, NOW), "in 1 minute");
        assert_eq!(relative(NOW + 5 * 3600, NOW), "in 5 hours");
    }
}
