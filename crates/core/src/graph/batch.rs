//! Batch requests (spec §8): `POST /` (or `/vX.Y/`) with `batch=[{method, relative_url, body,
//! name, depends_on, omit_response_on_success}, ...]`, answering a JSON array in operation order
//! of `{"code", "headers", "body": "<JSON text>"}`.
//!
//! Each operation is turned into a [`GraphRequest`] by the rules the HTTP server applies
//! (version prefix, body then query parameters, `method=` override) and answered by
//! [`super::answer`], so it is counted against the rate limits and checked like any request.
//! Operations run one after another, in order.
//!
//! * Token: the operation's own `access_token` (body, then `relative_url` query), else the
//!   top-level one. The top-level `appsecret_proof` goes only with the top-level token; an
//!   operation with its own token sends its own proof when its app requires one.
//! * `{result=<name>:<JSONPath>}` in `relative_url` or `body` is replaced by values from the
//!   body of the earlier operation with that name: `$.id`, `$.data.0.id`, `$.data[0].id`;
//!   `$.data.*.id` yields a comma-separated list.
//! * An operation whose dependency (`depends_on`, or a `{result=...}` reference) failed, was
//!   itself skipped, or whose reference matched nothing is not run: its entry is `null` (as
//!   for unfinished operations; facebook-business retries those).
//! * `omit_response_on_success` defaults to true for a named operation that a later operation
//!   references, false otherwise; an omitted success is a `null` entry.
//! * Naming an operation that does not precede (or does not exist) fails the whole batch with
//!   Facebook's `GraphBatchException` text; so do more than 50 operations and a `batch` that is
//!   not a JSON array of objects. Per-operation `headers` and `attached_files` are ignored.

use std::collections::{HashMap, HashSet};
use std::future::Future;
use std::pin::Pin;

use serde_json::{json, Value};

use crate::error::{self, GraphError};
use crate::ratelimit::Usage;
use crate::request::{self, GraphRequest, Method, Params};
use crate::services::Services;

use super::Answer;

/// The most operations one batch may hold.
pub const MAX_OPERATIONS: usize = 50;

const BATCH_EXCEPTION: &str = "GraphBatchException";

/// A batch-level error (HTTP 400, the whole batch refused).
fn batch_error(message: impl Into<String>) -> GraphError {
    GraphError::new(1, BATCH_EXCEPTION, message)
}

/// One operation as sent.
struct Op {
    method: String,
    relative_url: String,
    body: String,
    name: Option<String>,
    depends_on: Vec<String>,
    omit_response_on_success: Option<bool>,
}

/// `POST /` with `batch=`.
pub(super) async fn run(
    g: &Services,
    req: &GraphRequest,
    usage: &mut Option<Usage>,
) -> Result<Value, GraphError> {
    let ops = parse(req.params.get("batch").unwrap_or(""))?;
    let include_headers = !matches!(
        req.params.get("include_headers"),
        Some("false" | "0" | "False" | "FALSE")
    );

    // Every reference must name an earlier operation; named operations that are referenced
    // have their successful responses omitted by default.
    let mut referenced: HashSet<String> = HashSet::new();
    let mut seen: HashSet<&str> = HashSet::new();
    for (i, op) in ops.iter().enumerate() {
        for name in op.dependencies() {
            if !seen.contains(name.as_str()) {
                return Err(batch_error(format!(
                    "Request {i} cannot depend on an  unresolved request with  name {name}. Requests can only depend on preceding requests"
                )));
            }
            referenced.insert(name);
        }
        if let Some(n) = &op.name {
            seen.insert(n.as_str());
        }
    }
    if req.token.is_none() && ops.iter().any(|op| !op.has_own_token()) {
        return Err(GraphError::token_required());
    }

    // name → the body of a successful operation; `None` when it failed or was skipped.
    let mut results: HashMap<&str, Option<Value>> = HashMap::new();
    let mut out = Vec::with_capacity(ops.len());
    for op in &ops {
        let deps = op.dependencies();
        let ready = deps
            .iter()
            .all(|d| results.get(d.as_str()).is_some_and(Option::is_some));
        let resolved = if ready {
            resolve_refs(&op.relative_url, &results)
                .and_then(|url| Ok(url.zip(resolve_refs(&op.body, &results)?)))
        } else {
            Ok(None)
        };
        let (version, result) = match resolved {
            Ok(None) => {
                if let Some(n) = &op.name {
                    results.insert(n.as_str(), None);
                }
                out.push(Value::Null);
                continue;
            }
            Err(e) => (req.version, Err(e)),
            Ok(Some((url, body))) => match operation(req, op, &url, &body) {
                Ok(sub) => {
                    let answer = answer_boxed(g, &sub).await;
                    if answer.usage.is_some() {
                        *usage = answer.usage;
                    }
                    (
                        sub.version,
                        answer.result.and_then(super::Reply::into_value),
                    )
                }
                Err((version, e)) => (version, Err(e)),
            },
        };
        if let Some(n) = &op.name {
            results.insert(n.as_str(), result.as_ref().ok().cloned());
        }
        let omit = op
            .omit_response_on_success
            .unwrap_or_else(|| op.name.as_deref().is_some_and(|n| referenced.contains(n)));
        if omit && result.is_ok() {
            out.push(Value::Null);
        } else {
            out.push(entry(version, result, include_headers));
        }
    }
    Ok(Value::Array(out))
}

/// [`super::answer`] behind a boxed, `Send` future: batch answers recurse into the router.
fn answer_boxed<'a>(
    g: &'a Services,
    req: &'a GraphRequest,
) -> Pin<Box<dyn Future<Output = Answer> + Send + 'a>> {
    Box::pin(super::answer(g, req))
}

/// The `batch` parameter: a JSON array of at most 50 operation objects.
fn parse(text: &str) -> Result<Vec<Op>, GraphError> {
    let Ok(Value::Array(items)) = serde_json::from_str::<Value>(text) else {
        return Err(batch_error("Batch parameter must be a JSON array"));
    };
    if items.len() > MAX_OPERATIONS {
        return Err(batch_error(format!(
            "Too many requests in batch message. Maximum batch size is {MAX_OPERATIONS}"
        )));
    }
    items
        .iter()
        .enumerate()
        .map(|(i, item)| {
            let Value::Object(o) = item else {
                return Err(batch_error(format!(
                    "Request {i} in the batch is not a JSON object"
                )));
            };
            let text = |key: &str| o.get(key).and_then(Value::as_str).map(str::to_string);
            let Some(relative_url) = text("relative_url") else {
                return Err(batch_error(format!(
                    "Request {i} in the batch has no relative_url"
                )));
            };
            let body = match o.get("body") {
                Some(Value::String(s)) => s.clone(),
                Some(Value::Object(m)) => {
                    let mut q = form_urlencoded::Serializer::new(String::new());
                    for (k, v) in m {
                        match v {
                            Value::String(s) => q.append_pair(k, s),
                            other => q.append_pair(k, &other.to_string()),
                        };
                    }
                    q.finish()
                }
                _ => String::new(),
            };
            let depends_on = match o.get("depends_on") {
                Some(Value::String(s)) if !s.is_empty() => vec![s.clone()],
                Some(Value::Array(a)) => a
                    .iter()
                    .filter_map(|v| v.as_str().map(str::to_string))
                    .collect(),
                _ => Vec::new(),
            };
            let omit_response_on_success = match o.get("omit_response_on_success") {
                Some(Value::Bool(b)) => Some(*b),
                Some(Value::String(s)) => Some(!matches!(s.as_str(), "false" | "0")),
                _ => None,
            };
            Ok(Op {
                method: text("method").unwrap_or_else(|| "GET".into()),
                relative_url,
                body,
                name: text("name").filter(|n| !n.is_empty()),
                depends_on,
                omit_response_on_success,
            })
        })
        .collect()
}

impl Op {
    /// The names this operation waits for: `depends_on` and every `{result=name:...}`.
    fn dependencies(&self) -> Vec<String> {
        let mut names = self.depends_on.clone();
        for text in [&self.relative_url, &self.body] {
            for (_, _, name, _) in references(text) {
                if !names.iter().any(|n| n == name) {
                    names.push(name.to_string());
                }
            }
        }
        names
    }

    /// Whether the operation carries its own `access_token` (body or query).
    fn has_own_token(&self) -> bool {
        let query = self.relative_url.split_once('?').map_or("", |(_, q)| q);
        [self.body.as_str(), query].iter().any(|s| {
            form_urlencoded::parse(s.as_bytes()).any(|(k, v)| k == "access_token" && !v.is_empty())
        })
    }
}

/// Every `{result=name:path}` in `text`: (where it starts, the whole reference, name,
/// JSONPath).
fn references(text: &str) -> Vec<(usize, &str, &str, &str)> {
    let mut out = Vec::new();
    let mut from = 0;
    while let Some(start) = text[from..].find("{result=").map(|i| from + i) {
        let after = &text[start..];
        let Some(end) = after.find('}') else {
            break;
        };
        let whole = &after[..=end];
        let inner = &whole["{result=".len()..whole.len() - 1];
        if let Some((name, path)) = inner.split_once(':') {
            out.push((start, whole, name, path));
        }
        from = start + end + 1;
    }
    out
}

/// The most bytes a relative URL or body may have once its references are replaced: the
/// request body's own limit.
const MAX_RESOLVED: usize = 1 << 20;

fn too_long() -> GraphError {
    batch_error(format!(
        "A request of the batch is longer than {MAX_RESOLVED} bytes once its {{result=…}} \
         references are replaced"
    ))
}

/// `text` with its references replaced, in one pass; `Ok(None)` when one matches nothing (or
/// its operation failed); an error when the text would grow past [`MAX_RESOLVED`].
fn resolve_refs(
    text: &str,
    results: &HashMap<&str, Option<Value>>,
) -> Result<Option<String>, GraphError> {
    let mut out = String::with_capacity(text.len());
    let mut copied = 0;
    for (start, whole, name, path) in references(text) {
        let Some(body) = results.get(name).and_then(Option::as_ref) else {
            return Ok(None);
        };
        let values = json_path(body, path);
        if values.is_empty() {
            return Ok(None);
        }
        out.push_str(&text[copied..start]);
        for (i, v) in values.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            match v {
                Value::String(s) => out.push_str(s),
                other => out.push_str(&other.to_string()),
            }
            if out.len() > MAX_RESOLVED {
                return Err(too_long());
            }
        }
        copied = start + whole.len();
    }
    out.push_str(&text[copied..]);
    if out.len() > MAX_RESOLVED {
        return Err(too_long());
    }
    Ok(Some(out))
}

/// The values a JSONPath subset selects: `$.a.b`, `$.data.0.id`, `$.data[0].id`, `$.data.*.id`.
fn json_path<'a>(root: &'a Value, path: &str) -> Vec<&'a Value> {
    let Some(rest) = path.trim().strip_prefix('$') else {
        return Vec::new();
    };
    let normalised = rest.replace('[', ".").replace(']', "");
    let mut current = vec![root];
    for key in normalised.split('.').filter(|k| !k.is_empty()) {
        let mut next = Vec::new();
        for v in current {
            match (key, v) {
                ("*", Value::Array(a)) => next.extend(a.iter()),
                ("*", Value::Object(o)) => next.extend(o.values()),
                (k, Value::Array(a)) => {
                    if let Some(x) = k.parse::<usize>().ok().and_then(|i| a.get(i)) {
                        next.push(x);
                    }
                }
                (k, Value::Object(o)) => {
                    if let Some(x) = o.get(k) {
                        next.push(x);
                    }
                }
                _ => {}
            }
        }
        current = next;
    }
    current.into_iter().filter(|v| !v.is_null()).collect()
}

/// The request one operation makes, or the version to answer with and why it cannot be made.
fn operation(
    top: &GraphRequest,
    op: &Op,
    url: &str,
    body: &str,
) -> Result<GraphRequest, (&'static str, GraphError)> {
    let url = url.trim();
    // An absolute URL (`https://graph.facebook.com/v25.0/me`) is taken by its path.
    let url = match url.split_once("://") {
        Some((_, after)) => after.find('/').map_or("", |i| &after[i..]),
        None => url,
    };
    let (path, query) = url.split_once('?').unwrap_or((url, ""));
    let (version, path) = request::split_path(path, top.version)?;
    let fail = |e: GraphError| (version, e);

    let limit = request::MAX_PARAMS + 1;
    let mut params: Vec<(String, String)> = form_urlencoded::parse(body.as_bytes())
        .into_owned()
        .take(limit)
        .collect();
    params.extend(
        form_urlencoded::parse(query.as_bytes())
            .into_owned()
            .take(limit),
    );
    if params.len() > request::MAX_PARAMS {
        return Err(fail(request::too_many_params()));
    }
    let mut params = Params(params);
    let token = match params.non_empty("access_token") {
        Some(t) => Some(t.to_string()),
        None => {
            // The top-level proof (or app secret, which "Require App Secret" also takes)
            // covers the top-level token only.
            for name in ["appsecret_proof", "client_secret"] {
                if let Some(value) = top.params.get(name) {
                    if params.get(name).is_none() {
                        params.0.push((name.into(), value.to_string()));
                    }
                }
            }
            top.token.clone()
        }
    };

    let first = path.first().map_or("", String::as_str);
    let method = Method::parse(op.method.trim()).ok_or_else(|| {
        fail(GraphError::unknown_object(
            first,
            &op.method.to_ascii_lowercase(),
        ))
    })?;
    let method = request::method_override(method, &params);
    if path.is_empty() && params.get("batch").is_some() {
        return Err(fail(batch_error(
            "A batch request may not contain another batch request",
        )));
    }
    Ok(GraphRequest {
        method,
        path,
        params,
        token,
        version,
        base_url: top.base_url.clone(),
    })
}

/// One entry of the answer: `{"code", "headers", "body"}`.
fn entry(version: &str, result: Result<Value, GraphError>, include_headers: bool) -> Value {
    let (code, body, www) = match result {
        Ok(v) => (200, v.to_string(), None),
        Err(e) => (
            e.status,
            e.to_json(&error::trace_id()).to_string(),
            e.www_authenticate_header(),
        ),
    };
    if !include_headers {
        return json!({ "code": code, "body": body });
    }
    let mut headers = vec![
        json!({"name": "Content-Type", "value": "application/json; charset=UTF-8"}),
        json!({"name": "facebook-api-version", "value": version}),
        json!({"name": "Cache-Control", "value": "private, no-cache, no-store, must-revalidate"}),
        json!({"name": "Pragma", "value": "no-cache"}),
        json!({"name": "Expires", "value": "Sat, 01 Jan 2000 00:00:00 GMT"}),
        json!({"name": "Access-Control-Allow-Origin", "value": "*"}),
    ];
    if let Some(w) = www {
        headers.push(json!({"name": "WWW-Authenticate", "value": w}));
    }
    json!({ "code": code, "headers": headers, "body": body })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_paths() {
        let v = json!({"id": "1", "data": [{"id": "a"}, {"id": "b"}]});
        assert_eq!(json_path(&v, "$.id"), vec![&json!("1")]);
        assert_eq!(json_path(&v, "$.data.0.id"), vec![&json!("a")]);
        assert_eq!(json_path(&v, "$.data[1].id"), vec![&json!("b")]);
        assert_eq!(json_path(&v, "$.data.*.id").len(), 2);
        assert!(json_path(&v, "$.nope").is_empty());
    }

    #[test]
    fn references_are_replaced() {
        let mut results: HashMap<&str, Option<Value>> = HashMap::new();
        results.insert("acc", Some(json!({"data": [{"id": "7"}, {"id": "8"}]})));
        results.insert("bad", None);
        let resolved = |text: &str| resolve_refs(text, &results).ok().flatten();
        assert_eq!(
            resolved("?ids={result=acc:$.data.*.id}&x=1").as_deref(),
            Some("?ids=7,8&x=1")
        );
        assert_eq!(
            resolved("{result=acc:$.data.0.id}/{result=acc:$.data.1.id}").as_deref(),
            Some("7/8")
        );
        assert_eq!(resolved("{result=bad:$.id}"), None);
        assert_eq!(resolved("{result=acc:$.none}"), None);
        assert_eq!(resolved("me").as_deref(), Some("me"));
    }

    /// A text that references a long answer many times grows no further than a request body
    /// may be: refused, in time linear in what was written.
    #[test]
    fn references_may_not_grow_a_text_past_a_body() {
        let long = "x".repeat(4096);
        let results: HashMap<&str, Option<Value>> =
            HashMap::from([("a", Some(json!({ "long": long })))]);
        let fits = "{result=a:$.long}".repeat(200);
        let resolved = resolve_refs(&fits, &results).ok().flatten();
        assert_eq!(resolved.map(|t| t.len()), Some(200 * 4096));
        let many = "{result=a:$.long}".repeat(300);
        let e = resolve_refs(&many, &results).err();
        assert!(
            e.is_some_and(|e| e.message.contains("longer than 1048576 bytes")),
            "not refused"
        );
    }
}

/// Property tests (see `fields::props`): batch texts, references and JSON paths.
#[cfg(test)]
mod props {
    use std::collections::HashMap;

    use proptest::prelude::*;
    use serde_json::{json, Value};

    fn json_text() -> impl Strategy<Value = String> {
        prop_oneof![
            "\\PC{0,200}",
            "[\\[\\]{}\",:a-z_0-9 ./?=&{}$*]{0,200}",
            proptest::collection::vec(
                ("[a-z_]{0,12}", "[a-z0-9_/?=&{}:.$*]{0,40}"),
                0..60
            )
            .prop_map(|ops| {
                let ops: Vec<Value> = ops
                    .into_iter()
                    .map(|(k, v)| json!({ "method": "GET", "relative_url": v, "name": k, "depends_on": k }))
                    .collect();
                Value::Array(ops).to_string()
            }),
        ]
    }

    proptest! {
        #[test]
        fn any_batch_text_parses_or_is_refused(text in json_text()) {
            let _ = super::parse(&text);
        }

        #[test]
        fn references_and_paths_never_panic(text in "[{}=a-z:$.*\\[\\]0-9]{0,80}", path in "[$.*\\[\\]a-z0-9]{0,30}") {
            let _ = super::references(&text);
            let results: HashMap<&str, Option<Value>> =
                HashMap::from([("a", Some(json!({"data": [{"id": "1"}, {"id": 2}], "id": "x"}))), ("b", None)]);
            let _ = super::resolve_refs(&text, &results);
            let _ = super::json_path(&json!({"data": [{"id": "1"}]}), &path);
        }
    }
}
