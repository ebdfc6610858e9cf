//! Cursor paging (spec §8): `limit`, `after`, `before`, `offset`, and `next`/`previous` URLs
//! that carry the access token, as facebook-sdk's `get_all_connections` requires.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde_core::ser::{Serialize, SerializeMap, Serializer};
use serde_json::{Map, Value};

use crate::error::GraphError;
use crate::fields::{self, Field};
use crate::model::Id;
use crate::request::GraphRequest;

pub const DEFAULT_LIMIT: usize = 25;
pub const MAX_LIMIT: usize = 100;

pub fn cursor(id: Id) -> String {
    URL_SAFE_NO_PAD.encode(itoa::Buffer::new().format(id))
}

fn decode(c: &str, which: &str) -> Result<Id, GraphError> {
    URL_SAFE_NO_PAD
        .decode(c.trim_end_matches('='))
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| GraphError::param(format!("The {which} cursor is not valid")))
}

/// What a request asked for: how many, and from where.
pub struct Window {
    pub limit: usize,
    pub after: Option<Id>,
    pub before: Option<Id>,
    /// Items skipped where the page would start (spec §8's offset-based paging).
    pub offset: usize,
}

/// How a request names its window: `limit`, `after`, `before` and `offset`, as parameters or as
/// field modifiers.
#[derive(Clone, Copy, Default)]
pub struct Asked<'a> {
    pub limit: Option<&'a str>,
    pub after: Option<&'a str>,
    pub before: Option<&'a str>,
    pub offset: Option<&'a str>,
}

impl Asked<'_> {
    fn number(value: Option<&str>, name: &str) -> Result<Option<usize>, GraphError> {
        value
            .map(|v| {
                v.trim().parse::<usize>().map_err(|_| {
                    GraphError::param(format!("The parameter {name} must be a number"))
                })
            })
            .transpose()
    }
}

impl Window {
    /// No `limit`, `after`, `before` or `offset` (or the default limit, which answers the same).
    pub fn is_default(&self) -> bool {
        self.limit == DEFAULT_LIMIT
            && self.after.is_none()
            && self.before.is_none()
            && self.offset == 0
    }

    /// From what the request `asked`.
    pub fn from(asked: Asked<'_>) -> Result<Window, GraphError> {
        let Asked {
            limit,
            after,
            before,
            offset,
        } = asked;
        let limit = Asked::number(limit, "limit")?.unwrap_or(DEFAULT_LIMIT);
        Ok(Window {
            limit: limit.clamp(1, MAX_LIMIT),
            offset: Asked::number(offset, "offset")?.unwrap_or(0),
            after: after
                .filter(|s| !s.is_empty())
                .map(|c| decode(c, "after"))
                .transpose()?,
            before: before
                .filter(|s| !s.is_empty())
                .map(|c| decode(c, "before"))
                .transpose()?,
        })
    }

    /// The slice of `ids` (ascending) this window shows, and whether more lie before and after.
    /// `offset` skips items from the first, or from the one after the `after` cursor; a page
    /// before a `before` cursor ends at the cursor whatever the offset.
    pub fn apply(&self, ids: &[Id]) -> (std::ops::Range<usize>, bool, bool) {
        let (start, end) = if let Some(b) = self.before {
            let end = ids.partition_point(|i| *i < b);
            (end.saturating_sub(self.limit), end)
        } else {
            let from = self.after.map_or(0, |a| ids.partition_point(|i| *i <= a));
            let start = from.saturating_add(self.offset).min(ids.len());
            (start, start.saturating_add(self.limit).min(ids.len()))
        };
        (start..end, start > 0, end < ids.len())
    }
}

/// How an edge is read: the child selection, the `fields` string its `next`/`previous` URLs
/// carry, and the window. The same from the edge's endpoint (`/{id}/feed?fields=..&limit=2`)
/// and from a field expansion (`/{id}?fields=feed.limit(2){..}`), so both render alike.
pub struct EdgeQuery {
    pub fields: Option<Vec<Field>>,
    pub fields_param: Option<String>,
    pub window: Window,
}

impl EdgeQuery {
    /// From the request's `fields`, `limit`, `after` and `before` parameters.
    pub fn from_request(req: &GraphRequest) -> Result<EdgeQuery, GraphError> {
        let p = &req.params;
        Ok(EdgeQuery {
            fields: p.get("fields").map(fields::parse).transpose()?,
            fields_param: p.get("fields").map(str::to_string),
            window: Window::from(Asked {
                limit: p.get("limit"),
                after: p.get("after"),
                before: p.get("before"),
                offset: p.get("offset"),
            })?,
        })
    }

    /// From a field's modifiers (`.limit(2)`) and nested selection (`{message}`).
    pub fn from_field(f: &Field) -> Result<EdgeQuery, GraphError> {
        Ok(EdgeQuery {
            fields: f.children.clone(),
            fields_param: f.children.as_deref().map(fields::to_string),
            window: Window::from(Asked {
                limit: f.modifier("limit"),
                after: f.modifier("after"),
                before: f.modifier("before"),
                offset: f.modifier("offset"),
            })?,
        })
    }
}

/// An edge's path for `next`/`previous`, e.g. `12345/accounts`: the node and the edge, joined
/// only when a URL is written (most answers have no page before or after theirs).
#[derive(Clone, Copy)]
pub struct EdgePath<'a> {
    pub node: &'a dyn std::fmt::Display,
    pub edge: &'a str,
}

/// One page of an edge, ready to render.
pub struct Slice<'a, T = Value> {
    pub edge_path: EdgePath<'a>,
    /// The `fields` parameter to carry into `next`/`previous`.
    pub fields: Option<&'a str>,
    pub items: Vec<T>,
    /// Ids of the first and last item shown.
    pub first_last: Option<(Id, Id)>,
    pub more_before: bool,
    pub more_after: bool,
    pub limit: usize,
}

/// `{"data": items, "paging": {...}}`, the items typed: written by `Serialize` (see
/// [`super::Reply`]).
pub struct Paged<T> {
    pub data: Vec<T>,
    /// `None` when nothing is shown.
    pub paging: Option<Paging>,
}

/// An edge's `paging`: the cursors of the first and last item shown, and the URLs of the
/// pages before and after, where more items lie. Written in this order.
pub struct Paging {
    before: String,
    after: String,
    previous: Option<String>,
    next: Option<String>,
}

impl Serialize for Paging {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(None)?;
        m.serialize_entry("cursors", &Cursors(&self.before, &self.after))?;
        if let Some(p) = &self.previous {
            m.serialize_entry("previous", p)?;
        }
        if let Some(n) = &self.next {
            m.serialize_entry("next", n)?;
        }
        m.end()
    }
}

/// `{"before": …, "after": …}`.
struct Cursors<'a>(&'a str, &'a str);

impl Serialize for Cursors<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(2))?;
        m.serialize_entry("before", self.0)?;
        m.serialize_entry("after", self.1)?;
        m.end()
    }
}

impl<T: Serialize> Serialize for Paged<T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(None)?;
        m.serialize_entry("data", &self.data)?;
        if let Some(p) = &self.paging {
            m.serialize_entry("paging", p)?;
        }
        m.end()
    }
}

/// `{"data": items, "paging": {...}}`, with `next`/`previous` only where more items lie.
pub fn page(req: &GraphRequest, slice: Slice<'_>) -> Value {
    let Paged { data, paging } = paged(req, slice);
    let mut out = Map::new();
    out.insert("data".into(), Value::Array(data));
    if let Some(p) = paging {
        // Cannot fail: every key is a string.
        out.insert(
            "paging".into(),
            serde_json::to_value(p).unwrap_or(Value::Null),
        );
    }
    Value::Object(out)
}

/// [`page`] with items of any type.
pub fn paged<T>(req: &GraphRequest, slice: Slice<'_, T>) -> Paged<T> {
    let Slice {
        edge_path,
        fields,
        items,
        first_last,
        more_before,
        more_after,
        limit,
    } = slice;
    let Some((first, last)) = first_last else {
        return Paged {
            data: items,
            paging: None,
        };
    };
    let (before, after) = (cursor(first), cursor(last));
    let url = |key: &str, value: &str| {
        let mut q = form_urlencoded::Serializer::new(String::new());
        if let Some(t) = &req.token {
            q.append_pair("access_token", t);
        }
        if let Some(f) = fields {
            q.append_pair("fields", f);
        }
        q.append_pair("limit", &limit.to_string());
        q.append_pair(key, value);
        format!(
            "{}/{}/{}/{}?{}",
            req.base_url,
            req.version,
            edge_path.node,
            edge_path.edge,
            q.finish()
        )
    };
    let previous = more_before.then(|| url("before", &before));
    let next = more_after.then(|| url("after", &after));
    Paged {
        data: items,
        paging: Some(Paging {
            before,
            after,
            previous,
            next,
        }),
    }
}

/// One page of an edge whose items are keyed by ascending ids: the window of `q` applied,
/// rendered with `paging` as every edge is.
pub fn page_of(
    req: &GraphRequest,
    edge_path: EdgePath<'_>,
    q: &EdgeQuery,
    items: Vec<(Id, Value)>,
) -> Value {
    let ids: Vec<Id> = items.iter().map(|(id, _)| *id).collect();
    let (range, more_before, more_after) = q.window.apply(&ids);
    let shown: Vec<(Id, Value)> = items
        .into_iter()
        .skip(range.start)
        .take(range.len())
        .collect();
    let first_last = shown.first().zip(shown.last()).map(|(a, b)| (a.0, b.0));
    page(
        req,
        Slice {
            edge_path,
            fields: q.fields_param.as_deref(),
            items: shown.into_iter().map(|(_, v)| v).collect(),
            first_last,
            more_before,
            more_after,
            limit: q.window.limit,
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows() {
        let ids = [1, 2, 3, 4, 5];
        let limit = |l| Asked {
            limit: Some(l),
            ..Asked::default()
        };
        let w = Window::from(limit("2")).unwrap();
        assert_eq!(w.apply(&ids), (0..2, false, true));
        let (c2, c3, c4) = (cursor(2), cursor(3), cursor(4));
        let w = Window::from(Asked {
            after: Some(&c2),
            ..limit("2")
        })
        .unwrap();
        assert_eq!(w.apply(&ids), (2..4, true, true));
        let w = Window::from(Asked {
            after: Some(&c4),
            ..limit("2")
        })
        .unwrap();
        assert_eq!(w.apply(&ids), (4..5, true, false));
        let w = Window::from(Asked {
            before: Some(&c3),
            ..limit("2")
        })
        .unwrap();
        assert_eq!(w.apply(&ids), (0..2, false, true));
        assert!(Window::from(limit("x")).is_err());
        assert!(Window::from(Asked {
            after: Some("@@"),
            ..Asked::default()
        })
        .is_err());
    }

    #[test]
    fn an_offset_skips_items_from_where_the_page_starts() {
        let ids = [1, 2, 3, 4, 5];
        let at = |offset| Asked {
            limit: Some("2"),
            offset: Some(offset),
            ..Asked::default()
        };
        assert_eq!(
            Window::from(at("1")).unwrap().apply(&ids),
            (1..3, true, true)
        );
        assert_eq!(
            Window::from(at("4")).unwrap().apply(&ids),
            (4..5, true, false)
        );
        // Past the end: an empty page, with the items before it.
        assert_eq!(
            Window::from(at("9")).unwrap().apply(&ids),
            (5..5, true, false)
        );
        // After a cursor: counted from the item after it.
        let c1 = cursor(1);
        let w = Window::from(Asked {
            after: Some(&c1),
            ..at("2")
        })
        .unwrap();
        assert_eq!(w.apply(&ids), (3..5, true, false));
        // Before a cursor: the page ends at the cursor.
        let c4 = cursor(4);
        let w = Window::from(Asked {
            before: Some(&c4),
            ..at("2")
        })
        .unwrap();
        assert_eq!(w.apply(&ids), (1..3, true, true));
        assert!(!Window::from(Asked {
            offset: Some("3"),
            ..Asked::default()
        })
        .unwrap()
        .is_default());
        let e = Window::from(at("-1")).err().map(|e| e.message);
        assert_eq!(
            e.as_deref(),
            Some("(#100) The parameter offset must be a number")
        );
    }

    #[test]
    fn paging_is_written_in_graphs_order() {
        // A cursor is an id's digits in base64url: the same text `to_string` gave.
        assert_eq!(cursor(1_234_567), URL_SAFE_NO_PAD.encode("1234567"));
        let p = Paging {
            before: "MQ".into(),
            after: "Mg".into(),
            previous: Some("http://h/v1/1/x?before=MQ".into()),
            next: Some("http://h/v1/1/x?after=Mg".into()),
        };
        assert_eq!(
            serde_json::to_string(&p).unwrap(),
            r#"{"cursors":{"before":"MQ","after":"Mg"},"previous":"http://h/v1/1/x?before=MQ","next":"http://h/v1/1/x?after=Mg"}"#
        );
        let only = Paging {
            previous: None,
            next: None,
            ..p
        };
        assert_eq!(
            serde_json::to_string(&only).unwrap(),
            r#"{"cursors":{"before":"MQ","after":"Mg"}}"#
        );
    }
}
