//! [`Db`] on a PostgreSQL connection: `?N` parameters are rewritten to `$N`, each statement is
//! prepared once per connection with the types of its values (a NULL carries the type it
//! stands in for), and rows come back as [`Value`]s. The calls are blocking: each waits on the
//! backend's own runtime, from one of the backend's threads.

use std::error::Error;

use bytes::BytesMut;
use deadpool_postgres::{Object, Transaction};
use tokio::runtime::Handle;
use tokio_postgres::types::{to_sql_checked, IsNull, ToSql, Type};
use tokio_postgres::Statement;

use crate::db::{Db, Kind, Row, Value};

impl ToSql for Value {
    fn to_sql(
        &self,
        ty: &Type,
        out: &mut BytesMut,
    ) -> Result<IsNull, Box<dyn Error + Sync + Send>> {
        match self {
            Value::Null(_) => Ok(IsNull::Yes),
            Value::Int(n) => match *ty {
                Type::INT2 => i16::try_from(*n)?.to_sql(ty, out),
                Type::INT4 => i32::try_from(*n)?.to_sql(ty, out),
                Type::BOOL => (*n != 0).to_sql(ty, out),
                _ => n.to_sql(ty, out),
            },
            Value::Text(s) => s.as_str().to_sql(ty, out),
            Value::Blob(b) => b.as_slice().to_sql(ty, out),
        }
    }

    fn accepts(_: &Type) -> bool {
        true
    }

    to_sql_checked!();
}

/// The PostgreSQL type a value binds as.
fn pg_type(kind: Kind) -> Type {
    match kind {
        Kind::Int => Type::INT8,
        Kind::Text => Type::TEXT,
        Kind::Blob => Type::BYTEA,
    }
}

/// `?N` → `$N`, outside quoted text and identifiers.
pub(crate) fn numbered(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len());
    let mut quote: Option<char> = None;
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (None, '\'' | '"') => quote = Some(c),
            (None, '?') if chars.peek().is_some_and(char::is_ascii_digit) => {
                out.push('$');
                continue;
            }
            _ => {}
        }
        out.push(c);
    }
    out
}

fn value(row: &tokio_postgres::Row, i: usize) -> Result<Value, String> {
    let ty = row.columns()[i].type_();
    let err = |e: tokio_postgres::Error| format!("column {i}: {e}");
    let int = |v: Option<i64>| v.map_or(Value::Null(Kind::Int), Value::Int);
    Ok(match *ty {
        Type::INT8 => int(row.try_get::<_, Option<i64>>(i).map_err(err)?),
        Type::INT4 => int(row
            .try_get::<_, Option<i32>>(i)
            .map_err(err)?
            .map(i64::from)),
        Type::INT2 => int(row
            .try_get::<_, Option<i16>>(i)
            .map_err(err)?
            .map(i64::from)),
        Type::BOOL => int(row
            .try_get::<_, Option<bool>>(i)
            .map_err(err)?
            .map(i64::from)),
        Type::TEXT | Type::VARCHAR | Type::NAME | Type::BPCHAR => row
            .try_get::<_, Option<String>>(i)
            .map_err(err)?
            .map_or(Value::Null(Kind::Text), Value::Text),
        Type::BYTEA => row
            .try_get::<_, Option<Vec<u8>>>(i)
            .map_err(err)?
            .map_or(Value::Null(Kind::Blob), Value::Blob),
        ref other => return Err(format!("column {i}: unexpected type {other}")),
    })
}

/// What a statement runs on: a pooled connection (reads) or a transaction on one (writes).
pub(crate) enum On<'a> {
    Client(&'a Object),
    Tx(Transaction<'a>),
}

/// A connection or a transaction, with the runtime its calls wait on.
pub(crate) struct PgDb<'a> {
    rt: &'a Handle,
    on: On<'a>,
}

impl<'a> PgDb<'a> {
    pub(crate) fn new(rt: &'a Handle, on: On<'a>) -> Self {
        PgDb { rt, on }
    }

    /// The transaction back, to commit it.
    pub(crate) fn into_inner(self) -> On<'a> {
        self.on
    }

    /// The statement for `sql` with parameters of these types, prepared on first use (the
    /// connection keeps it).
    fn statement(&self, sql: &str, args: &[Value]) -> Result<Statement, String> {
        let types: Vec<Type> = args.iter().map(|a| pg_type(a.kind())).collect();
        let text = numbered(sql);
        match &self.on {
            On::Client(c) => self.rt.block_on(c.prepare_typed_cached(&text, &types)),
            On::Tx(t) => self.rt.block_on(t.prepare_typed_cached(&text, &types)),
        }
        .map_err(|e| describe(&e))
    }
}

/// A PostgreSQL error with its code, when the server sent one.
pub(crate) fn describe(e: &tokio_postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => format!("{} ({})", db.message(), db.code().code()),
        None => {
            // With its causes: "error performing TLS handshake: invalid peer certificate: …".
            let mut text = e.to_string();
            let mut cause = std::error::Error::source(e);
            while let Some(c) = cause {
                text.push_str(&format!(": {c}"));
                cause = c.source();
            }
            text
        }
    }
}

fn params(args: &[Value]) -> Vec<&(dyn ToSql + Sync)> {
    args.iter().map(|a| a as &(dyn ToSql + Sync)).collect()
}

impl Db for PgDb<'_> {
    fn dialect(&self) -> &'static str {
        "postgres"
    }

    fn load_rows(&self, table: &str, columns: &str, rows: &[Vec<Value>]) -> Result<bool, String> {
        use futures_sink::Sink;
        let sql = format!("COPY {table} ({columns}) FROM STDIN");
        let data = bytes::Bytes::from(copy_text(rows));
        self.rt
            .block_on(async {
                let sink = match &self.on {
                    On::Client(c) => c.copy_in(sql.as_str()).await,
                    On::Tx(t) => t.copy_in(sql.as_str()).await,
                }?;
                let mut sink = std::pin::pin!(sink);
                std::future::poll_fn(|cx| sink.as_mut().poll_ready(cx)).await?;
                sink.as_mut().start_send(data)?;
                sink.as_mut().finish().await
            })
            .map_err(|e| describe(&e))?;
        Ok(true)
    }

    fn exec(&self, sql: &str, args: &[Value]) -> Result<u64, String> {
        let stmt = self.statement(sql, args)?;
        let params = params(args);
        match &self.on {
            On::Client(c) => self.rt.block_on(c.execute(&stmt, &params)),
            On::Tx(t) => self.rt.block_on(t.execute(&stmt, &params)),
        }
        .map_err(|e| describe(&e))
    }

    fn rows(&self, sql: &str, args: &[Value]) -> Result<Vec<Row>, String> {
        let stmt = self.statement(sql, args)?;
        let params = params(args);
        let rows = match &self.on {
            On::Client(c) => self.rt.block_on(c.query(&stmt, &params)),
            On::Tx(t) => self.rt.block_on(t.query(&stmt, &params)),
        }
        .map_err(|e| describe(&e))?;
        rows.iter().map(row).collect()
    }

    /// Rows come as PostgreSQL sends them: the connection reads no further ahead than a few
    /// messages while `each` works.
    fn each_row(
        &self,
        sql: &str,
        args: &[Value],
        each: &mut dyn FnMut(Row) -> Result<(), String>,
    ) -> Result<(), String> {
        use futures_core::Stream;
        let stmt = self.statement(sql, args)?;
        let params = params(args);
        let rows = match &self.on {
            On::Client(c) => self.rt.block_on(c.query_raw(&stmt, params)),
            On::Tx(t) => self.rt.block_on(t.query_raw(&stmt, params)),
        }
        .map_err(|e| describe(&e))?;
        let mut rows = std::pin::pin!(rows);
        let mut next = || {
            self.rt
                .block_on(std::future::poll_fn(|cx| rows.as_mut().poll_next(cx)))
        };
        while let Some(r) = next() {
            each(row(&r.map_err(|e| describe(&e))?)?)?;
        }
        Ok(())
    }
}

/// `rows` in the text form of `COPY … FROM STDIN`: a line a row, tabs between values, `\N` for
/// NULL, bytes as `\\x` and hex, and in texts a backslash, tab, newline or carriage return
/// escaped with a backslash; an integer as its digits.
fn copy_text(rows: &[Vec<Value>]) -> Vec<u8> {
    use std::io::Write;
    let mut out = Vec::new();
    for row in rows {
        for (i, v) in row.iter().enumerate() {
            if i > 0 {
                out.push(b'\t');
            }
            match v {
                Value::Null(_) => out.extend_from_slice(b"\\N"),
                Value::Int(n) => {
                    let _ = write!(out, "{n}");
                }
                Value::Text(s) => {
                    for b in s.bytes() {
                        match b {
                            b'\\' => out.extend_from_slice(b"\\\\"),
                            b'\t' => out.extend_from_slice(b"\\t"),
                            b'\n' => out.extend_from_slice(b"\\n"),
                            b'\r' => out.extend_from_slice(b"\\r"),
                            b => out.push(b),
                        }
                    }
                }
                Value::Blob(b) => {
                    const HEX: &[u8; 16] = b"0123456789abcdef";
                    out.extend_from_slice(b"\\\\x");
                    for byte in b {
                        out.push(HEX[usize::from(byte >> 4)]);
                        out.push(HEX[usize::from(byte & 0xf)]);
                    }
                }
            }
        }
        out.push(b'\n');
    }
    out
}

fn row(r: &tokio_postgres::Row) -> Result<Row, String> {
    (0..r.len())
        .map(|i| value(r, i))
        .collect::<Result<Vec<_>, _>>()
        .map(Row)
}

#[cfg(test)]
mod tests {
    use super::numbered;

    #[test]
    fn parameters_are_numbered_outside_quotes() {
        assert_eq!(
            numbered("SELECT ?1, '?2', \"a?3\" FROM t WHERE x = ?12 AND y <> '' AND z = ?"),
            "SELECT $1, '?2', \"a?3\" FROM t WHERE x = $12 AND y <> '' AND z = ?"
        );
    }
}
