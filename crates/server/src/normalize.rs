//! HTTP → [`GraphRequest`]: strip `/vNN.N/`, merge body and query (body first), find the token
//! (parameter, then `Authorization: Bearer|OAuth`), honour `method=`.

use axum::http::{header, HeaderMap, Method as HttpMethod, Uri};

use graphtoken_core::error::GraphError;
use graphtoken_core::request::{self, GraphRequest, Method, Params, MAX_PARAMS};

pub use graphtoken_core::request::DEFAULT_VERSION;

/// The request, or the version to answer with and the error.
pub fn request(
    method: &HttpMethod,
    uri: &Uri,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<GraphRequest, (&'static str, GraphError)> {
    let (served, path) = request::split_path(uri.path(), DEFAULT_VERSION)?;

    // Room for most requests' parameters at once.
    let mut params = Vec::with_capacity(4);
    if !body.is_empty() {
        params.extend(body_params(headers, body).map_err(|e| (served, e))?);
    }
    // Past the limit nothing more is collected: the request is refused below.
    if let Some(q) = uri.query() {
        params.extend(query_pairs(q).take(MAX_PARAMS + 1));
    }
    // OAuth libraries (simple-oauth2, oslo, oauth4webapi, ...) may authenticate the client to
    // the token endpoint with HTTP Basic (RFC 6749 §2.3.1) instead of form parameters.
    if path.first().is_some_and(|p| p == "oauth") {
        if let Some((id, secret)) = basic_credentials(headers) {
            if !params.iter().any(|(k, _)| k == "client_id") {
                params.push(("client_id".into(), id));
            }
            if !params.iter().any(|(k, _)| k == "client_secret") {
                params.push(("client_secret".into(), secret));
            }
        }
    }
    if params.len() > MAX_PARAMS {
        return Err((served, request::too_many_params()));
    }
    let params = Params(params);

    let m = match *method {
        HttpMethod::GET | HttpMethod::HEAD => Method::Get,
        HttpMethod::POST => Method::Post,
        HttpMethod::DELETE => Method::Delete,
        _ => {
            let id = path.first().map_or("", String::as_str);
            return Err((
                served,
                GraphError::unknown_object(id, &method.as_str().to_ascii_lowercase()),
            ));
        }
    };
    let m = request::method_override(m, &params);

    let token = params
        .non_empty("access_token")
        .map(str::to_string)
        .or_else(|| header_token(headers));
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("127.0.0.1");
    Ok(GraphRequest {
        method: m,
        path,
        params,
        token,
        version: served,
        base_url: ["http://", host].concat(),
    })
}

/// `Authorization: Bearer <token>` or `Authorization: OAuth <token>`.
fn header_token(headers: &HeaderMap) -> Option<String> {
    let v = headers.get(header::AUTHORIZATION)?.to_str().ok()?.trim();
    let (scheme, token) = v.split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") || scheme.eq_ignore_ascii_case("oauth"))
        .then(|| token.to_string())
        .filter(|t| !t.is_empty())
}

/// `Authorization: Basic base64(urlencode(id) ":" urlencode(secret))`.
fn basic_credentials(headers: &HeaderMap) -> Option<(String, String)> {
    use base64::Engine;
    let v = headers.get(header::AUTHORIZATION)?.to_str().ok()?.trim();
    let (scheme, b64) = v.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let raw = base64::engine::general_purpose::STANDARD
        .decode(b64.trim())
        .ok()?;
    let raw = String::from_utf8(raw).ok()?;
    let (id, secret) = raw.split_once(':')?;
    let decode = |s: &str| {
        form_urlencoded::parse(format!("x={s}").as_bytes())
            .next()
            .map(|(_, v)| v.into_owned())
    };
    Some((decode(id)?, decode(secret)?))
}

/// Form bodies (what every SDK sends) and JSON objects (values that are not strings are passed
/// as their JSON text, as Graph reads them).
fn body_params(headers: &HeaderMap, body: &[u8]) -> Result<Vec<(String, String)>, GraphError> {
    let ctype = headers
        .get(header::CONTENT_TYPE)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    if ctype.starts_with("application/json") {
        let v: serde_json::Value = serde_json::from_slice(body)
            .map_err(|_| GraphError::param("The request body is not valid JSON"))?;
        let serde_json::Value::Object(map) = v else {
            return Err(GraphError::param("A JSON request body must be an object"));
        };
        return Ok(map
            .into_iter()
            .take(MAX_PARAMS + 1)
            .map(|(k, v)| match v {
                serde_json::Value::String(s) => (k, s),
                other => (k, other.to_string()),
            })
            .collect());
    }
    if ctype.starts_with("multipart/") {
        return Err(GraphError::param(
            "multipart request bodies are not supported yet",
        ));
    }
    Ok(form_pairs(body).take(MAX_PARAMS + 1).collect())
}

/// Form pairs (`application/x-www-form-urlencoded`), read as `form_urlencoded::parse` reads
/// them: pairs split at `&`, name and value at the first `=`, then `+` is a space, `%XX` a
/// byte, and bytes that are not UTF-8 are replaced. Written here rather than taken from
/// `form_urlencoded`, whose byte-at-a-time passes were 10% of a `debug_token` request's
/// instructions (the app token's `%7C`, docs/benchmarks.md): the separators are found with
/// `memchr`, and runs between escapes are copied whole. A property test holds it to the crate.
fn form_pairs(input: &[u8]) -> impl Iterator<Item = (String, String)> + '_ {
    pairs(input).map(|(name, value)| (form_decoded(&input[name]), form_decoded(&input[value])))
}

/// A query's pairs, read as [`form_pairs`] reads them. A query is text already, so a name or
/// value without escapes is taken as it is, not checked for UTF-8 again.
fn query_pairs(query: &str) -> impl Iterator<Item = (String, String)> + '_ {
    // The pieces end at `&` and `=`, so `get` always finds them on character boundaries.
    let decoded = |at: std::ops::Range<usize>| match query.get(at.clone()) {
        Some(s) if memchr::memchr2(b'%', b'+', s.as_bytes()).is_none() => s.to_owned(),
        _ => form_decoded(&query.as_bytes()[at]),
    };
    pairs(query.as_bytes()).map(move |(name, value)| (decoded(name), decoded(value)))
}

/// Where each pair of a form is in `input`: its name and its value (see [`form_pairs`]).
fn pairs(
    input: &[u8],
) -> impl Iterator<Item = (std::ops::Range<usize>, std::ops::Range<usize>)> + '_ {
    let mut at = 0;
    std::iter::from_fn(move || loop {
        if at > input.len() {
            return None;
        }
        let start = at;
        let end = memchr::memchr(b'&', &input[start..]).map_or(input.len(), |i| start + i);
        at = end + 1;
        if end == start {
            continue;
        }
        return Some(match memchr::memchr(b'=', &input[start..end]) {
            Some(i) => (start..start + i, start + i + 1..end),
            None => (start..end, end..end),
        });
    })
}

/// One name or value of a form, decoded (see [`form_pairs`]).
fn form_decoded(s: &[u8]) -> String {
    if memchr::memchr2(b'%', b'+', s).is_none() {
        // `from_utf8` first: `from_utf8_lossy` reads valid input in chunks, more slowly.
        return std::str::from_utf8(s)
            .map_or_else(|_| String::from_utf8_lossy(s).into_owned(), str::to_owned);
    }
    let mut out = Vec::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = memchr::memchr2(b'%', b'+', rest) {
        out.extend_from_slice(&rest[..i]);
        let escaped = rest
            .get(i + 1..i + 3)
            .and_then(|h| Some(hex(h[0])? << 4 | hex(h[1])?));
        match (rest[i], escaped) {
            (b'+', _) => {
                out.push(b' ');
                rest = &rest[i + 1..];
            }
            (_, Some(byte)) => {
                out.push(byte);
                rest = &rest[i + 3..];
            }
            _ => {
                out.push(b'%');
                rest = &rest[i + 1..];
            }
        }
    }
    out.extend_from_slice(rest);
    String::from_utf8(out).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

fn hex(b: u8) -> Option<u8> {
    char::from(b)
        .to_digit(16)
        .and_then(|d| u8::try_from(d).ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    proptest::proptest! {
        /// Every input reads as `form_urlencoded` reads it.
        #[test]
        fn form_pairs_read_as_the_decoder_reads(input in proptest::collection::vec(
            proptest::sample::select(b"ab=&%+2F0cC7g\xc3\xa9\xff ".to_vec()), 0..60)) {
            let ours: Vec<_> = form_pairs(&input).collect();
            let theirs: Vec<_> = form_urlencoded::parse(&input).into_owned().collect();
            proptest::prop_assert_eq!(ours, theirs);
        }

        /// A query reads as the same text in a form body does.
        #[test]
        fn query_pairs_read_as_form_pairs(query in "[ab=&%+2F0cC7gé ]{0,60}") {
            let ours: Vec<_> = query_pairs(&query).collect();
            let theirs: Vec<_> = form_pairs(query.as_bytes()).collect();
            proptest::prop_assert_eq!(ours, theirs);
        }
    }

    #[test]
    fn basic_client_credentials_fill_in_the_token_endpoints_parameters() {
        use base64::Engine;
        let mut h = HeaderMap::new();
        let creds = base64::engine::general_purpose::STANDARD.encode("42:s%3Acret");
        h.insert(
            header::AUTHORIZATION,
            format!("Basic {creds}").parse().unwrap(),
        );
        let uri: Uri = "/v25.0/oauth/access_token?code=AQx".parse().unwrap();
        let r = request(&HttpMethod::POST, &uri, &h, b"").unwrap();
        assert_eq!(r.params.get("client_id"), Some("42"));
        assert_eq!(r.params.get("client_secret"), Some("s:cret"));
        // Parameters in the request win, and other paths ignore Basic credentials.
        let uri: Uri = "/oauth/access_token?client_secret=mine".parse().unwrap();
        let r = request(&HttpMethod::POST, &uri, &h, b"").unwrap();
        assert_eq!(r.params.get("client_secret"), Some("mine"));
        let uri: Uri = "/me".parse().unwrap();
        let r = request(&HttpMethod::GET, &uri, &h, b"").unwrap();
        assert_eq!(r.params.get("client_id"), None);
    }

    fn req(
        method: HttpMethod,
        uri: &str,
        headers: &[(&str, &str)],
        body: &str,
    ) -> Result<GraphRequest, (&'static str, GraphError)> {
        let mut h = HeaderMap::new();
        for (k, v) in headers {
            h.insert(
                header::HeaderName::from_bytes(k.as_bytes()).unwrap(),
                v.parse().unwrap(),
            );
        }
        request(&method, &uri.parse().unwrap(), &h, body.as_bytes())
    }

    #[test]
    fn versions_are_stripped_and_reported() {
        let r = req(HttpMethod::GET, "/v3.1/me/accounts?limit=2", &[], "").unwrap();
        assert_eq!(
            (r.version, r.path.clone()),
            ("v21.0", vec!["me".to_string(), "accounts".to_string()]),
            "a retired version is served by the oldest available"
        );
        let r = req(HttpMethod::GET, "/me", &[], "").unwrap();
        assert_eq!(r.version, DEFAULT_VERSION);
        let (_, e) = req(HttpMethod::GET, "/v99.0/me", &[], "").unwrap_err();
        assert_eq!(
            (e.code, e.message.as_str()),
            (2500, "Unknown path components: /me")
        );
        let (_, e) = req(HttpMethod::GET, "/v2.80/me", &[], "").unwrap_err();
        assert_eq!(e.code, 2500);
    }

    #[test]
    fn body_wins_over_query_and_header_comes_last() {
        let form = [("content-type", "application/x-www-form-urlencoded")];
        let r = req(
            HttpMethod::POST,
            "/me?access_token=q&x=1",
            &form,
            "access_token=b",
        )
        .unwrap();
        assert_eq!(r.token.as_deref(), Some("b"));
        assert_eq!(r.params.get("x"), Some("1"));
        let r = req(
            HttpMethod::GET,
            "/me",
            &[("authorization", "OAuth tok")],
            "",
        )
        .unwrap();
        assert_eq!(r.token.as_deref(), Some("tok"));
        let r = req(
            HttpMethod::GET,
            "/me",
            &[("authorization", "Bearer tok2")],
            "",
        )
        .unwrap();
        assert_eq!(r.token.as_deref(), Some("tok2"));
        let r = req(HttpMethod::GET, "/me", &[("authorization", "Basic x")], "").unwrap();
        assert_eq!(r.token, None);
    }

    #[test]
    fn method_override_and_json_bodies() {
        let r = req(HttpMethod::POST, "/1/permissions?method=delete", &[], "").unwrap();
        assert_eq!(r.method, Method::Delete);
        let r = req(HttpMethod::GET, "/me?method=post", &[], "").unwrap();
        assert_eq!(r.method, Method::Post);
        let json = [("content-type", "application/json")];
        let r = req(
            HttpMethod::POST,
            "/me",
            &json,
            r#"{"access_token":"t","tasks":["MANAGE"]}"#,
        )
        .unwrap();
        assert_eq!(r.params.get("tasks"), Some(r#"["MANAGE"]"#));
        assert!(req(HttpMethod::POST, "/me", &json, "[1]").is_err());
    }
}

/// Property tests (see core's `fields::props`): any request, however its query, headers and body
/// are written, is read or refused with a Graph error, never a panic.
#[cfg(test)]
mod props {
    use axum::http::{HeaderMap, HeaderValue, Method as HttpMethod, Uri};
    use proptest::prelude::*;

    fn content_type() -> impl Strategy<Value = &'static str> {
        prop_oneof![
            Just("application/x-www-form-urlencoded"),
            Just("application/json"),
            Just("multipart/form-data; boundary=x"),
            Just("text/plain"),
            Just(""),
        ]
    }

    proptest! {
        #[test]
        fn any_request_is_read_or_refused(
            method in prop_oneof![Just(HttpMethod::GET), Just(HttpMethod::POST), Just(HttpMethod::DELETE)],
            path in "/[a-zA-Z0-9%./_-]{0,60}",
            query in "[a-z_=&%0-9+.{}(),]{0,120}",
            ctype in content_type(),
            auth in "\\PC{0,60}",
            body in proptest::collection::vec(any::<u8>(), 0..400),
        ) {
            let Ok(uri) = format!("{path}?{query}").parse::<Uri>() else {
                return Ok(());
            };
            let mut headers = HeaderMap::new();
            if let Ok(v) = HeaderValue::from_str(ctype) {
                headers.insert("content-type", v);
            }
            if let Ok(v) = HeaderValue::from_str(&auth) {
                headers.insert("authorization", v);
            }
            let _ = super::request(&method, &uri, &headers, &body);
        }
    }
}
