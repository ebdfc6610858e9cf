//! `GET /?ids=a,b` multi-gets and `metadata=1` on nodes (spec §8), against the real binary.

use crate::harness::world::*;
use crate::harness::{sorted_keys, Server};

#[test]
fn ids_answers_each_node_keyed_as_given() {
    let s = Server::seeded();
    let t = s.alice();
    for root in ["/", "/v25.0/", "/v3.1"] {
        let r = s.get_as(&format!("{root}?ids={COFFEE},{NEWS},me&fields=id,name"), &t);
        assert_eq!(r.status, 200, "{root}: {}", r.text);
        let mut want = vec![COFFEE, NEWS, "me"];
        want.sort_unstable();
        assert_eq!(sorted_keys(&r.body), want);
        let coffee = s.get_as(&format!("/{COFFEE}?fields=id,name"), &t);
        assert_eq!(r.body[COFFEE], coffee.body);
        let me = s.get_as("/me?fields=id,name", &t);
        assert_eq!(r.body["me"], me.body);
        assert_eq!(r.body[NEWS]["name"], "Acme News");
    }
    // Default fields, duplicates and blanks ignored.
    let r = s.get_as(&format!("/?ids={COFFEE},,{COFFEE}"), &t);
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(sorted_keys(&r.body), [COFFEE]);
    assert_eq!(r.body[COFFEE]["name"], "Acme Coffee");
}

#[test]
fn an_unknown_id_fails_the_whole_request_with_803() {
    let s = Server::seeded();
    let t = s.alice();
    let r = s.get_as(&format!("/?ids={COFFEE},999999999,nope"), &t);
    r.assert_error(
        803,
        None,
        "OAuthException",
        "(#803) Some of the aliases you requested do not exist: 999999999,nope",
    );
    // Other errors of a node pass through as they are.
    let r = s.get_as(&format!("/?ids={COFFEE}&fields=bogus"), &t);
    r.assert_error(
        100,
        None,
        "OAuthException",
        "(#100) Tried accessing nonexisting field (bogus) on node type (Page)",
    );
    // No token at all, and a root request without ids.
    let r = s.get(&format!("/?ids={COFFEE}"));
    assert_eq!(r.body["error"]["code"], 104, "{}", r.text);
    let r = s.get_as("/", &t);
    assert_eq!(r.body["error"]["code"], 100, "{}", r.text);
    // At most 50 different ids; a long list is counted, each id once, before any token check.
    let many: Vec<String> = (0..60_000)
        .map(|i| format!("{}", 1_000_000 + i % 30_000))
        .collect();
    let r = s.post_form("/", &[("ids", &many.join(",")), ("method", "GET")]);
    r.assert_error(
        100,
        None,
        "OAuthException",
        "(#100) Too many IDs. Maximum: 50. Provided: 30000.",
    );
}

#[test]
fn metadata_on_a_user_and_a_page() {
    let s = Server::seeded();
    let t = s.alice();
    let me = s.get_as("/me?metadata=1", &t);
    assert_eq!(me.status, 200, "{}", me.text);
    let asid = me.str("id");
    let m = &me.body["metadata"];
    assert_eq!(m["type"], "user");
    let fields = m["fields"].as_array().unwrap();
    let names: Vec<&str> = fields.iter().map(|f| f["name"].as_str().unwrap()).collect();
    for f in ["id", "name", "email", "picture", "accounts", "permissions"] {
        assert!(names.contains(&f), "{f} in {names:?}");
        // The fields graphtoken serves are described; the rest of the catalogue may not be.
        let described = fields
            .iter()
            .any(|x| x["name"] == f && x["description"].is_string());
        assert!(described, "{f}: {m}");
    }
    assert!(names.len() > 40, "every field of the catalogue: {names:?}");
    let accounts = m["connections"]["accounts"].as_str().unwrap();
    assert!(
        accounts.starts_with(&format!("{}/v25.0/{asid}/accounts?access_token=", s.base)),
        "{accounts}"
    );
    // The connection URL works as it is.
    let edge = crate::harness::send(ureq::get(accounts), crate::harness::Body::None);
    assert_eq!(edge.status, 200, "{}", edge.text);
    assert_eq!(edge.body["data"].as_array().unwrap().len(), 3);
    assert!(m["connections"]["permissions"].is_string());

    let page = s.get_as(&format!("/v3.1/{COFFEE}?fields=name&metadata=1"), &t);
    assert_eq!(page.status, 200, "{}", page.text);
    assert_eq!(page.body["name"], "Acme Coffee");
    let m = &page.body["metadata"];
    assert_eq!(m["type"], "page");
    assert!(m["fields"]
        .as_array()
        .unwrap()
        .iter()
        .any(|f| f["name"] == "access_token"));
    assert!(m["connections"]["roles"]
        .as_str()
        .unwrap()
        .contains(&format!("/v21.0/{COFFEE}/roles?access_token=")));
    assert!(m["connections"].get("accounts").is_none());

    // Not asked: no metadata; with ids=, each node carries its own.
    let plain = s.get_as("/me", &t);
    assert!(plain.body.get("metadata").is_none());
    let both = s.get_as(&format!("/?ids=me,{NEWS}&metadata=1"), &t);
    assert_eq!(both.body["me"]["metadata"]["type"], "user", "{}", both.text);
    assert_eq!(both.body[NEWS]["metadata"]["type"], "page");
}
