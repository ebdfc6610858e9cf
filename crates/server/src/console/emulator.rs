//! The emulator controls (`/tools/emulator/`): move the virtual clock, arm and disarm faults,
//! the events timeline, and the seed in use. The admin key is typed once; the browser's desk
//! then remembers it (server-side, behind the signed HttpOnly `gt_console` cookie), so the key
//! never goes in a URL or a page.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use maud::html;
use serde_json::{json, Value};

use graphtoken_core::timefmt;
use graphtoken_core::token;

use super::{broken, field, visit, with_cookies, St, Visit};
use crate::browser;
use crate::faults::{self, Matcher, Spec};
use crate::pages::{self, console_document, hidden};
use crate::AppState;

/// The controls' path.
pub const EMULATOR: &str = "/tools/emulator/";

/// The clock buttons: label and seconds.
const MOVES: &[(&str, i64)] = &[
    ("+1 hour", 3_600),
    ("+1 day", 86_400),
    ("+7 days", 7 * 86_400),
    ("+61 days", 61 * 86_400),
    ("+91 days", 91 * 86_400),
];

/// How many events the page shows.
const SHOWN_EVENTS: usize = 50;

/// `GET /tools/emulator/`.
pub async fn page(State(st): St, headers: HeaderMap) -> Response {
    let v = match visit(&st, &headers) {
        Ok(v) => v,
        Err(r) => return *r,
    };
    let body = render(&st, &v, None).await;
    with_cookies(browser::html(StatusCode::OK, body, None), v.cookies)
}

/// A posted form with its CSRF token checked, from a browser that entered the admin key
/// (`unlocking`: the unlock form itself, which needs only the CSRF token).
async fn form(
    st: &AppState,
    headers: &HeaderMap,
    bytes: &Bytes,
    unlocking: bool,
) -> Result<(Visit, Vec<(String, String)>), Box<Response>> {
    let v = visit(st, headers)?;
    let form: Vec<(String, String)> = form_urlencoded::parse(bytes).into_owned().collect();
    let problem = if !st.browser.csrf_ok(&v.session, field(&form, "csrf")) {
        Some("This form has expired. Please try again.")
    } else if !unlocking && !st.console.with(&v.desk, |d| d.admin) {
        Some("Enter the admin key first.")
    } else {
        None
    };
    match problem {
        None => Ok((v, form)),
        Some(p) => {
            let body = render(st, &v, Some(p)).await;
            Err(Box::new(with_cookies(
                browser::html(StatusCode::FORBIDDEN, body, None),
                v.cookies,
            )))
        }
    }
}

/// Back to the controls, saying what was done.
fn done(st: &AppState, v: Visit, notice: String) -> Response {
    st.console.with(&v.desk, |d| d.notice = Some(notice));
    with_cookies(browser::see_other(EMULATOR, None), v.cookies)
}

/// A refusal on the page itself (400), nothing changed.
async fn refused(st: &AppState, v: Visit, why: &str) -> Response {
    let body = render(st, &v, Some(why)).await;
    with_cookies(
        browser::html(StatusCode::BAD_REQUEST, body, None),
        v.cookies,
    )
}

/// `POST /tools/emulator/unlock`: the admin key, compared in constant time.
pub async fn unlock(State(st): St, headers: HeaderMap, bytes: Bytes) -> Response {
    let (v, f) = match form(&st, &headers, &bytes, true).await {
        Ok(x) => x,
        Err(r) => return *r,
    };
    let given = field(&f, "key").unwrap_or("").trim();
    if !token::secrets_equal(given, &st.admin_key) {
        let body = render(&st, &v, Some("That is not this server's admin key.")).await;
        return with_cookies(browser::html(StatusCode::FORBIDDEN, body, None), v.cookies);
    }
    st.console.with(&v.desk, |d| d.admin = true);
    done(
        &st,
        v,
        "The emulator controls are open in this browser.".into(),
    )
}

/// `POST /tools/emulator/lock`: this browser forgets the admin key.
pub async fn lock(State(st): St, headers: HeaderMap, bytes: Bytes) -> Response {
    let (v, _) = match form(&st, &headers, &bytes, true).await {
        Ok(x) => x,
        Err(r) => return *r,
    };
    st.console.with(&v.desk, |d| d.admin = false);
    done(
        &st,
        v,
        "The emulator controls are closed in this browser.".into(),
    )
}

/// `POST /tools/emulator/clock`: `advance` seconds, or `set` to a date.
pub async fn clock(State(st): St, headers: HeaderMap, bytes: Bytes) -> Response {
    let (v, f) = match form(&st, &headers, &bytes, false).await {
        Ok(x) => x,
        Err(r) => return *r,
    };
    let now = st.services.now();
    let target = match (field(&f, "advance"), field(&f, "set")) {
        (Some(a), _) => match a.parse::<i64>() {
            Ok(s) => now.saturating_add(s),
            Err(_) => return refused(&st, v, "Choose how far to move the clock.").await,
        },
        (None, Some(date)) => match timefmt::parse_utc(date) {
            Some(t) => t,
            None => {
                let why =
                    format!("“{date}” is not a date: use 2027-01-31 or 2027-01-31T12:00:00Z.");
                return refused(&st, v, &why).await;
            }
        },
        (None, None) => return refused(&st, v, "Choose how far to move the clock.").await,
    };
    match st.services.set_clock(&st.clock, target).await {
        Ok(now) => done(
            &st,
            v,
            format!("The clock reads {} now.", timefmt::utc(now)),
        ),
        Err(e) if e.code == 100 => refused(&st, v, &e.message).await,
        Err(e) => broken(&e),
    }
}

/// `POST /tools/emulator/faults`: arms a catalogued error for `times` calls, on `path` when
/// given.
pub async fn arm(State(st): St, headers: HeaderMap, bytes: Bytes) -> Response {
    let (v, f) = match form(&st, &headers, &bytes, false).await {
        Ok(x) => x,
        Err(r) => return *r,
    };
    let Some(name) = field(&f, "error").and_then(faults::catalogue_name) else {
        return refused(&st, v, "Choose an error from the list.").await;
    };
    let times = match field(&f, "times").unwrap_or("1").trim().parse::<u64>() {
        Ok(t) if t <= 1_000_000 => t,
        _ => {
            return refused(
                &st,
                v,
                "Times is a number of calls (0: until disarmed), at most 1,000,000.",
            )
            .await
        }
    };
    let path = field(&f, "path").unwrap_or("").trim();
    let matcher = Matcher {
        path: (!path.is_empty()).then(|| faults::path_segments(path)),
        ..Matcher::default()
    };
    let spec = Spec {
        error: json!(name),
        status: None,
        latency_ms: 0,
        matcher,
        times,
    };
    match st.faults.arm(&st.services, spec).await {
        Ok(Some(_)) => done(&st, v, format!("Armed: {name}.")),
        Ok(None) => refused(&st, v, "Too many faults are kept: disarm some first.").await,
        Err(e) => broken(&e),
    }
}

/// `POST /tools/emulator/faults/clear`: disarms fault `id`, or every fault.
pub async fn disarm(State(st): St, headers: HeaderMap, bytes: Bytes) -> Response {
    let (v, f) = match form(&st, &headers, &bytes, false).await {
        Ok(x) => x,
        Err(r) => return *r,
    };
    let id = field(&f, "id").filter(|i| !i.is_empty());
    match st.faults.clear(&st.services, id).await {
        Ok(true) => done(
            &st,
            v,
            match id {
                Some(i) => format!("Fault {i} disarmed."),
                None => "Every fault disarmed.".into(),
            },
        ),
        Ok(false) => refused(&st, v, "There is no such fault.").await,
        Err(e) => broken(&e),
    }
}

/// The page: the unlock form, or the controls.
async fn render(st: &AppState, v: &Visit, problem: Option<&str>) -> String {
    let (admin, notice) = st.console.with(&v.desk, |d| (d.admin, d.notice.take()));
    let csrf = &v.csrf;
    if !admin {
        let content = html! {
            h1 { "Emulator controls" }
            p class="lede" { "Move the virtual clock, arm faults and watch what happens. Enter the admin key once: this browser remembers it until you close the controls." }
            @if let Some(n) = &notice { p class="notice" role="status" { (n) } }
            (pages::error(problem))
            form method="post" action="/tools/emulator/unlock" {
                (hidden("csrf", csrf))
                div class="field" {
                    label for="key" { "Admin key" }
                    input id="key" name="key" type="password" autocomplete="off" required;
                }
                p class="hint" { "The key the server printed when it started, or the one given with --admin-key." }
                div class="actions inline" {
                    button type="submit" id="unlock" class="primary" { "Open the controls" }
                }
            }
            p class="note" { a href="/" { "← Console" } }
        };
        return console_document("Emulator controls", content);
    }
    let now = st.services.now();
    let offset_days = st.clock.offset() as f64 / 86_400.0;
    let faults = st
        .faults
        .list(&st.services)
        .await
        .ok()
        .and_then(|v| v.get("data").and_then(Value::as_array).cloned())
        .unwrap_or_default();
    let events = st.timeline.recent(SHOWN_EVENTS);
    let content = html! {
        h1 { "Emulator controls" }
        @if let Some(n) = &notice { p class="notice" role="status" { (n) } }
        (pages::error(problem))
        section aria-labelledby="clock-h" {
            h2 id="clock-h" { "Virtual clock" }
            p { "It reads " strong id="now" { (timefmt::utc(now)) }
                @if offset_days.abs() >= 0.0001 { " (" (format!("{offset_days:+.2}")) " days from real time)" }
                "." }
            div class="actions inline wrap" {
                @for (label, secs) in MOVES {
                    form method="post" action="/tools/emulator/clock" {
                        (hidden("csrf", csrf))
                        (hidden("advance", &secs.to_string()))
                        button type="submit" class="secondary" { (label) }
                    }
                }
            }
            form method="post" action="/tools/emulator/clock" class="inline-form" {
                (hidden("csrf", csrf))
                div class="field" {
                    label for="set" { "Set the date (UTC)" }
                    input id="set" name="set" type="text" placeholder="2027-01-31 or 2027-01-31T12:00:00Z" spellcheck="false";
                }
                div class="actions inline" {
                    button type="submit" id="set-clock" class="secondary" { "Set" }
                }
            }
        }
        section aria-labelledby="faults-h" {
            h2 id="faults-h" { "Faults" }
            p class="hint" { "An armed fault answers matching Graph calls with the error instead (the same as " code { "POST /_admin/faults" } ")." }
            form method="post" action="/tools/emulator/faults" {
                (hidden("csrf", csrf))
                div class="request-bar three" {
                    div class="field" {
                        label for="error" { "Error" }
                        select id="error" name="error" {
                            @for name in faults::CATALOGUE { option value=(name) { (name) } }
                        }
                    }
                    div class="field" {
                        label for="path" { "On path (optional)" }
                        input id="path" name="path" type="text" placeholder="me/accounts" spellcheck="false";
                    }
                    div class="field" {
                        label for="times" { "Times" }
                        input id="times" name="times" type="text" inputmode="numeric" value="1";
                    }
                }
                p class="hint" { "Times: how many matching calls it answers; 0 answers them all until it is disarmed." }
                div class="actions inline" {
                    button type="submit" id="arm" class="primary" { "Arm" }
                }
            }
            @if faults.is_empty() {
                p class="note" { "No fault is armed." }
            } @else {
                table {
                    thead { tr { th scope="col" { "ID" } th scope="col" { "Error" } th scope="col" { "Matches" } th scope="col" { "Fired" } th scope="col" { span class="visually-hidden" { "Disarm" } } } }
                    tbody {
                        @for f in &faults {
                            @let id = f["id"].as_str().unwrap_or("");
                            tr {
                                td { (id) }
                                td { (f["error"].as_str().map(str::to_string).unwrap_or_else(|| f["error"].to_string())) " " span class="muted" { "(" (f["code"]) @if let Some(s) = f["subcode"].as_u64() { "/" (s) } ")" } }
                                td { @if let Some(p) = f["match"]["path"].as_str() { code { (p) } } @else { "every call" } }
                                td { (f["fired"]) " of " @if f["times"] == 0 { "∞" } @else { (f["times"]) } }
                                td {
                                    form method="post" action="/tools/emulator/faults/clear" {
                                        (hidden("csrf", csrf))
                                        (hidden("id", id))
                                        button type="submit" class="link" { "Disarm" }
                                    }
                                }
                            }
                        }
                    }
                }
                form method="post" action="/tools/emulator/faults/clear" {
                    (hidden("csrf", csrf))
                    div class="actions inline" { button type="submit" id="disarm-all" class="secondary" { "Disarm all" } }
                }
            }
        }
        section aria-labelledby="events-h" {
            h2 id="events-h" { "Events" }
            @if events.is_empty() {
                p class="note" { "Nothing has happened since the server started." }
            } @else {
                table {
                    thead { tr { th scope="col" { "When (virtual clock)" } th scope="col" { "What" } } }
                    tbody {
                        @for (at, what) in &events {
                            tr { td class="nowrap" { (timefmt::utc(*at)) } td { (what) } }
                        }
                    }
                }
            }
        }
        section aria-labelledby="seed-h" {
            h2 id="seed-h" { "Seed" }
            p { @match &st.seed {
                Some(s) => { "Started with " code { (s) } " (applied again at each start; see docs/seed.md)." }
                None => { "No seed file: the demo world, or the database as it was." }
            } }
        }
        form method="post" action="/tools/emulator/lock" {
            (hidden("csrf", csrf))
            div class="actions inline" { button type="submit" id="lock" class="secondary" { "Close the controls in this browser" } }
        }
        p class="note" { a href="/" { "← Console" } }
    };
    console_document("Emulator controls", content)
}
