//! The PostgreSQL [`Backend`] of [`SqlStore`].
//!
//! The store code is blocking and written once for every backend (over [`Db`]); here it runs
//! on threads of the backend's own (`workers`), and each statement waits on the backend's own
//! tokio runtime, where `tokio-postgres` drives the connections. A pool (`deadpool-postgres`)
//! keeps the connections and each connection its prepared statements.
//!
//! Reads run on a pooled connection. A write runs in one transaction that first takes the
//! store's write lock (a transaction-scoped advisory lock): writes are serialized across every
//! instance that shares the database, as SQLite serializes its single writer, so each write's
//! checks and changes (a code redeemed once, a cap on test users) stay exact however many
//! instances run.

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use deadpool_postgres::{Manager, ManagerConfig, Object, Pool, RecyclingMethod, Runtime};
use graphtoken_core::stats::{PoolStats, StoreStats};
use graphtoken_core::store::{ChangeSink, StoreError, StoreFuture, StoreResult};
use tokio_postgres::config::Host;
use tokio_postgres::Config;
use tokio_postgres_rustls::MakeRustlsConnect;

use crate::db::Db;
use crate::sql_store::{Backend, SqlStore};

mod changes;
mod db;
mod migrations;
mod tls;
mod workers;

pub(crate) use db::describe;
use db::{On, PgDb};
use workers::Workers;

/// How many connections one instance keeps at most, and how many threads run its calls.
const POOL_SIZE: usize = 16;
/// How long a call waits for a free connection, or for a new one to open.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// The advisory lock every write takes first (`graphtok` in ASCII).
const WRITE_LOCK: i64 = 0x6772_6170_6874_6f6b;

/// How the error of a connection that could not be had starts (see `crate::is_unreachable`).
pub(crate) const UNREACHABLE: &str = "postgres: no connection to ";

/// The [`Store`](graphtoken_core::store::Store) on PostgreSQL.
pub(crate) type PostgresStore = SqlStore<Postgres>;

/// The connections to one PostgreSQL database. Cloning is cheap and shares them.
#[derive(Clone)]
pub(crate) struct Postgres {
    inner: Arc<Inner>,
}

struct Inner {
    pool: Pool,
    workers: Workers,
    /// Where the connections' IO runs; shut down (without waiting) when the store goes.
    runtime: Option<tokio::runtime::Runtime>,
    rt: tokio::runtime::Handle,
    /// For the change feed's own connection.
    config: Config,
    tls: MakeRustlsConnect,
    /// How the change feed keeps up.
    feed: Arc<changes::Counters>,
    location: String,
}

impl Drop for Inner {
    fn drop(&mut self) {
        if let Some(rt) = self.runtime.take() {
            rt.shutdown_background();
        }
    }
}

impl std::fmt::Debug for Postgres {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Postgres")
            .field("location", &self.inner.location)
            .finish_non_exhaustive()
    }
}

/// Where a URL points, without its password: `user@host:port/db`.
fn location(config: &Config) -> String {
    let user = config.get_user().unwrap_or("");
    let hosts: Vec<String> = config
        .get_hosts()
        .iter()
        .map(|h| match h {
            Host::Tcp(name) => name.clone(),
            Host::Unix(path) => path.display().to_string(),
        })
        .collect();
    let port = config.get_ports().first().copied().unwrap_or(5432);
    let db = config.get_dbname().unwrap_or(user);
    format!("{user}@{}:{port}/{db}", hosts.join(","))
}

/// Reads a `postgres://` or `postgresql://` URL: tokio-postgres's settings, and the TLS ones
/// (see `tls`).
pub(crate) fn config(url: &str) -> StoreResult<(Config, MakeRustlsConnect)> {
    let (url, tls) = tls::split(url.trim())?;
    let mut config = Config::from_str(&url)
        .map_err(|e| StoreError::new(format!("postgres: the database URL is not valid: {e}")))?;
    config.ssl_mode(tls.mode);
    Ok((config, tls.connector()?))
}

impl PostgresStore {
    /// Prepares the connections to the database at `url`
    /// (`postgres://USER[:PASSWORD]@HOST[:PORT]/DB`, `postgresql://…`, with `?host=/socket/dir`
    /// for a Unix socket); they open on first use. Does not migrate: call `Store::migrate`.
    pub(crate) fn open(url: &str) -> Result<PostgresStore, StoreError> {
        let (mut config, tls) = config(url)?;
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(CONNECT_TIMEOUT);
        }
        // A peer that vanished (a partition, a frozen machine) is noticed in about a minute,
        // and no statement or idle transaction holds the write lock for ever.
        config.keepalives_idle(Duration::from_secs(30));
        if config.get_options().is_none() {
            config.options(
                "-c statement_timeout=30000 -c lock_timeout=30000 \
                 -c idle_in_transaction_session_timeout=60000",
            );
        }
        let location = location(&config);
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("graphtoken-pg-io")
            .enable_all()
            .build()
            .map_err(|e| StoreError::new(format!("postgres: starting its runtime: {e}")))?;
        let manager = Manager::from_config(
            config.clone(),
            tls.clone(),
            ManagerConfig {
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let pool = Pool::builder(manager)
            .max_size(POOL_SIZE)
            .runtime(Runtime::Tokio1)
            .wait_timeout(Some(CONNECT_TIMEOUT))
            .create_timeout(Some(CONNECT_TIMEOUT))
            .build()
            .map_err(|e| StoreError::new(format!("postgres: building the pool: {e}")))?;
        Ok(SqlStore::new(Postgres {
            inner: Arc::new(Inner {
                pool,
                workers: Workers::start(POOL_SIZE, "graphtoken-pg")?,
                rt: runtime.handle().clone(),
                runtime: Some(runtime),
                config,
                tls,
                feed: Arc::default(),
                location,
            }),
        }))
    }
}

impl Inner {
    /// A pooled connection; the error says why none could be had.
    fn conn(&self) -> StoreResult<Object> {
        self.rt.block_on(self.pool.get()).map_err(|e| {
            // Out of reach, unless the database answered and refused (see `lost`).
            let (why, out_of_reach) = match &e {
                deadpool_postgres::PoolError::Backend(b) => (describe(b), lost(b)),
                other => (other.to_string(), true),
            };
            let err = StoreError::new(format!("{UNREACHABLE}{}: {why}", self.location));
            if out_of_reach {
                err.unavailable()
            } else {
                err
            }
        })
    }
}

fn fail(what: &str, e: tokio_postgres::Error) -> StoreError {
    let err = StoreError::new(format!("postgres: {what}: {}", describe(&e)));
    if lost(&e) {
        err.unavailable()
    } else {
        err
    }
}

/// Whether an error says the database is out of reach: the connection closed, a socket error
/// (refused, reset, timed out), or the server shutting down or not accepting connections
/// (SQLSTATE class 08, 57P01–57P03). Not a refused password, a missing database, a TLS
/// certificate that fails or a row of the wrong shape: those are for someone to fix.
pub(super) fn lost(e: &tokio_postgres::Error) -> bool {
    if e.is_closed() {
        return true;
    }
    if let Some(db) = e.as_db_error() {
        let code = db.code().code();
        return code.starts_with("08") || matches!(code, "57P01" | "57P02" | "57P03");
    }
    let mut cause = std::error::Error::source(e);
    while let Some(c) = cause {
        if c.is::<std::io::Error>() {
            return true;
        }
        cause = c.source();
    }
    false
}

/// `out`, with its error marked as one of a database out of reach when the connection it ran
/// on was lost meanwhile.
fn on_lost<T>(out: StoreResult<T>, conn: &Object) -> StoreResult<T> {
    out.map_err(|e| if conn.is_closed() { e.unavailable() } else { e })
}

impl Backend for Postgres {
    fn read<T, F>(&self, f: F) -> StoreFuture<'static, T>
    where
        T: Send + 'static,
        F: FnOnce(&dyn Db) -> StoreResult<T> + Send + 'static,
    {
        let inner = Arc::clone(&self.inner);
        self.inner.workers.run(move || {
            let conn = inner.conn()?;
            let out = f(&PgDb::new(&inner.rt, On::Client(&conn)));
            on_lost(out, &conn)
        })
    }

    fn write<T, F>(&self, f: F) -> StoreFuture<'static, T>
    where
        T: Send + 'static,
        F: Fn(&dyn Db) -> StoreResult<T> + Send + 'static,
    {
        let inner = Arc::clone(&self.inner);
        self.inner.workers.run(move || {
            let rt = &inner.rt;
            let mut conn = inner.conn()?;
            let out = (|| {
                let tx = rt
                    .block_on(conn.transaction())
                    .map_err(|e| fail("starting a write", e))?;
                rt.block_on(tx.execute("SELECT pg_advisory_xact_lock($1)", &[&WRITE_LOCK]))
                    .map_err(|e| fail("taking the write lock", e))?;
                let db = PgDb::new(rt, On::Tx(tx));
                let out = f(&db)?;
                if let On::Tx(tx) = db.into_inner() {
                    rt.block_on(tx.commit())
                        .map_err(|e| fail("committing a write", e))?;
                }
                Ok(out)
            })();
            on_lost(out, &conn)
        })
    }

    fn shared(&self) -> bool {
        true
    }

    fn watch(&self, sink: ChangeSink) {
        changes::follow(
            &self.inner.rt,
            self.inner.config.clone(),
            self.inner.tls.clone(),
            sink,
            Arc::clone(&self.inner.feed),
        );
    }

    fn stats(&self) -> StoreStats {
        let pool = self.inner.pool.status();
        let n = |x: usize| x as u64;
        StoreStats {
            pool: Some(PoolStats {
                open: n(pool.size),
                idle: n(pool.available),
                max: n(pool.max_size),
                waiting: n(pool.waiting),
            }),
            feed: Some(self.inner.feed.stats()),
        }
    }

    fn latest_schema(&self) -> i64 {
        migrations::latest()
    }

    fn migrate(&self) -> StoreFuture<'static, ()> {
        let inner = Arc::clone(&self.inner);
        self.inner.workers.run(move || {
            let mut conn = inner.conn()?;
            migrations::migrate(&inner.rt, &mut conn)
        })
    }
}
