//! Page settings (`POST /{page-id}`), call-to-action buttons (`/{page-id}/call_to_actions`) and
//! Instant Articles (`/{page-id}/instant_articles`) through HTTP, with the policy's refusals for
//! each (spec §3).

use crate::harness::pages::{page_token, set_tasks, user_token};
use crate::harness::world::*;
use crate::harness::{send, with_token, Body, Resp, Server};
use serde_json::json;

const NEED_PAGE_TOKEN: &str = "(#210) A page access token is required to request this resource.";

fn delete(s: &Server, path: &str, token: &str) -> Resp {
    send(ureq::delete(&s.url(&with_token(path, token))), Body::None)
}

fn ids(r: &Resp) -> Vec<String> {
    assert_eq!(r.status, 200, "{}", r.text);
    r.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["id"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn settings_are_changed_and_read_back() {
    let s = Server::seeded();
    let t = page_token(&s, "alice", "acme", COFFEE, &["pages_manage_metadata"]);
    let fields = format!("/v25.0/{COFFEE}?fields=name,about,description,website,phone");
    // Nothing set yet: the fields are omitted.
    let r = s.get_as(&fields, &t);
    assert_eq!(r.status, 200, "{}", r.text);
    assert!(r.body.get("about").is_none(), "{}", r.text);

    let r = s.post_form(
        &format!("/v25.0/{COFFEE}"),
        &[
            ("access_token", &t),
            ("about", "Fresh coffee"),
            ("description", "A coffee shop"),
            ("website", "https://coffee.example"),
            ("phone", "+1 555 0100"),
        ],
    );
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body, json!({"success": true}));
    let r = s.get_as(&fields, &t);
    assert_eq!(
        r.body,
        json!({
            "name": "Acme Coffee",
            "about": "Fresh coffee",
            "description": "A coffee shop",
            "website": "https://coffee.example",
            "phone": "+1 555 0100",
            "id": COFFEE,
        }),
        "{}",
        r.text
    );

    // A later change touches only what it names; an empty value clears a field.
    let r = s.post_form(
        &format!("/{COFFEE}"),
        &[
            ("access_token", &t),
            ("about", "Better coffee"),
            ("phone", ""),
        ],
    );
    assert_eq!(r.body, json!({"success": true}), "{}", r.text);
    let r = s.get_as(&fields, &t);
    assert_eq!(r.body["about"], "Better coffee");
    assert_eq!(r.body["website"], "https://coffee.example");
    assert!(r.body.get("phone").is_none(), "{}", r.text);

    // Nothing to change.
    let r = s.post_form(&format!("/{COFFEE}"), &[("access_token", &t)]);
    assert_eq!(r.body["error"]["code"], 100, "{}", r.text);
}

#[derive(Clone, Copy, Debug)]
enum Op {
    Settings,
    CreateCta,
    ListCta,
    CreateArticle,
    ListArticles,
}

#[derive(Clone, Copy, Debug)]
enum Kind {
    Page,
    User,
}

fn run(op: Op, s: &Server, token: &str) -> Resp {
    match op {
        Op::Settings => s.post_form(
            &format!("/{COFFEE}"),
            &[("access_token", token), ("about", "from the matrix")],
        ),
        Op::CreateCta => s.post_form(
            &format!("/{COFFEE}/call_to_actions"),
            &[
                ("access_token", token),
                ("type", "SHOP_NOW"),
                ("web_url", "https://coffee.example/shop"),
            ],
        ),
        Op::ListCta => s.get_as(&format!("/{COFFEE}/call_to_actions"), token),
        Op::CreateArticle => s.post_form(
            &format!("/{COFFEE}/instant_articles"),
            &[("access_token", token), ("html_source", "<html></html>")],
        ),
        Op::ListArticles => s.get_as(&format!("/{COFFEE}/instant_articles"), token),
    }
}

/// Ok, or the error code with, where Facebook's text is known, it.
type Want = Result<(), (u64, Option<&'static str>)>;
/// One cell: the operation, the token kind, tasks, scopes, and what comes back.
type Cell = (
    Op,
    Kind,
    &'static [&'static str],
    &'static [&'static str],
    Want,
);

#[test]
fn every_operation_is_refused_as_facebook_refuses_it() {
    use Kind::*;
    use Op::*;
    const META: &[&str] = &["pages_manage_metadata"];
    const CTA: &[&str] = &["pages_manage_cta"];
    const IA: &[&str] = &["pages_manage_instant_articles"];
    let ok = Ok(());
    let task = Err((10, None));
    let page_token_needed = Err((210, Some(NEED_PAGE_TOKEN)));
    #[rustfmt::skip]
    let cells: Vec<Cell> = vec![
        // Settings: a Page token, MANAGE, pages_manage_metadata.
        (Settings, Page, &["MANAGE"], META, ok),
        (Settings, Page, &["CREATE_CONTENT", "MODERATE"], META, task),
        (Settings, Page, &["MANAGE"], CTA, Err((200, Some("(#200) Requires pages_manage_metadata permission to manage the object")))),
        (Settings, User, &["MANAGE"], META, page_token_needed),
        // Call-to-action buttons: a Page token, MANAGE or CREATE_CONTENT, pages_manage_cta.
        (CreateCta, Page, &["MANAGE"], CTA, ok),
        (CreateCta, Page, &["CREATE_CONTENT"], CTA, ok),
        (ListCta, Page, &["CREATE_CONTENT"], CTA, ok),
        (CreateCta, Page, &["MODERATE", "ANALYZE"], CTA, task),
        (CreateCta, Page, &["MANAGE"], META, Err((200, Some("(#200) Requires pages_manage_cta permission to manage the object")))),
        (CreateCta, User, &["MANAGE"], CTA, page_token_needed),
        // Instant Articles: a Page token, CREATE_CONTENT, pages_manage_instant_articles.
        (CreateArticle, Page, &["CREATE_CONTENT"], IA, ok),
        (ListArticles, Page, &["CREATE_CONTENT"], IA, ok),
        (CreateArticle, Page, &["MANAGE"], IA, task),
        (CreateArticle, Page, &["CREATE_CONTENT"], CTA, Err((200, Some("(#200) Requires pages_manage_instant_articles permission to manage the object")))),
        (CreateArticle, User, &["CREATE_CONTENT"], IA, page_token_needed),
    ];
    for (op, kind, tasks, scopes, want) in cells {
        let what = format!("{op:?} with a {kind:?} token, tasks {tasks:?}, scopes {scopes:?}");
        // A fresh world per cell: grants only grow.
        let s = Server::seeded();
        set_tasks(&s, COFFEE, "carol", tasks);
        let token = match kind {
            Kind::Page => page_token(&s, "carol", "acme", COFFEE, scopes),
            Kind::User => user_token(&s, "carol", "acme", scopes),
        };
        let r = run(op, &s, &token);
        r.assert_outcome(want, &what);
    }
}

#[test]
fn call_to_action_buttons_are_created_listed_and_deleted() {
    let s = Server::seeded();
    let t = page_token(&s, "alice", "acme", COFFEE, &["pages_manage_cta"]);
    let edge = format!("/v25.0/{COFFEE}/call_to_actions");
    let create = |kind: &str, url: &str| {
        let r = s.post_form(
            &edge,
            &[("access_token", &t), ("type", kind), ("web_url", url)],
        );
        assert_eq!(r.status, 200, "{}", r.text);
        assert_eq!(r.body.as_object().unwrap().len(), 1, "{}", r.text);
        let id = r.str("id");
        assert!(id.parse::<u64>().is_ok(), "{id}");
        id
    };
    let book = create("BOOK_NOW", "https://coffee.example/book");
    let shop = create("SHOP_NOW", "https://coffee.example/shop");
    assert_ne!(book, shop);

    let r = s.get_as(&edge, &t);
    assert_eq!(ids(&r), [book.clone(), shop.clone()]);
    let first = &r.body["data"][0];
    assert_eq!(first["type"], "BOOK_NOW");
    assert_eq!(first["web_url"], "https://coffee.example/book");
    assert_eq!(first["status"], "ACTIVE");
    assert!(first["created_time"].as_str().is_some(), "{}", r.text);

    // An unknown type, and no type at all.
    let r = s.post_form(&edge, &[("access_token", &t), ("type", "DANCE_NOW")]);
    assert_eq!(r.body["error"]["code"], 100, "{}", r.text);
    let r = s.post_form(&edge, &[("access_token", &t)]);
    assert_eq!(r.body["error"]["code"], 100, "{}", r.text);

    // Deleting: by id on the Page's edge.
    let r = delete(&s, &format!("{edge}?id={book}"), &t);
    assert_eq!(r.body, json!({"success": true}), "{}", r.text);
    assert_eq!(ids(&s.get_as(&edge, &t)), [shop.as_str()]);
    let r = delete(&s, &format!("{edge}?id={book}"), &t);
    assert_eq!(r.body["error"]["code"], 100, "{}", r.text);
    // Another Page's button is not this Page's to delete.
    let news = page_token(&s, "alice", "acme", NEWS, &["pages_manage_cta"]);
    let r = delete(
        &s,
        &format!("/v25.0/{NEWS}/call_to_actions?id={shop}"),
        &news,
    );
    assert_eq!(r.body["error"]["code"], 100, "{}", r.text);
    assert_eq!(ids(&s.get_as(&edge, &t)), [shop]);
}

#[test]
fn instant_articles_are_created_listed_and_deleted() {
    let s = Server::seeded();
    let t = page_token(
        &s,
        "alice",
        "acme",
        COFFEE,
        &["pages_manage_instant_articles"],
    );
    let edge = format!("/v25.0/{COFFEE}/instant_articles");
    let r = s.post_form(
        &edge,
        &[
            ("access_token", &t),
            ("html_source", "<html><body>one</body></html>"),
            ("published", "true"),
        ],
    );
    assert_eq!(r.status, 200, "{}", r.text);
    let one = r.str("id");
    let r = s.post_form(
        &edge,
        &[("access_token", &t), ("html_source", "<html>two</html>")],
    );
    let two = r.str("id");

    let r = s.get_as(&edge, &t);
    assert_eq!(ids(&r), [one.clone(), two.clone()]);
    assert_eq!(
        r.body["data"][0]["html_source"],
        "<html><body>one</body></html>"
    );
    assert_eq!(r.body["data"][0]["published"], true);
    assert_eq!(r.body["data"][1]["published"], false);

    // html_source is required; published must be a boolean.
    let r = s.post_form(&edge, &[("access_token", &t)]);
    assert_eq!(r.body["error"]["code"], 100, "{}", r.text);
    let r = s.post_form(
        &edge,
        &[
            ("access_token", &t),
            ("html_source", "<html/>"),
            ("published", "maybe"),
        ],
    );
    assert_eq!(r.body["error"]["code"], 100, "{}", r.text);

    let r = delete(&s, &format!("{edge}?id={one}"), &t);
    assert_eq!(r.body, json!({"success": true}), "{}", r.text);
    assert_eq!(ids(&s.get_as(&edge, &t)), [two]);
    let r = delete(&s, &edge, &t);
    assert_eq!(r.body["error"]["code"], 100, "{}", r.text);
}

#[test]
fn call_to_action_buttons_page_with_cursors() {
    let s = Server::seeded();
    let t = page_token(&s, "alice", "acme", COFFEE, &["pages_manage_cta"]);
    let edge = format!("/v25.0/{COFFEE}/call_to_actions");
    let mut made = Vec::new();
    for (kind, url) in [
        ("BOOK_NOW", "https://coffee.example/book"),
        ("SHOP_NOW", "https://coffee.example/shop"),
        ("CALL_NOW", "https://coffee.example/call"),
    ] {
        let r = s.post_form(
            &edge,
            &[("access_token", &t), ("type", kind), ("web_url", url)],
        );
        assert_eq!(r.status, 200, "{}", r.text);
        made.push(r.str("id"));
    }
    let first = s.get_as(&format!("{edge}?limit=1"), &t);
    assert_eq!(ids(&first), [made[0].clone()]);
    assert!(first.body["paging"]["previous"].is_null(), "{}", first.text);
    let next = first.body["paging"]["next"]
        .as_str()
        .expect("next")
        .to_string();
    assert!(next.contains("access_token="), "{next}");
    let second = send(ureq::get(&next), Body::None);
    assert_eq!(ids(&second), [made[1].clone()]);
    assert!(
        second.body["paging"]["previous"].is_string(),
        "{}",
        second.text
    );
    let next = second.body["paging"]["next"].as_str().expect("next");
    let third = send(ureq::get(next), Body::None);
    assert_eq!(ids(&third), [made[2].clone()]);
    assert!(third.body["paging"]["next"].is_null(), "{}", third.text);
}

#[test]
fn buttons_and_articles_of_a_development_mode_app_are_seen_only_by_its_roles() {
    let s = Server::seeded();
    // alice administers acme, which is in development mode.
    let alice = page_token(
        &s,
        "alice",
        "acme",
        COFFEE,
        &["pages_manage_cta", "pages_manage_instant_articles"],
    );
    let cta = s.post_form(
        &format!("/{COFFEE}/call_to_actions"),
        &[
            ("access_token", &alice),
            ("type", "SHOP_NOW"),
            ("web_url", "https://x.example"),
        ],
    );
    let cta = cta.str("id");
    let article = s.post_form(
        &format!("/{COFFEE}/instant_articles"),
        &[("access_token", &alice), ("html_source", "<html></html>")],
    );
    let article = article.str("id");

    // carol manages Coffee too, but has no role on acme: for her, neither exists.
    set_tasks(&s, COFFEE, "carol", &["MANAGE", "CREATE_CONTENT"]);
    let carol = page_token(
        &s,
        "carol",
        "acme",
        COFFEE,
        &["pages_manage_cta", "pages_manage_instant_articles"],
    );
    assert!(ids(&s.get_as(&format!("/{COFFEE}/call_to_actions"), &carol)).is_empty());
    assert!(ids(&s.get_as(&format!("/{COFFEE}/instant_articles"), &carol)).is_empty());
    let r = delete(&s, &format!("/{COFFEE}/call_to_actions?id={cta}"), &carol);
    assert_eq!(r.status, 400, "{}", r.text);

    // alice, with her role, still sees and can delete both.
    assert_eq!(
        ids(&s.get_as(&format!("/{COFFEE}/call_to_actions"), &alice)),
        std::slice::from_ref(&cta)
    );
    assert_eq!(
        ids(&s.get_as(&format!("/{COFFEE}/instant_articles"), &alice)),
        std::slice::from_ref(&article)
    );
    let r = delete(
        &s,
        &format!("/{COFFEE}/instant_articles?id={article}"),
        &alice,
    );
    assert_eq!(r.status, 200, "{}", r.text);
}
