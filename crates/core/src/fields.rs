//! The `fields=` parameter: `id,name,picture.type(large),accounts.limit(5){name,access_token}`.

use crate::error::GraphError;

/// One requested field, with its modifiers (`.limit(5)`) and nested selection (`{...}`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Field {
    pub name: String,
    pub modifiers: Vec<(String, String)>,
    pub children: Option<Vec<Field>>,
}

impl Field {
    pub fn plain(name: &str) -> Field {
        Field {
            name: name.to_string(),
            modifiers: Vec::new(),
            children: None,
        }
    }
    /// No modifiers and no nested selection: the field as it is by default.
    pub fn is_plain(&self) -> bool {
        self.modifiers.is_empty() && self.children.is_none()
    }
    pub fn modifier(&self, name: &str) -> Option<&str> {
        self.modifiers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// The fields a node renders: those asked for, or its `defaults`; `id` always, last if not
/// asked for. [`selected`] gives the same without copies.
pub fn selection(fields: Option<&[Field]>, defaults: &'static [&'static str]) -> Vec<Field> {
    selected(fields, defaults)
        .map(|f| f.field().into_owned())
        .collect()
}

/// A field of a [`selected`] list: one asked for, or a default (a plain name).
#[derive(Clone, Copy, Debug)]
pub enum Selected<'a> {
    Asked(&'a Field),
    Default(&'static str),
}

impl<'a> Selected<'a> {
    pub fn name(&self) -> &'a str {
        match self {
            Selected::Asked(f) => &f.name,
            Selected::Default(n) => n,
        }
    }

    /// The name to answer under: a default's without a copy.
    pub fn key(&self) -> std::borrow::Cow<'static, str> {
        match self {
            Selected::Asked(f) => std::borrow::Cow::Owned(f.name.clone()),
            Selected::Default(n) => std::borrow::Cow::Borrowed(n),
        }
    }

    /// The field itself, with its modifiers and nested selection (a default has none).
    pub fn field(&self) -> std::borrow::Cow<'a, Field> {
        match self {
            Selected::Asked(f) => std::borrow::Cow::Borrowed(f),
            Selected::Default(n) => std::borrow::Cow::Owned(Field::plain(n)),
        }
    }
}

/// The fields a node renders, by reference, for a node rendered once per item of a list
/// (`/me/accounts`'s Pages): the fields asked for, or `defaults`; `id` always, last if not
/// asked for.
pub fn selected<'a>(
    fields: Option<&'a [Field]>,
    defaults: &'static [&'static str],
) -> impl Iterator<Item = Selected<'a>> {
    let asked = fields.filter(|f| !f.is_empty());
    let has_id = match asked {
        Some(f) => f.iter().any(|f| f.name == "id"),
        None => defaults.contains(&"id"),
    };
    let defaults = if asked.is_some() { &[][..] } else { defaults };
    asked
        .unwrap_or_default()
        .iter()
        .map(Selected::Asked)
        .chain(defaults.iter().map(|n| Selected::Default(n)))
        .chain((!has_id).then_some(Selected::Default("id")))
}

/// How deep `{...}` selections may nest: Graph's own examples go three levels down.
const MAX_DEPTH: usize = 8;
/// How many different fields one selection may name: more than any node has.
const MAX_WIDTH: usize = 1000;
/// Past how many fields a selection's names are found through a map, not by a scan.
const INDEXED: usize = 16;

/// Parses a `fields` value. Empty items (`a,,b`) are skipped, as Facebook does.
pub fn parse(input: &str) -> Result<Vec<Field>, GraphError> {
    let mut p = Parser {
        s: input.as_bytes(),
        i: 0,
        input,
        depth: 0,
    };
    let fields = p.list()?;
    if p.i < p.s.len() {
        return Err(p.error("end of string"));
    }
    Ok(fields)
}

struct Parser<'a> {
    s: &'a [u8],
    i: usize,
    input: &'a str,
    depth: usize,
}

impl Parser<'_> {
    fn peek(&self) -> Option<u8> {
        self.s.get(self.i).copied()
    }

    fn skip_ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.i += 1;
        }
    }

    fn error(&self, expected: &str) -> GraphError {
        // The character there, whole (not the first byte of a multi-byte one).
        let found = match self
            .input
            .get(self.i..)
            .and_then(|rest| rest.chars().next())
        {
            Some(c) => format!("\"{c}\""),
            None if self.i < self.s.len() => "\"\u{FFFD}\"".into(),
            None => "end of string".into(),
        };
        // The input is echoed as Facebook does, cut short: it may be long.
        let shown: String = self.input.chars().take(200).collect();
        GraphError::new(
            2500,
            "OAuthException",
            format!(
                "Syntax error \"Expected {expected} instead of {found}.\" at character {}: {shown}",
                self.i
            ),
        )
    }

    fn list(&mut self) -> Result<Vec<Field>, GraphError> {
        let mut out: Vec<Field> = Vec::new();
        // Where each name is in `out`, once the list is long enough to be worth a map: a long
        // list stays linear to parse.
        let mut index: Option<std::collections::HashMap<String, usize>> = None;
        loop {
            self.skip_ws();
            match self.peek() {
                None | Some(b'}') => return Ok(out),
                Some(b',') => self.i += 1,
                _ => {
                    let at = self.i;
                    let f = self.field()?;
                    // A name asked again is answered once, as its last asking (an answer's
                    // keys are unique), in the place of its first.
                    let had = match &index {
                        Some(index) => index.get(&f.name).copied(),
                        None => out.iter().position(|had| had.name == f.name),
                    };
                    let full = out.len() == MAX_WIDTH;
                    match had.and_then(|i| out.get_mut(i)) {
                        Some(had) => *had = f,
                        None if full => {
                            self.i = at;
                            return Err(self.error("at most 1000 different fields in a selection"));
                        }
                        None => {
                            if let Some(index) = &mut index {
                                index.insert(f.name.clone(), out.len());
                            }
                            out.push(f);
                            if index.is_none() && out.len() > INDEXED {
                                index = Some(
                                    out.iter()
                                        .enumerate()
                                        .map(|(i, f)| (f.name.clone(), i))
                                        .collect(),
                                );
                            }
                        }
                    }
                    self.skip_ws();
                    match self.peek() {
                        None | Some(b'}') => return Ok(out),
                        Some(b',') => self.i += 1,
                        _ => return Err(self.error("\",\"")),
                    }
                }
            }
        }
    }

    fn name(&mut self) -> Result<String, GraphError> {
        let start = self.i;
        while matches!(self.peek(), Some(c) if c.is_ascii_alphanumeric() || c == b'_') {
            self.i += 1;
        }
        if start == self.i {
            return Err(self.error("name"));
        }
        Ok(self.input[start..self.i].to_string())
    }

    fn field(&mut self) -> Result<Field, GraphError> {
        let mut f = Field::plain(&self.name()?);
        loop {
            match self.peek() {
                Some(b'.') => {
                    self.i += 1;
                    let m = self.name()?;
                    if self.peek() != Some(b'(') {
                        return Err(self.error("\"(\""));
                    }
                    self.i += 1;
                    let start = self.i;
                    while matches!(self.peek(), Some(c) if c != b')') {
                        self.i += 1;
                    }
                    if self.peek() != Some(b')') {
                        return Err(self.error("\")\""));
                    }
                    f.modifiers
                        .push((m, self.input[start..self.i].trim().to_string()));
                    self.i += 1;
                }
                Some(b'{') if f.children.is_none() => {
                    if self.depth >= MAX_DEPTH {
                        return Err(self.error("at most 8 nested selections"));
                    }
                    self.i += 1;
                    self.depth += 1;
                    let children = self.list()?;
                    self.depth -= 1;
                    if self.peek() != Some(b'}') {
                        return Err(self.error("\"}\""));
                    }
                    self.i += 1;
                    f.children = Some(children);
                }
                _ => return Ok(f),
            }
        }
    }
}

/// Writes a selection back in `fields=` form (for paging URLs of expanded edges).
pub fn to_string(fields: &[Field]) -> String {
    let mut out = String::new();
    for (i, f) in fields.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(&f.name);
        for (m, v) in &f.modifiers {
            out.push_str(&format!(".{m}({v})"));
        }
        if let Some(children) = &f.children {
            out.push('{');
            out.push_str(&to_string(children));
            out.push('}');
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A name asked twice is answered once, with its last modifiers, in its first place; a
    /// selection of more than 1000 different names is refused.
    #[test]
    fn a_name_asked_again_counts_once() {
        let names = |v: &[Field]| v.iter().map(|f| f.name.clone()).collect::<Vec<_>>();
        let f = parse("name,feed.limit(1),id,feed.limit(2),name").unwrap_or_default();
        assert_eq!(names(&f), ["name", "feed", "id"]);
        assert_eq!(f[1].modifier("limit"), Some("2"));
        let many = vec!["feed"; 100_000].join(",");
        assert_eq!(parse(&many).map(|f| f.len()), Ok(1));
        let wide: Vec<String> = (0..1001).map(|i| format!("f{i}")).collect();
        // A long selection finds its names through a map: the same answer.
        let again = format!("{},f3.limit(9),f19", wide[..20].join(","));
        let f = parse(&again).unwrap_or_default();
        assert_eq!(names(&f), wide[..20]);
        assert_eq!(f[3].modifier("limit"), Some("9"));
        assert_eq!(parse(&wide[..1000].join(",")).map(|f| f.len()), Ok(1000));
        let e = parse(&wide.join(",")).err().map(|e| e.message);
        assert!(
            e.as_deref()
                .is_some_and(|m| m.contains("at most 1000 different fields")),
            "{e:?}"
        );
    }

    #[test]
    fn a_selection_is_the_fields_asked_or_the_defaults_with_id() {
        let names = |v: Vec<Field>| v.into_iter().map(|f| f.name).collect::<Vec<_>>();
        assert_eq!(names(selection(None, &["name"])), ["name", "id"]);
        assert_eq!(names(selection(Some(&[]), &["name"])), ["name", "id"]);
        let asked = parse("email,name").unwrap_or_default();
        assert_eq!(
            names(selection(Some(&asked), &["x"])),
            ["email", "name", "id"]
        );
        let with_id = parse("id,name").unwrap_or_default();
        assert_eq!(names(selection(Some(&with_id), &["x"])), ["id", "name"]);
    }

    /// `selected` borrows the fields asked for (modifiers and all) and names the defaults, in
    /// order, `id` last unless asked for; each answers under its own name.
    #[test]
    fn selected_borrows_the_fields_and_names_the_defaults() {
        let asked = parse("email,name").unwrap_or_default();
        let with_id = parse("id,picture.type(large)").unwrap_or_default();
        // The fields asked for, the defaults, and the names expected.
        type Case<'a> = (Option<&'a [Field]>, &'static [&'static str], &'a [&'a str]);
        let cases: [Case; 5] = [
            (None, &["name"], &["name", "id"]),
            (Some(&[]), &["name"], &["name", "id"]),
            (None, &["id", "name"], &["id", "name"]),
            (Some(&asked), &["x"], &["email", "name", "id"]),
            (Some(&with_id), &["x"], &["id", "picture"]),
        ];
        for (fields, defaults, expected) in cases {
            let names: Vec<&str> = selected(fields, defaults).map(|f| f.name()).collect();
            assert_eq!(names, expected, "{fields:?} {defaults:?}");
            let keys: Vec<String> = selected(fields, defaults)
                .map(|f| f.key().into_owned())
                .collect();
            assert_eq!(keys, names);
        }
        let picture = selected(Some(&with_id), &["x"])
            .nth(1)
            .map(|f| f.field().into_owned());
        assert_eq!(
            picture.as_ref().and_then(|f| f.modifier("type")),
            Some("large")
        );
        assert_eq!(picture, with_id.get(1).cloned());
    }

    #[test]
    fn flat_and_nested() {
        let f = parse("id,name,accounts.limit(5){name,access_token},picture.type(large).width(9)")
            .unwrap();
        assert_eq!(f.len(), 4);
        assert_eq!(f[2].name, "accounts");
        assert_eq!(f[2].modifier("limit"), Some("5"));
        let kids = f[2].children.as_ref().unwrap();
        assert_eq!(kids[1], Field::plain("access_token"));
        assert_eq!(f[3].modifiers.len(), 2);
        let g = parse("feed{message,comments.limit(2){message}}.limit(3)").unwrap();
        assert_eq!(g[0].modifier("limit"), Some("3"));
        assert_eq!(parse(" id , ,name ").unwrap().len(), 2);
        assert!(parse("").unwrap().is_empty());
    }

    #[test]
    fn deep_nesting_is_refused_without_recursion_blowing_up() {
        let deep = "a{".repeat(100_000);
        let e = parse(&deep).unwrap_err();
        assert_eq!(e.code, 2500);
        assert!(e.message.len() < 400, "{}", e.message.len());
        assert!(parse("a{b{c{d{e{f{g{h}}}}}}}").is_ok());
    }

    #[test]
    fn selections_round_trip() {
        let s = "name,accounts.limit(2){name,picture.type(large)}";
        assert_eq!(to_string(&parse(s).unwrap()), s);
    }

    #[test]
    fn syntax_errors_say_where() {
        let e = parse("id,na}me").unwrap_err();
        assert_eq!(e.code, 2500);
        assert!(e.message.contains("at character 5"), "{}", e.message);
        assert!(parse("a{b").is_err());
        assert!(parse("a.limit(3").is_err());
        assert!(parse("a.limit").is_err());
        assert!(parse("a b").is_err());
    }
}

/// Property tests (a short run here; `scripts/fuzz` runs them long): any input parses or is
/// refused, never panics, and what parses prints back to the same fields.
#[cfg(test)]
mod props {
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn any_text_parses_or_is_refused(s in "\\PC{0,200}") {
            let _ = super::parse(&s);
        }

        #[test]
        fn errors_name_whole_characters(prefix in "[a-z,]{0,5}", c in "[^a-z0-9_{}(),.: \t\r\n]") {
            let input = format!("{prefix}{c}");
            if let Err(e) = super::parse(&input) {
                prop_assert!(e.message.contains(&format!("instead of \"{c}\"")), "{}", e.message);
            }
        }

        #[test]
        fn field_syntax_round_trips(s in "[a-z_{}(),.:0-9 ]{0,120}") {
            if let Ok(fields) = super::parse(&s) {
                let again = super::parse(&super::to_string(&fields));
                prop_assert_eq!(again.ok(), Some(fields));
            }
        }
    }
}
