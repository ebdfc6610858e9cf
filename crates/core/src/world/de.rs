//! How a seed file's values deserialize: the names of modes, platforms, roles and tasks, ids,
//! keys, references, permissions, URLs and times, each checked where it is read so the error
//! carries the position of the value (the TOML reader adds it).

use std::fmt;
use std::marker::PhantomData;
use std::str::FromStr;

use serde::de::{Deserialize, Deserializer, Error, MapAccess, Visitor};
use serde_spanned::Spanned;

use super::{Item, Ref, Referent, DEFAULT_CATEGORY};
use crate::model::{AppMode, AppRole, Platform, RateLimits, User};
use crate::permissions;
use crate::tasks::{PageRole, Task, TaskSet};

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Item<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let item = Spanned::<T>::deserialize(d)?;
        let at = item.span().start;
        Ok(Item {
            at,
            value: item.into_inner(),
        })
    }
}

/// A value read by `parse` from its text (an integer is read as its digits), with `expecting`
/// naming what was wanted. The parse runs inside the reader's call, so its error gets the
/// value's position.
fn parsed<'de, D: Deserializer<'de>, T>(
    d: D,
    expecting: &'static str,
    parse: impl FnOnce(&str) -> Result<T, String>,
) -> Result<T, D::Error> {
    struct V<F>(&'static str, F);
    impl<'v, T, F: FnOnce(&str) -> Result<T, String>> Visitor<'v> for V<F> {
        type Value = T;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str(self.0)
        }
        fn visit_str<E: Error>(self, v: &str) -> Result<T, E> {
            (self.1)(v).map_err(E::custom)
        }
        fn visit_i64<E: Error>(self, v: i64) -> Result<T, E> {
            self.visit_str(&v.to_string())
        }
        fn visit_u64<E: Error>(self, v: u64) -> Result<T, E> {
            self.visit_str(&v.to_string())
        }
        fn visit_map<A: MapAccess<'v>>(self, _: A) -> Result<T, A::Error> {
            // TOML hands its dates and times to serde as a map.
            Err(A::Error::custom(format!(
                "dates and times are not used in seed files; write {} instead",
                self.0
            )))
        }
    }
    d.deserialize_any(V(expecting, parse))
}

/// Like [`parsed`], for a value that must be written as a string.
fn parsed_str<'de, D: Deserializer<'de>, T>(
    d: D,
    expecting: &'static str,
    parse: impl FnOnce(&str) -> Result<T, String>,
) -> Result<T, D::Error> {
    struct V<F>(&'static str, F);
    impl<T, F: FnOnce(&str) -> Result<T, String>> Visitor<'_> for V<F> {
        type Value = T;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str(self.0)
        }
        fn visit_str<E: Error>(self, v: &str) -> Result<T, E> {
            (self.1)(v).map_err(E::custom)
        }
    }
    d.deserialize_any(V(expecting, parse))
}

impl<'de, K: Referent> Deserialize<'de> for Ref<K> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let written = Spanned::<RefText<K>>::deserialize(d)?;
        let at = written.span().start;
        Ok(Ref::new(written.into_inner().0, at))
    }
}

/// The text of a reference, checked.
struct RefText<K>(String, PhantomData<K>);

impl<'de, K: Referent> Deserialize<'de> for RefText<K> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        parsed(d, "a key or an id (a string)", |text| {
            if text.is_empty() {
                return Err(format!("empty {} reference", K::NAME));
            }
            if is_numeric(text) && parse_id(text).is_none() {
                return Err(format!(
                    "`{text}` is not a valid {} id: it must be a positive number that fits in 63 bits, without leading zeros",
                    K::NAME
                ));
            }
            Ok(RefText(text.to_owned(), PhantomData))
        })
    }
}

/// A value written as one of a fixed list of names.
fn named<'de, D: Deserializer<'de>, T>(
    d: D,
    what: &str,
    parse: fn(&str) -> Option<T>,
    expected: &str,
) -> Result<T, D::Error> {
    parsed_str(d, "a string", |s| {
        parse(s).ok_or_else(|| format!("unknown {what} `{s}`; expected {expected}"))
    })
}

impl<'de> Deserialize<'de> for AppMode {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        named(d, "app mode", AppMode::parse, "development or live")
    }
}

impl<'de> Deserialize<'de> for Platform {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        named(d, "platform", Platform::parse, "web or native")
    }
}

impl<'de> Deserialize<'de> for AppRole {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let all = [AppRole::Administrator, AppRole::Developer, AppRole::Tester];
        let names: Vec<_> = all.iter().map(|r| r.as_str()).collect();
        named(d, "app role", AppRole::parse, &one_of(&names))
    }
}

impl<'de> Deserialize<'de> for Task {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let names: Vec<_> = Task::ALL.iter().map(|t| t.as_str()).collect();
        named(d, "task", Task::parse, &one_of(&names))
    }
}

impl<'de> Deserialize<'de> for PageRole {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let names: Vec<_> = PageRole::ALL.iter().map(|r| r.as_str()).collect();
        named(d, "role", PageRole::parse, &one_of(&names))
    }
}

fn one_of(names: &[&str]) -> String {
    format!("one of {}", names.join(", "))
}

/// A string with something in it.
pub(crate) fn text<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    parsed_str(d, "a string", nonempty)
}

fn nonempty(s: &str) -> Result<String, String> {
    if s.trim().is_empty() {
        return Err("the value must not be empty".to_owned());
    }
    Ok(s.to_owned())
}

pub(crate) fn some_text<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    text(d).map(Some)
}

/// An app's, person's or Page's key: not empty, and not all digits (that would read as an id).
pub(crate) fn key<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    parsed_str(d, "a string", |k| {
        if is_numeric(k) {
            return Err(format!(
                "key `{k}` is all digits and would be read as an id; put the number in `id` or use a key with a letter in it"
            ));
        }
        nonempty(k).map(Some)
    })
}

/// An id: a string of digits (preferred) or an integer.
pub(crate) fn id<'de, D: Deserializer<'de>, T: FromStr>(d: D) -> Result<Option<T>, D::Error> {
    parsed(d, "a string of digits like \"1000000000000001\"", |text| {
        match parse_id(text).and_then(|_| text.parse().ok()) {
            Some(id) => Ok(Some(id)),
            None => Err(format!(
                "`{text}` is not a valid id: it must be a positive number that fits in 63 bits, written in digits without leading zeros"
            )),
        }
    })
}

fn url(s: &str) -> bool {
    s.split_once("://").is_some_and(|(scheme, rest)| {
        !scheme.is_empty()
            && !rest.is_empty()
            && scheme
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
    })
}

/// An absolute URL.
struct Url(String);

impl<'de> Deserialize<'de> for Url {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        parsed_str(d, "a URL (a string)", |s| {
            if url(s) {
                Ok(Url(s.to_owned()))
            } else {
                Err(format!(
                    "`{s}` is not an absolute URL like https://example.com/callback"
                ))
            }
        })
    }
}

pub(crate) fn some_url<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Url::deserialize(d).map(|u| Some(u.0))
}

/// Redirect URIs: absolute, without repeats.
pub(crate) fn urls<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    let list = Vec::<Url>::deserialize(d)?;
    distinct(list.into_iter().map(|u| u.0).collect(), "redirect URI")
}

/// `list` unless a value is in it twice.
fn distinct<E: Error>(list: Vec<String>, what: &str) -> Result<Vec<String>, E> {
    match list
        .iter()
        .enumerate()
        .find(|(i, v)| list[..*i].contains(v))
    {
        Some((_, v)) => Err(E::custom(format!("{what} `{v}` is listed twice"))),
        None => Ok(list),
    }
}

/// Permission names from the catalogue, without repeats.
pub(crate) fn permissions<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    let list = Vec::<Permission>::deserialize(d)?;
    distinct(list.into_iter().map(|p| p.0).collect(), "permission")
}

/// A permission of the catalogue.
struct Permission(String);

impl<'de> Deserialize<'de> for Permission {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        parsed_str(d, "a permission name (a string)", |p| {
            if permissions::is_known(p) {
                Ok(Permission(p.to_owned()))
            } else {
                Err(format!("unknown permission `{p}`"))
            }
        })
    }
}

pub(crate) fn email<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Email::deserialize(d).map(|e| Some(e.0))
}

/// An e-mail address: something, `@`, something, no spaces.
struct Email(String);

impl<'de> Deserialize<'de> for Email {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        parsed_str(d, "an email address (a string)", |e| {
            let valid = e
                .split_once('@')
                .is_some_and(|(local, domain)| !local.is_empty() && !domain.is_empty());
            if !valid || e.contains(char::is_whitespace) {
                return Err(format!("`{e}` is not an email address"));
            }
            Ok(Email(e.to_owned()))
        })
    }
}

/// E-mail addresses, without repeats.
pub(crate) fn emails<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Vec<String>>, D::Error> {
    let list = Vec::<Email>::deserialize(d)?;
    distinct(list.into_iter().map(|e| e.0).collect(), "email address").map(Some)
}

/// A time: a date string (`2026-01-15`, `2026-01-15T09:30:00Z`) or unix seconds.
pub(crate) fn some_time<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    parsed(
        d,
        "a date string like \"2026-01-15\" or unix seconds",
        |text| {
            crate::timefmt::parse_utc(text)
                .filter(|t| crate::timefmt::in_calendar(*t))
                .map(Some)
                .ok_or_else(|| {
                    format!(
                        "`{text}` is not a date like \"2026-01-15\" or unix seconds \
                         (in the years 1 to 9999)"
                    )
                })
        },
    )
}

/// An app's call budgets; one left out keeps graphtoken's default.
pub(crate) fn rate_limits<'de, D: Deserializer<'de>>(d: D) -> Result<RateLimits, D::Error> {
    #[derive(serde::Deserialize)]
    #[serde(
        deny_unknown_fields,
        expecting = "a table like { app = N, user = N, page = N }"
    )]
    struct Budgets {
        #[serde(default, deserialize_with = "budget")]
        app: Option<u32>,
        #[serde(default, deserialize_with = "budget")]
        user: Option<u32>,
        #[serde(default, deserialize_with = "budget")]
        page: Option<u32>,
    }
    let Budgets { app, user, page } = Budgets::deserialize(d)?;
    Ok(RateLimits { app, user, page })
}

/// A call budget: a positive number of calls per hour.
fn budget<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u32>, D::Error> {
    count(
        d,
        "a positive integer (calls per hour)",
        1,
        "a number of calls per hour",
    )
}

/// How many test users an app may have.
pub(crate) fn test_user_limit<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u32>, D::Error> {
    count(d, "an integer", 0, "a number of test users")
}

/// A Page's fan count.
pub(crate) fn fan_count<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    Ok(count(d, "an integer", 0, "a number of fans")?.map(u64::from))
}

/// An integer from `min` to `u32::MAX`, written as an integer.
fn count<'de, D: Deserializer<'de>>(
    d: D,
    expecting: &'static str,
    min: u32,
    what: &'static str,
) -> Result<Option<u32>, D::Error> {
    struct V(&'static str, u32, &'static str);
    impl V {
        fn check<E: Error>(self, n: i128) -> Result<Option<u32>, E> {
            match u32::try_from(n) {
                Ok(n) if n >= self.1 => Ok(Some(n)),
                _ => Err(E::custom(format!(
                    "must be {} from {} to {}, not {n}",
                    self.2,
                    self.1,
                    u32::MAX
                ))),
            }
        }
    }
    impl Visitor<'_> for V {
        type Value = Option<u32>;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str(self.0)
        }
        fn visit_i64<E: Error>(self, v: i64) -> Result<Option<u32>, E> {
            self.check(i128::from(v))
        }
        fn visit_u64<E: Error>(self, v: u64) -> Result<Option<u32>, E> {
            self.check(i128::from(v))
        }
    }
    d.deserialize_any(V(expecting, min, what))
}

/// A table read in file order, as `(key, value)` pairs.
fn pairs<'de, D, K, V>(d: D, expecting: &'static str) -> Result<Vec<(K, V)>, D::Error>
where
    D: Deserializer<'de>,
    K: Deserialize<'de>,
    V: Deserialize<'de>,
{
    struct Pairs<K, V>(&'static str, PhantomData<(K, V)>);
    impl<'de, K: Deserialize<'de>, V: Deserialize<'de>> Visitor<'de> for Pairs<K, V> {
        type Value = Vec<(K, V)>;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str(self.0)
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
            let mut out = Vec::new();
            while let Some(entry) = map.next_entry()? {
                out.push(entry);
            }
            Ok(out)
        }
    }
    d.deserialize_map(Pairs(expecting, PhantomData))
}

/// `roles = { administrators = ["alice"], testers = ["bob"] }`, ordered administrators,
/// developers, testers, in file order within each.
pub(crate) fn app_roles<'de, D: Deserializer<'de>>(
    d: D,
) -> Result<Vec<(Ref<User>, AppRole)>, D::Error> {
    let table: Vec<(AppRole, Vec<Ref<User>>)> =
        pairs(d, "a table of roles like { administrators = [\"alice\"] }")?;
    let mut roles: Vec<_> = table
        .into_iter()
        .flat_map(|(role, users)| users.into_iter().map(move |u| (u, role)))
        .collect();
    roles.sort_by_key(|(_, role)| *role);
    Ok(roles)
}

/// A person's tasks on a Page: a list of task names, not empty.
struct Tasks(TaskSet);

impl<'de> Deserialize<'de> for Tasks {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let list = Vec::<Task>::deserialize(d)?;
        if list.is_empty() {
            return Err(D::Error::custom(
                "empty task list; leave the person out to give them no tasks",
            ));
        }
        Ok(Tasks(list.into_iter().fold(TaskSet::EMPTY, TaskSet::with)))
    }
}

/// `tasks = { alice = ["MANAGE"], "100000000000999" = ["MODERATE"] }`.
#[allow(clippy::type_complexity)]
pub(crate) fn page_tasks<'de, D: Deserializer<'de>>(
    d: D,
) -> Result<Option<Vec<(Ref<User>, TaskSet)>>, D::Error> {
    let table: Vec<(Ref<User>, Tasks)> =
        pairs(d, "a table of tasks like { alice = [\"MANAGE\"] }")?;
    Ok(Some(table.into_iter().map(|(r, t)| (r, t.0)).collect()))
}

/// `roles = { alice = "Admin", bob = "Editor" }`.
#[allow(clippy::type_complexity)]
pub(crate) fn page_roles<'de, D: Deserializer<'de>>(
    d: D,
) -> Result<Option<Vec<(Ref<User>, PageRole)>>, D::Error> {
    pairs(d, "a table of roles like { alice = \"Admin\" }").map(Some)
}

pub(crate) fn development() -> AppMode {
    AppMode::Development
}

pub(crate) fn web() -> Platform {
    Platform::Web
}

pub(crate) fn community() -> String {
    DEFAULT_CATEGORY.to_owned()
}

pub(crate) fn yes() -> bool {
    true
}

fn is_numeric(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

/// A Graph id: digits without leading zeros, positive, at most `i64::MAX`.
pub(crate) fn parse_id(s: &str) -> Option<u64> {
    if !is_numeric(s) || s.starts_with('0') {
        return None;
    }
    s.parse::<i64>().ok().and_then(|n| u64::try_from(n).ok())
}
