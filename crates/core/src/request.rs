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
#[derive(Clone, Debug, Default)]
pub struct Params(pub Vec<(String, String)>);

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

#[derive(Clone, Debug)]
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
