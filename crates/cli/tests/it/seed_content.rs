//! Seeded Page content (docs/seed.md `[[posts]]` and `[[messages]]`): read back through the
//! Graph API with a Page token, created once however often the file is applied, and nothing
//! applied when a reference is unknown.

use crate::harness::seeding::{dump, seed};
use crate::harness::{enc, Sandbox, Server};

const PAGE: &str = "200000000000501";

const WORLD: &str = r#"[[apps]]
key = "tool"
id = "3000000000000501"
name = "Tool"
mode = "live"

[[users]]
key = "owner"
id = "300000000000501"
name = "Olga Owner"

[[users]]
key = "fan"
id = "300000000000502"
name = "Fay Fan"

[[pages]]
key = "shop"
id = "200000000000501"
name = "Shop"
roles = { owner = "Admin" }

[[grants]]
user = "owner"
app = "tool"
granted = ["pages_show_list", "pages_read_engagement", "pages_manage_posts", "pages_messaging", "pages_read_user_content"]

[[posts]]
key = "opening"
page = "shop"
app = "tool"
message = "We are open"
created_time = "2026-01-15T09:00:00Z"
comments = [
  { user = "fan", message = "Great news" },
  { user = "owner", message = "Thanks!" },
]

[[messages]]
key = "question"
page = "shop"
user = "fan"
message = "Do you deliver?"
created_time = "2026-01-16"
"#;

fn rows(dump: &[(String, Vec<String>)], table: &str) -> usize {
    dump.iter().find(|(n, _)| n == table).unwrap().1.len()
}

#[test]
fn seeded_posts_comments_and_messages_are_served_and_created_once() {
    let sb = Sandbox::new();
    let file = sb.write("content.toml", WORLD);
    let (ok, err) = seed(&sb, &file);
    assert!(ok, "{err}");
    let first = dump(&sb.db_path());
    assert_eq!(
        (
            rows(&first, "posts"),
            rows(&first, "comments"),
            rows(&first, "conversations"),
            rows(&first, "messages"),
            rows(&first, "psids"),
        ),
        (1, 2, 1, 1, 1)
    );
    let (ok, err) = seed(&sb, &file);
    assert!(ok, "{err}");
    assert_eq!(dump(&sb.db_path()), first, "re-applying changed something");

    let s = Server::on(&sb, Some(&file));
    let user = s.issue(
        "owner",
        "tool",
        &[
            "pages_show_list",
            "pages_read_engagement",
            "pages_manage_posts",
            "pages_messaging",
            "pages_read_user_content",
        ],
        false,
    );
    let page = s.page_token(PAGE, &user);

    let feed = s.get_as(
        &format!(
            "/v25.0/{PAGE}/feed?fields={}",
            enc("id,message,created_time")
        ),
        &page,
    );
    assert_eq!(feed.status, 200, "{}", feed.text);
    let posts = feed.body["data"].as_array().unwrap();
    assert_eq!(posts.len(), 1, "{}", feed.text);
    assert_eq!(posts[0]["message"], "We are open");
    assert!(
        posts[0]["created_time"]
            .as_str()
            .unwrap()
            .starts_with("2026-01-15T09:00:00"),
        "{}",
        feed.text
    );
    let post_id = posts[0]["id"].as_str().unwrap().to_string();
    assert!(post_id.starts_with(&format!("{PAGE}_")), "{post_id}");

    let comments = s.get_as(
        &format!("/v25.0/{post_id}/comments?fields={}", enc("message,from")),
        &page,
    );
    assert_eq!(comments.status, 200, "{}", comments.text);
    let texts: Vec<&str> = comments.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["message"].as_str().unwrap())
        .collect();
    assert_eq!(texts, ["Great news", "Thanks!"], "{}", comments.text);

    let convs = s.get_as(
        &format!(
            "/v25.0/{PAGE}/conversations?fields={}",
            enc("message_count,snippet")
        ),
        &page,
    );
    assert_eq!(convs.status, 200, "{}", convs.text);
    let list = convs.body["data"].as_array().unwrap();
    assert_eq!(list.len(), 1, "{}", convs.text);
    assert_eq!(list[0]["snippet"], "Do you deliver?");
    assert_eq!(list[0]["message_count"], 1);
    let (status, _) = s.stop();
    assert!(status.success());
    // Serving with the same seed (applied at start) created no content either.
    let content = |d: &[(String, Vec<String>)]| {
        let keep = [
            "posts",
            "comments",
            "conversations",
            "messages",
            "psids",
            "seed_keys",
        ];
        d.iter()
            .filter(|(t, _)| keep.contains(&t.as_str()))
            .cloned()
            .collect::<Vec<_>>()
    };
    assert_eq!(content(&dump(&sb.db_path())), content(&first));
}

#[test]
fn a_bad_reference_in_content_applies_nothing() {
    let sb = Sandbox::new();
    let good = sb.write("content.toml", WORLD);
    let (ok, err) = seed(&sb, &good);
    assert!(ok, "{err}");
    let before = dump(&sb.db_path());
    let extra = "\n[[posts]]\nkey = \"second\"\npage = \"shop\"\nmessage = \"More\"\n\
                 comments = [{ user = \"stranger\", message = \"hi\" }]\n\
                 \n[[messages]]\nkey = \"again\"\npage = \"shop\"\nuser = \"fan\"\nmessage = \"Hello\"\n";
    let file = sb.write("bad.toml", &format!("{WORLD}{extra}"));
    let (ok, err) = seed(&sb, &file);
    assert!(!ok, "applied");
    let line = WORLD.lines().count() + 6;
    assert!(
        err.contains(&format!("bad.toml:{line}: unknown user `stranger`")),
        "{err}"
    );
    assert_eq!(dump(&sb.db_path()), before, "something was applied");

    // An id that is numeric but names no one passes the parser and fails when resolved.
    let file = sb.write(
        "bad2.toml",
        &format!(
            "{WORLD}\n[[messages]]\nkey = \"ghost\"\npage = \"shop\"\nuser = \"399999999999999\"\nmessage = \"Boo\"\n"
        ),
    );
    let (ok, err) = seed(&sb, &file);
    assert!(!ok, "applied");
    let line = WORLD.lines().count() + 5;
    assert!(
        err.contains(&format!("bad2.toml:{line}: unknown user `399999999999999`")),
        "{err}"
    );
    assert_eq!(dump(&sb.db_path()), before, "something was applied");
}
