//! `graphtoken db copy`: every record of one database into another, empty one, whatever the
//! two backends (an emulator's SQLite world into a production PostgreSQL, say).
//!
//! The tables and their columns are listed here, each column with its type, so that a NULL
//! is bound with the type its column wants; a test checks the list against the schema. The
//! source is read in one transaction, its rows going to the target as they are read, a
//! thousand at a time whatever the database's size, and written in one transaction there: all
//! of it, or nothing. Counts are compared afterwards.

use std::sync::{mpsc, Mutex};

use graphtoken_core::store::{Store, StoreError, StoreResult};

use crate::db::{Db, Kind, Row, Value};
use crate::sql_store::{Backend, SqlStore};

use Kind::{Blob as B, Int as I, Text as T};

/// A table, and its columns with their types.
pub(crate) struct Table {
    pub(crate) name: &'static str,
    pub(crate) columns: &'static [(&'static str, Kind)],
}

/// Every table a copy carries, parents before children. Left out: `schema_version` (the target
/// is migrated), and PostgreSQL's change feed (`changes`, `changes_floor`).
pub(crate) const TABLES: &[Table] = &[
    Table {
        name: "apps",
        columns: &[
            ("id", I),
            ("key", T),
            ("name", T),
            ("secret", T),
            ("client_token", T),
            ("mode", T),
            ("platform", T),
            ("require_appsecret_proof", I),
            ("redirect_uris", T),
            ("advanced_access", T),
            ("deauthorize_callback_url", T),
            ("created_at", I),
            ("rate_limit_app", I),
            ("rate_limit_user", I),
            ("rate_limit_page", I),
            ("data_deletion_url", T),
            ("review_approved_at", I),
            ("test_user_limit", I),
        ],
    },
    Table {
        name: "users",
        columns: &[
            ("id", I),
            ("key", T),
            ("name", T),
            ("email", T),
            ("password_hash", T),
            ("created_at", I),
            ("status", T),
        ],
    },
    Table {
        name: "app_roles",
        columns: &[("app_id", I), ("user_id", I), ("role", T)],
    },
    Table {
        name: "pages",
        columns: &[
            ("id", I),
            ("key", T),
            ("name", T),
            ("category", T),
            ("created_at", I),
            ("about", T),
            ("description", T),
            ("website", T),
            ("phone", T),
            ("emails", T),
            ("username", T),
            ("fan_count", I),
            ("cover", T),
        ],
    },
    Table {
        name: "page_tasks",
        columns: &[("page_id", I), ("user_id", I), ("tasks", T), ("since", I)],
    },
    Table {
        name: "grants",
        columns: &[
            ("user_id", I),
            ("app_id", I),
            ("granted", T),
            ("declined", T),
            ("last_login_at", I),
            ("created_at", I),
            ("pages", T),
        ],
    },
    Table {
        name: "asids",
        columns: &[("asid", I), ("user_id", I), ("app_id", I)],
    },
    Table {
        name: "sessions",
        columns: &[
            ("id", I),
            ("user_id", I),
            ("app_id", I),
            ("created_at", I),
            ("invalidated_at", I),
            ("invalid_subcode", I),
        ],
    },
    Table {
        name: "tokens",
        columns: &[
            ("hash", B),
            ("kind", T),
            ("app_id", I),
            ("user_id", I),
            ("page_id", I),
            ("session_id", I),
            ("parent", B),
            ("long_lived", I),
            ("issued_at", I),
            ("expires_at", I),
            ("invalidated_at", I),
            ("invalid_subcode", I),
            ("tasks_since", I),
        ],
    },
    Table {
        name: "settings",
        columns: &[("name", T), ("value", T)],
    },
    Table {
        name: "psids",
        columns: &[("psid", I), ("user_id", I), ("page_id", I)],
    },
    Table {
        name: "content_ids",
        columns: &[("name", T), ("last", I)],
    },
    Table {
        name: "posts",
        columns: &[
            ("id", I),
            ("page_id", I),
            ("app_id", I),
            ("message", T),
            ("link", T),
            ("published", I),
            ("created_at", I),
            ("updated_at", I),
        ],
    },
    Table {
        name: "comments",
        columns: &[
            ("id", I),
            ("post_id", I),
            ("app_id", I),
            ("user_id", I),
            ("message", T),
            ("hidden", I),
            ("created_at", I),
        ],
    },
    Table {
        name: "conversations",
        columns: &[("id", I), ("page_id", I), ("user_id", I), ("updated_at", I)],
    },
    Table {
        name: "messages",
        columns: &[
            ("id", I),
            ("conversation_id", I),
            ("from_page", I),
            ("app_id", I),
            ("message", T),
            ("created_at", I),
        ],
    },
    Table {
        name: "call_to_actions",
        columns: &[
            ("id", I),
            ("page_id", I),
            ("type", T),
            ("web_url", T),
            ("created_at", I),
            ("app_id", I),
        ],
    },
    Table {
        name: "instant_articles",
        columns: &[
            ("id", I),
            ("page_id", I),
            ("html_source", T),
            ("published", I),
            ("created_at", I),
            ("app_id", I),
        ],
    },
    Table {
        name: "seed_keys",
        columns: &[("kind", T), ("key", T), ("id", I)],
    },
    Table {
        name: "auth_codes",
        columns: &[
            ("hash", B),
            ("kind", T),
            ("app_id", I),
            ("user_id", I),
            ("redirect_uri", T),
            ("pkce_method", T),
            ("pkce_challenge", T),
            ("session_id", I),
            ("created_at", I),
            ("expires_at", I),
            ("used_at", I),
        ],
    },
    Table {
        name: "device_codes",
        columns: &[
            ("hash", B),
            ("user_code", T),
            ("app_id", I),
            ("scopes", T),
            ("created_at", I),
            ("expires_at", I),
            ("state", T),
            ("approved_user_id", I),
            ("last_poll_at", I),
        ],
    },
    Table {
        name: "test_users",
        columns: &[("seq", I), ("user_id", I), ("app_id", I), ("created_at", I)],
    },
    Table {
        name: "callbacks",
        columns: &[
            ("id", I),
            ("kind", T),
            ("url", T),
            ("app_id", T),
            ("user_id", T),
            ("form", T),
            ("status", T),
            ("attempts", I),
            ("last_error", T),
            ("answer", T),
            ("next_at", I),
            ("lease_until", I),
            ("created_at", I),
        ],
    },
    Table {
        name: "browser_sessions",
        columns: &[
            ("hash", B),
            ("user_id", I),
            ("started_at", I),
            ("ended_at", I),
        ],
    },
    Table {
        name: "faults",
        columns: &[("id", I), ("spec", T), ("times", I), ("fired", I)],
    },
    Table {
        name: "rate_counts",
        columns: &[("key", T), ("minute", I), ("count", I)],
    },
    Table {
        name: "signin_throttle",
        columns: &[
            ("key", T),
            ("failures", I),
            ("last_failure", I),
            ("wait_until", I),
        ],
    },
];

/// Tables whose key the database numbers itself, and that key: after a copy, PostgreSQL's
/// sequences must start past the copied numbers.
const NUMBERED: &[(&str, &str)] = &[
    ("sessions", "id"),
    ("conversations", "id"),
    ("messages", "id"),
    ("test_users", "seq"),
    ("callbacks", "id"),
    ("faults", "id"),
];

/// What a copy carried: each table and its rows.
pub type Copied = Vec<(&'static str, u64)>;

pub(crate) fn names(t: &Table) -> String {
    t.columns
        .iter()
        .map(|(c, _)| *c)
        .collect::<Vec<_>>()
        .join(", ")
}

/// A row as read, with each NULL given its column's type.
fn typed(t: &Table, row: Row) -> Vec<Value> {
    row.0
        .into_iter()
        .zip(t.columns)
        .map(|(v, (_, kind))| match v {
            Value::Null(_) => Value::Null(*kind),
            v => v,
        })
        .collect()
}

/// The rows each table holds, but the counters (`content_ids`, which a migration fills).
pub(crate) fn held(db: &dyn Db) -> StoreResult<Copied> {
    TABLES
        .iter()
        .filter(|t| t.name != "content_ids")
        .map(|t| Ok((t.name, count(db, t.name)?)))
        .collect()
}

fn count(db: &dyn Db, table: &str) -> StoreResult<u64> {
    let n: i64 = db.required(
        &format!("SELECT COUNT(*) FROM {table}"),
        &[],
        |r| r.get(0),
        "counting rows",
    )?;
    Ok(n as u64)
}

/// The highest session id a PostgreSQL source's sequence ever drew (`None` on SQLite, whose
/// ids past the highest row are kept by [`SESSIONS_HIGH`](crate::queries::SESSIONS_HIGH)
/// alone). A source written by a graphtoken before that setting was kept on PostgreSQL has
/// deleted sessions' ids only there. A sequence set to start at `n` (`setval(…, n, false)`, as a
/// copy leaves its target) has drawn up to `n - 1`.
fn sessions_drawn(db: &dyn Db) -> StoreResult<Option<i64>> {
    if db.dialect() != "postgres" {
        return Ok(None);
    }
    let what = "reading the source's session numbering";
    let sequence = db.one(
        "SELECT pg_get_serial_sequence('sessions', 'id')",
        &[],
        |r| r.get::<Option<String>>(0),
        what,
    )?;
    let Some(sequence) = sequence.flatten() else {
        return Ok(None);
    };
    // The name comes quoted and qualified from PostgreSQL itself.
    let sql = format!(
        "SELECT CASE WHEN is_called THEN last_value ELSE last_value - 1 END FROM {sequence}"
    );
    db.one(&sql, &[], |r| r.get::<i64>(0), what)
}

/// The source's settings as read, with [`SESSIONS_HIGH`](crate::queries::SESSIONS_HIGH) raised
/// to `high` (added when there was none), so the target numbers sessions past it.
fn keep_drawn(settings: &mut Vec<Vec<Value>>, high: i64) {
    let name = Value::Text(crate::queries::SESSIONS_HIGH.to_string());
    let value = Value::Text(high.to_string());
    match settings.iter_mut().find(|r| r.first() == Some(&name)) {
        Some(row) => {
            let kept = match row.get(1) {
                Some(Value::Text(v)) => v.parse::<i64>().ok(),
                _ => None,
            };
            if kept.is_none_or(|k| k < high) {
                *row = vec![name, value];
            }
        }
        None => settings.push(vec![name, value]),
    }
}

/// Rows of one table, on their way from the source's read to the target's write.
enum Batch {
    /// The table's place in [`TABLES`], and some of its rows.
    Rows(usize, Vec<Vec<Value>>),
    /// Every row was read.
    End,
}

/// Rows handed from the source's read to the target's write at a time, at most.
const CHUNK: usize = 1024;
/// Bytes of values in a chunk, about, at most: rows with long texts (posts, articles) go in
/// smaller chunks.
const CHUNK_BYTES: usize = 4 << 20;
/// Chunks on their way at most: what a copy holds, whatever the size of the database.
const IN_FLIGHT: usize = 4;
/// Parameters in one `INSERT` of many rows (SQLite takes up to 32,766, PostgreSQL 65,535).
const PARAMS: usize = 4096;

/// How the source's read ended.
enum Read {
    /// Every row went out: each table's rows as read, and as sent (the settings may gain one).
    Done { copied: Copied, sent: Copied },
    /// The target's write stopped taking rows (its own error says why).
    TargetStopped,
}

/// Reads every table of the source, in order, into `out`, a chunk at a time, in one read
/// transaction: the copy is the source as it was when the read began. On PostgreSQL without
/// the connection's statement timeout (30 s): a table's read lasts as long as the target takes
/// to write it.
fn read_all(db: &dyn Db, out: &mpsc::SyncSender<Batch>) -> StoreResult<Read> {
    let what = "starting the source's read";
    let began = if db.dialect() == "postgres" {
        db.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", &[], what)
            .and_then(|_| db.execute("SET LOCAL statement_timeout = 0", &[], what))
    } else {
        db.execute("BEGIN", &[], what)
    };
    let read = began.and_then(|_| read_tables(db, out));
    // Nothing was written: the read ends the same way whatever happened.
    let ended = db.execute("ROLLBACK", &[], "ending the source's read");
    let read = read?;
    ended?;
    Ok(read)
}

/// [`read_all`]'s tables.
fn read_tables(db: &dyn Db, out: &mpsc::SyncSender<Batch>) -> StoreResult<Read> {
    // A sequence that drew nothing says nothing.
    let drawn = sessions_drawn(db)?.filter(|&h| h > 0);
    let (mut copied, mut sent) = (Copied::new(), Copied::new());
    for (at, t) in TABLES.iter().enumerate() {
        let sql = format!("SELECT {} FROM {}", names(t), t.name);
        let (mut read, mut went) = (0u64, 0u64);
        // Sends rows on; false when the target stopped taking them.
        let mut send = |rows: Vec<Vec<Value>>| {
            went += rows.len() as u64;
            out.send(Batch::Rows(at, rows)).is_ok()
        };
        let mut stopped = false;
        // The settings, a few rows, are held whole: the numbering's high mark may go in.
        let whole = t.name == "settings";
        let (mut chunk, mut bytes) = (Vec::with_capacity(CHUNK), 0);
        let streamed = db.stream(
            &sql,
            &[],
            &mut |r| {
                read += 1;
                let row = typed(t, r);
                bytes += row.iter().map(Value::size).sum::<usize>();
                chunk.push(row);
                let full = chunk.len() == CHUNK || bytes >= CHUNK_BYTES;
                if !whole && full {
                    bytes = 0;
                    if !send(std::mem::take(&mut chunk)) {
                        stopped = true;
                        return Err("the target stopped taking rows".to_string());
                    }
                }
                Ok(())
            },
            "reading the source",
        );
        if !stopped {
            streamed?;
            if let Some(high) = drawn.filter(|_| whole) {
                keep_drawn(&mut chunk, high);
            }
            stopped = !chunk.is_empty() && !send(chunk);
        }
        if stopped {
            return Ok(Read::TargetStopped);
        }
        copied.push((t.name, read));
        sent.push((t.name, went));
    }
    if out.send(Batch::End).is_err() {
        return Ok(Read::TargetStopped);
    }
    Ok(Read::Done { copied, sent })
}

/// Writes what comes from `incoming` until its end, then starts PostgreSQL's numbering past
/// the copied ids.
fn write_all(db: &dyn Db, incoming: &mpsc::Receiver<Batch>) -> StoreResult<()> {
    // The migration made the counters; the source's carry on from where they are.
    db.execute("DELETE FROM content_ids", &[], "clearing the counters")?;
    loop {
        match incoming.recv() {
            Ok(Batch::Rows(at, rows)) => {
                let t = TABLES
                    .get(at)
                    .ok_or_else(|| StoreError::new("copy: rows of no table"))?;
                insert_rows(db, t, rows)?;
            }
            Ok(Batch::End) => break,
            Err(_) => {
                return Err(StoreError::new(
                    "the source's read ended before its last row",
                ))
            }
        }
    }
    if db.dialect() == "postgres" {
        for (table, key) in NUMBERED {
            // Sessions also start past the ids of the source's deleted ones (its setting came
            // along): no session number is drawn twice.
            let high = match *table {
                "sessions" => format!(
                    "(SELECT CAST(value AS BIGINT) FROM settings WHERE name = '{}')",
                    crate::queries::SESSIONS_HIGH
                ),
                _ => "0".to_string(),
            };
            let sql = format!(
                "SELECT setval(pg_get_serial_sequence('{table}', '{key}'), \
                 GREATEST(COALESCE((SELECT MAX({key}) FROM {table}), 0), \
                 COALESCE({high}, 0)) + 1, false)"
            );
            db.rows(&sql, &[]).map_err(|e| {
                StoreError::new(format!("postgres: moving the {table} sequence: {e}"))
            })?;
        }
    }
    Ok(())
}

/// `rows` of `t`: loaded the database's fastest way, or many to an `INSERT`.
fn insert_rows(db: &dyn Db, t: &Table, rows: Vec<Vec<Value>>) -> StoreResult<()> {
    if db.load(t.name, &names(t), &rows, "writing the target")? {
        return Ok(());
    }
    let width = t.columns.len();
    let mut rows = rows.into_iter().peekable();
    while rows.peek().is_some() {
        let args: Vec<Value> = rows.by_ref().take(PARAMS / width).flatten().collect();
        let groups: Vec<String> = (0..args.len() / width)
            .map(|r| {
                let params: Vec<String> =
                    (1..=width).map(|c| format!("?{}", r * width + c)).collect();
                format!("({})", params.join(", "))
            })
            .collect();
        let sql = format!(
            "INSERT INTO {} ({}) VALUES {}",
            t.name,
            names(t),
            groups.join(", ")
        );
        db.execute(&sql, &args, "writing the target")?;
    }
    Ok(())
}

/// Copies every record of `from` into `to` (migrated here; it must hold nothing yet).
pub(crate) async fn copy_between<A: Backend, B: Backend>(
    from: &SqlStore<A>,
    to: &SqlStore<B>,
) -> StoreResult<Copied> {
    let source = from.schema().await?;
    if !source.is_current() {
        return Err(StoreError::new(format!(
            "the source is at schema version {}, this graphtoken needs {}: migrate it first \
             (graphtoken db migrate)",
            source.found, source.wanted
        )));
    }
    to.migrate().await?;
    let held = to.backend.read(held).await?;
    if let Some((table, n)) = held.iter().find(|(_, n)| *n > 0) {
        return Err(StoreError::new(format!(
            "the target is not empty ({table} holds {n} rows): copy into a new database"
        )));
    }
    // The source's rows go to the target's one transaction as they are read, a few chunks at
    // a time. The write takes its end of the channel once: SQLite's writer runs a failed write
    // again, which then fails the same way (the rows are gone).
    let (out, incoming) = mpsc::sync_channel(IN_FLIGHT);
    let incoming = Mutex::new(Ok(incoming));
    let read = from.backend.read(move |db| read_all(db, &out));
    let write = to.backend.write(move |db| {
        let mut slot = incoming.lock().unwrap_or_else(|e| e.into_inner());
        // What a second run answers: the first one's failure (the words here if it panicked).
        let stopped = StoreError::new("copy: the target's write stopped partway");
        let rows = std::mem::replace(&mut *slot, Err(stopped))?;
        let wrote = write_all(db, &rows);
        *slot = Err(match &wrote {
            Ok(()) => StoreError::new("copy: the write cannot start over"),
            Err(e) => e.clone(),
        });
        wrote
    });
    let (read, wrote) = tokio::join!(read, write);
    // The source's failure first: the target's is then only that the rows stopped coming.
    let (copied, written) = match read? {
        Read::Done { copied, sent } => (copied, sent),
        Read::TargetStopped => {
            wrote?;
            return Err(StoreError::new("copy: the target stopped taking rows"));
        }
    };
    wrote?;
    let landed = to
        .backend
        .read(|db| {
            TABLES
                .iter()
                .map(|t| Ok((t.name, count(db, t.name)?)))
                .collect::<StoreResult<Vec<_>>>()
        })
        .await?;
    if landed != written {
        return Err(StoreError::new(format!(
            "the counts differ after the copy: wrote {written:?}, found {landed:?}"
        )));
    }
    Ok(copied)
}
