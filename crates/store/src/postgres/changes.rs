//! Following the change feed (migration 9): one connection per instance listens on
//! `graphtoken_changes`, reads the rows added since the last it saw and reports them to the
//! caches. A notification only says "look now"; the rows are the truth. So a lost notification
//! costs at most one poll interval, and a lost connection is followed by a catch-up from the
//! last row seen (or by dropping everything cached, when rows it never saw were pruned).

use std::future::poll_fn;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use graphtoken_core::model::{AppId, PageId, SessionId, UserId};
use graphtoken_core::stats::FeedStats;
use graphtoken_core::store::{ChangeSink, Changed};
use tokio::runtime::Handle;
use tokio_postgres::{AsyncMessage, Client, Config, Row, Statement};
use tokio_postgres_rustls::MakeRustlsConnect;

use super::db::describe;

/// How often the feed is read when no notification comes.
const POLL: Duration = Duration::from_millis(250);
/// How often this instance prunes rows older than ten minutes.
const PRUNE: Duration = Duration::from_secs(60);
/// The longest wait before reconnecting.
const MAX_BACKOFF: Duration = Duration::from_secs(5);
/// Rows read at a time.
const BATCH: i64 = 5000;
/// How long a catch-up may take before the connection is given up.
const QUERY_TIMEOUT: Duration = Duration::from_secs(10);

/// The `application_name` of the feed's connection (`pg_stat_activity` shows it).
pub(crate) const APPLICATION_NAME: &str = "graphtoken-changes";

/// A change heard later than this after it was written counts as late.
const LATE_MS: u64 = 1000;

/// How the feed keeps up (see `FeedStats`).
#[derive(Default)]
pub(super) struct Counters {
    connected: AtomicBool,
    changes: AtomicU64,
    late: AtomicU64,
    last_lag_ms: AtomicU64,
    reconnects: AtomicU64,
}

impl Counters {
    pub(super) fn stats(&self) -> FeedStats {
        FeedStats {
            connected: self.connected.load(Ordering::Relaxed),
            changes: self.changes.load(Ordering::Relaxed),
            late: self.late.load(Ordering::Relaxed),
            last_lag_ms: self.last_lag_ms.load(Ordering::Relaxed),
            reconnects: self.reconnects.load(Ordering::Relaxed),
        }
    }

    /// Counts rows heard `lags` milliseconds after they were written.
    fn heard(&self, lags: impl Iterator<Item = u64>) {
        let (mut n, mut late, mut last) = (0, 0, None);
        for lag in lags {
            n += 1;
            late += u64::from(lag > LATE_MS);
            last = Some(lag);
        }
        self.changes.fetch_add(n, Ordering::Relaxed);
        self.late.fetch_add(late, Ordering::Relaxed);
        if let Some(lag) = last {
            self.last_lag_ms.store(lag, Ordering::Relaxed);
        }
    }
}

/// Starts following the feed of the database `config` names, on `rt`, counting in `counters`.
pub(super) fn follow(
    rt: &Handle,
    mut config: Config,
    tls: MakeRustlsConnect,
    sink: ChangeSink,
    counters: Arc<Counters>,
) {
    config.application_name(APPLICATION_NAME);
    rt.spawn(async move {
        let mut last: Option<i64> = None;
        let mut backoff = Duration::from_millis(100);
        loop {
            let started = Instant::now();
            let why = match run(&config, &tls, &sink, &mut last, &counters).await {
                Ok(never) => match never {},
                Err(why) => why,
            };
            counters.connected.store(false, Ordering::Relaxed);
            counters.reconnects.fetch_add(1, Ordering::Relaxed);
            if started.elapsed() > MAX_BACKOFF {
                backoff = Duration::from_millis(100);
            }
            tracing::warn!(
                "the change feed stopped ({why}); reconnecting in {} ms",
                backoff.as_millis()
            );
            tokio::time::sleep(backoff).await;
            backoff = (backoff * 2).min(MAX_BACKOFF);
        }
    });
}

/// Follows the feed until the connection fails.
async fn run(
    config: &Config,
    tls: &MakeRustlsConnect,
    sink: &ChangeSink,
    last: &mut Option<i64>,
    counters: &Counters,
) -> Result<std::convert::Infallible, String> {
    let (client, mut connection) = config
        .connect(tls.clone())
        .await
        .map_err(|e| describe(&e))?;
    let (notified, mut notifications) = tokio::sync::mpsc::unbounded_channel();
    // The connection's messages: notifications are passed on; its end ends the channel.
    tokio::spawn(async move {
        while let Some(Ok(message)) = poll_fn(|cx| connection.poll_message(cx)).await {
            if let AsyncMessage::Notification(_) = message {
                let _ = notified.send(());
            }
        }
    });
    let err = |e: tokio_postgres::Error| describe(&e);
    client
        .batch_execute("LISTEN graphtoken_changes")
        .await
        .map_err(err)?;
    let read = client
        .prepare(
            "SELECT seq, kind, a, b, hash, name, value, \
             (EXTRACT(EPOCH FROM clock_timestamp() - at) * 1000)::float8 \
             FROM changes WHERE seq > $1 ORDER BY seq LIMIT $2",
        )
        .await
        .map_err(err)?;
    if last.is_none() {
        // The first time: the feed starts at its end. Whatever was cached before it was
        // followed may be stale (the first connection can come late), and so may the clock.
        let end: i64 = client
            .query_one("SELECT COALESCE(MAX(seq), 0) FROM changes", &[])
            .await
            .and_then(|r| r.try_get(0))
            .map_err(err)?;
        let clock: Option<String> = client
            .query_opt(
                "SELECT value FROM settings WHERE name = 'clock_offset'",
                &[],
            )
            .await
            .map_err(err)?
            .map(|r| r.try_get(0))
            .transpose()
            .map_err(err)?;
        sink(&[
            Changed::Everything,
            Changed::Setting {
                name: "clock_offset".into(),
                value: clock,
            },
        ]);
        *last = Some(end);
    }
    counters.connected.store(true, Ordering::Relaxed);
    let mut pruned = Instant::now();
    loop {
        // A connection that stops answering (a half-open socket) is given up, not waited on.
        tokio::time::timeout(
            QUERY_TIMEOUT,
            catch_up(&client, &read, sink, last, counters),
        )
        .await
        .map_err(|_| "the feed did not answer in time".to_string())??;
        if pruned.elapsed() >= PRUNE {
            prune(&client).await.map_err(err)?;
            pruned = Instant::now();
        }
        tokio::select! {
            n = notifications.recv() => {
                if n.is_none() {
                    return Err("the connection closed".into());
                }
                while notifications.try_recv().is_ok() {}
            }
            _ = tokio::time::sleep(POLL) => {}
        }
    }
}

/// Reports every row after `last`; when rows after it were pruned unseen (this instance fell
/// more than the feed keeps behind), everything cached goes.
async fn catch_up(
    client: &Client,
    read: &Statement,
    sink: &ChangeSink,
    last: &mut Option<i64>,
    counters: &Counters,
) -> Result<(), String> {
    let floor: i64 = client
        .query_one("SELECT seq FROM changes_floor", &[])
        .await
        .and_then(|r| r.try_get(0))
        .map_err(|e| describe(&e))?;
    if last.is_some_and(|seen| floor > seen) {
        sink(&[Changed::Everything]);
        *last = Some(floor);
    }
    loop {
        let from = last.unwrap_or(0);
        let rows = client
            .query(read, &[&from, &BATCH])
            .await
            .map_err(|e| describe(&e))?;
        let Some(end) = rows.last().and_then(|r| r.try_get::<_, i64>(0).ok()) else {
            return Ok(());
        };
        let changes: Vec<Changed> = rows.iter().filter_map(changed).collect();
        if !changes.is_empty() {
            sink(&changes);
        }
        counters.heard(rows.iter().map(|r| {
            let ms = r.try_get::<_, f64>(7).unwrap_or(0.0);
            ms.max(0.0) as u64
        }));
        *last = Some(end);
        if (rows.len() as i64) < BATCH {
            return Ok(());
        }
    }
}

/// A row of the feed as the caches name it (`None`: a row this graphtoken does not know).
fn changed(row: &Row) -> Option<Changed> {
    let kind: &str = row.try_get(1).ok()?;
    let a = || {
        row.try_get::<_, Option<i64>>(2)
            .ok()
            .flatten()
            .map(|v| v as u64)
    };
    let b = || {
        row.try_get::<_, Option<i64>>(3)
            .ok()
            .flatten()
            .map(|v| v as u64)
    };
    Some(match kind {
        "token" => {
            let hash: Vec<u8> = row.try_get(4).ok()?;
            Changed::Token(hash.try_into().ok()?)
        }
        "session" => Changed::Session(SessionId(a()? as i64)),
        "user" => Changed::User(UserId(a()?)),
        "app" => Changed::App(AppId(a()?)),
        "grant" => Changed::Grant(UserId(a()?), AppId(b()?)),
        "page" => Changed::Page(PageId(a()?)),
        "tasks" => Changed::Tasks(PageId(a()?), UserId(b()?)),
        "setting" => Changed::Setting {
            name: row.try_get(5).ok()?,
            value: row.try_get(6).ok()?,
        },
        "faults" => Changed::Faults,
        _ => return None,
    })
}

/// Deletes rows older than ten minutes and raises the floor past them.
async fn prune(client: &Client) -> Result<(), tokio_postgres::Error> {
    client
        .batch_execute(
            "WITH gone AS (DELETE FROM changes WHERE at < now() - interval '10 minutes' \
             RETURNING seq) \
             UPDATE changes_floor SET seq = GREATEST(seq, (SELECT COALESCE(MAX(seq), 0) FROM gone))",
        )
        .await
}
