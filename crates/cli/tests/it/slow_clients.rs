//! Slow and idle clients (issue #12): a request head must arrive within `--head-timeout`, a
//! body may not stall longer than `--body-timeout`, and at most `--max-connections` are served
//! at once. Servers here run with one-second limits.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use crate::harness::{Sandbox, Server};

fn server_with(max_connections: u64) -> Server {
    server_limited(max_connections, 1, 1)
}

/// A server with other head and body timeouts (in seconds).
fn server_limited(max_connections: u64, head_timeout: u64, body_timeout: u64) -> Server {
    let sb = Sandbox::new();
    let mut args = Server::args(&sb.db_url(), None);
    args.head_timeout = head_timeout;
    args.body_timeout = body_timeout;
    args.max_connections = max_connections;
    Server::in_process_with(args, &sb).unwrap_or_else(|e| panic!("{e}"))
}

fn addr(s: &Server) -> String {
    s.base.trim_start_matches("http://").to_string()
}

/// A connection that sends half a request line and then nothing.
fn slow(s: &Server) -> TcpStream {
    let mut c = TcpStream::connect(addr(s)).unwrap_or_else(|e| panic!("{e}"));
    c.write_all(b"GET /healthz HT")
        .unwrap_or_else(|e| panic!("{e}"));
    c
}

/// Whether the server closed `c` within `limit` (reads reach the end, or the connection is
/// reset; whatever it sent before closing is skipped).
fn closed_within(c: &mut TcpStream, limit: Duration) -> bool {
    let _ = c.set_read_timeout(Some(limit));
    let mut buf = [0u8; 256];
    loop {
        match c.read(&mut buf) {
            Ok(0) => return true,
            Ok(_) => continue,
            Err(e) => {
                use std::io::ErrorKind::{TimedOut, WouldBlock};
                return !matches!(e.kind(), WouldBlock | TimedOut);
            }
        }
    }
}

/// What the server answers, within `wait`, to a POST that declares a body of `length` bytes and
/// sends 16 of them.
fn post_declaring(s: &Server, length: u64, wait: Duration) -> String {
    let mut c = TcpStream::connect(addr(s)).unwrap_or_else(|e| panic!("{e}"));
    let head = format!(
        "POST /me HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\n\
         Content-Length: {length}\r\n\r\naccess_token=abc"
    );
    c.write_all(head.as_bytes())
        .unwrap_or_else(|e| panic!("{e}"));
    let _ = c.set_read_timeout(Some(wait));
    let mut answer = Vec::new();
    let mut buf = [0u8; 4096];
    while let Ok(n) = c.read(&mut buf) {
        if n == 0 {
            break;
        }
        answer.extend_from_slice(&buf[..n]);
        if answer.windows(4).any(|w| w == b"\r\n\r\n") && answer.ends_with(b"}") {
            break;
        }
    }
    String::from_utf8_lossy(&answer).into_owned()
}

#[test]
fn half_sent_requests_do_not_starve_the_server_and_are_cut_off() {
    // Heads may take three seconds here: time enough to tell an answer at once from one that
    // waited for the dawdlers to be cut off, even on a loaded machine.
    let s = server_limited(1000, 3, 1);
    let mut idle: Vec<TcpStream> = (0..300).map(|_| slow(&s)).collect();
    // The server answers others at once while 300 connections dawdle.
    let start = Instant::now();
    assert_eq!(s.get("/healthz").status, 200);
    assert!(
        start.elapsed() < Duration::from_secs(2),
        "{:?}",
        start.elapsed()
    );
    // Each dawdler is cut off once its head has taken three seconds.
    for c in idle.iter_mut() {
        assert!(
            closed_within(c, Duration::from_secs(10)),
            "a slow connection stayed open"
        );
    }
}

#[test]
fn connections_beyond_the_cap_wait_for_a_free_one() {
    let s = server_with(20);
    let held: Vec<TcpStream> = (0..20).map(|_| slow(&s)).collect();
    // Connection 21 is queued, not served, until the held ones are cut off (after 1 s).
    let start = Instant::now();
    assert_eq!(s.get("/healthz").status, 200);
    let waited = start.elapsed();
    assert!(
        waited >= Duration::from_millis(500),
        "served at once past the cap: {waited:?}"
    );
    assert!(waited < Duration::from_secs(5), "{waited:?}");
    drop(held);
}

#[test]
fn a_body_that_stalls_is_answered_408_in_the_graph_envelope() {
    let s = server_with(1000);
    let text = post_declaring(&s, 1000, Duration::from_secs(10));
    assert!(text.starts_with("HTTP/1.1 408"), "{text}");
    assert!(
        text.contains("The request body did not arrive in time"),
        "{text}"
    );
    assert!(text.contains("\"fbtrace_id\""), "{text}");
}

#[test]
fn an_idle_kept_alive_connection_is_closed_after_the_head_timeout() {
    let s = server_with(1000);
    let mut c = TcpStream::connect(addr(&s)).unwrap_or_else(|e| panic!("{e}"));
    c.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap_or_else(|e| panic!("{e}"));
    let _ = c.set_read_timeout(Some(Duration::from_secs(5)));
    let mut buf = [0u8; 1024];
    let n = c.read(&mut buf).unwrap_or(0);
    assert!(String::from_utf8_lossy(&buf[..n]).starts_with("HTTP/1.1 200"));
    // Kept alive, then nothing more: closed once the next head is a second late.
    let start = Instant::now();
    assert!(closed_within(&mut c, Duration::from_secs(5)));
    assert!(
        start.elapsed() < Duration::from_secs(4),
        "{:?}",
        start.elapsed()
    );
}

#[test]
fn a_client_that_stops_sending_after_its_request_still_gets_the_answer() {
    let s = Server::seeded();
    let token = s.alice();
    let mut c = TcpStream::connect(addr(&s)).unwrap_or_else(|e| panic!("{e}"));
    let request =
        format!("GET /me?access_token={token} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    c.write_all(request.as_bytes())
        .unwrap_or_else(|e| panic!("{e}"));
    c.shutdown(std::net::Shutdown::Write)
        .unwrap_or_else(|e| panic!("{e}"));
    let _ = c.set_read_timeout(Some(Duration::from_secs(10)));
    let mut answer = String::new();
    c.read_to_string(&mut answer)
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer:?}");
    assert!(answer.contains("\"name\""), "{answer:?}");
}

#[test]
fn a_body_declared_too_large_is_refused_at_once() {
    // Answered long before the body timeout (thirty seconds here) could run out.
    let s = server_limited(1000, 1, 30);
    let text = post_declaring(&s, 20_000_000, Duration::from_secs(10));
    assert!(text.starts_with("HTTP/1.1 413"), "{text}");
    assert!(text.contains("The request body is larger than"), "{text}");
}
