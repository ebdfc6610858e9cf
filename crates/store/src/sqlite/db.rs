//! [`Db`] on a SQLite connection (or a transaction, which derefs to one): statements are
//! compiled once per connection (`prepare_cached`) and values cross as SQLite's own.

use rusqlite::types::{ToSqlOutput, ValueRef};
use rusqlite::{params_from_iter, Connection, ToSql};

use crate::db::{Db, Kind, Row, Value};

impl ToSql for Value {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(ToSqlOutput::Borrowed(match self {
            Value::Null(_) => ValueRef::Null,
            Value::Int(n) => ValueRef::Integer(*n),
            Value::Text(s) => ValueRef::Text(s.as_bytes()),
            Value::Blob(b) => ValueRef::Blob(b),
        }))
    }
}

fn value(v: ValueRef<'_>) -> Result<Value, String> {
    Ok(match v {
        // Read back, a NULL's type does not matter.
        ValueRef::Null => Value::Null(Kind::Int),
        ValueRef::Integer(n) => Value::Int(n),
        ValueRef::Text(t) => Value::Text(
            String::from_utf8(t.to_vec()).map_err(|e| format!("text that is not UTF-8: {e}"))?,
        ),
        ValueRef::Blob(b) => Value::Blob(b.to_vec()),
        ValueRef::Real(r) => return Err(format!("a REAL value ({r}) where none is stored")),
    })
}

impl Db for Connection {
    fn dialect(&self) -> &'static str {
        "sqlite"
    }

    fn exec(&self, sql: &str, args: &[Value]) -> Result<u64, String> {
        let mut stmt = self.prepare_cached(sql).map_err(|e| e.to_string())?;
        let n = stmt
            .execute(params_from_iter(args))
            .map_err(|e| e.to_string())?;
        Ok(n as u64)
    }

    /// Without `RETURNING`, which SQLite answers through a temporary table of its own.
    fn insert_id(&self, sql: &str, args: &[Value]) -> Result<i64, String> {
        match self.exec(sql, args)? {
            1 => Ok(self.last_insert_rowid()),
            n => Err(format!("{n} rows inserted, not one")),
        }
    }

    fn rows(&self, sql: &str, args: &[Value]) -> Result<Vec<Row>, String> {
        let mut out = Vec::new();
        self.each_row(sql, args, &mut |row| {
            out.push(row);
            Ok(())
        })?;
        Ok(out)
    }

    fn each_row(
        &self,
        sql: &str,
        args: &[Value],
        each: &mut dyn FnMut(Row) -> Result<(), String>,
    ) -> Result<(), String> {
        let mut stmt = self.prepare_cached(sql).map_err(|e| e.to_string())?;
        let width = stmt.column_count();
        let mut rows = stmt
            .query(params_from_iter(args))
            .map_err(|e| e.to_string())?;
        while let Some(r) = rows.next().map_err(|e| e.to_string())? {
            let values = (0..width)
                .map(|i| value(r.get_ref(i).map_err(|e| e.to_string())?))
                .collect::<Result<Vec<_>, _>>()?;
            each(Row(values))?;
        }
        Ok(())
    }
}
