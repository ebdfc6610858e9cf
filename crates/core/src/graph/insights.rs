//! Page insights (spec §3): `GET /{page-id}/insights?metric=...&period=...&since=...&until=...`,
//! `GET /{page-id}/insights/{metric}` and `GET /{page-id}/insights/{metric}/{period}`, under the
//! policy's `INSIGHTS` operation (ANALYZE, `read_insights` and `pages_read_engagement`).
//!
//! graphtoken has no audience, so the numbers are synthetic and deterministic: a pure function
//! of (Page id, metric, period, day), documented in `docs/insights.md`. The same request always
//! answers the same numbers, on every server and every run.

use serde_json::{json, Map, Value};

use crate::auth::Caller;
use crate::error::GraphError;
use crate::model::{Page, PageId, Unix};
use crate::policy::INSIGHTS;
use crate::request::{GraphRequest, Method};
use crate::services::Services;
use crate::timefmt;

const DAY: i64 = 86_400;
/// Facebook shows at most 90 days between `since` and `until`.
const MAX_SPAN_DAYS: i64 = 90;
/// Cumulative metrics grow from this day (2020-01-01).
const GROWTH_FROM_DAY: i64 = 18_262;

/// A period a metric is aggregated over.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Period {
    Day,
    Week,
    Days28,
    Lifetime,
}

impl Period {
    const ALL: [Period; 4] = [Period::Day, Period::Week, Period::Days28, Period::Lifetime];

    fn parse(s: &str) -> Option<Period> {
        Period::ALL.into_iter().find(|p| p.as_str() == s)
    }
    fn as_str(self) -> &'static str {
        match self {
            Period::Day => "day",
            Period::Week => "week",
            Period::Days28 => "days_28",
            Period::Lifetime => "lifetime",
        }
    }
    fn title(self) -> &'static str {
        match self {
            Period::Day => "Daily",
            Period::Week => "Weekly",
            Period::Days28 => "28 Days",
            Period::Lifetime => "Lifetime",
        }
    }
    /// Days a value of this period sums (flow metrics).
    fn days(self) -> i64 {
        match self {
            Period::Day | Period::Lifetime => 1,
            Period::Week => 7,
            Period::Days28 => 28,
        }
    }
}

/// How a metric's numbers come about.
#[derive(Clone, Copy, Debug)]
enum Kind {
    /// Counted per day; a week or 28 days sum their days (times `dedup`/100 for unique counts).
    Flow { dedup: i64 },
    /// A running total that grows every day (fans, followers).
    Total,
}

#[derive(Debug)]
struct Metric {
    name: &'static str,
    /// The title after the period's word: `Daily Total Impressions`.
    noun: &'static str,
    description: &'static str,
    /// The typical daily value (flow) or the starting total (running totals).
    scale: i64,
    kind: Kind,
    periods: &'static [Period],
}

const FLOW_PERIODS: &[Period] = &[Period::Day, Period::Week, Period::Days28];
const TOTAL_PERIODS: &[Period] = &[Period::Day, Period::Lifetime];

const METRICS: &[Metric] = &[
    Metric {
        name: "page_impressions",
        noun: "Total Impressions",
        description: "The number of times any content from your Page or about your Page entered a person's screen. This includes posts, stories, ads, as well other content or information on your Page. (Total Count)",
        scale: 1200,
        kind: Kind::Flow { dedup: 100 },
        periods: FLOW_PERIODS,
    },
    Metric {
        name: "page_impressions_unique",
        noun: "Total Reach",
        description: "The number of people who had any content from your Page or about your Page enter their screen. This includes posts, check-ins, ads, social information from people who interact with your Page and more. (Unique Users)",
        scale: 800,
        kind: Kind::Flow { dedup: 70 },
        periods: FLOW_PERIODS,
    },
    Metric {
        name: "page_post_engagements",
        noun: "Post Engagements",
        description: "The number of times people have engaged with your posts through reactions, comments, shares and more. (Total Count)",
        scale: 150,
        kind: Kind::Flow { dedup: 100 },
        periods: FLOW_PERIODS,
    },
    Metric {
        name: "page_engaged_users",
        noun: "Page Engaged Users",
        description: "The number of people who engaged with your Page. Engagement includes any click or story created. (Unique Users)",
        scale: 120,
        kind: Kind::Flow { dedup: 70 },
        periods: FLOW_PERIODS,
    },
    Metric {
        name: "page_fan_adds",
        noun: "New Likes",
        description: "The number of new people who have liked your Page. (Unique Users)",
        scale: 8,
        kind: Kind::Flow { dedup: 100 },
        periods: FLOW_PERIODS,
    },
    Metric {
        name: "page_views_total",
        noun: "Total views count per Page",
        description: "The number of times a Page's profile has been viewed by logged in and logged out people. (Total Count)",
        scale: 90,
        kind: Kind::Flow { dedup: 100 },
        periods: FLOW_PERIODS,
    },
    Metric {
        name: "page_fans",
        noun: "Total Likes",
        description: "The total number of people who have liked your Page. (Unique Users)",
        scale: 2500,
        kind: Kind::Total,
        periods: TOTAL_PERIODS,
    },
    Metric {
        name: "page_follows",
        noun: "Total Follows",
        description: "The total number of people who follow your Page. (Unique Users)",
        scale: 2800,
        kind: Kind::Total,
        periods: TOTAL_PERIODS,
    },
];

/// Weekday factors in percent, Monday first: busier mid-week, quieter at the weekend.
const WEEKLY_WAVE: [i64; 7] = [100, 104, 110, 112, 108, 90, 86];

/// FNV-1a 64: stable across runs, machines and versions.
fn fnv(s: &str) -> u64 {
    s.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ b as u64).wrapping_mul(0x100_0000_01b3)
    })
}

/// The Monday-first weekday of a day count (1970-01-01 was a Thursday).
fn weekday(day: i64) -> usize {
    (day + 3).rem_euclid(7) as usize
}

/// The metric's count on one day (flow metrics).
fn daily(page: PageId, m: &Metric, day: i64) -> i64 {
    let seed = fnv(&format!("{page}:{}", m.name)) as i64 & i64::MAX;
    let base = m.scale * (100 + seed % 100) / 100;
    let noise = (fnv(&format!("{page}:{}:{day}", m.name)) % (base as u64 / 5 + 1)) as i64;
    (base * WEEKLY_WAVE[weekday(day)] / 100 + noise - base / 10).max(0)
}

/// The value of `m` over `period` for the day `day` (the value's `end_time` ends that day).
fn value(page: PageId, m: &Metric, period: Period, day: i64) -> i64 {
    match m.kind {
        Kind::Flow { dedup } => {
            let n = period.days();
            let sum: i64 = (day - n + 1..=day).map(|d| daily(page, m, d)).sum();
            if n == 1 {
                sum
            } else {
                sum * dedup / 100
            }
        }
        Kind::Total => {
            let seed = fnv(&format!("{page}:{}", m.name)) as i64 & i64::MAX;
            let base = m.scale * (100 + seed % 100) / 100;
            let rate = 1 + seed % 7;
            base + (day - GROWTH_FROM_DAY).max(0) * rate
        }
    }
}

/// Midnight US Pacific at the start of `day + 1`: the `end_time` of the values for `day`
/// (`T08:00:00+0000` in winter, `T07:00:00+0000` under daylight saving time).
fn end_time(day: i64) -> Unix {
    timefmt::pacific_midnight(day + 1)
}

/// The metrics asked for: a comma list, or a JSON / Python-style list (the SDKs send
/// `["page_impressions"]`).
fn metric_names(raw: &str) -> Vec<String> {
    let raw = raw.trim();
    let raw = raw
        .strip_prefix('[')
        .and_then(|r| r.strip_suffix(']'))
        .unwrap_or(raw);
    raw.split(',')
        .map(|s| s.trim().trim_matches(|c| c == '"' || c == '\'').trim())
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

fn unknown_metric() -> GraphError {
    GraphError::param("The value must be a valid insights metric")
}

fn no_metric() -> GraphError {
    GraphError::new(
        3001,
        "OAuthException",
        "No metric was specified to be fetched. Please specify one or more metrics to be fetched and try again.",
    )
    .with_subcode(1_504_028)
}

fn bad_period(given: &str) -> GraphError {
    GraphError::param(format!(
        "Param period must be one of {{day, week, days_28, lifetime}}, not {given}"
    ))
}

/// A `since`/`until` instant: unix seconds, a date or a date and time (UTC).
fn instant(req: &GraphRequest, name: &str) -> Result<Option<Unix>, GraphError> {
    match req.params.non_empty(name) {
        None => Ok(None),
        // Within the years 1 to 9999, as a date can be written (the day's arithmetic and the
        // paging links then stay in range).
        Some(v) => timefmt::parse_utc(v)
            .filter(|t| timefmt::in_calendar(*t))
            .map(Some)
            .ok_or_else(|| {
                GraphError::param(format!(
                    "Param {name} must be a unix timestamp or a date (YYYY-MM-DD)"
                ))
            }),
    }
}

/// `date_preset`: the window `[since, until)` in days, relative to `today`.
fn preset(name: &str, today: i64) -> Result<(i64, i64), GraphError> {
    let month_start = timefmt::month_start(today, 0);
    Ok(match name {
        "today" => (today, today + 1),
        "yesterday" => (today - 1, today),
        "this_month" => (month_start, today + 1),
        "last_month" => (timefmt::month_start(today, 1), month_start),
        "last_3d" => (today - 3, today),
        "last_7d" => (today - 7, today),
        "last_14d" => (today - 14, today),
        "last_28d" => (today - 28, today),
        "last_30d" => (today - 30, today),
        "last_90d" => (today - 90, today),
        other => {
            return Err(GraphError::param(format!(
                "Param date_preset must be one of {{today, yesterday, this_month, last_month, last_3d, last_7d, last_14d, last_28d, last_30d, last_90d}}, not {other}"
            )))
        }
    })
}

/// `GET /{page-id}/insights[/{metric}[/{period}]]`.
pub async fn insights(
    g: &Services,
    req: &GraphRequest,
    caller: &Caller,
    page: &Page,
    tail: &[&str],
) -> Result<Value, GraphError> {
    if req.method != Method::Get || tail.len() > 2 {
        return Err(GraphError::unknown_object(
            &page.id.to_string(),
            req.method.as_str(),
        ));
    }
    g.authorize(caller, page.id, &INSIGHTS).await?;

    // Metrics: from the path, else the `metric` parameter.
    let names = match tail.first() {
        Some(m) => metric_names(m),
        None => req
            .params
            .non_empty("metric")
            .map(metric_names)
            .unwrap_or_default(),
    };
    if names.is_empty() {
        return Err(no_metric());
    }
    // Each metric once, in the order first asked: at most the metrics there are.
    let mut metrics: Vec<&Metric> = Vec::new();
    for n in &names {
        let m = METRICS
            .iter()
            .find(|m| m.name == n)
            .ok_or_else(unknown_metric)?;
        if !metrics.iter().any(|had| had.name == m.name) {
            metrics.push(m);
        }
    }

    // Period: from the path, else the parameter; none means every period a metric has.
    let period_param = tail.get(1).copied().or(req.params.non_empty("period"));
    let period = period_param
        .map(|p| Period::parse(p.trim()).ok_or_else(|| bad_period(p)))
        .transpose()?;

    // The window, in days: [since, until).
    let today = g.now().div_euclid(DAY);
    let (mut since, mut until) = match req.params.non_empty("date_preset") {
        Some(p) => preset(p, today)?,
        None => (today - 2, today),
    };
    let since_given = instant(req, "since")?;
    let until_given = instant(req, "until")?;
    if let Some(t) = since_given {
        since = t.div_euclid(DAY);
    }
    if let Some(t) = until_given {
        until = t.div_euclid(DAY);
    }
    // Only one end given (and no preset): `since` alone runs to today, `until` alone looks
    // back the default two days.
    if req.params.non_empty("date_preset").is_none() {
        match (since_given, until_given) {
            (Some(_), None) => until = until.max(since),
            (None, Some(_)) => since = until - 2,
            _ => {}
        }
    }
    if since > until {
        return Err(GraphError::param("Param since must be before until"));
    }
    if until - since > MAX_SPAN_DAYS {
        return Err(GraphError::param(
            "There cannot be more than 90 days (7776000 s) between since and until",
        ));
    }

    let asked: Vec<&str> = metrics.iter().map(|m| m.name).collect();
    let asked = asked.join(",");
    let mut data = Vec::new();
    for m in metrics {
        let periods: Vec<Period> = match period {
            Some(p) if m.periods.contains(&p) => vec![p],
            Some(_) => Vec::new(),
            None => m.periods.to_vec(),
        };
        for p in periods {
            let values: Vec<Value> = (since..until)
                .map(|day| {
                    json!({
                        "value": value(page.id, m, p, day),
                        "end_time": timefmt::graph_time(end_time(day)),
                    })
                })
                .collect();
            // Facebook's key order: name, period, values, title, description, id.
            let mut item = Map::new();
            item.insert("name".into(), json!(m.name));
            item.insert("period".into(), json!(p.as_str()));
            item.insert("values".into(), Value::Array(values));
            item.insert("title".into(), json!(format!("{} {}", p.title(), m.noun)));
            item.insert(
                "description".into(),
                json!(format!("{}: {}", p.title(), m.description)),
            );
            item.insert(
                "id".into(),
                json!(format!("{}/insights/{}/{}", page.id, m.name, p.as_str())),
            );
            data.push(Value::Object(item));
        }
    }

    // `previous` and `next`: the same request over the windows just before and after.
    let span = until - since;
    let edge = match tail {
        [] => format!("{}/insights", page.id),
        _ => format!("{}/insights/{}", page.id, tail.join("/")),
    };
    let url = |from: i64, to: i64| {
        let mut q = form_urlencoded::Serializer::new(String::new());
        if let Some(t) = &req.token {
            q.append_pair("access_token", t);
        }
        if tail.is_empty() {
            q.append_pair("metric", &asked);
        }
        if let (Some(p), true) = (period, tail.len() < 2) {
            q.append_pair("period", p.as_str());
        }
        q.append_pair("since", &(from * DAY).to_string());
        q.append_pair("until", &(to * DAY).to_string());
        format!("{}/{}/{}?{}", req.base_url, req.version, edge, q.finish())
    };
    Ok(json!({
        "data": data,
        "paging": {
            "previous": url(since - span, since),
            "next": url(until, until + span),
        },
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn end_time_is_midnight_pacific() {
        // 2026-11-22 (PST): the day ends 2026-11-23 08:00 UTC.
        let d = timefmt::parse_utc("2026-11-22").unwrap_or_default() / DAY;
        assert_eq!(timefmt::graph_time(end_time(d)), "2026-11-23T08:00:00+0000");
        // 2020-03-09 (PDT): ends 2020-03-10 07:00 UTC, as in Facebook's own example.
        let d = timefmt::parse_utc("2020-03-09").unwrap_or_default() / DAY;
        assert_eq!(timefmt::graph_time(end_time(d)), "2020-03-10T07:00:00+0000");
    }

    #[test]
    fn values_are_pure_and_plausible() {
        for m in METRICS {
            for day in 20_000..20_030 {
                let v = value(PageId(42), m, Period::Day, day);
                assert_eq!(v, value(PageId(42), m, Period::Day, day));
                assert!(v >= 0, "{} {day}", m.name);
                if let Kind::Flow { .. } = m.kind {
                    assert!(value(PageId(42), m, Period::Week, day) >= v);
                    assert!(
                        value(PageId(42), m, Period::Days28, day)
                            >= value(PageId(42), m, Period::Week, day)
                    );
                } else {
                    assert!(value(PageId(42), m, Period::Day, day + 1) >= v);
                }
            }
        }
        assert_ne!(
            value(PageId(1), &METRICS[0], Period::Day, 20_000),
            value(PageId(2), &METRICS[0], Period::Day, 20_000)
        );
    }

    #[test]
    fn metric_lists() {
        assert_eq!(metric_names("a,b"), ["a", "b"]);
        assert_eq!(metric_names("[\"a\", \"b\"]"), ["a", "b"]);
        assert_eq!(metric_names("['a']"), ["a"]);
        assert!(metric_names(" ").is_empty());
    }
}
