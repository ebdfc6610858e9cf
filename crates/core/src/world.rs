//! A seed world: the apps, people, Pages, grants and Page content a seed file declares, before
//! its references are resolved against the store.
//!
//! These are the only shape of a seed item: with the `seed` feature a TOML file deserializes
//! straight into them (see `de`), every item and reference keeping the byte where it was written,
//! so that a problem found later (an unknown reference, a key that already belongs to another id)
//! names the file and line. What needs the whole file (duplicates, references between sections)
//! is checked by the seed crate; what needs the store, by [`crate::services::world::apply`].

use std::marker::PhantomData;

use crate::model::{
    App, AppId, AppMode, AppRole, Page, PageId, Platform, RateLimits, User, UserId,
};
use crate::permissions::PUBLIC_PROFILE;
use crate::tasks::{PageRole, TaskSet};

#[cfg(feature = "seed")]
mod de;

/// The kinds of thing a seed file refers to: apps, people and Pages.
pub trait Referent {
    /// The kind's name in messages: `app`, `user`, `page`.
    const NAME: &'static str;
}

impl Referent for App {
    const NAME: &'static str = "app";
}

impl Referent for User {
    const NAME: &'static str = "user";
}

impl Referent for Page {
    const NAME: &'static str = "page";
}

/// A reference to an app, user or Page (`Ref<App>`, `Ref<User>`, `Ref<Page>`): its seed key, or
/// its numeric id, and the byte where it was written.
pub struct Ref<K> {
    pub text: String,
    pub at: usize,
    kind: PhantomData<fn() -> K>,
}

impl<K> Ref<K> {
    pub fn new(text: impl Into<String>, at: usize) -> Self {
        Ref {
            text: text.into(),
            at,
            kind: PhantomData,
        }
    }
}

impl<K> Clone for Ref<K> {
    fn clone(&self) -> Self {
        Ref::new(self.text.clone(), self.at)
    }
}

impl<K> PartialEq for Ref<K> {
    fn eq(&self, other: &Self) -> bool {
        self.text == other.text && self.at == other.at
    }
}

impl<K> Eq for Ref<K> {}

impl<K: Referent> std::fmt::Debug for Ref<K> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}@{}", K::NAME, self.text, self.at)
    }
}

/// An item of a section, with the byte where it starts (its `[[section]]` header, or the `{` of
/// an inline table).
#[derive(Clone, Debug)]
pub struct Item<T> {
    pub at: usize,
    pub value: T,
}

impl<T> std::ops::Deref for Item<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.value
    }
}

/// Where each line of a seed file starts, to turn a byte into a line number.
#[derive(Clone, Debug, Default)]
pub struct Lines(Vec<usize>);

impl Lines {
    pub fn of(text: &str) -> Self {
        let starts = text.match_indices('\n').map(|(i, _)| i + 1);
        Lines(std::iter::once(0).chain(starts).collect())
    }

    /// The 1-based line holding byte `at` (1 when the text is unknown).
    pub fn line(&self, at: usize) -> u32 {
        let n = self.0.partition_point(|start| *start <= at).max(1);
        u32::try_from(n).unwrap_or(u32::MAX)
    }
}

#[derive(Clone, Debug, Default)]
#[cfg_attr(feature = "seed", derive(serde::Deserialize))]
#[cfg_attr(feature = "seed", serde(deny_unknown_fields, default))]
pub struct World {
    /// The file the world came from, for error messages.
    #[cfg_attr(feature = "seed", serde(skip))]
    pub source: String,
    /// The file's lines, for error messages.
    #[cfg_attr(feature = "seed", serde(skip))]
    pub lines: Lines,
    pub apps: Vec<Item<WorldApp>>,
    pub users: Vec<Item<WorldUser>>,
    pub pages: Vec<Item<WorldPage>>,
    pub grants: Vec<Item<WorldGrant>>,
    pub posts: Vec<Item<WorldPost>>,
    pub messages: Vec<Item<WorldMessage>>,
}

impl World {
    /// A problem at byte `at` of the file.
    pub fn error(&self, at: usize, problem: impl Into<String>) -> SeedError {
        SeedError {
            source: self.source.clone(),
            line: self.lines.line(at),
            problem: problem.into(),
        }
    }
}

#[derive(Clone)]
#[cfg_attr(feature = "seed", derive(serde::Deserialize))]
#[cfg_attr(feature = "seed", serde(deny_unknown_fields))]
pub struct WorldApp {
    #[cfg_attr(feature = "seed", serde(default, deserialize_with = "de::key"))]
    pub key: Option<String>,
    #[cfg_attr(feature = "seed", serde(default, deserialize_with = "de::id"))]
    pub id: Option<AppId>,
    #[cfg_attr(feature = "seed", serde(deserialize_with = "de::text"))]
    pub name: String,
    #[cfg_attr(feature = "seed", serde(default, deserialize_with = "de::some_text"))]
    pub secret: Option<String>,
    #[cfg_attr(feature = "seed", serde(default, deserialize_with = "de::some_text"))]
    pub client_token: Option<String>,
    #[cfg_attr(feature = "seed", serde(default = "de::development"))]
    pub mode: AppMode,
    #[cfg_attr(feature = "seed", serde(default = "de::web"))]
    pub platform: Platform,
    #[cfg_attr(feature = "seed", serde(default))]
    pub require_appsecret_proof: bool,
    #[cfg_attr(feature = "seed", serde(default, deserialize_with = "de::urls"))]
    pub redirect_uris: Vec<String>,
    #[cfg_attr(feature = "seed", serde(default, deserialize_with = "de::permissions"))]
    pub advanced_access: Vec<String>,
    #[cfg_attr(feature = "seed", serde(default, deserialize_with = "de::some_url"))]
    pub deauthorize_callback_url: Option<String>,
    #[cfg_attr(feature = "seed", serde(default, deserialize_with = "de::some_url"))]
    pub data_deletion_url: Option<String>,
    /// Unix seconds.
    #[cfg_attr(feature = "seed", serde(default, deserialize_with = "de::some_time"))]
    pub review_approved_at: Option<i64>,
    /// Administrators, then developers, then testers, in file order within each.
    #[cfg_attr(feature = "seed", serde(default, deserialize_with = "de::app_roles"))]
    pub roles: Vec<(Ref<User>, AppRole)>,
    /// `rate_limits = { app = N, user = N, page = N }`.
    #[cfg_attr(feature = "seed", serde(default, deserialize_with = "de::rate_limits"))]
    pub rate_limits: RateLimits,
    /// `None`: [`crate::model::DEFAULT_TEST_USER_LIMIT`].
    #[cfg_attr(
        feature = "seed",
        serde(default, deserialize_with = "de::test_user_limit")
    )]
    pub test_user_limit: Option<u32>,
}

impl std::fmt::Debug for WorldApp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WorldApp")
            .field("key", &self.key)
            .field("id", &self.id)
            .field("name", &self.name)
            .field("secret", &self.secret.as_ref().map(|_| "<redacted>"))
            .field(
                "client_token",
                &self.client_token.as_ref().map(|_| "<redacted>"),
            )
            .field("mode", &self.mode)
            .finish_non_exhaustive()
    }
}

#[derive(Clone)]
#[cfg_attr(feature = "seed", derive(serde::Deserialize))]
#[cfg_attr(feature = "seed", serde(deny_unknown_fields))]
pub struct WorldUser {
    #[cfg_attr(feature = "seed", serde(default, deserialize_with = "de::key"))]
    pub key: Option<String>,
    #[cfg_attr(feature = "seed", serde(default, deserialize_with = "de::id"))]
    pub id: Option<UserId>,
    #[cfg_attr(feature = "seed", serde(deserialize_with = "de::text"))]
    pub name: String,
    #[cfg_attr(feature = "seed", serde(default, deserialize_with = "de::email"))]
    pub email: Option<String>,
    #[cfg_attr(feature = "seed", serde(default, deserialize_with = "de::some_text"))]
    pub password: Option<String>,
}

impl std::fmt::Debug for WorldUser {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WorldUser")
            .field("key", &self.key)
            .field("id", &self.id)
            .field("name", &self.name)
            .field("email", &self.email)
            .finish_non_exhaustive()
    }
}

/// The category a Page gets when its `[[pages]]` item has none.
pub const DEFAULT_CATEGORY: &str = "Community";

#[derive(Clone, Debug)]
#[cfg_attr(feature = "seed", derive(serde::Deserialize))]
#[cfg_attr(feature = "seed", serde(deny_unknown_fields))]
pub struct WorldPage {
    #[cfg_attr(feature = "seed", serde(default, deserialize_with = "de::key"))]
    pub key: Option<String>,
    #[cfg_attr(feature = "seed", serde(default, deserialize_with = "de::id"))]
    pub id: Option<PageId>,
    #[cfg_attr(feature = "seed", serde(deserialize_with = "de::text"))]
    pub name: String,
    #[cfg_attr(
        feature = "seed",
        serde(default = "de::community", deserialize_with = "de::text")
    )]
    pub category: String,
    /// Who holds which tasks. `None`: the item has no `tasks` table.
    #[cfg_attr(feature = "seed", serde(default, deserialize_with = "de::page_tasks"))]
    pub tasks: Option<Vec<(Ref<User>, TaskSet)>>,
    /// Who holds which classic role. `None`: the item has no `roles` table.
    #[cfg_attr(feature = "seed", serde(default, deserialize_with = "de::page_roles"))]
    pub roles: Option<Vec<(Ref<User>, PageRole)>>,
    /// What the Page says of itself, each served as the Page field of that name.
    #[cfg_attr(feature = "seed", serde(default, deserialize_with = "de::some_text"))]
    pub about: Option<String>,
    #[cfg_attr(feature = "seed", serde(default, deserialize_with = "de::some_text"))]
    pub description: Option<String>,
    #[cfg_attr(feature = "seed", serde(default, deserialize_with = "de::some_url"))]
    pub website: Option<String>,
    #[cfg_attr(feature = "seed", serde(default, deserialize_with = "de::some_text"))]
    pub phone: Option<String>,
    #[cfg_attr(feature = "seed", serde(default, deserialize_with = "de::emails"))]
    pub emails: Option<Vec<String>>,
    #[cfg_attr(feature = "seed", serde(default, deserialize_with = "de::some_text"))]
    pub username: Option<String>,
    #[cfg_attr(feature = "seed", serde(default, deserialize_with = "de::fan_count"))]
    pub fan_count: Option<u64>,
    /// The cover photo's URL.
    #[cfg_attr(feature = "seed", serde(default, deserialize_with = "de::some_url"))]
    pub cover: Option<String>,
}

impl WorldPage {
    /// Who holds which tasks, from either table (a role stands for its tasks).
    pub fn task_holders(&self) -> impl Iterator<Item = (&Ref<User>, TaskSet)> {
        let tasks = self.tasks.iter().flatten().map(|(r, t)| (r, *t));
        let roles = self
            .roles
            .iter()
            .flatten()
            .map(|(r, role)| (r, role.tasks()));
        tasks.chain(roles)
    }
}

#[derive(Clone, Debug)]
#[cfg_attr(feature = "seed", derive(serde::Deserialize))]
#[cfg_attr(feature = "seed", serde(deny_unknown_fields))]
pub struct WorldGrant {
    pub user: Ref<User>,
    pub app: Ref<App>,
    /// As written; `public_profile` is granted whether it is listed or not.
    #[cfg_attr(feature = "seed", serde(default, deserialize_with = "de::permissions"))]
    pub granted: Vec<String>,
    #[cfg_attr(feature = "seed", serde(default, deserialize_with = "de::permissions"))]
    pub declined: Vec<String>,
}

impl WorldGrant {
    /// The permissions granted: as written, with `public_profile` first unless it is listed.
    pub fn permissions_granted(&self) -> Vec<String> {
        let mut granted = self.granted.clone();
        if !granted.iter().any(|p| p == PUBLIC_PROFILE) {
            granted.insert(0, PUBLIC_PROFILE.to_owned());
        }
        granted
    }
}

/// A post on a Page, with followers' comments on it. `key` makes re-applying idempotent.
#[derive(Clone, Debug)]
#[cfg_attr(feature = "seed", derive(serde::Deserialize))]
#[cfg_attr(feature = "seed", serde(deny_unknown_fields))]
pub struct WorldPost {
    #[cfg_attr(feature = "seed", serde(deserialize_with = "de::text"))]
    pub key: String,
    pub page: Ref<Page>,
    /// The app the post was made through (`None`: on Facebook itself).
    #[cfg_attr(feature = "seed", serde(default))]
    pub app: Option<Ref<App>>,
    #[cfg_attr(feature = "seed", serde(deserialize_with = "de::text"))]
    pub message: String,
    #[cfg_attr(feature = "seed", serde(default = "de::yes"))]
    pub published: bool,
    /// Unix seconds; `None`: the time of the first apply.
    #[cfg_attr(feature = "seed", serde(default, deserialize_with = "de::some_time"))]
    pub created_time: Option<i64>,
    #[cfg_attr(feature = "seed", serde(default))]
    pub comments: Vec<Item<WorldComment>>,
}

/// A follower's comment on a seeded post.
#[derive(Clone, Debug)]
#[cfg_attr(feature = "seed", derive(serde::Deserialize))]
#[cfg_attr(feature = "seed", serde(deny_unknown_fields))]
pub struct WorldComment {
    pub user: Ref<User>,
    #[cfg_attr(feature = "seed", serde(deserialize_with = "de::text"))]
    pub message: String,
    #[cfg_attr(feature = "seed", serde(default))]
    pub hidden: bool,
}

/// A message a person sent to a Page. `key` makes re-applying idempotent.
#[derive(Clone, Debug)]
#[cfg_attr(feature = "seed", derive(serde::Deserialize))]
#[cfg_attr(feature = "seed", serde(deny_unknown_fields))]
pub struct WorldMessage {
    #[cfg_attr(feature = "seed", serde(deserialize_with = "de::text"))]
    pub key: String,
    pub page: Ref<Page>,
    pub user: Ref<User>,
    #[cfg_attr(feature = "seed", serde(deserialize_with = "de::text"))]
    pub message: String,
    /// Unix seconds; `None`: the time of the first apply.
    #[cfg_attr(feature = "seed", serde(default, deserialize_with = "de::some_time"))]
    pub created_time: Option<i64>,
}

/// A problem in a seed world: `file:line: problem`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SeedError {
    pub source: String,
    pub line: u32,
    pub problem: String,
}

impl std::fmt::Display for SeedError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}: {}", self.source, self.line, self.problem)
    }
}

impl std::error::Error for SeedError {}

#[cfg(test)]
mod tests {
    use super::Lines;

    #[test]
    fn bytes_map_to_their_lines() {
        let lines = Lines::of("ab\ncd\n\nef");
        let found: Vec<u32> = [0, 2, 3, 5, 6, 7, 9, 100]
            .iter()
            .map(|at| lines.line(*at))
            .collect();
        assert_eq!(found, [1, 1, 2, 2, 3, 4, 4, 4]);
        assert_eq!(Lines::default().line(42), 1);
    }
}
