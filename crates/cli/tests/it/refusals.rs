//! Refusals the server makes before a handler runs (issue #12): each answers in the Graph
//! envelope, or the admin API's, with its status, never as plain text.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use serde_json::Value;

use crate::harness::{Server, ADMIN_KEY};

/// Sends `request` as it is and returns the status and the JSON body of the answer.
fn raw(s: &Server, request: &[u8]) -> (u16, Value, String) {
    let mut c =
        TcpStream::connect(s.base.trim_start_matches("http://")).unwrap_or_else(|e| panic!("{e}"));
    let _ = c.set_read_timeout(Some(Duration::from_secs(10)));
    // The server may answer, and close, before the whole request is written (a body over the
    // limit): what it answered is read all the same.
    let _ = c.write_all(request);
    let mut answer = Vec::new();
    let _ = c.read_to_end(&mut answer);
    let text = String::from_utf8_lossy(&answer).to_string();
    let status = text
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let body = text.split("\r\n\r\n").nth(1).unwrap_or_default();
    // A chunked answer: the JSON is between the chunk sizes.
    let json = body
        .find('{')
        .and_then(|a| body.rfind('}').map(|b| &body[a..=b]))
        .unwrap_or_default();
    (
        status,
        serde_json::from_str(json).unwrap_or(Value::Null),
        text,
    )
}

fn assert_envelope(status: u16, body: &Value, text: &str, want: u16, kind: &str) {
    assert_eq!(status, want, "{text}");
    assert_eq!(body["error"]["type"], kind, "{text}");
    assert!(
        body["error"]["message"]
            .as_str()
            .is_some_and(|m| !m.is_empty()),
        "{text}"
    );
    assert!(body["error"]["fbtrace_id"].is_string(), "{text}");
    assert!(text.contains("application/json"), "{text}");
}

#[test]
fn router_and_extractor_refusals_are_in_the_envelope() {
    let s = Server::seeded();
    // A path segment that is not UTF-8.
    let (status, body, text) = raw(
        &s,
        format!(
            "POST /_admin/users/%FF/logout HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {ADMIN_KEY}\r\n\
             Content-Length: 2\r\nConnection: close\r\n\r\n{{}}"
        )
        .as_bytes(),
    );
    assert_envelope(status, &body, &text, 400, "AdminException");
    // An admin body over the limit.
    let big = format!("{{\"user\": \"{}\"}}", "a".repeat(3 << 20));
    let (status, body, text) = raw(
        &s,
        format!(
            "POST /_admin/tokens HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {ADMIN_KEY}\r\n\
             Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{big}",
            big.len()
        )
        .as_bytes(),
    );
    assert_envelope(status, &body, &text, 413, "AdminException");
    // No such admin route.
    let r = s.admin("GET", "/_admin/nope", None, Some(ADMIN_KEY));
    assert_eq!(r.status, 404, "{}", r.text);
    assert_eq!(r.body["error"]["type"], "AdminException", "{}", r.text);
    // A chunked Graph body that breaks off: said so, not called "too large".
    let (status, body, text) = raw(
        &s,
        b"POST /me HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\n\
          Transfer-Encoding: chunked\r\nConnection: close\r\n\r\nzz\r\nnot a chunk\r\n",
    );
    assert_envelope(status, &body, &text, 400, "OAuthException");
    let message = body["error"]["message"].as_str().unwrap_or_default();
    assert!(message.contains("could not be read"), "{text}");
}

#[test]
fn what_the_http_layer_refuses_before_graphtoken_sees_it() {
    let s = Server::seeded();
    let status = |request: Vec<u8>| raw(&s, &request).0;
    assert_eq!(status(b"BLAH\r\n\r\n".to_vec()), 400);
    let long_uri = format!("GET /{} HTTP/1.1\r\nHost: x\r\n\r\n", "a".repeat(100_000));
    assert_eq!(status(long_uri.into_bytes()), 414);
    let headers: String = (0..200).map(|i| format!("X-H{i}: 1\r\n")).collect();
    let many = format!("GET / HTTP/1.1\r\nHost: x\r\n{headers}\r\n");
    assert_eq!(status(many.into_bytes()), 431);
    let big = |n: usize| {
        format!(
            "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\nX-Big: {}\r\n\r\n",
            "a".repeat(n)
        )
        .into_bytes()
    };
    // A head of 100 KB is taken; 300 KB and 500 KB are refused, however they arrive (taken up
    // to 128 KiB, refused past 256 KiB: hyper's own limit, about 400 KiB, took a 500 KB head
    // now and then).
    assert_eq!(status(big(100_000)), 200);
    assert_eq!(status(big(300_000)), 431);
    assert_eq!(status(big(500_000)), 431);
}
