//! Batch requests (spec §8): `POST /` with `batch=[...]`, against the real binary.

use crate::harness::world::*;
use crate::harness::{enc, sorted_keys, Resp, Server};
use serde_json::{json, Value};

/// `POST <path>` with `batch` and the other form fields.
fn batch(s: &Server, path: &str, ops: &Value, form: &[(&str, &str)]) -> Resp {
    let text = ops.to_string();
    let mut all = vec![("batch", text.as_str())];
    all.extend_from_slice(form);
    s.post_form(path, &all)
}

/// The entries of a batch answer, which must be HTTP 200 with a JSON array.
fn entries(r: &Resp) -> &Vec<Value> {
    assert_eq!(r.status, 200, "{}", r.text);
    r.body
        .as_array()
        .unwrap_or_else(|| panic!("not an array: {}", r.text))
}

/// An entry's `body`, parsed.
fn body(entry: &Value) -> Value {
    serde_json::from_str(
        entry["body"]
            .as_str()
            .unwrap_or_else(|| panic!("no body: {entry}")),
    )
    .unwrap()
}

#[test]
fn gets_with_and_without_headers() {
    let s = Server::seeded();
    let t = s.alice();
    let ops = json!([
        {"method": "GET", "relative_url": "me"},
        {"relative_url": "/v25.0/me/accounts?fields=name&limit=2"},
    ]);
    for path in ["/", "/v25.0/", "/v3.1"] {
        let r = batch(&s, path, &ops, &[("access_token", &t)]);
        let e = entries(&r);
        assert_eq!(e.len(), 2);
        assert_eq!(e[0]["code"], 200);
        let headers = e[0]["headers"].as_array().unwrap();
        assert!(headers.contains(
            &json!({"name": "Content-Type", "value": "application/json; charset=UTF-8"})
        ));
        assert_eq!(body(&e[0])["name"], "Alice Marie Admin");
        let accounts = body(&e[1]);
        assert_eq!(accounts["data"].as_array().unwrap().len(), 2, "{accounts}");
        assert!(accounts["paging"]["next"].is_string());
    }
    // The version of an operation without a prefix is the batch's (a retired one served by
    // the oldest available).
    let r = batch(
        &s,
        "/v3.1/",
        &json!([{"relative_url": "me"}]),
        &[("access_token", &t)],
    );
    let e = entries(&r);
    assert!(e[0]["headers"]
        .as_array()
        .unwrap()
        .contains(&json!({"name": "facebook-api-version", "value": "v21.0"})));

    let r = batch(
        &s,
        "/",
        &ops,
        &[("access_token", &t), ("include_headers", "false")],
    );
    let e = entries(&r);
    for entry in e {
        assert_eq!(entry["code"], 200);
        assert!(entry.get("headers").is_none(), "{entry}");
        assert_eq!(sorted_keys(entry), ["body", "code"]);
    }
}

#[test]
fn writes_with_a_body_and_with_method_delete() {
    let s = Server::seeded();
    let t = s.alice();
    let ops = json!([
        {"method": "DELETE", "relative_url": "me/permissions/email"},
        {"method": "GET", "relative_url": "me/permissions?status=granted"},
        {"method": "POST", "relative_url": "me/permissions", "body": "method=delete&permission=pages_show_list"},
        {"method": "GET", "relative_url": "me/permissions", "body": "status=granted"},
    ]);
    let r = batch(&s, "/", &ops, &[("access_token", &t)]);
    let e = entries(&r);
    assert_eq!(body(&e[0]), json!({"success": true}));
    let granted: Vec<String> = body(&e[1])["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["permission"].as_str().unwrap().to_string())
        .collect();
    assert!(!granted.contains(&"email".to_string()), "{granted:?}");
    assert!(granted.contains(&"pages_show_list".to_string()));
    assert_eq!(body(&e[2]), json!({"success": true}), "{}", e[2]);
    let after = body(&e[3]).to_string();
    assert!(!after.contains("pages_show_list"), "{after}");
    // And outside the batch too.
    let me = s.get_as("/me?fields=email", &t);
    assert!(me.body.get("email").is_none(), "{}", me.text);
}

#[test]
fn an_operation_with_its_own_token() {
    let s = Server::seeded();
    let alice = s.alice();
    let bob = s.issue("bob", "acme", &[], false);
    let ops = json!([
        {"relative_url": "me?fields=name"},
        {"relative_url": format!("me?fields=name&access_token={}", enc(&bob))},
        {"method": "POST", "relative_url": "me?fields=name", "body": format!("method=get&access_token={}", enc(&bob))},
    ]);
    let r = batch(&s, "/", &ops, &[("access_token", &alice)]);
    let e = entries(&r);
    assert_eq!(body(&e[0])["name"], "Alice Marie Admin");
    assert_eq!(body(&e[1])["name"], "Bob Analyst");
    assert_eq!(body(&e[2])["name"], "Bob Analyst", "{}", e[2]);

    // Without a top-level token, every operation must bring its own.
    let own = json!([{"relative_url": format!("me?access_token={}", enc(&bob))}]);
    let r = batch(&s, "/", &own, &[]);
    assert_eq!(body(&entries(&r)[0])["name"], "Bob Analyst");
    let r = batch(&s, "/", &json!([{"relative_url": "me"}]), &[]);
    assert_eq!(r.status, 400, "{}", r.text);
    assert_eq!(r.body["error"]["code"], 104);
}

#[test]
fn result_references_and_omitted_responses() {
    let s = Server::seeded();
    let t = s.alice();
    let ops = json!([
        {"relative_url": "me/accounts?limit=1", "name": "acc"},
        {"relative_url": "?ids={result=acc:$.data.0.id}&fields=name"},
        {"relative_url": "me/accounts?limit=2", "name": "two", "omit_response_on_success": false},
        {"relative_url": "?ids={result=two:$.data.*.id}&fields=id"},
        {"relative_url": "me", "name": "unused"},
    ]);
    let r = batch(&s, "/", &ops, &[("access_token", &t)]);
    let e = entries(&r);
    assert_eq!(e[0], Value::Null, "referenced, so omitted on success");
    let one = body(&e[1]);
    assert_eq!(one.as_object().unwrap().len(), 1, "{one}");
    let (id, page) = one.as_object().unwrap().iter().next().unwrap();
    assert_eq!(page["id"], id.as_str());
    assert!(page["name"].is_string());
    let two = body(&e[2]);
    assert_eq!(two["data"].as_array().unwrap().len(), 2);
    assert_eq!(body(&e[3]).as_object().unwrap().len(), 2);
    assert_eq!(
        body(&e[4])["name"],
        "Alice Marie Admin",
        "named but unreferenced"
    );
}

#[test]
fn a_failed_dependency_skips_its_dependants() {
    let s = Server::seeded();
    let t = s.alice();
    let ops = json!([
        {"relative_url": "me?access_token=garbage", "name": "bad"},
        {"relative_url": "me", "depends_on": "bad"},
        {"relative_url": "{result=bad:$.id}"},
        {"relative_url": "me"},
    ]);
    let r = batch(&s, "/", &ops, &[("access_token", &t)]);
    let e = entries(&r);
    assert_eq!(e[0]["code"], 400);
    assert_eq!(e[1], Value::Null);
    assert_eq!(e[2], Value::Null);
    assert_eq!(e[3]["code"], 200);

    // Depending on a name that does not precede fails the whole batch.
    let ops = json!([
        {"relative_url": "me", "depends_on": "later"},
        {"relative_url": "me", "name": "later"},
    ]);
    let r = batch(&s, "/", &ops, &[("access_token", &t)]);
    assert_eq!(r.status, 400, "{}", r.text);
    assert_eq!(r.body["error"]["type"], "GraphBatchException");
    assert_eq!(
        r.body["error"]["message"],
        "Request 0 cannot depend on an  unresolved request with  name later. Requests can only depend on preceding requests"
    );
}

#[test]
fn at_most_fifty_operations() {
    let s = Server::seeded();
    let t = s.alice();
    let op = json!({"relative_url": "me"});
    let fifty = Value::Array(vec![op.clone(); 50]);
    let r = batch(&s, "/", &fifty, &[("access_token", &t)]);
    assert_eq!(entries(&r).len(), 50);
    let many = Value::Array(vec![op; 51]);
    let r = batch(&s, "/", &many, &[("access_token", &t)]);
    assert_eq!(r.status, 400, "{}", r.text);
    assert_eq!(r.body["error"]["type"], "GraphBatchException");
    assert_eq!(
        r.body["error"]["message"],
        "Too many requests in batch message. Maximum batch size is 50"
    );
    // Not an array.
    let r = s.post_form("/", &[("batch", "{}"), ("access_token", &t)]);
    assert_eq!(r.status, 400, "{}", r.text);
    assert_eq!(r.body["error"]["type"], "GraphBatchException");
}

/// An operation is held to a request's limits: at most 1000 parameters, and no longer than a
/// request body once its references are replaced; the others still run.
#[test]
fn an_operation_past_a_request_s_limits_is_refused_alone() {
    let s = Server::seeded();
    let t = s.alice();
    let crowded: Vec<String> = (0..1001).map(|i| format!("p{i}=1")).collect();
    // Each reference to the whole answer of `me/accounts` (a kilobyte or more) adds it again.
    let grown = vec!["{result=acc:$}"; 2000].concat();
    let ops = json!([
        {"method": "POST", "relative_url": "me", "body": crowded.join("&")},
        {"relative_url": "me/accounts", "name": "acc"},
        {"relative_url": format!("me?fields=id&x={grown}")},
        {"relative_url": "me?fields=name"},
    ]);
    let r = batch(&s, "/", &ops, &[("access_token", &t)]);
    let e = entries(&r);
    assert_eq!(e[0]["code"], 400, "{}", e[0]);
    assert_eq!(
        body(&e[0])["error"]["message"],
        "(#100) A request may carry at most 1000 parameters"
    );
    assert_eq!(e[2]["code"], 400, "{}", e[2]);
    assert_eq!(body(&e[2])["error"]["type"], "GraphBatchException");
    assert_eq!(body(&e[3])["name"], "Alice Marie Admin");
}

#[test]
fn a_failing_operation_gives_its_error_while_others_succeed() {
    let s = Server::seeded();
    let t = s.alice();
    let ops = json!([
        {"relative_url": "me"},
        {"relative_url": "me?access_token=garbage"},
        {"relative_url": "999999999"},
        {"relative_url": "v99.0/me"},
        {"method": "PUT", "relative_url": "me"},
        {"relative_url": format!("{COFFEE}?fields=name")},
    ]);
    let r = batch(&s, "/", &ops, &[("access_token", &t)]);
    let e = entries(&r);
    assert_eq!(e[0]["code"], 200);
    assert_eq!(e[1]["code"], 400);
    let err = body(&e[1]);
    assert_eq!(err["error"]["code"], 190);
    assert_eq!(
        err["error"]["message"],
        "Invalid OAuth access token - Cannot parse access token"
    );
    assert!(err["error"]["fbtrace_id"].is_string());
    assert!(e[1]["headers"]
        .as_array()
        .unwrap()
        .iter()
        .any(|h| h["name"] == "WWW-Authenticate"));
    let err = body(&e[2]);
    assert_eq!(
        (
            err["error"]["code"].as_u64(),
            err["error"]["error_subcode"].as_u64()
        ),
        (Some(100), Some(33))
    );
    assert_eq!(body(&e[3])["error"]["code"], 2500);
    assert_eq!(body(&e[4])["error"]["code"], 100);
    assert_eq!(body(&e[5])["name"], "Acme Coffee");
}

#[test]
fn an_operation_runs_after_a_dependency_that_succeeds() {
    let s = Server::seeded();
    let t = s.alice();
    // The dependency succeeds, so the dependent runs; the dependency's own answer is omitted
    // by default, as for any named operation a later one waits for.
    let ops = json!([
        {"relative_url": "me?fields=id", "name": "first"},
        {"relative_url": "me?fields=name", "depends_on": "first"},
    ]);
    let r = batch(&s, "/", &ops, &[("access_token", &t)]);
    let e = entries(&r);
    assert_eq!(e.len(), 2);
    assert_eq!(e[0], Value::Null, "{}", r.text);
    assert_eq!(e[1]["code"], 200, "{}", r.text);
    assert_eq!(body(&e[1])["name"], "Alice Marie Admin");

    // Asked to, the dependency answers too.
    let ops = json!([
        {"relative_url": "me?fields=id", "name": "first", "omit_response_on_success": false},
        {"relative_url": "me?fields=name", "depends_on": "first"},
    ]);
    let r = batch(&s, "/", &ops, &[("access_token", &t)]);
    let e = entries(&r);
    assert_eq!(e[0]["code"], 200, "{}", r.text);
    assert!(body(&e[0])["id"].is_string(), "{}", r.text);
    assert_eq!(e[1]["code"], 200, "{}", r.text);
    assert_eq!(body(&e[1])["name"], "Alice Marie Admin");
}
