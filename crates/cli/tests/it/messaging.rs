//! Page messaging through HTTP: incoming messages (admin API), `/{page-id}/conversations`,
//! `/{conversation-id}` and its `messages`, the Send API (`POST /{page-id}/messages` to a
//! page-scoped id), and the policy's refusals (MESSAGING task, `pages_messaging`, a Page token).

use crate::harness::pages;
use crate::harness::world::*;
use crate::harness::{enc, Resp, Server};
use serde_json::{json, Value};

const NEED_PAGE_TOKEN: &str = "(#210) A page access token is required to request this resource.";

fn user_token(s: &Server, user: &str, scopes: &[&str]) -> String {
    pages::user_token(s, user, "acme", scopes)
}

fn page_token(s: &Server, user: &str, scopes: &[&str]) -> String {
    pages::page_token(s, user, "acme", COFFEE, scopes)
}

fn set_tasks(s: &Server, user: &str, tasks: &[&str]) {
    pages::set_tasks(s, COFFEE, user, tasks)
}

/// `user` messages Coffee; returns `(message id, conversation id)`.
fn incoming(s: &Server, user: &str, message: &str) -> (String, String) {
    let r = s.admin_post(
        &format!("/_admin/pages/{COFFEE}/messages"),
        json!({"user": user, "message": message}),
    );
    assert_eq!(r.status, 200, "incoming message: {}", r.text);
    let id = r.str("id");
    let conv = r.str("conversation_id");
    assert!(id.starts_with("m_"), "{id}");
    assert!(conv.starts_with("t_"), "{conv}");
    (id, conv)
}

fn send_message(s: &Server, token: &str, recipient: &str, text: &str) -> Resp {
    let recipient = json!({ "id": recipient }).to_string();
    let message = json!({ "text": text }).to_string();
    s.post_form(
        &format!("/v25.0/{COFFEE}/messages"),
        &[
            ("access_token", token),
            ("recipient", &recipient),
            ("message", &message),
            ("messaging_type", "RESPONSE"),
        ],
    )
}

const CONV_FIELDS: &str = "id,updated_time,message_count,snippet,participants";

fn conversations(s: &Server, token: &str) -> Resp {
    s.get_as(
        &format!("/{COFFEE}/conversations?fields={}", enc(CONV_FIELDS)),
        token,
    )
}

/// The messages' texts, newest first.
fn texts(body: &Value) -> Vec<String> {
    body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["message"].as_str().unwrap().to_string())
        .collect()
}

/// Bob manages Coffee's inbox: MESSAGING and `pages_messaging`. He develops acme (in
/// development mode), so he sees what the Page sends through it.
fn inbox(s: &Server) -> String {
    set_tasks(s, "bob", &["MESSAGING"]);
    page_token(s, "bob", &["pages_messaging"])
}

#[test]
fn an_incoming_message_starts_a_conversation_and_the_page_replies() {
    let s = Server::seeded();
    let token = inbox(&s);
    let (_, conv) = incoming(&s, "bob", "Are you open on Sunday?");

    let r = conversations(&s, &token);
    assert_eq!(r.status, 200, "{}", r.text);
    let data = r.body["data"].as_array().unwrap();
    assert_eq!(data.len(), 1, "{}", r.text);
    let c = &data[0];
    assert_eq!(c["id"], conv.as_str());
    assert_eq!(c["message_count"], 1);
    assert_eq!(c["snippet"], "Are you open on Sunday?");
    assert!(c["updated_time"].as_str().unwrap().ends_with("+0000"));
    let parts = c["participants"]["data"].as_array().unwrap();
    assert_eq!(parts.len(), 2);
    assert_eq!(parts[1]["id"], COFFEE);
    assert_eq!(parts[0]["name"], "Bob Analyst");
    let psid = parts[0]["id"].as_str().unwrap().to_string();
    // Bob appears to the Page under his page-scoped id, not his user id.
    assert_ne!(psid, BOB);
    assert!(psid.parse::<u64>().is_ok());
    // Stable: the same person, the same PSID.
    let again = conversations(&s, &token);
    assert_eq!(
        again.body["data"][0]["participants"]["data"][0]["id"],
        psid.as_str()
    );

    // The Page answers through the Send API.
    let r = send_message(&s, &token, &psid, "Yes, 9 to 5.");
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["recipient_id"], psid.as_str());
    let reply = r.str("message_id");
    assert!(reply.starts_with("m_"), "{reply}");

    // Newest first, with from and to.
    let r = s.get_as(
        &format!(
            "/{conv}/messages?fields={}",
            enc("message,from,to,created_time")
        ),
        &token,
    );
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(texts(&r.body), ["Yes, 9 to 5.", "Are you open on Sunday?"]);
    let newest = &r.body["data"][0];
    assert_eq!(newest["id"], reply.as_str());
    assert_eq!(newest["from"]["id"], COFFEE);
    assert_eq!(newest["to"]["data"][0]["id"], psid.as_str());
    assert_eq!(r.body["data"][1]["from"]["id"], psid.as_str());

    // Nested expansion on the conversation node, and the counts follow.
    let r = s.get_as(
        &format!(
            "/{conv}?fields={}",
            enc("message_count,snippet,messages.limit(1){message,from}")
        ),
        &token,
    );
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["message_count"], 2);
    assert_eq!(r.body["snippet"], "Yes, 9 to 5.");
    assert_eq!(texts(&r.body["messages"]), ["Yes, 9 to 5."]);
    assert!(
        r.body["messages"]["paging"]["next"].is_string(),
        "{}",
        r.text
    );

    // The message node itself.
    let r = s.get_as(&format!("/{reply}?fields=message,from"), &token);
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["message"], "Yes, 9 to 5.");
}

#[test]
fn conversations_page_most_recent_first() {
    let s = Server::seeded();
    let token = inbox(&s);
    incoming(&s, "bob", "first");
    s.advance(60);
    incoming(&s, "alice", "second");
    let r = s.get_as(
        &format!("/{COFFEE}/conversations?fields=snippet&limit=1"),
        &token,
    );
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["data"][0]["snippet"], "second");
    let next = r.body["paging"]["next"].as_str().unwrap().to_string();
    let r2: Value = ureq::get(&next).call().unwrap().into_json().unwrap();
    assert_eq!(r2["data"][0]["snippet"], "first");
    // Bob writes again: his conversation moves to the top, and stays one conversation.
    s.advance(60);
    incoming(&s, "bob", "third");
    let r = s.get_as(
        &format!("/{COFFEE}/conversations?fields=snippet,message_count"),
        &token,
    );
    assert_eq!(r.body["data"].as_array().unwrap().len(), 2, "{}", r.text);
    assert_eq!(r.body["data"][0]["snippet"], "third");
    assert_eq!(r.body["data"][0]["message_count"], 2);
}

#[test]
fn the_send_api_refuses_unknown_recipients_and_empty_messages() {
    let s = Server::seeded();
    let token = inbox(&s);
    incoming(&s, "bob", "hi");
    let no_user = "(#100) No matching user found";
    // Not a PSID at all, a user id (not page-scoped), garbage.
    for bad in ["123456789", BOB, "nope"] {
        send_message(&s, &token, bad, "hello").assert_error(
            100,
            Some(2018001),
            "OAuthException",
            no_user,
        );
    }
    let psid = conversations(&s, &token).body["data"][0]["participants"]["data"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    // No message.
    let recipient = json!({ "id": psid }).to_string();
    let r = s.post_form(
        &format!("/v25.0/{COFFEE}/messages"),
        &[("access_token", &token), ("recipient", &recipient)],
    );
    assert_eq!(r.status, 400, "{}", r.text);
    assert_eq!(r.body["error"]["code"], 100, "{}", r.text);
    // No recipient.
    let r = s.post_form(
        &format!("/v25.0/{COFFEE}/messages"),
        &[("access_token", &token), ("message", r#"{"text":"x"}"#)],
    );
    assert_eq!(r.body["error"]["code"], 100, "{}", r.text);
}

#[test]
fn messaging_needs_a_page_token_the_task_and_pages_messaging() {
    #[derive(Debug, Clone, Copy)]
    enum Op {
        List,
        Send,
    }
    struct Cell {
        op: Op,
        page_token: bool,
        tasks: &'static [&'static str],
        scopes: &'static [&'static str],
        want: Result<(), (u64, Option<&'static str>)>,
    }
    let ok = Ok(());
    let task = Err((10, None));
    let perm = Err((
        200,
        Some("(#200) Requires pages_messaging permission to manage the object"),
    ));
    let need_page = Err((210, Some(NEED_PAGE_TOKEN)));
    #[rustfmt::skip]
    let cells = [
        Cell { op: Op::List, page_token: true, tasks: &["MESSAGING"], scopes: &["pages_messaging"], want: ok },
        Cell { op: Op::Send, page_token: true, tasks: &["MESSAGING"], scopes: &["pages_messaging"], want: ok },
        Cell { op: Op::List, page_token: true, tasks: &["MODERATE", "ANALYZE"], scopes: &["pages_messaging"], want: task },
        Cell { op: Op::Send, page_token: true, tasks: &["CREATE_CONTENT"], scopes: &["pages_messaging"], want: task },
        Cell { op: Op::List, page_token: true, tasks: &["MESSAGING"], scopes: &["pages_read_engagement"], want: perm },
        Cell { op: Op::Send, page_token: true, tasks: &["MESSAGING"], scopes: &[], want: perm },
        Cell { op: Op::List, page_token: false, tasks: &["MESSAGING"], scopes: &["pages_messaging"], want: need_page },
        Cell { op: Op::Send, page_token: false, tasks: &["MESSAGING"], scopes: &["pages_messaging"], want: need_page },
    ];
    for cell in cells {
        let what = format!(
            "{:?} with page token {}, tasks {:?}, scopes {:?}",
            cell.op, cell.page_token, cell.tasks, cell.scopes
        );
        let s = Server::seeded();
        // The PSID to answer, read by someone allowed to.
        let admin = inbox(&s);
        incoming(&s, "bob", "hello?");
        let psid = conversations(&s, &admin).body["data"][0]["participants"]["data"][0]["id"]
            .as_str()
            .unwrap()
            .to_string();
        set_tasks(&s, "alice", cell.tasks);
        let token = if cell.page_token {
            page_token(&s, "alice", cell.scopes)
        } else {
            user_token(&s, "alice", cell.scopes)
        };
        let r = match cell.op {
            Op::List => conversations(&s, &token),
            Op::Send => send_message(&s, &token, &psid, "hi from the matrix"),
        };
        match cell.want {
            Ok(()) => assert_eq!(r.status, 200, "{what}: {}", r.text),
            Err((code, message)) => {
                assert_eq!(r.status, 400, "{what}: {}", r.text);
                assert_eq!(r.body["error"]["code"], code, "{what}: {}", r.text);
                if let Some(m) = message {
                    assert_eq!(r.body["error"]["message"], m, "{what}: {}", r.text);
                }
            }
        }
    }
}

/// `user`'s page-scoped id on Coffee, through acme's `ids_for_pages`.
fn psid_of(s: &Server, user: &str) -> String {
    let t = s.issue(user, "acme", &["pages_show_list"], false);
    let asid = s.get_as("/me", &t).str("id");
    let app = format!("{ACME}|{ACME_SECRET}");
    let proof = crate::harness::proof(ACME_SECRET, &app);
    let r = s.get_as(
        &format!("/{asid}/ids_for_pages?page={COFFEE}&appsecret_proof={proof}"),
        &app,
    );
    assert_eq!(r.status, 200, "{}", r.text);
    r.body["data"][0]["id"].as_str().unwrap().to_string()
}

#[test]
fn messages_sent_through_a_development_mode_app_are_seen_only_by_its_roles() {
    let s = Server::seeded();
    // acme is in development mode: alice administers it, bob develops it, carol has no role.
    let alice = page_token(&s, "alice", &["pages_messaging"]);
    set_tasks(&s, "carol", &["MESSAGING"]);
    let carol = page_token(&s, "carol", &["pages_messaging"]);

    // Bob asks and the Page answers through acme; carol hears only from acme.
    let (asked, with_bob) = incoming(&s, "bob", "Open on Sunday?");
    let bob_psid = conversations(&s, &alice).body["data"][0]["participants"]["data"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let r = send_message(&s, &alice, &bob_psid, "Yes, 9 to 5.");
    assert_eq!(r.status, 200, "{}", r.text);
    let reply = r.str("message_id");
    let r = send_message(&s, &alice, &psid_of(&s, "carol"), "Only for testers");
    assert_eq!(r.status, 200, "{}", r.text);
    let only = r.str("message_id");

    // alice has a role on acme: both conversations, every message.
    let r = conversations(&s, &alice);
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["data"].as_array().unwrap().len(), 2, "{}", r.text);
    let bobs = r.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == with_bob.as_str())
        .unwrap();
    assert_eq!(bobs["message_count"], 2);
    assert_eq!(bobs["snippet"], "Yes, 9 to 5.");

    // carol has none: acme's messages are hidden from lists, counts and snippets; the
    // conversation holding nothing else is hidden as a whole.
    let r = conversations(&s, &carol);
    assert_eq!(r.status, 200, "{}", r.text);
    let data = r.body["data"].as_array().unwrap();
    assert_eq!(data.len(), 1, "{}", r.text);
    assert_eq!(data[0]["id"], with_bob.as_str());
    assert_eq!(data[0]["message_count"], 1);
    assert_eq!(data[0]["snippet"], "Open on Sunday?");
    let r = s.get_as(&format!("/{with_bob}/messages?fields=message"), &carol);
    assert_eq!(texts(&r.body), ["Open on Sunday?"], "{}", r.text);
    let r = s.get_as(
        &format!(
            "/{with_bob}?fields={}",
            enc("message_count,snippet,messages{message}")
        ),
        &carol,
    );
    assert_eq!(r.body["message_count"], 1, "{}", r.text);
    assert_eq!(texts(&r.body["messages"]), ["Open on Sunday?"]);
    assert_eq!(s.get_as(&format!("/{asked}"), &carol).status, 200);
    for hidden in [&reply, &only] {
        let r = s.get_as(&format!("/{hidden}"), &carol);
        assert_eq!(r.body["error"]["code"], 100, "{hidden}: {}", r.text);
        assert_eq!(r.body["error"]["error_subcode"], 33, "{hidden}: {}", r.text);
    }
    let carols = conversations(&s, &alice).body["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] != with_bob.as_str())
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let r = s.get_as(&format!("/{carols}"), &carol);
    assert_eq!(r.body["error"]["error_subcode"], 33, "{}", r.text);

    // Nor through the Page's field expansion.
    let r = s.get_as(
        &format!("/{COFFEE}?fields={}", enc("conversations{message_count}")),
        &carol,
    );
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(
        r.body["conversations"]["data"].as_array().unwrap().len(),
        1,
        "{}",
        r.text
    );
}
