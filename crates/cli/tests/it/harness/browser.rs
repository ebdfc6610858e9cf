//! A tiny browser for the login pages: keeps the session cookie, does not follow redirects,
//! and reads form fields out of the HTML.

use super::{send, Body, Resp, Server};

pub struct Browser<'a> {
    pub server: &'a Server,
    cookie: Option<String>,
    agent: ureq::Agent,
    /// Sent as `X-Forwarded-For` (for a server that trusts the loopback proxy).
    forwarded_for: Option<String>,
    /// Sends `X-Forwarded-Proto: https`, as a TLS proxy in front would.
    forwarded_https: bool,
}

impl<'a> Browser<'a> {
    pub fn new(server: &'a Server) -> Self {
        Browser {
            server,
            cookie: None,
            agent: ureq::AgentBuilder::new().redirects(0).build(),
            forwarded_for: None,
            forwarded_https: false,
        }
    }

    /// A browser that sends `cookie` (`name=value`), as a copy of another browser's would.
    pub fn with_cookie(server: &'a Server, cookie: &str) -> Self {
        Browser {
            cookie: Some(cookie.to_string()),
            ..Browser::new(server)
        }
    }

    /// A browser at `address`, behind a proxy the server trusts (`--trusted-proxy 127.0.0.1`).
    pub fn at(server: &'a Server, address: &str) -> Self {
        Browser {
            forwarded_for: Some(address.to_string()),
            ..Browser::new(server)
        }
    }

    /// The same browser, behind a proxy that says the request came over https.
    pub fn over_https(self) -> Self {
        Browser {
            forwarded_https: true,
            ..self
        }
    }

    fn headers(&self, mut req: ureq::Request) -> ureq::Request {
        if let Some(c) = &self.cookie {
            req = req.set("Cookie", c);
        }
        if let Some(a) = &self.forwarded_for {
            req = req.set("X-Forwarded-For", a);
        }
        if self.forwarded_https {
            req = req.set("X-Forwarded-Proto", "https");
        }
        req
    }

    /// Keeps each cookie the answer sets (by name, over the one it replaces).
    fn remember(&mut self, r: &Resp) {
        for (_, set) in r
            .headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case("set-cookie"))
        {
            let Some(pair) = set.split(';').next().map(str::trim) else {
                continue;
            };
            let name = pair.split('=').next().unwrap_or("");
            let mut jar: Vec<String> = self
                .cookie
                .as_deref()
                .unwrap_or("")
                .split("; ")
                .filter(|c| !c.is_empty() && c.split('=').next() != Some(name))
                .map(str::to_string)
                .collect();
            jar.push(pair.to_string());
            self.cookie = Some(jar.join("; "));
        }
    }

    /// GET a path (or a full URL) with the session cookie.
    pub fn get(&mut self, path: &str) -> Resp {
        let url = if path.starts_with("http") {
            path.to_string()
        } else {
            self.server.url(path)
        };
        let req = self.headers(self.agent.get(&url));
        let r = send(req, Body::None);
        self.remember(&r);
        r
    }

    /// The session cookie (`name=value`), for requests sent from other threads.
    pub fn cookie(&self) -> Option<String> {
        self.cookie.clone()
    }

    pub fn post(&mut self, path: &str, form: &[(&str, &str)]) -> Resp {
        let req = self.headers(self.agent.post(&self.server.url(path)));
        let r = send(req, Body::Form(form));
        self.remember(&r);
        r
    }

    /// Signs in on the sign-in page `page` and follows the redirect back to its `next`.
    pub fn sign_in(&mut self, page: &Resp, email: &str, password: &str) -> Resp {
        let r = self.submit_sign_in(page, email, password);
        assert_eq!(r.status, 303, "sign-in failed: {}", r.text);
        let next = r.header("location").unwrap().to_string();
        self.get(&next)
    }

    pub fn submit_sign_in(&mut self, page: &Resp, email: &str, password: &str) -> Resp {
        assert!(is_sign_in(page), "not a sign-in page: {}", page.text);
        let next = field(&page.text, "next").unwrap();
        let csrf = field(&page.text, "csrf").unwrap();
        self.post(
            "/login",
            &[
                ("email", email),
                ("pass", password),
                ("next", &next),
                ("csrf", &csrf),
            ],
        )
    }

    /// Presses Continue with `scopes` and, on the page's Page step, `pages` ticked.
    pub fn answer_with_pages(&mut self, page: &Resp, scopes: &[&str], pages: &[&str]) -> Resp {
        assert!(
            page.text.contains(r#"name="pages_offered""#),
            "no Page step: {}",
            page.text
        );
        let mut extra = vec![("pages_offered", "1")];
        extra.extend(pages.iter().map(|p| ("page", *p)));
        self.answer_with(page, scopes, true, &extra)
    }

    /// Presses Continue (with `scopes` ticked) or Cancel on a consent page.
    pub fn answer(&mut self, page: &Resp, scopes: &[&str], cont: bool) -> Resp {
        self.answer_with(page, scopes, cont, &[])
    }

    fn answer_with(
        &mut self,
        page: &Resp,
        scopes: &[&str],
        cont: bool,
        extra: &[(&str, &str)],
    ) -> Resp {
        assert!(is_consent(page), "not a consent page: {}", page.text);
        let action = form_action(&page.text);
        let csrf = field(&page.text, "csrf").unwrap();
        let mut form: Vec<(&str, String)> = vec![("csrf", csrf)];
        for hidden in ["dialog", "user_code", "consent"] {
            if let Some(v) = field(&page.text, hidden) {
                form.push((hidden, v));
            }
        }
        form.push(("scope", "public_profile".into()));
        for s in scopes {
            form.push(("scope", s.to_string()));
        }
        form.extend(extra.iter().map(|(k, v)| (*k, v.to_string())));
        form.push(("action", if cont { "continue" } else { "cancel" }.into()));
        let pairs: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
        self.post(&action, &pairs)
    }
}

pub fn is_sign_in(r: &Resp) -> bool {
    r.text.contains(r#"action="/login""#)
}

pub fn is_consent(r: &Resp) -> bool {
    r.text.contains(r#"id="continue""#) && r.text.contains(r#"name="action""#)
}

/// The Page step of a consent page: each Page's id and whether it is ticked.
pub fn page_choices(r: &Resp) -> Vec<(String, bool)> {
    r.text
        .split(r#"type="checkbox" name="page" value=""#)
        .skip(1)
        .filter_map(|rest| {
            let id = rest.split('"').next()?;
            let tag = rest.split('>').next()?;
            Some((id.to_string(), tag.contains("checked")))
        })
        .collect()
}

/// The permissions a consent page offers with a toggle of their own.
pub fn toggles(r: &Resp) -> Vec<String> {
    r.text
        .split(r#"type="checkbox" name="scope" value=""#)
        .skip(1)
        .filter_map(|rest| rest.split('"').next())
        .filter(|p| *p != "public_profile")
        .map(str::to_string)
        .collect()
}

fn form_action(html: &str) -> String {
    html.split(r#"<form method="post" action=""#)
        .skip(1)
        .filter_map(|rest| rest.split('"').next())
        .find(|a| *a != "/logout")
        .unwrap()
        .to_string()
}

/// The value of the first input named `name`, unescaped.
pub fn field(html: &str, name: &str) -> Option<String> {
    let marker = format!(r#"name="{name}""#);
    let at = html.find(&marker)?;
    let tag_start = html[..at].rfind('<')?;
    let tag_end = at + html[at..].find('>')?;
    let tag = &html[tag_start..tag_end];
    let v = tag.split(r#"value=""#).nth(1)?.split('"').next()?;
    Some(
        v.replace("&quot;", "\"")
            .replace("&#39;", "'")
            .replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&amp;", "&"),
    )
}

/// The query (or fragment) parameters of a redirect.
pub fn params_of(location: &str, fragment: bool) -> Vec<(String, String)> {
    let part = if fragment {
        location.split_once('#').map(|(_, f)| f).unwrap_or("")
    } else {
        let q = location.split_once('?').map(|(_, q)| q).unwrap_or("");
        q.split('#').next().unwrap_or("")
    };
    url_decode_pairs(part)
}

fn url_decode_pairs(s: &str) -> Vec<(String, String)> {
    s.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (decode(k), decode(v))
        })
        .collect()
}

fn decode(s: &str) -> String {
    let s = s.replace('+', " ");
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            if let Ok(n) = u8::from_str_radix(&s[i + 1..i + 3], 16) {
                out.push(n);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8(out).unwrap()
}

pub fn param(params: &[(String, String)], name: &str) -> Option<String> {
    params
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.clone())
}
