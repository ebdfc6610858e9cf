//! Graph JSON out, with the headers real Graph responses carry (spec §8).

use axum::body::Body;
use axum::http::{header, HeaderMap, HeaderName, HeaderValue, Response, StatusCode};
use serde_json::Value;

use graphtoken_core::error::{self, GraphError};
use graphtoken_core::graph::Reply;
use graphtoken_core::ratelimit::{self, Usage};

const JSON: HeaderValue = HeaderValue::from_static("application/json; charset=UTF-8");
const API_VERSION: HeaderName = HeaderName::from_static("facebook-api-version");
const TRACE_ID: HeaderName = HeaderName::from_static("x-fb-trace-id");
const REV: HeaderName = HeaderName::from_static("x-fb-rev");
/// Where [`common_headers`] holds the version, the trace id and `X-App-Usage` (a test holds
/// them to it).
const VERSION_AT: usize = 1;
const TRACE_AT: usize = 2;
const USAGE_AT: usize = 8;

/// An 11-character trace id for `fbtrace_id` and `x-fb-trace-id` (see [`error::trace_id`]).
pub fn trace_id() -> error::TraceId {
    error::trace_id()
}

/// A Graph answer: the JSON body, or the error envelope with its status, and the rate-limit
/// headers (spec §6) when the request had a caller.
pub fn graph(
    version: &'static str,
    trace: &error::TraceId,
    result: Result<Reply, GraphError>,
    usage: Option<&Usage>,
) -> Response<Body> {
    let (status, body, www) = match result {
        // An answer kept written out goes as it is, uncopied.
        Ok(v) => (
            StatusCode::OK,
            v.written().unwrap_or_else(|| body_of(&v).into()),
            None,
        ),
        Err(e) => {
            if e.status >= 500 {
                tracing::error!(
                    trace = trace.as_str(),
                    code = e.code,
                    detail = e.detail().unwrap_or(""),
                    "internal error"
                );
            }
            let status = StatusCode::from_u16(e.status).unwrap_or(StatusCode::BAD_REQUEST);
            (
                status,
                body_of(&e.to_json(trace.as_str())).into(),
                e.www_authenticate_header(),
            )
        }
    };
    let mut r = Response::new(Body::from(body));
    *r.status_mut() = status;
    let h = r.headers_mut();
    *h = common_headers();
    // In place of the placeholders, so the order stays; found by their place, since an insert
    // by name hashes the name and probes the map.
    // A version is a constant (`request::VERSIONS`): its header shares its text, uncopied
    // (`from_static`, which takes what this check lets through).
    let mut version = version
        .bytes()
        .all(|b| (b' '..=b'~').contains(&b))
        .then(|| HeaderValue::from_static(version));
    let mut trace = HeaderValue::from_bytes(trace.as_bytes()).ok();
    // A version or trace id that is no header value (neither ever is) goes, below.
    let gone = (version.is_none(), trace.is_none());
    let mut app = usage.map(|u| share(u.app));
    for (at, value) in h.values_mut().enumerate() {
        let filled = match at {
            VERSION_AT => version.take(),
            TRACE_AT => trace.take(),
            USAGE_AT => app.take(),
            _ => None,
        };
        if let Some(v) = filled {
            *value = v;
        }
    }
    if gone.0 {
        h.remove(API_VERSION);
    }
    if gone.1 {
        h.remove(TRACE_ID);
    }
    match usage {
        Some(u) => {
            if let Some(p) = u.page {
                h.insert(PAGE_USAGE, share(p.percent));
            }
            if let Some(v) = u
                .business_header()
                .and_then(|v| HeaderValue::try_from(v).ok())
            {
                h.insert(BUC_USAGE, v);
            }
        }
        // The last header: removing it moves no other.
        None => drop(h.remove(APP_USAGE)),
    }
    if let Some(v) = www.and_then(|w| HeaderValue::from_str(&w).ok()) {
        h.insert(header::WWW_AUTHENTICATE, v);
    }
    r
}

/// The headers every Graph answer carries, in the order they are sent, with placeholders for
/// the version, the trace id and `X-App-Usage` (last). Made once: a clone copies them, where
/// inserting each hashed its name again; and a clone has no room for more, so the headers
/// filled in later are already there.
fn common_headers() -> HeaderMap {
    static COMMON: std::sync::OnceLock<HeaderMap> = std::sync::OnceLock::new();
    let common = COMMON.get_or_init(|| {
        let mut h = HeaderMap::with_capacity(16);
        h.insert(header::CONTENT_TYPE, JSON);
        h.insert(API_VERSION, HeaderValue::from_static("v0.0"));
        h.insert(TRACE_ID, HeaderValue::from_static("0"));
        h.insert(REV, HeaderValue::from_static("1"));
        h.insert(
            header::ACCESS_CONTROL_ALLOW_ORIGIN,
            HeaderValue::from_static("*"),
        );
        h.insert(
            header::CACHE_CONTROL,
            HeaderValue::from_static("private, no-cache, no-store, must-revalidate"),
        );
        h.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
        h.insert(
            header::EXPIRES,
            HeaderValue::from_static("Sat, 01 Jan 2000 00:00:00 GMT"),
        );
        h.insert(APP_USAGE, share(0));
        h
    });
    common.clone()
}

/// A JSON body's bytes, written straight into one buffer (`to_string` goes through
/// `fmt::Write`, a call per piece). Writing an answer cannot fail: every key is a string.
fn body_of(v: &impl serde::Serialize) -> Vec<u8> {
    let mut out = Vec::with_capacity(512);
    match serde_json::to_writer(&mut out, v) {
        Ok(()) => out,
        Err(_) => b"{}".to_vec(),
    }
}

const APP_USAGE: HeaderName = HeaderName::from_static("x-app-usage");
const PAGE_USAGE: HeaderName = HeaderName::from_static("x-page-usage");
const BUC_USAGE: HeaderName = HeaderName::from_static("x-business-use-case-usage");

/// The value of `X-App-Usage` or `X-Page-Usage` at `pct` percent, made once for every share
/// from the texts `ratelimit::shares` wrote (`HeaderValue::from_static` checks every byte of a
/// text each time it is called).
fn share(pct: u8) -> HeaderValue {
    static MADE: std::sync::OnceLock<Vec<HeaderValue>> = std::sync::OnceLock::new();
    MADE.get_or_init(|| {
        (0..=u8::MAX)
            .map(|p| HeaderValue::from_static(ratelimit::shares(p)))
            .collect()
    })
    .get(usize::from(pct))
    .cloned()
    .unwrap_or_else(|| HeaderValue::from_static(""))
}

/// CORS preflight: Graph is called from browsers too.
pub fn preflight() -> Response<Body> {
    let mut r = Response::new(Body::empty());
    *r.status_mut() = StatusCode::NO_CONTENT;
    let h = r.headers_mut();
    h.insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static("*"),
    );
    h.insert(
        header::ACCESS_CONTROL_ALLOW_METHODS,
        HeaderValue::from_static("GET, POST, DELETE, OPTIONS"),
    );
    h.insert(
        header::ACCESS_CONTROL_ALLOW_HEADERS,
        HeaderValue::from_static("authorization, content-type"),
    );
    r
}

/// A JSON answer of the admin API.
pub fn json(status: StatusCode, v: &Value) -> Response<Body> {
    let mut r = Response::new(Body::from(body_of(v)));
    *r.status_mut() = status;
    r.headers_mut().insert(header::CONTENT_TYPE, JSON);
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_placeholders_are_where_an_answer_fills_them() {
        let names: Vec<_> = common_headers().keys().cloned().collect();
        assert_eq!(names.get(VERSION_AT), Some(&API_VERSION));
        assert_eq!(names.get(TRACE_AT), Some(&TRACE_ID));
        assert_eq!(names.get(USAGE_AT), Some(&APP_USAGE));
        assert_eq!(names.len(), USAGE_AT + 1, "the usage header is last");
    }

    #[test]
    fn an_answer_carries_its_version_trace_and_usage_in_their_places() {
        let usage = Usage { app: 7, page: None };
        let trace = trace_id();
        let r = graph("v21.0", &trace, Ok(Reply::Value(Value::Null)), Some(&usage));
        let h = r.headers();
        let order: Vec<_> = h.keys().map(HeaderName::as_str).collect();
        let fresh: Vec<_> = common_headers().keys().cloned().collect();
        assert_eq!(
            order,
            fresh.iter().map(HeaderName::as_str).collect::<Vec<_>>()
        );
        assert_eq!(h[API_VERSION], "v21.0");
        assert_eq!(h[TRACE_ID], trace.as_str());
        assert_eq!(h[APP_USAGE], ratelimit::shares(7));
        let r = graph("v21.0", &trace, Ok(Reply::Value(Value::Null)), None);
        assert!(!r.headers().contains_key(APP_USAGE), "no caller, no usage");
        assert_eq!(r.headers()[API_VERSION], "v21.0");
        let r = graph("v2\n", &trace, Ok(Reply::Value(Value::Null)), Some(&usage));
        assert!(!r.headers().contains_key(API_VERSION), "no header value");
        assert_eq!(r.headers()[APP_USAGE], ratelimit::shares(7));
    }
    #[test]
    fn trace_ids_differ() {
        let a = super::trace_id();
        assert_eq!(a.len(), 11);
        assert_ne!(a, super::trace_id());
    }
}
