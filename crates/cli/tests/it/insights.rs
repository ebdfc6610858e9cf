//! Page insights through HTTP (`/{page-id}/insights`, `/{page-id}/insights/{metric}`): the
//! response shape, deterministic synthetic values, `since`/`until` windows, errors, and the
//! policy's cells for the INSIGHTS operation (ANALYZE, `read_insights`, `pages_read_engagement`).

use crate::harness::pages::{page_token, set_tasks, user_token};
use crate::harness::world::*;
use crate::harness::{Resp, Server};
use serde_json::Value;

const INSIGHTS_PERMS: &[&str] = &["read_insights", "pages_read_engagement"];

/// carol, ANALYZE only on Coffee, with a Page token carrying both insights permissions.
fn analyst(s: &Server) -> String {
    set_tasks(s, COFFEE, "carol", &["ANALYZE"]);
    page_token(s, "carol", "acme", COFFEE, INSIGHTS_PERMS)
}

fn insights(s: &Server, token: &str, query: &str) -> Resp {
    s.get_as(&format!("/v25.0/{COFFEE}/insights?{query}"), token)
}

fn ok(r: &Resp) -> &Value {
    assert_eq!(r.status, 200, "{}", r.text);
    &r.body
}

#[test]
fn the_answer_has_facebooks_shape() {
    let s = Server::seeded();
    let t = analyst(&s);
    let r = insights(
        &s,
        &t,
        "metric=page_impressions&period=day&since=2026-11-20&until=2026-11-23",
    );
    let body = ok(&r);
    let data = body["data"].as_array().unwrap();
    assert_eq!(data.len(), 1);
    let item = data[0].as_object().unwrap();
    let keys: Vec<&str> = item.keys().map(String::as_str).collect();
    assert_eq!(
        keys,
        ["name", "period", "values", "title", "description", "id"]
    );
    assert_eq!(item["name"], "page_impressions");
    assert_eq!(item["period"], "day");
    assert_eq!(item["title"], "Daily Total Impressions");
    assert!(item["description"].as_str().unwrap().starts_with("Daily: "));
    assert_eq!(
        item["id"],
        format!("{COFFEE}/insights/page_impressions/day")
    );
    let values = item["values"].as_array().unwrap();
    // since's day is included; each value ends at midnight Pacific after its day.
    let ends: Vec<&str> = values
        .iter()
        .map(|v| v["end_time"].as_str().unwrap())
        .collect();
    assert_eq!(
        ends,
        [
            "2026-11-21T08:00:00+0000",
            "2026-11-22T08:00:00+0000",
            "2026-11-23T08:00:00+0000"
        ]
    );
    for v in values {
        let keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
        assert_eq!(keys, ["value", "end_time"]);
        assert!(v["value"].as_i64().unwrap() >= 0);
    }
    // Paging: the windows just before and after, carrying the token.
    let prev = body["paging"]["previous"].as_str().unwrap();
    let next = body["paging"]["next"].as_str().unwrap();
    assert!(
        prev.contains(&format!("/v25.0/{COFFEE}/insights?")),
        "{prev}"
    );
    assert!(prev.contains("since=1794873600") && prev.contains("until=1795132800"));
    assert!(next.contains("since=1795392000") && next.contains("until=1795651200"));
    assert!(next.contains("access_token=") && next.contains("metric=page_impressions"));
    // Following `next` answers the following three days.
    let path = next.split_once("/v25.0/").unwrap().1;
    let r = s.get(&format!("/v25.0/{path}"));
    let later = ok(&r)["data"][0]["values"].as_array().unwrap().clone();
    assert_eq!(later.len(), 3);
    assert_eq!(later[0]["end_time"], "2026-11-24T08:00:00+0000");
}

#[test]
fn values_are_deterministic_across_servers() {
    let query =
        "metric=page_impressions,page_fans,page_post_engagements&since=2026-10-01&until=2026-10-15";
    let answers: Vec<Value> = (0..2)
        .map(|_| {
            let s = Server::seeded();
            let t = analyst(&s);
            let r = insights(&s, &t, query);
            let mut body = ok(&r).clone();
            body.as_object_mut().unwrap().remove("paging");
            body
        })
        .collect();
    assert_eq!(answers[0], answers[1]);
    // Without a period: every period a metric has (page_fans: day and lifetime).
    let periods: Vec<(String, String)> = answers[0]["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["name"].as_str().unwrap().to_string(),
                d["period"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let want: Vec<(String, String)> = [
        ("page_impressions", "day"),
        ("page_impressions", "week"),
        ("page_impressions", "days_28"),
        ("page_fans", "day"),
        ("page_fans", "lifetime"),
        ("page_post_engagements", "day"),
        ("page_post_engagements", "week"),
        ("page_post_engagements", "days_28"),
    ]
    .iter()
    .map(|(a, b)| (a.to_string(), b.to_string()))
    .collect();
    assert_eq!(periods, want);
    // Across a DST change (1 November 2026) the end_time follows midnight Pacific.
    let s = Server::seeded();
    let t = analyst(&s);
    let r = insights(
        &s,
        &t,
        "metric=page_fans&period=day&since=2026-10-31&until=2026-11-02",
    );
    let v = &ok(&r)["data"][0]["values"];
    assert_eq!(v[0]["end_time"], "2026-11-01T07:00:00+0000");
    assert_eq!(v[1]["end_time"], "2026-11-02T08:00:00+0000");
    // The metric path gives the same numbers as the metric parameter.
    let by_path = s.get_as(
        &format!("/v25.0/{COFFEE}/insights/page_impressions/day?since=2026-10-01&until=2026-10-15"),
        &t,
    );
    assert_eq!(ok(&by_path)["data"][0], answers[0]["data"][0]);
}

#[test]
fn since_and_until_choose_the_days() {
    let s = Server::seeded();
    let t = analyst(&s);
    let count = |q: &str| -> usize {
        let r = insights(&s, &t, &format!("metric=page_views_total&period=day&{q}"));
        ok(&r)["data"][0]["values"].as_array().unwrap().len()
    };
    assert_eq!(count("since=2026-11-01&until=2026-11-08"), 7);
    assert_eq!(count("since=2026-01-01&until=2026-03-31"), 89);
    // Unix seconds work too.
    assert_eq!(count("since=1793491200&until=1793923200"), 5);
    // By default: the last two days on the virtual clock.
    assert_eq!(count(""), 2);
    let r = insights(&s, &t, "metric=page_views_total&period=day");
    let last = r.body["data"][0]["values"][1]["end_time"]
        .as_str()
        .unwrap()
        .to_string();
    let today = s.clock().div_euclid(DAY) * DAY;
    assert!(
        last.starts_with(&common_date(today)),
        "{last} ends today ({today})"
    );
    // date_preset.
    assert_eq!(count("date_preset=last_7d"), 7);
    assert_eq!(count("date_preset=yesterday"), 1);
    // More than 90 days, or until before since: (#100).
    let r = insights(
        &s,
        &t,
        "metric=page_views_total&since=2026-01-01&until=2026-06-01",
    );
    assert_eq!(r.body["error"]["code"], 100, "{}", r.text);
    let r = insights(
        &s,
        &t,
        "metric=page_views_total&since=2026-02-01&until=2026-01-01",
    );
    assert_eq!(r.body["error"]["code"], 100, "{}", r.text);
    let r = insights(&s, &t, "metric=page_views_total&since=soon");
    assert_eq!(r.body["error"]["code"], 100, "{}", r.text);
}

/// `YYYY-MM-DD` of a unix day start.
fn common_date(t: i64) -> String {
    let days = t.div_euclid(DAY);
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}")
}

#[test]
fn bad_metrics_and_periods_are_refused() {
    let s = Server::seeded();
    let t = analyst(&s);
    let r = insights(&s, &t, "metric=page_impressions,page_nonsense");
    r.assert_error(
        100,
        None,
        "OAuthException",
        "(#100) The value must be a valid insights metric",
    );
    let r = s.get_as(&format!("/v25.0/{COFFEE}/insights/page_nonsense"), &t);
    r.assert_error(
        100,
        None,
        "OAuthException",
        "(#100) The value must be a valid insights metric",
    );
    let r = insights(&s, &t, "metric=page_impressions&period=fortnight");
    assert_eq!(r.body["error"]["code"], 100, "{}", r.text);
    assert!(r.body["error"]["message"]
        .as_str()
        .unwrap()
        .starts_with("(#100) "));
    let r = insights(&s, &t, "");
    assert_eq!(r.body["error"]["code"], 3001, "{}", r.text);
    assert_eq!(r.body["error"]["error_subcode"], 1_504_028, "{}", r.text);
    // The SDKs send the metric list as JSON.
    let r = insights(
        &s,
        &t,
        "metric=%5B%22page_impressions%22%2C%22page_follows%22%5D&period=day",
    );
    assert_eq!(ok(&r)["data"].as_array().unwrap().len(), 2);
    // A period a metric lacks leaves that metric out.
    let r = insights(&s, &t, "metric=page_impressions,page_fans&period=lifetime");
    let data = ok(&r)["data"].as_array().unwrap();
    assert_eq!(data.len(), 1);
    assert_eq!(data[0]["name"], "page_fans");
    // Only GET.
    let r = s.post_form(
        &format!("/v25.0/{COFFEE}/insights"),
        &[("access_token", &t), ("metric", "page_fans")],
    );
    assert_eq!(r.body["error"]["code"], 100, "{}", r.text);
    // A metric asked twice is answered once.
    let r = insights(&s, &t, "metric=page_fans,page_fans,page_fans&period=day");
    let data = ok(&r)["data"].as_array().unwrap();
    assert_eq!(data.len(), 1, "{}", r.text);
    let next = ok(&r)["paging"]["next"].as_str().unwrap();
    assert!(next.contains("metric=page_fans&"), "{next}");
    // Times outside the calendar are refused as times, not answered with an error of ours.
    for (since, until) in [
        ("1000000000000", "1000000086400"),
        ("-9223372036854775808", "-9223372036854775808"),
        ("9223372036853911807", "9223372036854775807"),
    ] {
        let r = insights(
            &s,
            &t,
            &format!("metric=page_fans&period=day&since={since}&until={until}"),
        );
        r.assert_error(
            100,
            None,
            "OAuthException",
            "(#100) Param since must be a unix timestamp or a date (YYYY-MM-DD)",
        );
    }
    let r = insights(&s, &t, "metric=page_fans&period=day&since=253402214400");
    assert_eq!(r.status, 200, "{}", r.text);
}

/// One policy cell: token kind, carol's tasks on Coffee, her scopes for acme, and the outcome
/// (`Ok`, or the error code with Facebook's text where known).
type Cell = (
    Kind,
    &'static [&'static str],
    &'static [&'static str],
    Result<(), (u64, Option<&'static str>)>,
);

#[derive(Clone, Copy, Debug)]
enum Kind {
    Page,
    User,
}

#[test]
fn the_policy_cells_for_insights() {
    let ok_ = Ok(());
    let task = Err((10, None));
    #[rustfmt::skip]
    let cells: [Cell; 10] = [
        (Kind::Page, &["ANALYZE"], INSIGHTS_PERMS, ok_),
        (Kind::User, &["ANALYZE"], INSIGHTS_PERMS, ok_),
        (Kind::Page, &["ANALYZE", "MODERATE"], INSIGHTS_PERMS, ok_),
        (Kind::Page, &["CREATE_CONTENT", "MODERATE", "MESSAGING"], INSIGHTS_PERMS, task),
        (Kind::User, &["MANAGE"], INSIGHTS_PERMS, task),
        (Kind::Page, &["ADVERTISE"], INSIGHTS_PERMS, task),
        (Kind::Page, &["ANALYZE"], &["pages_read_engagement"], Err((200, Some("(#200) Requires read_insights permission to manage the object")))),
        (Kind::User, &["ANALYZE"], &["pages_read_engagement"], Err((200, Some("(#200) Requires read_insights permission to manage the object")))),
        (Kind::Page, &["ANALYZE"], &["read_insights"], Err((283, Some("(#283) Requires pages_read_engagement permission to manage the object")))),
        (Kind::User, &["ANALYZE"], &[], Err((200, Some("(#200) Requires read_insights permission to manage the object")))),
    ];
    for (kind, tasks, scopes, want) in cells {
        let what = format!("{kind:?} token, tasks {tasks:?}, scopes {scopes:?}");
        // A fresh world per cell: grants only grow.
        let s = Server::seeded();
        set_tasks(&s, COFFEE, "carol", tasks);
        let token = match kind {
            Kind::Page => page_token(&s, "carol", "acme", COFFEE, scopes),
            Kind::User => user_token(&s, "carol", "acme", scopes),
        };
        let r = insights(&s, &token, "metric=page_impressions&period=day");
        match want {
            Ok(()) => {
                assert_eq!(r.status, 200, "{what}: {}", r.text);
                assert_eq!(r.body["data"][0]["values"].as_array().unwrap().len(), 2);
            }
            Err((code, message)) => {
                assert_eq!(r.body["error"]["code"], code, "{what}: {}", r.text);
                if let Some(m) = message {
                    r.assert_error(code, None, "OAuthException", m);
                }
            }
        }
    }
    // Another Page's token, and an app token, may not read Coffee's insights.
    let s = Server::seeded();
    set_tasks(&s, NEWS, "carol", &["ANALYZE"]);
    let news = page_token(&s, "carol", "acme", NEWS, INSIGHTS_PERMS);
    let r = insights(&s, &news, "metric=page_impressions");
    assert_eq!(r.body["error"]["code"], 200, "{}", r.text);
    let app = format!("{ACME}|{ACME_SECRET}");
    let r = insights(&s, &app, "metric=page_impressions");
    assert_eq!(r.body["error"]["code"], 200, "{}", r.text);
}
