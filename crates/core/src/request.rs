//! A Graph request after the server has normalised it: version stripped, query and body merged,
//! the token found, `method=` honoured.

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
}

#[derive(Clone)]
pub struct GraphRequest {
    pub method: Method,
    /// Path segments after the version, e.g. `["me", "accounts"]`.
    pub path: Vec<String>,
    pub params: Params,
    /// The access token, wherever it was sent.
    pub token: Option<String>,
    /// The version served, e.g. `v25.0`.
    pub version: String,
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
            version: "v25.0".into(),
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
