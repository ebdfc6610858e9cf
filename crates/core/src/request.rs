//! A Graph request after the server has normalised it: version stripped, query and body merged,
//! the token found, `method=` honoured.

use crate::error::GraphError;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Method {
    Get,
    Post,
    Delete,
}

impl Method {
    pub fn parse(s: &str) -> Option<Method> {
        match s.to_ascii_lowercase().as_str() {
            "get" => Some(Method::Get),
            "post" => Some(Method::Post),
            "delete" => Some(Method::Delete),
            _ => None,
        }
    }
    /// As Facebook names it in `Unsupported <method> request` errors.
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "get",
            Method::Post => "post",
            Method::Delete => "delete",
        }
    }
}

/// Request parameters in precedence order: the first occurrence of a name wins.
#[derive(Clone, Default)]
pub struct Params(pub Vec<(String, String)>);

/// Parameters whose values are secrets: `Debug` shows them as `<redacted>`.
const SECRET_PARAMS: &[&str] = &[
    "access_token",
    "client_secret",
    "fb_exchange_token",
    "input_token",
    "appsecret_proof",
    "code",
    "code_verifier",
    "password",
];

impl std::fmt::Debug for Params {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_map()
            .entries(self.0.iter().map(|(k, v)| {
                let v = if SECRET_PARAMS.contains(&k.as_str()) {
                    "<redacted>"
                } else {
                    v.as_str()
                };
                (k, v)
            }))
            .finish()
    }
}

impl Params {
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
    /// A parameter that is present and not empty.
    pub fn non_empty(&self, name: &str) -> Option<&str> {
        self.get(name).filter(|v| !v.is_empty())
    }
    /// A boolean parameter: `true|false|1|0` in any case; `None` when absent or empty.
    pub fn boolean(&self, name: &str) -> Result<Option<bool>, GraphError> {
        let Some(v) = self.non_empty(name) else {
            return Ok(None);
        };
        match v.trim().to_ascii_lowercase().as_str() {
            "true" | "1" => Ok(Some(true)),
            "false" | "0" => Ok(Some(false)),
            _ => Err(GraphError::param(format!("Param {name} must be a boolean"))),
        }
    }
}

/// The Graph API versions graphtoken serves, oldest first: the ones Facebook had released and
/// not retired on 2026-11-30 (developers.facebook.com/docs/graph-api/changelog/versions: v21.0
/// is retired on 2027-01-21, v26.0 was released on 2026-07-29). The one place versions are
/// listed; a new release is added here, a retired one removed.
pub const VERSIONS: &[&str] = &["v21.0", "v22.0", "v23.0", "v24.0", "v25.0", "v26.0"];

/// The version that serves calls whose path names none (on Facebook, the app's default
/// version; graphtoken has one for every app).
pub const DEFAULT_VERSION: &str = "v25.0";

/// The most parameters a request may carry (query and body together; a batch operation's
/// too).
pub const MAX_PARAMS: usize = 1000;

/// A request with more than [`MAX_PARAMS`] parameters.
pub fn too_many_params() -> GraphError {
    GraphError::param(format!(
        "A request may carry at most {MAX_PARAMS} parameters"
    ))
}

/// `vMAJOR.MINOR` as numbers, when `seg` is written as Graph writes versions: `v` and two
/// numbers without leading zeros, the minor one at most 12.
fn version_numbers(seg: &str) -> Option<(u32, u32)> {
    let (major, minor) = seg.strip_prefix('v')?.split_once('.')?;
    let number = |s: &str| {
        let n: u32 = s.parse().ok()?;
        (n.to_string() == s).then_some(n)
    };
    let (major, minor) = (number(major)?, number(minor)?);
    (major >= 1 && minor <= 12).then_some((major, minor))
}

/// The version that serves a path's version segment: the same version when it is one of
/// [`VERSIONS`]; the oldest of them for an older one (Facebook serves a call to a retired
/// version with the oldest version still available); `None` for a version Graph does not have.
pub fn version(seg: &str) -> Option<&'static str> {
    if let Some(v) = VERSIONS.iter().find(|v| **v == seg) {
        return Some(v);
    }
    let oldest = VERSIONS.first().and_then(|v| version_numbers(v))?;
    (version_numbers(seg)? < oldest).then(|| VERSIONS[0])
}

/// A path segment, percent-decoded.
fn decode_segment(seg: &str) -> String {
    if !seg.contains('%') {
        return seg.to_string();
    }
    percent_encoding::percent_decode_str(seg)
        .decode_utf8_lossy()
        .into_owned()
}

/// A Graph path (no query) split into the version served and its decoded segments:
/// `/v3.1/me/accounts` → `("v3.1", ["me", "accounts"])`; without a version, `default`. A first
/// segment that looks like a version but is not one Graph has is code 2500, answered with
/// `default` as the version. Used for HTTP requests and for batch operations' `relative_url`.
pub fn split_path(
    path: &str,
    default: &'static str,
) -> Result<(&'static str, Vec<String>), (&'static str, GraphError)> {
    let mut segments = path.split('/').filter(|s| !s.is_empty()).peekable();
    let mut served = default;
    if let Some(first) = segments.peek() {
        if first.starts_with('v') && first[1..].starts_with(|c: char| c.is_ascii_digit()) {
            match version(first) {
                Some(v) => {
                    served = v;
                    segments.next();
                }
                None => {
                    let rest: Vec<&str> = segments.skip(1).collect();
                    let e = GraphError::unknown_path(&format!("/{}", rest.join("/")));
                    return Err((served, e));
                }
            }
        }
    }
    Ok((served, segments.map(decode_segment).collect()))
}

/// `method=` honoured on GET and POST (Koala sends DELETE as POST + `method=delete`).
pub fn method_override(method: Method, params: &Params) -> Method {
    if matches!(method, Method::Get | Method::Post) {
        if let Some(o) = params.get("method").and_then(Method::parse) {
            return o;
        }
    }
    method
}

#[derive(Clone)]
pub struct GraphRequest {
    pub method: Method,
    /// Path segments after the version, e.g. `["me", "accounts"]`.
    pub path: Vec<String>,
    pub params: Params,
    /// The access token, wherever it was sent.
    pub token: Option<String>,
    /// The version served, e.g. `v25.0` (one of [`VERSIONS`]).
    pub version: &'static str,
    /// Where this server is reached, e.g. `http://127.0.0.1:8080` (for paging URLs).
    pub base_url: String,
}

impl std::fmt::Debug for GraphRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GraphRequest")
            .field("method", &self.method)
            .field("path", &self.path)
            .field("params", &self.params)
            .field("token", &self.token.as_ref().map(|_| "<redacted>"))
            .field("version", &self.version)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn booleans() {
        let p = Params(vec![
            ("a".into(), "TRUE".into()),
            ("b".into(), "0".into()),
            ("c".into(), "yes".into()),
            ("d".into(), String::new()),
        ]);
        assert_eq!(p.boolean("a"), Ok(Some(true)));
        assert_eq!(p.boolean("b"), Ok(Some(false)));
        assert_eq!(p.boolean("d"), Ok(None));
        assert_eq!(p.boolean("e"), Ok(None));
        assert_eq!(
            p.boolean("c").unwrap_err().message,
            "(#100) Param c must be a boolean"
        );
    }

    #[test]
    fn paths_split_into_version_and_segments() {
        assert_eq!(
            split_path("/v23.0/me/accounts", DEFAULT_VERSION).unwrap(),
            ("v23.0", vec!["me".to_string(), "accounts".to_string()])
        );
        assert_eq!(
            split_path("me/a%20b", "v9.0").unwrap(),
            ("v9.0", vec!["me".to_string(), "a b".to_string()])
        );
        assert_eq!(split_path("/", "v9.0").unwrap().1, Vec::<String>::new());
        let (v, e) = split_path("v99.0/me", "v9.0").unwrap_err();
        assert_eq!((v, e.code), ("v9.0", 2500));
        assert_eq!(version("v2.80"), None);
    }

    #[test]
    fn retired_versions_are_served_by_the_oldest_available() {
        for listed in VERSIONS {
            assert_eq!(version(listed), Some(*listed));
        }
        for retired in ["v1.0", "v2.3", "v3.1", "v20.0"] {
            assert_eq!(version(retired), Some("v21.0"), "{retired}");
        }
        for unknown in ["v27.0", "v99.0", "v22.5", "v03.1", "v3", "3.1", "v2.13"] {
            assert_eq!(version(unknown), None, "{unknown}");
        }
        assert!(VERSIONS.contains(&DEFAULT_VERSION));
    }

    #[test]
    fn debug_output_hides_secrets() {
        let req = GraphRequest {
            method: Method::Get,
            path: vec!["me".into()],
            params: Params(vec![
                ("access_token".into(), "EAAsecret".into()),
                ("client_secret".into(), "s3cret".into()),
                ("fields".into(), "id".into()),
            ]),
            token: Some("EAAsecret".into()),
            version: "v25.0",
            base_url: "http://x".into(),
        };
        let shown = format!("{req:?}");
        assert!(
            !shown.contains("EAAsecret") && !shown.contains("s3cret"),
            "{shown}"
        );
        assert!(shown.contains("fields"));
    }
}

/// Property tests (see `fields::props`): any path splits or is refused.
#[cfg(test)]
mod props {
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn any_path_splits_or_is_refused(path in "\\PC{0,200}", versioned in "/v[0-9]{0,3}\\.[0-9]{0,3}/[a-z%0-9/]{0,40}") {
            let _ = super::split_path(&path, super::DEFAULT_VERSION);
            let _ = super::split_path(&versioned, super::DEFAULT_VERSION);
            let _ = super::version(&path);
        }
    }
}
