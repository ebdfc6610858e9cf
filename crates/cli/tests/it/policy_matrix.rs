//! The whole task × permission × token matrix of spec §3, through HTTP against the real binary:
//! every Page operation, with each task held alone or none, every required permission granted
//! or one missing, and a Page token or a user token (plus another Page's token and the app
//! token). The expected outcome comes from the spec table below, not from the policy code.

use crate::harness::pages::set_tasks;
use crate::harness::world::*;
use crate::harness::{app_literal, send, with_token, Body, Resp, Server};
use serde_json::json;

const TASKS: [&str; 6] = [
    "ADVERTISE",
    "ANALYZE",
    "CREATE_CONTENT",
    "MANAGE",
    "MESSAGING",
    "MODERATE",
];

/// How a row's request is made.
#[derive(Clone, Copy, Debug)]
enum Req {
    /// `GET` of this path (`{page}` and `{post}` are filled in).
    Get(&'static str),
    /// `POST` of this path with this form field.
    Post(&'static str, (&'static str, &'static str)),
}

/// One row of spec §3: the operation, whether only a Page token of this Page will do, the tasks
/// any one of which allows it, and the permissions all of which must be granted.
struct Row {
    name: &'static str,
    req: Req,
    page_token_only: bool,
    tasks: &'static [&'static str],
    perms: &'static [&'static str],
}

/// Spec §3, written out independently of `policy.rs`.
const SPEC: &[Row] = &[
    Row {
        name: "publish",
        req: Req::Post("/{page}/feed", ("message", "x")),
        page_token_only: true,
        tasks: &["CREATE_CONTENT"],
        perms: &["pages_read_engagement", "pages_manage_posts"],
    },
    Row {
        name: "read_feed",
        req: Req::Get("/{page}/feed"),
        page_token_only: false,
        tasks: &["CREATE_CONTENT", "MANAGE", "MODERATE"],
        perms: &["pages_read_engagement"],
    },
    Row {
        name: "read_comments",
        req: Req::Get("/{post}/comments"),
        page_token_only: false,
        tasks: &["CREATE_CONTENT", "MANAGE", "MODERATE"],
        perms: &["pages_read_engagement", "pages_read_user_content"],
    },
    Row {
        name: "moderate_comments",
        req: Req::Post("/{post}/comments", ("message", "x")),
        page_token_only: true,
        tasks: &["MODERATE"],
        perms: &["pages_manage_engagement", "pages_read_user_content"],
    },
    Row {
        name: "insights",
        req: Req::Get("/{page}/insights?metric=page_impressions"),
        page_token_only: false,
        tasks: &["ANALYZE"],
        perms: &["read_insights", "pages_read_engagement"],
    },
    Row {
        name: "messaging",
        req: Req::Get("/{page}/conversations"),
        page_token_only: true,
        tasks: &["MESSAGING"],
        perms: &["pages_messaging"],
    },
    Row {
        name: "settings",
        req: Req::Post("/{page}", ("about", "x")),
        page_token_only: true,
        tasks: &["MANAGE"],
        perms: &["pages_manage_metadata"],
    },
    Row {
        name: "assigned_users",
        req: Req::Get("/{page}/assigned_users"),
        page_token_only: false,
        tasks: &["MANAGE"],
        perms: &["pages_manage_metadata"],
    },
    Row {
        name: "call_to_action",
        req: Req::Get("/{page}/call_to_actions"),
        page_token_only: true,
        tasks: &["MANAGE", "CREATE_CONTENT"],
        perms: &["pages_manage_cta"],
    },
    Row {
        name: "instant_articles",
        req: Req::Get("/{page}/instant_articles"),
        page_token_only: true,
        tasks: &["CREATE_CONTENT"],
        perms: &["pages_manage_instant_articles"],
    },
];

/// The token a cell's call comes with.
#[derive(Clone, Copy, Debug)]
enum Tok {
    /// A Page token of Coffee.
    Page,
    /// A user token of the person.
    User,
    /// A Page token of another Page (News).
    OtherPage,
    /// The app's token.
    App,
}

/// What a cell must answer: success, or a Graph error code, subcode and the start of its
/// message.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Want {
    Allowed,
    Refused(u64, Option<u64>, String),
}

fn refused(code: u64, subcode: Option<u64>, message: &str) -> Want {
    Want::Refused(code, subcode, message.to_string())
}

const NOT_A_TASK_HOLDER: &str =
    "The user must be an administrator, editor, or moderator of the page in order to impersonate it.";
const NEED_PAGE_TOKEN: &str = "(#210) A page access token is required to request this resource.";
const PUBLISH_DENIED: &str = "(#200) If posting to a page, requires both pages_read_engagement and pages_manage_posts as an admin with sufficient administrative permission";

/// Spec §3's verdict for `row`, called with `tok` by a person holding `held` on the Page (a
/// Page token obtained while they still had a task) and missing `missing`. The token comes
/// first (210), then the task (10), then the permissions (283 for pages_read_engagement, 200
/// otherwise; publishing always says 200, in its own words).
fn expected(row: &Row, tok: Tok, held: Option<&str>, missing: Option<&str>) -> Want {
    match tok {
        Tok::Page if held.is_none() => return refused(190, Some(492), NOT_A_TASK_HOLDER),
        Tok::Page => {}
        Tok::User if row.page_token_only => return refused(210, None, NEED_PAGE_TOKEN),
        Tok::User => {}
        Tok::OtherPage => return refused(200, None, "(#200) Permissions error"),
        Tok::App if row.page_token_only => return refused(210, None, NEED_PAGE_TOKEN),
        Tok::App => return refused(200, None, "(#200) Permissions error"),
    }
    if !held.is_some_and(|t| row.tasks.contains(&t)) {
        return refused(10, None, "(#10) ");
    }
    match missing {
        None => Want::Allowed,
        Some(_) if row.name == "publish" => refused(200, None, PUBLISH_DENIED),
        Some(p) => {
            let code = if p == "pages_read_engagement" {
                283
            } else {
                200
            };
            let message = format!("(#{code}) Requires {p} permission to manage the object");
            Want::Refused(code, None, message)
        }
    }
}

/// Whether `r` is what `want` says.
fn answers(r: &Resp, want: &Want) -> bool {
    let e = &r.body["error"];
    match want {
        Want::Allowed => r.status == 200 && e.is_null(),
        Want::Refused(code, subcode, message) => {
            r.status == 400
                && e["code"].as_u64() == Some(*code)
                && e["error_subcode"].as_u64() == *subcode
                && e["type"] == "OAuthException"
                && e["message"]
                    .as_str()
                    .is_some_and(|m| m.starts_with(message))
        }
    }
}

/// The permissions carol has granted acme, as `/me/permissions` lists them.
fn granted(s: &Server, user_token: &str) -> Vec<String> {
    let r = s.get_as("/me/permissions?status=granted", user_token);
    assert_eq!(r.status, 200, "{}", r.text);
    r.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["permission"].as_str().unwrap().to_string())
        .collect()
}

fn call(s: &Server, row: &Row, token: &str, post: &str) -> Resp {
    let fill = |p: &str| p.replace("{page}", COFFEE).replace("{post}", post);
    match row.req {
        Req::Get(path) => s.get_as(&fill(path), token),
        Req::Post(path, (k, v)) => s.post_form(&fill(path), &[("access_token", token), (k, v)]),
    }
}

/// carol's user token for acme with `pages_show_list` and `perms` granted.
fn carol(s: &Server, perms: &[&str]) -> String {
    let mut scopes = vec!["pages_show_list"];
    scopes.extend_from_slice(perms);
    s.issue("carol", "acme", &scopes, false)
}

fn revoke(s: &Server, user_token: &str, perm: &str) {
    let path = with_token(&format!("/me/permissions/{perm}"), user_token);
    let r = send(ureq::delete(&s.url(&path)), Body::None);
    assert_eq!(
        r.body,
        json!({"success": true}),
        "revoke {perm}: {}",
        r.text
    );
}

/// A post on Coffee, published by alice (Admin) as the Page through rival: a live app, so
/// that the post is visible to carol through acme (spec §4).
fn coffee_post(s: &Server) -> String {
    let alice = s.issue(
        "alice",
        "rival",
        &[
            "pages_show_list",
            "pages_read_engagement",
            "pages_manage_posts",
        ],
        false,
    );
    let page = s.page_token(COFFEE, &alice);
    let r = s.post_form(
        &format!("/{COFFEE}/feed"),
        &[("access_token", &page), ("message", "the matrix")],
    );
    assert_eq!(r.status, 200, "publish: {}", r.text);
    r.str("id")
}

#[test]
fn every_cell_of_the_matrix_through_http() {
    let s = Server::seeded();
    let post = coffee_post(&s);
    let mut cells = 0;
    let mut wrong = Vec::new();
    let mut check = |row: &Row, tok: Tok, held: Option<&str>, missing: Option<&str>, r: &Resp| {
        cells += 1;
        let want = expected(row, tok, held, missing);
        if !answers(r, &want) {
            wrong.push(format!(
                "{} {tok:?} task={held:?} missing={missing:?}: want {want:?}, got {}",
                row.name, r.text
            ));
        }
    };
    for row in SPEC {
        let missing_cases = std::iter::once(None).chain(row.perms.iter().copied().map(Some));
        for missing in missing_cases {
            let held_cases = std::iter::once(None).chain(TASKS.iter().copied().map(Some));
            for held in held_cases {
                // A Page token needs a task: obtain it first, then take the task away.
                set_tasks(&s, COFFEE, "carol", &[held.unwrap_or("ADVERTISE")]);
                let user = carol(&s, row.perms);
                let page = s.page_token(COFFEE, &user);
                if held.is_none() {
                    set_tasks(&s, COFFEE, "carol", &[]);
                }
                if let Some(p) = missing {
                    revoke(&s, &user, p);
                }
                // The grant is exactly this cell's: the row's permissions but `missing`.
                let now = granted(&s, &user);
                for p in row.perms {
                    assert_eq!(
                        now.iter().any(|g| g == p),
                        Some(*p) != missing,
                        "{p}: {now:?}"
                    );
                }
                for (tok, token) in [(Tok::Page, &page), (Tok::User, &user)] {
                    let r = call(&s, row, token, &post);
                    check(row, tok, held, missing, &r);
                }
            }
        }
        // Everything else in place, but another Page's token, or the app's.
        set_tasks(&s, COFFEE, "carol", row.tasks);
        set_tasks(&s, NEWS, "carol", &TASKS);
        let user = carol(&s, row.perms);
        let other = s.page_token(NEWS, &user);
        let held = Some(row.tasks[0]);
        check(
            row,
            Tok::OtherPage,
            held,
            None,
            &call(&s, row, &other, &post),
        );
        let app = app_literal();
        check(row, Tok::App, held, None, &call(&s, row, &app, &post));
        set_tasks(&s, NEWS, "carol", &[]);
    }
    assert!(
        wrong.is_empty(),
        "{} of {cells} cells disagree with spec §3:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
    // Per operation: 7 task states × (1 + its permissions) × 2 tokens, + 2; 24 = Σ(1 + perms).
    assert_eq!(cells, 7 * 2 * 24 + 10 * 2);
}
