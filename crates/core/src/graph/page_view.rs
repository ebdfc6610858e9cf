//! A Page as an answer shows it: its selected fields in the order asked, written by `Serialize`
//! straight into the body. `/me/accounts` is hot (SDKs poll it for Page tokens), so its default
//! fields are written from the cached Page itself (its id, name, category, the caller's tasks)
//! or from what was made for them (the Page token); any other field is a `Value` made when the
//! view is built, since it may need the store.

use std::borrow::Cow;
use std::sync::Arc;

use serde_core::ser::{Serialize, SerializeMap, Serializer};
use serde_json::Value;

use crate::model::Page;
use crate::tasks::TaskSet;

use super::json::AsText;

/// A Page and its selected fields, in order, each with what it shows.
pub struct PageView {
    page: Arc<Page>,
    /// Each field's name (a default's borrowed) and what it shows.
    fields: Vec<(Cow<'static, str>, Shown)>,
}

/// What one field shows.
pub enum Shown {
    /// The Page's id, as a string.
    Id,
    /// The Page's name.
    Name,
    /// The Page's category.
    Category,
    /// `[{"id": …, "name": category}]`, the id Facebook gives the category.
    CategoryList(u64),
    /// The names of the caller's tasks on the Page.
    Tasks(TaskSet),
    /// The caller's Page token.
    AccessToken(String),
    /// Any other field.
    Json(Value),
}

impl PageView {
    pub fn new(page: Arc<Page>) -> Self {
        PageView {
            page,
            fields: Vec::with_capacity(8),
        }
    }

    /// Adds a field; a field asked for twice keeps its first place and its last value, as an
    /// object's key does.
    pub fn push(&mut self, name: Cow<'static, str>, shown: Shown) {
        match self.fields.iter_mut().find(|(n, _)| *n == name) {
            Some(field) => field.1 = shown,
            None => self.fields.push((name, shown)),
        }
    }
}

impl Serialize for PageView {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let page = &self.page;
        let mut m = s.serialize_map(Some(self.fields.len()))?;
        for (name, shown) in &self.fields {
            match shown {
                Shown::Id => m.serialize_entry(name, &AsText(page.id))?,
                Shown::Name => m.serialize_entry(name, &page.name)?,
                Shown::Category => m.serialize_entry(name, &page.category)?,
                Shown::CategoryList(id) => m.serialize_entry(
                    name,
                    &[Category {
                        id: *id,
                        name: &page.category,
                    }],
                )?,
                Shown::Tasks(tasks) => m.serialize_entry(name, &tasks.names())?,
                Shown::AccessToken(t) => m.serialize_entry(name, t)?,
                Shown::Json(v) => m.serialize_entry(name, v)?,
            }
        }
        m.end()
    }
}

struct Category<'a> {
    id: u64,
    name: &'a str,
}

impl Serialize for Category<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(2))?;
        m.serialize_entry("id", &AsText(self.id))?;
        m.serialize_entry("name", self.name)?;
        m.end()
    }
}
