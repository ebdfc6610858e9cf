//! Seed files: a world of apps, people, Pages, grants and Page content written in TOML (see `docs/seed.md`).
//!
//! [`parse`] checks everything that can be checked within one file — fields, types, names of
//! modes, platforms, roles, tasks and permissions, duplicate ids and keys, and references to keys —
//! and returns a [`World`]. References written as numeric ids are passed through for the core
//! service to resolve against the store. Every problem is a [`SeedError`] naming the file and line.

mod node;

use std::collections::{HashMap, HashSet};
use std::ops::Range;
use std::path::Path;

use graphtoken_core::model::{AppId, AppMode, AppRole, Id, PageId, Platform, RateLimits, UserId};
use graphtoken_core::permissions::{self, PUBLIC_PROFILE};
use graphtoken_core::tasks::{PageRole, Task, TaskSet};
use graphtoken_core::world::{
    Ref, SeedError, World, WorldApp, WorldComment, WorldGrant, WorldMessage, WorldPage, WorldPost,
    WorldUser,
};
use toml::Spanned;

use node::{Entries, Node};

/// The category a Page gets when its `[[pages]]` item has none.
pub const DEFAULT_CATEGORY: &str = "Community";

const SECTIONS: [&str; 6] = ["apps", "users", "pages", "grants", "posts", "messages"];

const APP_FIELDS: &[&str] = &[
    "key",
    "id",
    "name",
    "secret",
    "client_token",
    "mode",
    "platform",
    "require_appsecret_proof",
    "redirect_uris",
    "advanced_access",
    "deauthorize_callback_url",
    "data_deletion_url",
    "review_approved_at",
    "roles",
    "rate_limits",
    "test_user_limit",
];
const USER_FIELDS: &[&str] = &["key", "id", "name", "email", "password"];
const PAGE_FIELDS: &[&str] = &["key", "id", "name", "category", "tasks", "roles"];
const GRANT_FIELDS: &[&str] = &["user", "app", "granted", "declined"];
const POST_FIELDS: &[&str] = &[
    "key",
    "page",
    "app",
    "message",
    "published",
    "created_time",
    "comments",
];
const COMMENT_FIELDS: &[&str] = &["user", "message", "hidden"];
const MESSAGE_FIELDS: &[&str] = &["key", "page", "user", "message", "created_time"];

const APP_ROLES: [AppRole; 3] = [AppRole::Administrator, AppRole::Developer, AppRole::Tester];
const PAGE_ROLES: [&str; 5] = ["Admin", "Editor", "Moderator", "Advertiser", "Analyst"];

/// Reads and parses the seed file at `path`; the file name in messages is `path` as given.
pub fn load(path: &Path) -> Result<World, SeedError> {
    let source = path.display().to_string();
    match std::fs::read_to_string(path) {
        Ok(text) => parse(&source, &text),
        Err(e) => Err(SeedError {
            source,
            line: 0,
            problem: format!("cannot read the seed file: {e}"),
        }),
    }
}

/// Parses a seed world from `text`; `source` (usually the file name) prefixes every message.
pub fn parse(source: &str, text: &str) -> Result<World, SeedError> {
    let cx = Cx { source, text };
    let root: Node = toml::from_str(text).map_err(|e| cx.toml_error(&e))?;
    let Node::Table(root) = root else {
        return Err(cx.err(1, "the seed file must be a TOML document"));
    };

    // Sections.
    let mut items: [Vec<&Spanned<Node>>; 6] = Default::default();
    for (name, value) in &root {
        let Some(i) = SECTIONS.iter().position(|s| s == name.get_ref()) else {
            return Err(cx.err(
                cx.line(name.span()),
                format!(
                    "unknown section `{}`; expected one of [[apps]], [[users]], [[pages]], [[grants]], [[posts]], [[messages]]",
                    name.get_ref()
                ),
            ));
        };
        let Node::Array(list) = value.get_ref() else {
            return Err(cx.err(
                cx.line(value.span()),
                format!(
                    "`{n}` must be an array of tables written [[{n}]], not {}",
                    value.get_ref().kind(),
                    n = name.get_ref()
                ),
            ));
        };
        items[i].extend(list.iter());
    }
    let [apps, users, pages, grants, posts, messages] = items;

    // Each item on its own. The earliest problem in the file wins.
    let mut world = World {
        source: source.to_owned(),
        ..World::default()
    };
    let mut errors = Vec::new();
    let (mut app_ids, mut user_ids, mut page_ids) = (Vec::new(), Vec::new(), Vec::new());
    collect(
        &mut errors,
        &mut world.apps,
        &mut app_ids,
        apps.iter().map(|n| cx.app(n)),
    );
    collect(
        &mut errors,
        &mut world.users,
        &mut user_ids,
        users.iter().map(|n| cx.user(n)),
    );
    collect(
        &mut errors,
        &mut world.pages,
        &mut page_ids,
        pages.iter().map(|n| cx.page(n)),
    );
    let mut no_ids = Vec::new();
    let grants = grants.iter().map(|n| cx.grant(n).map(|g| (g, ())));
    collect(&mut errors, &mut world.grants, &mut no_ids, grants);
    let mut no_ids = Vec::new();
    let posts = posts.iter().map(|n| cx.post(n).map(|p| (p, ())));
    collect(&mut errors, &mut world.posts, &mut no_ids, posts);
    let mut no_ids = Vec::new();
    let messages = messages.iter().map(|n| cx.message(n).map(|m| (m, ())));
    collect(&mut errors, &mut world.messages, &mut no_ids, messages);
    if let Some(e) = errors.into_iter().min_by_key(|e| e.line) {
        return Err(e);
    }

    // Duplicates within each section, then references between sections.
    let app_keys = cx.unique("app", &app_ids)?;
    let user_keys = cx.unique("user", &user_ids)?;
    let page_keys = cx.unique("page", &page_ids)?;
    cx.unique_grants(&world.grants)?;
    let post_keys: Vec<_> = world.posts.iter().map(|p| (&p.key, p.line)).collect();
    cx.unique_keys("post", &post_keys)?;
    let message_keys: Vec<_> = world.messages.iter().map(|m| (&m.key, m.line)).collect();
    cx.unique_keys("message", &message_keys)?;
    cx.check_references(&world, &app_keys, &user_keys, &page_keys)?;
    Ok(world)
}

/// Sorts the items that parsed from the problems of those that did not.
fn collect<T, I>(
    errors: &mut Vec<SeedError>,
    out: &mut Vec<T>,
    idents: &mut Vec<I>,
    results: impl Iterator<Item = Result<(T, I), SeedError>>,
) {
    for r in results {
        match r {
            Ok((item, ident)) => {
                out.push(item);
                idents.push(ident);
            }
            Err(e) => errors.push(e),
        }
    }
}

/// Where a key or id was written: the `(value, line)` of the field.
type Located<T> = Option<(T, u32)>;

/// The key and id of an app, user or Page, with the lines they were written on.
struct Ident {
    key: Located<String>,
    id: Located<Id>,
}

struct Cx<'a> {
    source: &'a str,
    text: &'a str,
}

impl Cx<'_> {
    fn err(&self, line: u32, problem: impl Into<String>) -> SeedError {
        SeedError {
            source: self.source.to_owned(),
            line,
            problem: problem.into(),
        }
    }

    /// The 1-based line holding byte `span.start`.
    fn line(&self, span: Range<usize>) -> u32 {
        let end = span.start.min(self.text.len());
        let newlines = self.text.as_bytes()[..end]
            .iter()
            .filter(|b| **b == b'\n')
            .count();
        u32::try_from(newlines + 1).unwrap_or(u32::MAX)
    }

    fn toml_error(&self, e: &toml::de::Error) -> SeedError {
        let line = e.span().map_or(1, |s| self.line(s));
        let message = e.message().trim().replace('\n', "; ");
        let problem = if message.contains("$__toml_private_datetime") {
            "dates and times are not used in seed files; write a string".to_owned()
        } else {
            format!("invalid TOML: {message}")
        };
        self.err(line, problem)
    }

    /// The fields of one `[[section]]` item, after rejecting unknown ones.
    fn fields<'n>(
        &self,
        node: &'n Spanned<Node>,
        section: &'static str,
        allowed: &[&str],
    ) -> Result<Fields<'n>, SeedError> {
        let line = self.line(node.span());
        let Node::Table(entries) = node.get_ref() else {
            return Err(self.err(
                line,
                format!(
                    "each item of `{section}` must be a table, not {}",
                    node.get_ref().kind()
                ),
            ));
        };
        for (name, _) in entries {
            if !allowed.contains(&name.get_ref().as_str()) {
                return Err(self.err(
                    self.line(name.span()),
                    format!(
                        "unknown field `{}` in [[{section}]]; expected one of {}",
                        name.get_ref(),
                        allowed.join(", ")
                    ),
                ));
            }
        }
        Ok(Fields {
            section,
            line,
            entries,
        })
    }

    fn type_error(&self, f: &Fields<'_>, name: &str, want: &str, got: &Spanned<Node>) -> SeedError {
        self.err(
            self.line(got.span()),
            format!(
                "`{name}` in [[{}]] must be {want}, not {}",
                f.section,
                got.get_ref().kind()
            ),
        )
    }

    fn string(&self, f: &Fields<'_>, name: &str) -> Result<Located<String>, SeedError> {
        let Some(v) = f.get(name) else {
            return Ok(None);
        };
        let line = self.line(v.span());
        match v.get_ref() {
            Node::Str(s) if s.trim().is_empty() => Err(self.err(
                line,
                format!("`{name}` in [[{}]] must not be empty", f.section),
            )),
            Node::Str(s) => Ok(Some((s.clone(), line))),
            _ => Err(self.type_error(f, name, "a string", v)),
        }
    }

    fn required_string(&self, f: &Fields<'_>, name: &str) -> Result<(String, u32), SeedError> {
        self.string(f, name)?.ok_or_else(|| {
            self.err(
                f.line,
                format!("[[{}]] item has no `{name}`, which is required", f.section),
            )
        })
    }

    fn url(&self, f: &Fields<'_>, name: &str, s: &str, line: u32) -> Result<(), SeedError> {
        let scheme_ok = s.split_once("://").is_some_and(|(scheme, rest)| {
            !scheme.is_empty()
                && !rest.is_empty()
                && scheme
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
        });
        if scheme_ok {
            Ok(())
        } else {
            Err(self.err(
                line,
                format!(
                    "`{s}` in {name} of [[{}]] is not an absolute URL like https://example.com/callback",
                    f.section
                ),
            ))
        }
    }

    fn bool(&self, f: &Fields<'_>, name: &str) -> Result<Option<bool>, SeedError> {
        match f.get(name) {
            None => Ok(None),
            Some(v) => match v.get_ref() {
                Node::Bool(b) => Ok(Some(*b)),
                _ => Err(self.type_error(f, name, "true or false", v)),
            },
        }
    }

    fn string_list(&self, f: &Fields<'_>, name: &str) -> Result<Vec<(String, u32)>, SeedError> {
        match f.get(name) {
            None => Ok(Vec::new()),
            Some(v) => self.strings_in(v, &format!("`{name}` in [[{}]]", f.section)),
        }
    }

    /// An array of strings; `what` names it in messages.
    fn strings_in(&self, v: &Spanned<Node>, what: &str) -> Result<Vec<(String, u32)>, SeedError> {
        let Node::Array(list) = v.get_ref() else {
            return Err(self.err(
                self.line(v.span()),
                format!(
                    "{what} must be an array of strings, not {}",
                    v.get_ref().kind()
                ),
            ));
        };
        list.iter()
            .map(|item| {
                let line = self.line(item.span());
                match item.get_ref() {
                    Node::Str(s) => Ok((s.clone(), line)),
                    other => Err(self.err(
                        line,
                        format!(
                            "{what} must be an array of strings, but holds {}",
                            other.kind()
                        ),
                    )),
                }
            })
            .collect()
    }

    fn table<'n>(&self, f: &Fields<'n>, name: &str) -> Result<Option<&'n Entries>, SeedError> {
        match f.get(name) {
            None => Ok(None),
            Some(v) => match v.get_ref() {
                Node::Table(entries) => Ok(Some(entries)),
                _ => Err(self.type_error(f, name, "a table", v)),
            },
        }
    }

    /// `rate_limits = { app = N, user = N, page = N }`: calls per hour, each a positive integer;
    /// a budget left out keeps graphtoken's default.
    fn rate_limits(&self, f: &Fields<'_>) -> Result<RateLimits, SeedError> {
        let mut limits = RateLimits::default();
        for (name, value) in self.table(f, "rate_limits")?.into_iter().flatten() {
            let slot = match name.get_ref().as_str() {
                "app" => &mut limits.app,
                "user" => &mut limits.user,
                "page" => &mut limits.page,
                other => {
                    return Err(self.err(
                        self.line(name.span()),
                        format!(
                            "unknown budget `{other}` in rate_limits of [[{}]]; expected one of app, user, page",
                            f.section
                        ),
                    ))
                }
            };
            let what = format!("rate_limits.{} in [[{}]]", name.get_ref(), f.section);
            let line = self.line(value.span());
            *slot = Some(match value.get_ref() {
                Node::Int(n) => u32::try_from(*n).ok().filter(|n| *n > 0).ok_or_else(|| {
                    self.err(
                        line,
                        format!("{what} must be a positive number of calls per hour below 4294967296, not {n}"),
                    )
                })?,
                other => {
                    return Err(self.err(
                        line,
                        format!("{what} must be a positive integer (calls per hour), not {}", other.kind()),
                    ))
                }
            });
        }
        Ok(limits)
    }

    /// `test_user_limit = N`: how many test users the app may have, an integer from 0.
    fn test_user_limit(&self, f: &Fields<'_>) -> Result<Option<u32>, SeedError> {
        let Some(v) = f.get("test_user_limit") else {
            return Ok(None);
        };
        match v.get_ref() {
            Node::Int(n) => u32::try_from(*n).map(Some).map_err(|_| {
                self.err(
                    self.line(v.span()),
                    format!(
                        "test_user_limit in [[{}]] must be a number of test users from 0 to 4294967295, not {n}",
                        f.section
                    ),
                )
            }),
            _ => Err(self.type_error(f, "test_user_limit", "an integer", v)),
        }
    }

    /// A list of permission names from the catalogue, without repeats.
    fn permissions(&self, f: &Fields<'_>, name: &str) -> Result<Vec<(String, u32)>, SeedError> {
        let list = self.string_list(f, name)?;
        for (i, (p, line)) in list.iter().enumerate() {
            if !permissions::is_known(p) {
                return Err(self.err(*line, format!("unknown permission `{p}` in {name}")));
            }
            if list[..i].iter().any(|(q, _)| q == p) {
                return Err(self.err(*line, format!("permission `{p}` is listed twice in {name}")));
            }
        }
        Ok(list)
    }

    /// An id field: a string of digits (preferred) or an integer.
    fn id(&self, f: &Fields<'_>) -> Result<Located<Id>, SeedError> {
        let Some(v) = f.get("id") else {
            return Ok(None);
        };
        let line = self.line(v.span());
        let text = match v.get_ref() {
            Node::Str(s) => s.clone(),
            Node::Int(n) => n.to_string(),
            _ => {
                return Err(self.type_error(
                    f,
                    "id",
                    "a string of digits like \"1000000000000001\"",
                    v,
                ))
            }
        };
        match parse_id(&text) {
            Some(id) => Ok(Some((id, line))),
            None => Err(self.err(
                line,
                format!(
                    "`id` `{text}` in [[{}]] is not a valid id: it must be a positive number that fits in 63 bits, written in digits without leading zeros",
                    f.section
                ),
            )),
        }
    }

    /// The `key` and `id` of an app, user or Page; at least one is required.
    fn identity(&self, f: &Fields<'_>) -> Result<Ident, SeedError> {
        let key = self.string(f, "key")?;
        if let Some((k, line)) = &key {
            if is_numeric(k) {
                return Err(self.err(
                    *line,
                    format!(
                        "key `{k}` is all digits and would be read as an id; put the number in `id` or use a key with a letter in it"
                    ),
                ));
            }
        }
        let id = self.id(f)?;
        if key.is_none() && id.is_none() {
            return Err(self.err(
                f.line,
                format!("[[{}]] item needs a `key` or an `id`", f.section),
            ));
        }
        Ok(Ident { key, id })
    }

    /// A reference to a user or app: a key, or a numeric id (a string of digits or an integer).
    fn reference(&self, v: &Spanned<Node>, what: &str, kind: &str) -> Result<Ref, SeedError> {
        let line = self.line(v.span());
        let text = match v.get_ref() {
            Node::Str(s) => s.clone(),
            Node::Int(n) => n.to_string(),
            other => {
                return Err(self.err(
                    line,
                    format!(
                        "{what} must be a {kind} key or id (a string), not {}",
                        other.kind()
                    ),
                ))
            }
        };
        self.reference_text(text, line, kind)
    }

    fn reference_text(&self, text: String, line: u32, kind: &str) -> Result<Ref, SeedError> {
        if text.is_empty() {
            return Err(self.err(line, format!("empty {kind} reference")));
        }
        if is_numeric(&text) && parse_id(&text).is_none() {
            return Err(self.err(
                line,
                format!("`{text}` is not a valid {kind} id: it must be a positive number that fits in 63 bits, without leading zeros"),
            ));
        }
        Ok(Ref { text, line })
    }

    fn app(&self, node: &Spanned<Node>) -> Result<(WorldApp, Ident), SeedError> {
        let f = self.fields(node, "apps", APP_FIELDS)?;
        let ident = self.identity(&f)?;
        let (name, _) = self.required_string(&f, "name")?;
        let secret = self.string(&f, "secret")?.map(|(s, _)| s);
        let client_token = self.string(&f, "client_token")?.map(|(s, _)| s);
        let mode = match self.string(&f, "mode")? {
            None => AppMode::Development,
            Some((m, line)) => AppMode::parse(&m).ok_or_else(|| {
                self.err(
                    line,
                    format!("unknown app mode `{m}`; expected development or live"),
                )
            })?,
        };
        let platform = match self.string(&f, "platform")? {
            None => Platform::Web,
            Some((p, line)) => Platform::parse(&p).ok_or_else(|| {
                self.err(
                    line,
                    format!("unknown platform `{p}`; expected web or native"),
                )
            })?,
        };
        let require_appsecret_proof = self.bool(&f, "require_appsecret_proof")?.unwrap_or(false);
        let redirect_uris = self.string_list(&f, "redirect_uris")?;
        for (i, (uri, line)) in redirect_uris.iter().enumerate() {
            self.url(&f, "redirect_uris", uri, *line)?;
            if redirect_uris[..i].iter().any(|(u, _)| u == uri) {
                return Err(self.err(*line, format!("redirect URI `{uri}` is listed twice")));
            }
        }
        let advanced_access = self.permissions(&f, "advanced_access")?;
        let review_approved_at = match self.string(&f, "review_approved_at")? {
            Some((s, line)) => Some(graphtoken_core::timefmt::parse_utc(&s).ok_or_else(|| {
                self.err(
                    line,
                    format!(
                        "`{s}` in review_approved_at of [[apps]] is not a date like \"2026-01-15\" or unix seconds"
                    ),
                )
            })?),
            None => None,
        };
        let data_deletion_url = self.string(&f, "data_deletion_url")?;
        if let Some((url, line)) = &data_deletion_url {
            self.url(&f, "data_deletion_url", url, *line)?;
        }
        let deauthorize_callback_url = self.string(&f, "deauthorize_callback_url")?;
        if let Some((url, line)) = &deauthorize_callback_url {
            self.url(&f, "deauthorize_callback_url", url, *line)?;
        }
        let rate_limits = self.rate_limits(&f)?;
        let test_user_limit = self.test_user_limit(&f)?;

        let mut roles: Vec<(Ref, AppRole)> = Vec::new();
        for (role_name, users) in self.table(&f, "roles")?.into_iter().flatten() {
            let role = AppRole::parse(role_name.get_ref()).ok_or_else(|| {
                self.err(
                    self.line(role_name.span()),
                    format!(
                        "unknown app role `{}`; expected one of administrators, developers, testers",
                        role_name.get_ref()
                    ),
                )
            })?;
            let what = format!("roles.{}", role.as_str());
            let Node::Array(list) = users.get_ref() else {
                return Err(self.err(
                    self.line(users.span()),
                    format!(
                        "{what} must be an array of user keys or ids, not {}",
                        users.get_ref().kind()
                    ),
                ));
            };
            for user in list {
                let r = self.reference(user, &format!("each user in {what}"), "user")?;
                if let Some((first, _)) =
                    roles.iter().find(|(q, ro)| q.text == r.text && *ro == role)
                {
                    return Err(self.err(
                        r.line,
                        format!(
                            "user `{}` is listed twice in {what} (first at line {})",
                            r.text, first.line
                        ),
                    ));
                }
                roles.push((r, role));
            }
        }
        // Order the roles as administrators, developers, testers, keeping file order within each.
        roles.sort_by_key(|(_, role)| APP_ROLES.iter().position(|r| r == role));

        let item = WorldApp {
            line: f.line,
            key: ident.key.as_ref().map(|(k, _)| k.clone()),
            id: ident.id.as_ref().map(|(i, _)| AppId(*i)),
            name,
            secret,
            client_token,
            mode,
            platform,
            require_appsecret_proof,
            redirect_uris: redirect_uris.into_iter().map(|(u, _)| u).collect(),
            advanced_access: advanced_access.into_iter().map(|(p, _)| p).collect(),
            deauthorize_callback_url: deauthorize_callback_url.map(|(u, _)| u),
            data_deletion_url: data_deletion_url.map(|(u, _)| u),
            review_approved_at,
            roles,
            rate_limits,
            test_user_limit,
        };
        Ok((item, ident))
    }

    fn user(&self, node: &Spanned<Node>) -> Result<(WorldUser, Ident), SeedError> {
        let f = self.fields(node, "users", USER_FIELDS)?;
        let ident = self.identity(&f)?;
        let (name, _) = self.required_string(&f, "name")?;
        let email = self.string(&f, "email")?;
        if let Some((email, line)) = &email {
            let valid = email
                .split_once('@')
                .is_some_and(|(local, domain)| !local.is_empty() && !domain.is_empty());
            if !valid || email.contains(char::is_whitespace) {
                return Err(self.err(*line, format!("`{email}` is not an email address")));
            }
        }
        let password = self.string(&f, "password")?.map(|(p, _)| p);
        let item = WorldUser {
            line: f.line,
            key: ident.key.as_ref().map(|(k, _)| k.clone()),
            id: ident.id.as_ref().map(|(i, _)| UserId(*i)),
            name,
            email: email.map(|(e, _)| e),
            password,
        };
        Ok((item, ident))
    }

    fn page(&self, node: &Spanned<Node>) -> Result<(WorldPage, Ident), SeedError> {
        let f = self.fields(node, "pages", PAGE_FIELDS)?;
        let ident = self.identity(&f)?;
        let (name, _) = self.required_string(&f, "name")?;
        let category = self
            .string(&f, "category")?
            .map_or_else(|| DEFAULT_CATEGORY.to_owned(), |(c, _)| c);

        let task_table = self.table(&f, "tasks")?;
        let role_table = self.table(&f, "roles")?;
        if task_table.is_some() && role_table.is_some() {
            let line = f.line_of(self, "tasks").max(f.line_of(self, "roles"));
            return Err(self.err(
                line,
                "page has both tasks and roles; give each person either tasks or a role, in one of the two tables",
            ));
        }

        let mut tasks: Vec<(Ref, TaskSet)> = Vec::new();
        for (user, value) in task_table.into_iter().flatten() {
            let r = self.reference_text(user.get_ref().clone(), self.line(user.span()), "user")?;
            let names = self.strings_in(value, &format!("the tasks of `{}`", r.text))?;
            if names.is_empty() {
                return Err(self.err(
                    r.line,
                    format!(
                        "empty task list for `{}`; leave the person out to give them no tasks",
                        r.text
                    ),
                ));
            }
            let mut set = TaskSet::EMPTY;
            for (name, line) in names {
                let task = Task::parse(&name).ok_or_else(|| {
                    let all: Vec<_> = Task::ALL.iter().map(|t| t.as_str()).collect();
                    self.err(
                        line,
                        format!("unknown task `{name}`; expected one of {}", all.join(", ")),
                    )
                })?;
                set = set.with(task);
            }
            tasks.push((r, set));
        }
        for (user, value) in role_table.into_iter().flatten() {
            let r = self.reference_text(user.get_ref().clone(), self.line(user.span()), "user")?;
            let line = self.line(value.span());
            let Node::Str(role) = value.get_ref() else {
                return Err(self.err(
                    line,
                    format!(
                        "the role of `{}` must be a string like \"Admin\", not {}",
                        r.text,
                        value.get_ref().kind()
                    ),
                ));
            };
            let role = PageRole::parse(role).ok_or_else(|| {
                self.err(
                    line,
                    format!(
                        "unknown role `{role}`; expected one of {}",
                        PAGE_ROLES.join(", ")
                    ),
                )
            })?;
            tasks.push((r, role.tasks()));
        }

        let item = WorldPage {
            line: f.line,
            key: ident.key.as_ref().map(|(k, _)| k.clone()),
            id: ident.id.as_ref().map(|(i, _)| PageId(*i)),
            name,
            category,
            tasks,
        };
        Ok((item, ident))
    }

    fn grant(&self, node: &Spanned<Node>) -> Result<WorldGrant, SeedError> {
        let f = self.fields(node, "grants", GRANT_FIELDS)?;
        let required = |name: &str| {
            f.get(name).ok_or_else(|| {
                self.err(
                    f.line,
                    format!("[[grants]] item has no `{name}`, which is required"),
                )
            })
        };
        let user = self.reference(required("user")?, "`user` in [[grants]]", "user")?;
        let app = self.reference(required("app")?, "`app` in [[grants]]", "app")?;
        let granted = self.permissions(&f, "granted")?;
        let declined = self.permissions(&f, "declined")?;
        for (p, line) in &declined {
            if p == PUBLIC_PROFILE {
                return Err(self.err(
                    *line,
                    format!("`{PUBLIC_PROFILE}` cannot be declined; it is always granted"),
                ));
            }
            if granted.iter().any(|(q, _)| q == p) {
                return Err(self.err(
                    *line,
                    format!("permission `{p}` is both granted and declined"),
                ));
            }
        }
        let mut granted: Vec<String> = granted.into_iter().map(|(p, _)| p).collect();
        if !granted.iter().any(|p| p == PUBLIC_PROFILE) {
            granted.insert(0, PUBLIC_PROFILE.to_owned());
        }
        Ok(WorldGrant {
            line: f.line,
            user,
            app,
            granted,
            declined: declined.into_iter().map(|(p, _)| p).collect(),
        })
    }

    /// Rejects a key or id used twice in one section; returns the keys defined there.
    fn unique<'w>(&self, kind: &str, idents: &'w [Ident]) -> Result<HashSet<&'w str>, SeedError> {
        let mut keys: HashMap<&str, u32> = HashMap::new();
        let mut ids: HashMap<Id, u32> = HashMap::new();
        let mut problems = Vec::new();
        for ident in idents {
            if let Some((k, line)) = &ident.key {
                if let Some(first) = keys.get(k.as_str()) {
                    problems.push(self.err(
                        *line,
                        format!("duplicate {kind} key `{k}` (first at line {first})"),
                    ));
                } else {
                    keys.insert(k, *line);
                }
            }
            if let Some((id, line)) = &ident.id {
                if let Some(first) = ids.get(id) {
                    problems.push(self.err(
                        *line,
                        format!("duplicate {kind} id {id} (first at line {first})"),
                    ));
                } else {
                    ids.insert(*id, *line);
                }
            }
        }
        match problems.into_iter().min_by_key(|e| e.line) {
            Some(e) => Err(e),
            None => Ok(keys.into_keys().collect()),
        }
    }

    /// `created_time`: a date string or unix seconds.
    fn created_time(&self, f: &Fields<'_>) -> Result<Option<i64>, SeedError> {
        let Some(v) = f.get("created_time") else {
            return Ok(None);
        };
        let line = self.line(v.span());
        let text = match v.get_ref() {
            Node::Str(s) => s.clone(),
            Node::Int(n) => n.to_string(),
            _ => {
                return Err(self.type_error(
                    f,
                    "created_time",
                    "a date string like \"2026-01-15T09:30:00Z\" or unix seconds",
                    v,
                ))
            }
        };
        graphtoken_core::timefmt::parse_utc(&text)
            .map(Some)
            .ok_or_else(|| {
                self.err(
                    line,
                    format!(
                        "`{text}` in created_time of [[{}]] is not a date like \"2026-01-15\" or unix seconds",
                        f.section
                    ),
                )
            })
    }

    /// A required reference field of `[[posts]]` or `[[messages]]`.
    fn required_ref(&self, f: &Fields<'_>, name: &str, kind: &str) -> Result<Ref, SeedError> {
        let v = f.get(name).ok_or_else(|| {
            self.err(
                f.line,
                format!("[[{}]] item has no `{name}`, which is required", f.section),
            )
        })?;
        self.reference(v, &format!("`{name}` in [[{}]]", f.section), kind)
    }

    fn post(&self, node: &Spanned<Node>) -> Result<WorldPost, SeedError> {
        let f = self.fields(node, "posts", POST_FIELDS)?;
        let (key, _) = self.required_string(&f, "key")?;
        let page = self.required_ref(&f, "page", "page")?;
        let app = match f.get("app") {
            Some(v) => Some(self.reference(v, "`app` in [[posts]]", "app")?),
            None => None,
        };
        let (message, _) = self.required_string(&f, "message")?;
        let published = self.bool(&f, "published")?.unwrap_or(true);
        let created_time = self.created_time(&f)?;
        let mut comments = Vec::new();
        if let Some(v) = f.get("comments") {
            let Node::Array(list) = v.get_ref() else {
                return Err(self.type_error(
                    &f,
                    "comments",
                    "an array of tables like { user = \"bob\", message = \"...\" }",
                    v,
                ));
            };
            for item in list {
                comments.push(self.comment(item)?);
            }
        }
        Ok(WorldPost {
            line: f.line,
            key,
            page,
            app,
            message,
            published,
            created_time,
            comments,
        })
    }

    fn comment(&self, node: &Spanned<Node>) -> Result<WorldComment, SeedError> {
        let line = self.line(node.span());
        let Node::Table(entries) = node.get_ref() else {
            return Err(self.err(
                line,
                format!(
                    "each comment in [[posts]] must be a table like {{ user = \"bob\", message = \"...\" }}, not {}",
                    node.get_ref().kind()
                ),
            ));
        };
        for (name, _) in entries {
            if !COMMENT_FIELDS.contains(&name.get_ref().as_str()) {
                return Err(self.err(
                    self.line(name.span()),
                    format!(
                        "unknown field `{}` in a comment of [[posts]]; expected one of {}",
                        name.get_ref(),
                        COMMENT_FIELDS.join(", ")
                    ),
                ));
            }
        }
        let get = |name: &str| {
            entries
                .iter()
                .find(|(k, _)| k.get_ref() == name)
                .map(|(_, v)| v)
        };
        let user = get("user").ok_or_else(|| {
            self.err(
                line,
                "a comment in [[posts]] has no `user`, which is required",
            )
        })?;
        let user = self.reference(user, "`user` of a comment in [[posts]]", "user")?;
        let message = match get("message") {
            None => {
                return Err(self.err(
                    line,
                    "a comment in [[posts]] has no `message`, which is required",
                ))
            }
            Some(v) => match v.get_ref() {
                Node::Str(s) if s.trim().is_empty() => {
                    return Err(self.err(
                        self.line(v.span()),
                        "`message` of a comment in [[posts]] must not be empty",
                    ))
                }
                Node::Str(s) => s.clone(),
                other => {
                    return Err(self.err(
                        self.line(v.span()),
                        format!(
                            "`message` of a comment in [[posts]] must be a string, not {}",
                            other.kind()
                        ),
                    ))
                }
            },
        };
        let hidden = match get("hidden") {
            None => false,
            Some(v) => match v.get_ref() {
                Node::Bool(b) => *b,
                other => {
                    return Err(self.err(
                        self.line(v.span()),
                        format!(
                            "`hidden` of a comment in [[posts]] must be true or false, not {}",
                            other.kind()
                        ),
                    ))
                }
            },
        };
        Ok(WorldComment {
            line,
            user,
            message,
            hidden,
        })
    }

    fn message(&self, node: &Spanned<Node>) -> Result<WorldMessage, SeedError> {
        let f = self.fields(node, "messages", MESSAGE_FIELDS)?;
        let (key, _) = self.required_string(&f, "key")?;
        let page = self.required_ref(&f, "page", "page")?;
        let user = self.required_ref(&f, "user", "user")?;
        let (message, _) = self.required_string(&f, "message")?;
        let created_time = self.created_time(&f)?;
        Ok(WorldMessage {
            line: f.line,
            key,
            page,
            user,
            message,
            created_time,
        })
    }

    /// Rejects two grants of one app to one person (as written: a key and an id are not compared).
    fn unique_grants(&self, grants: &[WorldGrant]) -> Result<(), SeedError> {
        for (i, g) in grants.iter().enumerate() {
            if let Some(first) = grants[..i]
                .iter()
                .find(|h| h.user.text == g.user.text && h.app.text == g.app.text)
            {
                return Err(self.err(
                    g.line,
                    format!(
                        "duplicate grant of app `{}` to user `{}` (first at line {})",
                        g.app.text, g.user.text, first.line
                    ),
                ));
            }
        }
        Ok(())
    }

    /// Rejects a `key` used twice among `[[posts]]` or `[[messages]]`.
    fn unique_keys(&self, kind: &str, keys: &[(&String, u32)]) -> Result<(), SeedError> {
        for (i, (k, line)) in keys.iter().enumerate() {
            if let Some((_, first)) = keys[..i].iter().find(|(q, _)| q == k) {
                return Err(self.err(
                    *line,
                    format!("duplicate {kind} key `{k}` (first at line {first})"),
                ));
            }
        }
        Ok(())
    }

    fn check_references(
        &self,
        world: &World,
        apps: &HashSet<&str>,
        users: &HashSet<&str>,
        pages: &HashSet<&str>,
    ) -> Result<(), SeedError> {
        let check = |r: &Ref, kind: &str, keys: &HashSet<&str>| {
            if is_numeric(&r.text) || keys.contains(r.text.as_str()) {
                Ok(())
            } else {
                Err(self.err(
                    r.line,
                    format!(
                        "unknown {kind} `{}` (not a key in this file and not a numeric id)",
                        r.text
                    ),
                ))
            }
        };
        let mut refs: Vec<(&Ref, &str, &HashSet<&str>)> = Vec::new();
        for app in &world.apps {
            refs.extend(app.roles.iter().map(|(r, _)| (r, "user", users)));
        }
        for page in &world.pages {
            refs.extend(page.tasks.iter().map(|(r, _)| (r, "user", users)));
        }
        for grant in &world.grants {
            refs.push((&grant.user, "user", users));
            refs.push((&grant.app, "app", apps));
        }
        for post in &world.posts {
            refs.push((&post.page, "page", pages));
            refs.extend(post.app.iter().map(|a| (a, "app", apps)));
            refs.extend(post.comments.iter().map(|c| (&c.user, "user", users)));
        }
        for message in &world.messages {
            refs.push((&message.page, "page", pages));
            refs.push((&message.user, "user", users));
        }
        refs.sort_by_key(|(r, _, _)| r.line);
        for (r, kind, keys) in refs {
            check(r, kind, keys)?;
        }
        Ok(())
    }
}

struct Fields<'n> {
    section: &'static str,
    /// The line of the item's `[[section]]` header.
    line: u32,
    entries: &'n Entries,
}

impl<'n> Fields<'n> {
    fn get(&self, name: &str) -> Option<&'n Spanned<Node>> {
        self.entries
            .iter()
            .find(|(k, _)| k.get_ref() == name)
            .map(|(_, v)| v)
    }

    /// The line of the field's name, or of the header if the field is absent.
    fn line_of(&self, cx: &Cx<'_>, name: &str) -> u32 {
        self.entries
            .iter()
            .find(|(k, _)| k.get_ref() == name)
            .map_or(self.line, |(k, _)| cx.line(k.span()))
    }
}

fn is_numeric(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

/// A Graph id: digits without leading zeros, positive, at most `i64::MAX`.
fn parse_id(s: &str) -> Option<Id> {
    if !is_numeric(s) || s.starts_with('0') {
        return None;
    }
    s.parse::<i64>().ok().and_then(|n| Id::try_from(n).ok())
}

#[cfg(test)]
mod tests;
