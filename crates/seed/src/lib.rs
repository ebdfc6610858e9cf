//! Seed files: a world of apps, people, Pages, grants and Page content written in TOML (see
//! `docs/seed.md`).
//!
//! A file deserializes straight into [`World`] (core's seed types: the names of modes,
//! platforms, roles, tasks and permissions, ids, keys and references are checked as they are
//! read). What only the whole file can tell is checked here: the rules between fields of one
//! item, duplicate ids and keys, and references to keys. References written as numeric ids are
//! passed through for the core service to resolve against the store. Every problem is a
//! [`SeedError`] naming the file and line.

use std::collections::{HashMap, HashSet};
use std::path::Path;

use graphtoken_core::model::{App, AppRole, Page, User};
use graphtoken_core::permissions::PUBLIC_PROFILE;
pub use graphtoken_core::world::DEFAULT_CATEGORY;
use graphtoken_core::world::{Item, Lines, Ref, Referent, SeedError, World};

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
    let lines = Lines::of(text);
    // The syntax first, so that its problems read as such.
    toml::from_str::<serde::de::IgnoredAny>(text)
        .map_err(|e| toml_error(source, text, &lines, &e, true))?;
    let mut world: World =
        toml::from_str(text).map_err(|e| toml_error(source, text, &lines, &e, false))?;
    world.source = source.to_owned();
    world.lines = lines;
    earliest(items(&world))?;
    earliest(duplicates(&world))?;
    references(&world)?;
    Ok(world)
}

/// The problem on the earliest line, if any.
fn earliest(problems: Vec<SeedError>) -> Result<(), SeedError> {
    match problems.into_iter().min_by_key(|e| e.line) {
        Some(e) => Err(e),
        None => Ok(()),
    }
}

/// A problem the TOML reader found: in the syntax (`syntax`), or in a value.
fn toml_error(
    source: &str,
    text: &str,
    lines: &Lines,
    e: &toml::de::Error,
    syntax: bool,
) -> SeedError {
    let line = e.span().map_or(1, |s| lines.line(s.start));
    let message = e.message().trim().replace('\n', "; ");
    // TOML hands a date or time to serde as a map; a map written as such starts otherwise.
    let written = e.span().and_then(|s| text.get(s.start..)).unwrap_or("");
    let date = message.starts_with("invalid type: map")
        && written.starts_with(|c: char| c.is_ascii_digit());
    let problem = if date {
        "dates and times are not used in seed files; write a string".to_owned()
    } else if syntax {
        format!("invalid TOML: {message}")
    } else {
        message
    };
    SeedError {
        source: source.to_owned(),
        line,
        problem,
    }
}

/// The rules between the fields of one item.
fn items(world: &World) -> Vec<SeedError> {
    let mut problems = Vec::new();
    let sections = [
        (
            "apps",
            keyed(&world.apps, |a| a.key.is_some() || a.id.is_some()),
        ),
        (
            "users",
            keyed(&world.users, |u| u.key.is_some() || u.id.is_some()),
        ),
        (
            "pages",
            keyed(&world.pages, |p| p.key.is_some() || p.id.is_some()),
        ),
    ];
    for (section, unnamed) in sections {
        problems.extend(
            unnamed
                .into_iter()
                .map(|at| world.error(at, format!("[[{section}]] item needs a `key` or an `id`"))),
        );
    }
    for page in &world.pages {
        if page.tasks.is_some() && page.roles.is_some() {
            problems.push(world.error(
                page.at,
                "page has both tasks and roles; give each person either tasks or a role, in one of the two tables",
            ));
        }
    }
    for grant in &world.grants {
        for p in &grant.declined {
            if p == PUBLIC_PROFILE {
                problems.push(world.error(
                    grant.at,
                    format!("`{PUBLIC_PROFILE}` cannot be declined; it is always granted"),
                ));
            } else if grant.granted.contains(p) {
                problems.push(world.error(
                    grant.at,
                    format!("permission `{p}` is both granted and declined"),
                ));
            }
        }
    }
    problems
}

/// Where the items that fail `named` start.
fn keyed<T>(items: &[Item<T>], named: impl Fn(&T) -> bool) -> Vec<usize> {
    items
        .iter()
        .filter(|i| !named(&i.value))
        .map(|i| i.at)
        .collect()
}

/// Ids and keys used twice in a section, people listed twice in one app role, grants of one
/// app to one person written twice (a key and an id are not compared).
fn duplicates(world: &World) -> Vec<SeedError> {
    let mut d = Duplicates {
        world,
        problems: Vec::new(),
    };
    d.check(
        "app key",
        world
            .apps
            .iter()
            .filter_map(|a| Some((a.key.clone()?, a.at))),
    );
    d.check(
        "app id",
        world
            .apps
            .iter()
            .filter_map(|a| Some((a.id?.to_string(), a.at))),
    );
    d.check(
        "user key",
        world
            .users
            .iter()
            .filter_map(|u| Some((u.key.clone()?, u.at))),
    );
    d.check(
        "user id",
        world
            .users
            .iter()
            .filter_map(|u| Some((u.id?.to_string(), u.at))),
    );
    d.check(
        "page key",
        world
            .pages
            .iter()
            .filter_map(|p| Some((p.key.clone()?, p.at))),
    );
    d.check(
        "page id",
        world
            .pages
            .iter()
            .filter_map(|p| Some((p.id?.to_string(), p.at))),
    );
    d.check(
        "post key",
        world.posts.iter().map(|p| (p.key.clone(), p.at)),
    );
    d.check(
        "message key",
        world.messages.iter().map(|m| (m.key.clone(), m.at)),
    );
    d.check(
        "grant",
        world.grants.iter().map(|g| {
            let what = format!("of app `{}` to user `{}`", g.app.text, g.user.text);
            (what, g.at)
        }),
    );
    for app in &world.apps {
        for role in [AppRole::Administrator, AppRole::Developer, AppRole::Tester] {
            let holders = app.roles.iter().filter(|(_, r)| *r == role);
            d.check_with(holders.map(|(u, _)| (u.text.clone(), u.at)), |u, first| {
                format!(
                    "user `{u}` is listed twice in roles.{} (first at line {first})",
                    role.as_str()
                )
            });
        }
    }
    d.problems
}

struct Duplicates<'w> {
    world: &'w World,
    problems: Vec<SeedError>,
}

impl Duplicates<'_> {
    /// `what` written twice among `items`: `duplicate {what} {value} (first at line N)`, the
    /// value quoted when it is a key.
    fn check(&mut self, what: &str, items: impl Iterator<Item = (String, usize)>) {
        let quote = what.ends_with("key");
        self.check_with(items, |value, first| {
            let shown = if quote {
                format!("`{value}`")
            } else {
                value.to_owned()
            };
            format!("duplicate {what} {shown} (first at line {first})")
        });
    }

    /// A value written twice among `items`; `problem(value, first line)` says so.
    fn check_with(
        &mut self,
        items: impl Iterator<Item = (String, usize)>,
        problem: impl Fn(&str, u32) -> String,
    ) {
        let mut first: HashMap<String, usize> = HashMap::new();
        for (value, at) in items {
            match first.get(&value) {
                Some(earlier) => {
                    let line = self.world.lines.line(*earlier);
                    let p = problem(&value, line);
                    self.problems.push(self.world.error(at, p));
                }
                None => {
                    first.insert(value, at);
                }
            }
        }
    }
}

/// Every reference written as a key names an item of the file; the earliest that does not is
/// the error.
fn references(world: &World) -> Result<(), SeedError> {
    let keys = |keys: Vec<Option<&String>>| -> HashSet<String> {
        keys.into_iter().flatten().cloned().collect()
    };
    let mut refs = Refs {
        apps: keys(world.apps.iter().map(|a| a.key.as_ref()).collect()),
        users: keys(world.users.iter().map(|u| u.key.as_ref()).collect()),
        pages: keys(world.pages.iter().map(|p| p.key.as_ref()).collect()),
        unknown: Vec::new(),
    };
    for app in &world.apps {
        app.roles.iter().for_each(|(u, _)| refs.user(u));
    }
    for page in &world.pages {
        page.task_holders().for_each(|(u, _)| refs.user(u));
    }
    for grant in &world.grants {
        refs.user(&grant.user);
        refs.app(&grant.app);
    }
    for post in &world.posts {
        refs.page(&post.page);
        post.app.iter().for_each(|a| refs.app(a));
        post.comments.iter().for_each(|c| refs.user(&c.user));
    }
    for message in &world.messages {
        refs.page(&message.page);
        refs.user(&message.user);
    }
    match refs.unknown.into_iter().min_by_key(|(at, _)| *at) {
        Some((at, problem)) => Err(world.error(at, problem)),
        None => Ok(()),
    }
}

/// The keys of the file, and the references that name none of them.
struct Refs {
    apps: HashSet<String>,
    users: HashSet<String>,
    pages: HashSet<String>,
    unknown: Vec<(usize, String)>,
}

impl Refs {
    fn app(&mut self, r: &Ref<App>) {
        Self::check(&self.apps, &mut self.unknown, r);
    }

    fn user(&mut self, r: &Ref<User>) {
        Self::check(&self.users, &mut self.unknown, r);
    }

    fn page(&mut self, r: &Ref<Page>) {
        Self::check(&self.pages, &mut self.unknown, r);
    }

    /// A numeric reference is an id, left for the store to know.
    fn check<K: Referent>(keys: &HashSet<String>, unknown: &mut Vec<(usize, String)>, r: &Ref<K>) {
        let numeric = r.text.bytes().all(|b| b.is_ascii_digit());
        if !numeric && !keys.contains(&r.text) {
            let problem = format!(
                "unknown {} `{}` (not a key in this file and not a numeric id)",
                K::NAME,
                r.text
            );
            unknown.push((r.at, problem));
        }
    }
}

#[cfg(test)]
mod tests;
