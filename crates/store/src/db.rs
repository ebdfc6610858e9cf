//! The SQL the store speaks, whatever the database: statements with numbered parameters
//! (`?1`, `?2`, …), the values bound to them, and the rows they return.
//!
//! Every query and write of the store is written once against [`Db`]; each backend (SQLite
//! today) implements it for its connections and transactions. Integers are `INTEGER`/`BIGINT`
//! (ids are their `u64` bit-cast to `i64`), text is `TEXT`, hashes are `BLOB`/`BYTEA`, and
//! flags are integers 0 and 1, so that one statement means the same on each.

use graphtoken_core::store::{StoreError, StoreResult};

/// A value bound to a parameter or read from a column.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Value {
    /// A NULL, with the type it stands in for (a database that types its parameters needs it).
    Null(Kind),
    Int(i64),
    Text(String),
    Blob(Vec<u8>),
}

/// The types a value can have.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    Int,
    Text,
    Blob,
}

impl Value {
    /// About how many bytes it holds.
    pub(crate) fn size(&self) -> usize {
        16 + match self {
            Value::Text(s) => s.len(),
            Value::Blob(b) => b.len(),
            Value::Null(_) | Value::Int(_) => 0,
        }
    }

    /// The type of the value (of the value a NULL stands in for).
    pub(crate) fn kind(&self) -> Kind {
        match self {
            Value::Null(k) => *k,
            Value::Int(_) => Kind::Int,
            Value::Text(_) => Kind::Text,
            Value::Blob(_) => Kind::Blob,
        }
    }

    fn describe(&self) -> &'static str {
        match self {
            Value::Null(_) => "NULL",
            Value::Int(_) => "an integer",
            Value::Text(_) => "text",
            Value::Blob(_) => "a blob",
        }
    }
}

/// A Rust value that binds to a parameter.
pub(crate) trait Param {
    /// The type it binds as (also when it is `None`).
    const KIND: Kind;
    fn value(&self) -> Value;
}

impl Param for i64 {
    const KIND: Kind = Kind::Int;
    fn value(&self) -> Value {
        Value::Int(*self)
    }
}

impl Param for u32 {
    const KIND: Kind = Kind::Int;
    fn value(&self) -> Value {
        Value::Int(i64::from(*self))
    }
}

impl Param for bool {
    const KIND: Kind = Kind::Int;
    fn value(&self) -> Value {
        Value::Int(i64::from(*self))
    }
}

impl Param for str {
    const KIND: Kind = Kind::Text;
    fn value(&self) -> Value {
        Value::Text(self.to_owned())
    }
}

impl Param for String {
    const KIND: Kind = Kind::Text;
    fn value(&self) -> Value {
        Value::Text(self.clone())
    }
}

impl Param for [u8] {
    const KIND: Kind = Kind::Blob;
    fn value(&self) -> Value {
        Value::Blob(self.to_vec())
    }
}

impl<const N: usize> Param for [u8; N] {
    const KIND: Kind = Kind::Blob;
    fn value(&self) -> Value {
        Value::Blob(self.to_vec())
    }
}

impl Param for Vec<u8> {
    const KIND: Kind = Kind::Blob;
    fn value(&self) -> Value {
        Value::Blob(self.clone())
    }
}

impl<T: Param + ?Sized> Param for &T {
    const KIND: Kind = T::KIND;
    fn value(&self) -> Value {
        (**self).value()
    }
}

impl<T: Param> Param for Option<T> {
    const KIND: Kind = T::KIND;
    fn value(&self) -> Value {
        self.as_ref().map_or(Value::Null(T::KIND), Param::value)
    }
}

/// The values of a statement's parameters, in order: `args![user.sql(), app.sql(), name]`.
#[macro_export]
#[doc(hidden)]
macro_rules! args {
    ($($a:expr),* $(,)?) => {
        &[$($crate::db::Param::value(&$a)),*]
    };
}

/// A Rust value read from a column.
pub(crate) trait Column: Sized {
    /// What the column should hold, for errors.
    const WANT: &'static str;
    fn from_value(v: Value) -> Option<Self>;
}

impl Column for i64 {
    const WANT: &'static str = "an integer";
    fn from_value(v: Value) -> Option<Self> {
        match v {
            Value::Int(n) => Some(n),
            _ => None,
        }
    }
}

impl Column for u32 {
    const WANT: &'static str = "an integer from 0 to 4294967295";
    fn from_value(v: Value) -> Option<Self> {
        i64::from_value(v).and_then(|n| u32::try_from(n).ok())
    }
}

impl Column for bool {
    const WANT: &'static str = "0 or 1";
    fn from_value(v: Value) -> Option<Self> {
        match v {
            Value::Int(0) => Some(false),
            Value::Int(1) => Some(true),
            _ => None,
        }
    }
}

impl Column for String {
    const WANT: &'static str = "text";
    fn from_value(v: Value) -> Option<Self> {
        match v {
            Value::Text(s) => Some(s),
            _ => None,
        }
    }
}

impl Column for Vec<u8> {
    const WANT: &'static str = "a blob";
    fn from_value(v: Value) -> Option<Self> {
        match v {
            Value::Blob(b) => Some(b),
            _ => None,
        }
    }
}

impl<const N: usize> Column for [u8; N] {
    const WANT: &'static str = "a blob of the right length";
    fn from_value(v: Value) -> Option<Self> {
        Vec::<u8>::from_value(v).and_then(|b| b.try_into().ok())
    }
}

impl<T: Column> Column for Option<T> {
    const WANT: &'static str = T::WANT;
    fn from_value(v: Value) -> Option<Self> {
        match v {
            Value::Null(_) => Some(None),
            v => T::from_value(v).map(Some),
        }
    }
}

/// One row of a result.
#[derive(Debug, PartialEq)]
pub(crate) struct Row(pub(crate) Vec<Value>);

impl Row {
    /// Column `i` as a `T`; a missing column or a value of another type is an error (a corrupt
    /// or foreign row).
    pub(crate) fn get<T: Column>(&self, i: usize) -> StoreResult<T> {
        let v = self.0.get(i).cloned().ok_or_else(|| {
            StoreError::new(format!(
                "column {i}: no such column (the row has {})",
                self.0.len()
            ))
        })?;
        let found = v.describe();
        T::from_value(v).ok_or_else(|| {
            StoreError::new(format!("column {i}: wanted {}, found {found}", T::WANT))
        })
    }
}

/// A connection or a transaction of some database.
pub(crate) trait Db {
    /// The database's name in errors: `sqlite`, `postgres`.
    fn dialect(&self) -> &'static str;
    /// Runs a statement; how many rows it changed.
    fn exec(&self, sql: &str, args: &[Value]) -> Result<u64, String>;
    /// Runs a query; its rows.
    fn rows(&self, sql: &str, args: &[Value]) -> Result<Vec<Row>, String>;
    /// Runs a query, handing its rows to `each` one at a time as they are read, for reads too
    /// large to hold (`graphtoken db copy`). Stops at the first error, `each`'s included.
    fn each_row(
        &self,
        sql: &str,
        args: &[Value],
        each: &mut dyn FnMut(Row) -> Result<(), String>,
    ) -> Result<(), String>;
    /// Loads `rows` into `table`'s `columns` (a comma list, in the rows' order) the database's
    /// fastest way, if it has one (PostgreSQL's `COPY … FROM STDIN`); `Ok(false)` when it has
    /// none and the caller inserts them itself.
    fn load_rows(&self, table: &str, columns: &str, rows: &[Vec<Value>]) -> Result<bool, String> {
        let _ = (table, columns, rows);
        Ok(false)
    }
    /// Runs an `INSERT` of one row into a table keyed by an integer `id` the database draws;
    /// the new row's id. Here with `RETURNING id`.
    fn insert_id(&self, sql: &str, args: &[Value]) -> Result<i64, String> {
        let rows = self.rows(&format!("{sql} RETURNING id"), args)?;
        let row = rows.first().ok_or("no row inserted")?;
        row.get(0).map_err(|e| e.message)
    }
}

impl dyn Db + '_ {
    fn fail(&self, what: &str, e: impl std::fmt::Display) -> StoreError {
        StoreError::new(format!("{}: {what}: {e}", self.dialect()))
    }

    /// Runs a statement; how many rows it changed.
    pub(crate) fn execute(&self, sql: &str, args: &[Value], what: &str) -> StoreResult<u64> {
        self.exec(sql, args).map_err(|e| self.fail(what, e))
    }

    /// Loads rows the database's fastest way (see [`Db::load_rows`]); false when it has none.
    pub(crate) fn load(
        &self,
        table: &str,
        columns: &str,
        rows: &[Vec<Value>],
        what: &str,
    ) -> StoreResult<bool> {
        self.load_rows(table, columns, rows)
            .map_err(|e| self.fail(what, e))
    }

    /// Every row, mapped.
    pub(crate) fn all<T>(
        &self,
        sql: &str,
        args: &[Value],
        map: impl Fn(&Row) -> StoreResult<T>,
        what: &str,
    ) -> StoreResult<Vec<T>> {
        let rows = self.rows(sql, args).map_err(|e| self.fail(what, e))?;
        rows.iter()
            .map(|r| map(r).map_err(|e| self.fail(what, e.message)))
            .collect()
    }

    /// Every row, handed to `each` as it is read (see [`Db::each_row`]).
    pub(crate) fn stream(
        &self,
        sql: &str,
        args: &[Value],
        each: &mut dyn FnMut(Row) -> Result<(), String>,
        what: &str,
    ) -> StoreResult<()> {
        self.each_row(sql, args, each)
            .map_err(|e| self.fail(what, e))
    }

    /// The first row, mapped, if there is one.
    pub(crate) fn one<T>(
        &self,
        sql: &str,
        args: &[Value],
        map: impl FnOnce(&Row) -> StoreResult<T>,
        what: &str,
    ) -> StoreResult<Option<T>> {
        let rows = self.rows(sql, args).map_err(|e| self.fail(what, e))?;
        match rows.first() {
            Some(r) => map(r).map(Some).map_err(|e| self.fail(what, e.message)),
            None => Ok(None),
        }
    }

    /// Inserts one row into a table keyed by an integer `id`; the new row's id.
    pub(crate) fn insert(&self, sql: &str, args: &[Value], what: &str) -> StoreResult<i64> {
        self.insert_id(sql, args).map_err(|e| self.fail(what, e))
    }

    /// The first row, mapped; no row is an error (a broken reference).
    pub(crate) fn required<T>(
        &self,
        sql: &str,
        args: &[Value],
        map: impl FnOnce(&Row) -> StoreResult<T>,
        what: &str,
    ) -> StoreResult<T> {
        self.one(sql, args, map, what)?
            .ok_or_else(|| self.fail(what, "no such row"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_read_only_what_they_hold() {
        let row = Row(vec![
            Value::Int(7),
            Value::Null(Kind::Int),
            Value::Text("x".into()),
            Value::Blob(vec![1, 2]),
            Value::Int(-1),
        ]);
        assert_eq!(row.get::<i64>(0).ok(), Some(7));
        assert_eq!(row.get::<Option<i64>>(1).ok(), Some(None));
        assert_eq!(row.get::<Option<String>>(2).ok(), Some(Some("x".into())));
        assert_eq!(row.get::<[u8; 2]>(3).ok(), Some([1, 2]));
        assert!(row.get::<[u8; 3]>(3).is_err());
        assert!(row.get::<String>(0).is_err());
        assert!(row.get::<i64>(1).is_err());
        assert!(row.get::<u32>(4).is_err());
        assert!(row.get::<bool>(0).is_err());
        assert!(row.get::<i64>(9).is_err());
    }

    #[test]
    fn params_bind_as_values() {
        let hash = [9u8; 2];
        let none: Option<i64> = None;
        let got = args![1_i64, "a", true, &hash, none, Some(3_u32)];
        assert_eq!(
            *got,
            [
                Value::Int(1),
                Value::Text("a".into()),
                Value::Int(1),
                Value::Blob(vec![9, 9]),
                Value::Null(Kind::Int),
                Value::Int(3),
            ]
        );
    }
}
