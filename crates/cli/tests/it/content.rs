//! The Page content store through HTTP: posts (`/{page-id}/feed|posts|published_posts`,
//! `/{post-id}`), comments (`/{post-id}/comments`, `/{comment-id}`), the policy's refusals for
//! each operation (spec §3), and development-mode visibility (spec §4).

use crate::harness::pages::{page_token, set_tasks, user_token};
use crate::harness::world::*;
use crate::harness::{send, with_token, Body, Resp, Server};
use serde_json::json;

const PUBLISH_PERMS: &[&str] = &["pages_manage_posts", "pages_read_engagement"];
const MODERATE_PERMS: &[&str] = &["pages_manage_engagement", "pages_read_user_content"];
const ALL_PERMS: &[&str] = &[
    "pages_manage_posts",
    "pages_read_engagement",
    "pages_manage_engagement",
    "pages_read_user_content",
];
const PUBLISH_DENIED: &str = "(#200) If posting to a page, requires both pages_read_engagement and pages_manage_posts as an admin with sufficient administrative permission";
const NEED_PAGE_TOKEN: &str = "(#210) A page access token is required to request this resource.";
const NEED_ENGAGEMENT: &str =
    "(#283) Requires pages_read_engagement permission to manage the object";

fn publish(s: &Server, page: &str, token: &str, message: &str) -> Resp {
    s.post_form(
        &format!("/v25.0/{page}/feed"),
        &[("access_token", token), ("message", message)],
    )
}

/// Publishes and returns the post id, checking its `<page-id>_<post-id>` form.
fn post(s: &Server, page: &str, token: &str, message: &str) -> String {
    let r = publish(s, page, token, message);
    assert_eq!(r.status, 200, "publish: {}", r.text);
    let id = r.str("id");
    let (p, n) = id.split_once('_').expect("<page>_<post>");
    assert_eq!(p, page);
    assert!(n.parse::<u64>().is_ok(), "{id}");
    assert_eq!(
        r.body.as_object().unwrap().len(),
        1,
        "only the id: {}",
        r.text
    );
    id
}

fn follower_comment(s: &Server, page: &str, post: &str, user: &str, message: &str) -> String {
    let r = s.admin_post(
        &format!("/_admin/pages/{page}/posts/{post}/comments"),
        json!({"user": user, "message": message}),
    );
    assert_eq!(r.status, 200, "follower comment: {}", r.text);
    r.str("id")
}

fn delete(s: &Server, path: &str, token: &str) -> Resp {
    send(ureq::delete(&s.url(&with_token(path, token))), Body::None)
}

fn messages(r: &Resp) -> Vec<String> {
    assert_eq!(r.status, 200, "{}", r.text);
    r.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["message"].as_str().unwrap_or("").to_string())
        .collect()
}

#[derive(Clone, Copy, Debug)]
enum Op {
    Publish,
    ReadFeed,
    ReadPost,
    ReadComments,
    Reply,
    Hide,
    DeleteComment,
    EditPost,
}

#[derive(Clone, Copy, Debug)]
enum Kind {
    Page,
    User,
}

/// One cell: carol, with `tasks` on Coffee and `scopes` granted to acme, calls `op` with a
/// token of `kind`; `want` is `Ok` or the error code with, where Facebook's text is known, it.
struct Cell {
    op: Op,
    kind: Kind,
    tasks: &'static [&'static str],
    scopes: &'static [&'static str],
    want: Result<(), (u64, Option<&'static str>)>,
}

fn run(op: Op, s: &Server, token: &str, post: &str, comment: &str) -> Resp {
    match op {
        Op::Publish => publish(s, COFFEE, token, "from the matrix"),
        Op::ReadFeed => s.get_as(&format!("/{COFFEE}/feed"), token),
        Op::ReadPost => s.get_as(&format!("/{post}"), token),
        Op::ReadComments => s.get_as(&format!("/{post}/comments"), token),
        Op::Reply => s.post_form(
            &format!("/{post}/comments"),
            &[("access_token", token), ("message", "thanks!")],
        ),
        Op::Hide => s.post_form(
            &format!("/{comment}"),
            &[("access_token", token), ("is_hidden", "true")],
        ),
        Op::DeleteComment => delete(s, &format!("/{comment}"), token),
        Op::EditPost => s.post_form(
            &format!("/{post}"),
            &[("access_token", token), ("message", "edited")],
        ),
    }
}

#[test]
fn every_operation_is_refused_as_facebook_refuses_it() {
    use Kind::*;
    use Op::*;
    let ok = Ok(());
    let task = Err((10, None));
    #[rustfmt::skip]
    let cells = [
        // Publishing: a Page token, CREATE_CONTENT, both permissions.
        Cell { op: Publish, kind: Page, tasks: &["CREATE_CONTENT"], scopes: PUBLISH_PERMS, want: ok },
        Cell { op: Publish, kind: Page, tasks: &["MODERATE", "ANALYZE"], scopes: PUBLISH_PERMS, want: task },
        Cell { op: Publish, kind: Page, tasks: &["CREATE_CONTENT"], scopes: &["pages_read_engagement"], want: Err((200, Some(PUBLISH_DENIED))) },
        Cell { op: Publish, kind: Page, tasks: &["CREATE_CONTENT"], scopes: &["pages_manage_posts"], want: Err((200, Some(PUBLISH_DENIED))) },
        Cell { op: Publish, kind: User, tasks: &["CREATE_CONTENT"], scopes: PUBLISH_PERMS, want: Err((210, Some(NEED_PAGE_TOKEN))) },
        Cell { op: EditPost, kind: Page, tasks: &["CREATE_CONTENT"], scopes: PUBLISH_PERMS, want: ok },
        Cell { op: EditPost, kind: Page, tasks: &["MODERATE"], scopes: PUBLISH_PERMS, want: task },
        // Reading: any of CREATE_CONTENT, MANAGE, MODERATE; pages_read_engagement; either token.
        Cell { op: ReadFeed, kind: Page, tasks: &["MODERATE"], scopes: &["pages_read_engagement"], want: ok },
        Cell { op: ReadFeed, kind: User, tasks: &["MANAGE"], scopes: &["pages_read_engagement"], want: ok },
        Cell { op: ReadFeed, kind: User, tasks: &["ANALYZE"], scopes: &["pages_read_engagement"], want: task },
        Cell { op: ReadFeed, kind: Page, tasks: &["CREATE_CONTENT"], scopes: &[], want: Err((283, Some(NEED_ENGAGEMENT))) },
        Cell { op: ReadPost, kind: User, tasks: &["CREATE_CONTENT"], scopes: &["pages_read_engagement"], want: ok },
        Cell { op: ReadPost, kind: Page, tasks: &["ADVERTISE"], scopes: &["pages_read_engagement"], want: task },
        Cell { op: ReadPost, kind: Page, tasks: &["MANAGE"], scopes: &["pages_manage_posts"], want: Err((283, Some(NEED_ENGAGEMENT))) },
        // Comments: reading needs pages_read_user_content too.
        Cell { op: ReadComments, kind: Page, tasks: &["MODERATE"], scopes: &["pages_read_engagement", "pages_read_user_content"], want: ok },
        Cell { op: ReadComments, kind: Page, tasks: &["MODERATE"], scopes: &["pages_read_engagement"], want: Err((200, Some("(#200) Requires pages_read_user_content permission to manage the object"))) },
        Cell { op: ReadComments, kind: User, tasks: &["MESSAGING"], scopes: &["pages_read_engagement", "pages_read_user_content"], want: task },
        // Moderating: a Page token, MODERATE, pages_manage_engagement + pages_read_user_content.
        Cell { op: Reply, kind: Page, tasks: &["MODERATE"], scopes: MODERATE_PERMS, want: ok },
        Cell { op: Reply, kind: Page, tasks: &["CREATE_CONTENT"], scopes: MODERATE_PERMS, want: task },
        Cell { op: Reply, kind: Page, tasks: &["MODERATE"], scopes: &["pages_read_user_content"], want: Err((200, Some("(#200) Requires pages_manage_engagement permission to manage the object"))) },
        Cell { op: Reply, kind: User, tasks: &["MODERATE"], scopes: MODERATE_PERMS, want: Err((210, Some(NEED_PAGE_TOKEN))) },
        Cell { op: Hide, kind: Page, tasks: &["MODERATE"], scopes: MODERATE_PERMS, want: ok },
        Cell { op: Hide, kind: Page, tasks: &["ANALYZE", "MESSAGING"], scopes: MODERATE_PERMS, want: task },
        Cell { op: Hide, kind: Page, tasks: &["MODERATE"], scopes: &["pages_manage_engagement"], want: Err((200, Some("(#200) Requires pages_read_user_content permission to manage the object"))) },
        Cell { op: DeleteComment, kind: Page, tasks: &["MODERATE"], scopes: MODERATE_PERMS, want: ok },
        Cell { op: DeleteComment, kind: User, tasks: &["MODERATE"], scopes: MODERATE_PERMS, want: Err((210, Some(NEED_PAGE_TOKEN))) },
    ];
    for cell in cells {
        let what = format!(
            "{:?} with a {:?} token, tasks {:?}, scopes {:?}",
            cell.op, cell.kind, cell.tasks, cell.scopes
        );
        // A fresh world per cell: grants only grow.
        let s = Server::seeded();
        // The post and comment acted on: alice's, through rival (a live app: seen by all).
        let alice = page_token(&s, "alice", "rival", COFFEE, ALL_PERMS);
        let post_id = post(&s, COFFEE, &alice, "the subject");
        let comment = follower_comment(&s, COFFEE, &post_id, "bob", "nice");
        set_tasks(&s, COFFEE, "carol", cell.tasks);
        let token = match cell.kind {
            Kind::Page => page_token(&s, "carol", "acme", COFFEE, cell.scopes),
            Kind::User => user_token(&s, "carol", "acme", cell.scopes),
        };
        let r = run(cell.op, &s, &token, &post_id, &comment);
        r.assert_outcome(cell.want, &what);
    }
}

#[test]
fn a_post_is_created_listed_read_edited_and_deleted() {
    let s = Server::seeded();
    let t = page_token(&s, "alice", "acme", COFFEE, PUBLISH_PERMS);
    let first = post(&s, COFFEE, &t, "first");
    s.advance(60);
    let second = post(&s, COFFEE, &t, "second");
    s.advance(60);
    let third = post(&s, COFFEE, &t, "third");
    // Unpublished posts are not in the lists, but exist.
    let hidden = s.post_form(
        &format!("/{COFFEE}/feed"),
        &[
            ("access_token", &t),
            ("message", "draft"),
            ("published", "false"),
        ],
    );
    let draft = hidden.str("id");

    // Newest first, two at a time, with `next` carrying the token and the fields.
    let r = s.get_as(
        &format!("/v25.0/{COFFEE}/feed?limit=2&fields=message,from"),
        &t,
    );
    assert_eq!(messages(&r), ["third", "second"]);
    assert_eq!(r.body["data"][0]["id"], third);
    assert_eq!(
        r.body["data"][0]["from"],
        json!({"name": "Acme Coffee", "id": COFFEE})
    );
    assert!(r.body["paging"].get("previous").is_none(), "{}", r.text);
    let next = r.body["paging"]["next"].as_str().unwrap().to_string();
    assert!(
        next.contains("access_token=") && next.contains("fields=message"),
        "{next}"
    );
    let r = send(ureq::get(&next), Body::None);
    assert_eq!(messages(&r), ["first"]);
    assert_eq!(r.body["data"][0]["from"]["id"], COFFEE);
    assert!(r.body["paging"].get("next").is_none(), "{}", r.text);
    let prev = r.body["paging"]["previous"].as_str().unwrap().to_string();
    assert_eq!(
        messages(&send(ureq::get(&prev), Body::None)),
        ["third", "second"]
    );
    for edge in ["posts", "published_posts"] {
        let r = s.get_as(&format!("/{COFFEE}/{edge}"), &t);
        assert_eq!(messages(&r), ["third", "second", "first"], "{edge}");
    }

    // Default fields, then every field graphtoken fills.
    let r = s.get_as(&format!("/{second}"), &t);
    assert_eq!(r.status, 200, "{}", r.text);
    let keys: Vec<&String> = r.body.as_object().unwrap().keys().collect();
    assert_eq!(keys, ["created_time", "message", "id"], "{}", r.text);
    let created = r.body["created_time"].as_str().unwrap();
    assert!(
        created.len() == 24 && created.ends_with("+0000") && created.as_bytes()[10] == b'T',
        "{created}"
    );
    let r = s.get_as(
        &format!("/{draft}?fields=id,message,created_time,from,permalink_url,is_published"),
        &t,
    );
    let post_no = draft.split_once('_').unwrap().1;
    assert_eq!(
        r.body["permalink_url"],
        format!("https://www.facebook.com/{COFFEE}/posts/{post_no}")
    );
    assert_eq!(r.body["is_published"], false);
    assert_eq!(r.body["message"], "draft");
    s.get_as(&format!("/{COFFEE}/feed?fields=message,bogus"), &t)
        .assert_error(
            100,
            None,
            "OAuthException",
            "(#100) Tried accessing nonexisting field (bogus) on node type (Post)",
        );

    // Edit, then delete: afterwards the post does not exist (100/33).
    let r = s.post_form(
        &format!("/{second}"),
        &[("access_token", &t), ("message", "second, edited")],
    );
    assert_eq!(r.body, json!({"success": true}), "{}", r.text);
    assert_eq!(
        s.get_as(&format!("/{second}"), &t).body["message"],
        "second, edited"
    );
    let r = delete(&s, &format!("/{second}"), &t);
    assert_eq!(r.body, json!({"success": true}), "{}", r.text);
    let gone = format!(
        "Unsupported get request. Object with ID '{second}' does not exist, cannot be loaded due to missing permissions, or does not support this operation. Please read the Graph API documentation at https://developers.facebook.com/docs/graph-api"
    );
    s.get_as(&format!("/{second}"), &t)
        .assert_error(100, Some(33), "GraphMethodException", &gone);
    assert_eq!(
        messages(&s.get_as(&format!("/{COFFEE}/feed"), &t)),
        ["third", "first"]
    );
    // Method override, as Koala sends it: delete again is a 100/33 for a post.
    let r = s.post_form(
        &format!("/{first}"),
        &[("access_token", &t), ("method", "delete")],
    );
    assert_eq!(r.body, json!({"success": true}), "{}", r.text);
    // Nothing to publish.
    let r = s.post_form(&format!("/{COFFEE}/feed"), &[("access_token", &t)]);
    r.assert_error(
        100,
        None,
        "OAuthException",
        "(#100) Missing message or attachment",
    );
    // A post id of another Page, and garbage, are unknown objects.
    let other = format!("{NEWS}_{}", third.split_once('_').unwrap().1);
    assert_eq!(
        s.get_as(&format!("/{other}"), &t).body["error"]["error_subcode"],
        33
    );
    assert_eq!(s.get_as("/1_x", &t).body["error"]["error_subcode"], 33);
}

#[test]
fn comments_are_listed_answered_hidden_and_deleted() {
    let s = Server::seeded();
    let t = page_token(&s, "alice", "acme", COFFEE, ALL_PERMS);
    let post_id = post(&s, COFFEE, &t, "What's your favourite roast?");
    let carols = follower_comment(&s, COFFEE, &post_id, "carol", "Dark, always");
    s.advance(5);
    // The admin API also takes the post's own number and the Page's key.
    let post_no = post_id.split_once('_').unwrap().1;
    let bobs = follower_comment(&s, "coffee", post_no, "bob", "Medium");
    assert!(carols.starts_with(&format!("{post_no}_")), "{carols}");

    // carol as acme knows her: her app-scoped id for acme.
    let carol_token = s.issue("carol", "acme", &["pages_show_list"], false);
    let carol_asid = s.get_as("/me", &carol_token).str("id");
    let r = s.get_as(&format!("/{post_id}/comments"), &t);
    assert_eq!(messages(&r), ["Dark, always", "Medium"]);
    assert_eq!(r.body["data"][0]["id"], carols);
    assert_eq!(
        r.body["data"][0]["from"],
        json!({"name": "Carol Nopage", "id": carol_asid})
    );
    assert!(r.body["data"][0]["created_time"].is_string());

    // Reply as the Page.
    let r = s.post_form(
        &format!("/{post_id}/comments"),
        &[("access_token", &t), ("message", "Great choice!")],
    );
    assert_eq!(r.status, 200, "{}", r.text);
    let reply = r.str("id");
    assert!(reply.starts_with(&format!("{post_no}_")), "{reply}");
    let r = s.get_as(&format!("/{reply}?fields=from,message,is_hidden"), &t);
    assert_eq!(
        r.body,
        json!({"from": {"name": "Acme Coffee", "id": COFFEE}, "message": "Great choice!",
               "is_hidden": false, "id": reply})
    );

    // Hide, unhide, hide bob's; delete carol's.
    for (value, want) in [("true", true), ("false", false), ("true", true)] {
        let r = s.post_form(
            &format!("/{bobs}"),
            &[("access_token", &t), ("is_hidden", value)],
        );
        assert_eq!(r.body, json!({"success": true}), "{}", r.text);
        let r = s.get_as(&format!("/{bobs}?fields=is_hidden"), &t);
        assert_eq!(r.body["is_hidden"], want, "{}", r.text);
    }
    let r = delete(&s, &format!("/{carols}"), &t);
    assert_eq!(r.body, json!({"success": true}), "{}", r.text);
    assert_eq!(
        s.get_as(&format!("/{carols}"), &t).body["error"]["error_subcode"],
        33
    );
    let r = s.get_as(
        &format!("/{post_id}/comments?fields=message,is_hidden&limit=1"),
        &t,
    );
    assert_eq!(messages(&r), ["Medium"]);
    assert_eq!(r.body["data"][0]["is_hidden"], true);
    let next = r.body["paging"]["next"].as_str().unwrap().to_string();
    assert_eq!(
        messages(&send(ureq::get(&next), Body::None)),
        ["Great choice!"]
    );

    // Comments inline on a post.
    let r = s.get_as(
        &format!("/{post_id}?fields=message,comments.limit(1){{message}}"),
        &t,
    );
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(
        r.body["comments"]["data"],
        json!([{"message": "Medium", "id": bobs}])
    );
    assert!(
        r.body["comments"]["paging"]["next"].is_string(),
        "{}",
        r.text
    );

    // Deleting the post takes its comments with it.
    assert_eq!(
        delete(&s, &format!("/{post_id}"), &t).body,
        json!({"success": true})
    );
    assert_eq!(
        s.get_as(&format!("/{reply}"), &t).body["error"]["error_subcode"],
        33
    );
    // The admin API refuses a post that is gone.
    let r = s.admin_post(
        &format!("/_admin/pages/{COFFEE}/posts/{post_id}/comments"),
        json!({"user": "carol", "message": "hello?"}),
    );
    assert_eq!(r.status, 404, "{}", r.text);
}

#[test]
fn development_mode_content_is_seen_only_by_people_with_a_role_on_the_app() {
    let s = Server::seeded();
    // acme is in development mode (alice administers it, bob develops it); rival is live.
    let dev = page_token(&s, "alice", "acme", COFFEE, PUBLISH_PERMS);
    let live = page_token(&s, "alice", "rival", COFFEE, PUBLISH_PERMS);
    let dev_post = post(&s, COFFEE, &dev, "made in development");
    let live_post = post(&s, COFFEE, &live, "made live");

    // carol moderates Coffee but has no role on acme: acme's post does not exist for her.
    set_tasks(&s, COFFEE, "carol", &["MODERATE"]);
    let carol = page_token(&s, "carol", "acme", COFFEE, &["pages_read_engagement"]);
    assert_eq!(
        messages(&s.get_as(&format!("/{COFFEE}/feed"), &carol)),
        ["made live"]
    );
    let gone = format!(
        "Unsupported get request. Object with ID '{dev_post}' does not exist, cannot be loaded due to missing permissions, or does not support this operation. Please read the Graph API documentation at https://developers.facebook.com/docs/graph-api"
    );
    s.get_as(&format!("/{dev_post}"), &carol).assert_error(
        100,
        Some(33),
        "GraphMethodException",
        &gone,
    );
    assert_eq!(s.get_as(&format!("/{live_post}"), &carol).status, 200);

    // bob has a role on acme (developer): he sees both, through either app.
    set_tasks(&s, COFFEE, "bob", &["MODERATE"]);
    let bob = page_token(&s, "bob", "acme", COFFEE, &["pages_read_engagement"]);
    assert_eq!(
        messages(&s.get_as(&format!("/{COFFEE}/feed"), &bob)),
        ["made live", "made in development"]
    );
    assert_eq!(s.get_as(&format!("/{dev_post}"), &bob).status, 200);
    // alice through rival sees acme's post too: the role is the person's.
    let alice_rival = user_token(&s, "alice", "rival", &["pages_read_engagement"]);
    assert_eq!(
        s.get_as(&format!("/{dev_post}?fields=message"), &alice_rival)
            .body["message"],
        "made in development"
    );
    // Nor can carol act on what she cannot see.
    let r = s.post_form(
        &format!("/{dev_post}/comments"),
        &[("access_token", &carol), ("message", "hi")],
    );
    assert_eq!(r.body["error"]["error_subcode"], 33, "{}", r.text);
}

#[test]
fn a_batch_publishes_and_reads_back_its_post() {
    let s = Server::seeded();
    let t = page_token(&s, "alice", "acme", COFFEE, PUBLISH_PERMS);
    let batch = json!([
        {"method": "POST", "relative_url": "me/feed", "body": "message=batched", "name": "p"},
        {"method": "GET", "relative_url": "{result=p:$.id}?fields=message,from"},
    ]);
    let r = s.post_form(
        "/v25.0/",
        &[("access_token", &t), ("batch", &batch.to_string())],
    );
    assert_eq!(r.status, 200, "{}", r.text);
    assert!(
        r.body[0].is_null(),
        "a referenced operation is omitted: {}",
        r.text
    );
    assert_eq!(r.body[1]["code"], 200, "{}", r.text);
    let read: serde_json::Value =
        serde_json::from_str(r.body[1]["body"].as_str().unwrap()).unwrap();
    assert_eq!(read["message"], "batched");
    assert_eq!(read["from"]["id"], COFFEE);
    assert!(read["id"]
        .as_str()
        .unwrap()
        .starts_with(&format!("{COFFEE}_")));
}
