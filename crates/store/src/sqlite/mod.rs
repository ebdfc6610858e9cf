//! The SQLite [`Backend`] of [`SqlStore`]: connections, threading and transactions.
//!
//! SQLite allows one writer at a time, so writes go through a single connection (no
//! `SQLITE_BUSY` juggling between our own writers), on a thread of its own that commits them in
//! groups: it takes every write waiting (up to [`GROUP`]), runs them in one transaction (one
//! that fails is rolled back alone: see [`write_groups`]), commits once, and only then answers
//! each caller. Under load, hundreds of writes share one commit; alone, a write waits for no
//! one. An answered write is in the WAL file, so it survives the process being killed
//! (`synchronous=NORMAL`: not a power cut).
//!
//! WAL mode lets a small pool of reader connections read concurrently with that writer, each
//! seeing the last committed state. rusqlite is blocking, so reads run on tokio's blocking pool
//! (`spawn_blocking`) and the async workers never wait on a scan or on a lock. The one
//! exception is the hot path's lookup of one row by key (`Backend::lookup`: a token, a session,
//! a dialog's code, an app-scoped id): one B-tree descent, microseconds when the database is in
//! the OS's page cache, where the hand-off to the blocking pool and back cost several times the
//! read (docs/benchmarks.md). It runs in place on an idle reader, on as many workers as there
//! are cores while lookups are quick, and goes to the blocking pool otherwise
//! ([`InPlaceGate`]).

use std::panic::AssertUnwindSafe;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Mutex, MutexGuard, PoisonError, TryLockError};
use std::time::Duration;

use graphtoken_core::store::{StoreError, StoreFuture, StoreResult};
use rusqlite::{Connection, ErrorCode, OpenFlags};

use crate::db::Db;
use crate::error::Ctx;
use crate::migrations;
use crate::sql_store::{blocking, Backend, SqlStore};

mod db;

const READERS: usize = 4;
const BUSY_TIMEOUT: Duration = Duration::from_millis(5000);
const STATEMENT_CACHE: usize = 64;
/// The most writes one commit carries.
const GROUP: usize = 512;
/// The checkpointer's rest between checkpoints.
const CHECKPOINT_REST: Duration = Duration::from_millis(100);
/// How long the checkpointer waits for a lock before giving up until the next write.
const CHECKPOINT_WAIT: Duration = Duration::from_millis(100);
/// The WAL's length (in 4 KiB pages, 128 MiB) at which it is started over, waiting for the
/// writer. Each start-over holds commits for a moment (tens of ms on the bench machine); a
/// shorter WAL would hold them more often (docs/benchmarks.md).
const WAL_RESTART: i64 = 32_768;
/// What the WAL file is cut back to when it starts over: more than it grows to before that
/// (a little over [`WAL_RESTART`] pages), so that its blocks are written over, not allocated
/// again at every start-over (which ext4 zeroes first: a tenth of the writer's time under the
/// code exchange when the file was cut back to 64 MiB; docs/benchmarks.md).
const WAL_KEPT: i64 = 192 << 20;

/// The [`Store`](graphtoken_core::store::Store) on SQLite.
pub(crate) type SqliteStore = SqlStore<Sqlite>;

/// SQLite connections: one writer, a few readers. Cloning is cheap and shares them.
#[derive(Clone)]
pub(crate) struct Sqlite {
    inner: Arc<Inner>,
}

struct Inner {
    location: String,
    /// The writer thread's connection; migrations lock it too.
    writer: Arc<Mutex<Connection>>,
    /// The writes waiting for the writer thread, which ends when this is dropped.
    queue: Option<mpsc::Sender<Job>>,
    /// The writer thread, then the checkpointer's: joined when this is dropped, so that the
    /// connections are closed (and the WAL folded back) before the process goes on.
    threads: Vec<std::thread::JoinHandle<()>>,
    /// Empty for an in-memory database: there every call uses the writer, the only connection
    /// that sees that database.
    readers: Vec<Mutex<Connection>>,
    next_reader: AtomicUsize,
    in_place: InPlaceGate,
}

/// How many lookups may run in place on the async workers (`Backend::lookup`): one per core
/// while lookups are quick (the database's pages in memory: a hand-off to the blocking pool
/// costs more than the descent), one worker fewer for a second after one took over
/// [`SLOW_LOOKUP`] (a slow disk), so that a worker stays free for what the caches answer.
///
/// The trade-off, chosen on measurement (docs/benchmarks.md): the gate narrows only once a slow
/// lookup has finished, and reads from a fast disk (under a millisecond) never narrow it, so
/// on a cold page cache every worker may wait on such reads at once. The cap of one worker
/// fewer, always, sent half the misses over ten million cached tokens through the blocking
/// pool.
struct InPlaceGate {
    running: AtomicUsize,
    cores: usize,
    /// When the gate was made, the origin of `slow_until_ms`.
    since: std::time::Instant,
    /// Until when (ms after `since`) a slow lookup narrows the gate.
    slow_until_ms: AtomicU64,
}

/// A lookup slower than this waited long on a disk (a descent through pages in memory takes
/// microseconds; one read from a solid-state disk, a fraction of a millisecond). Not lower: on
/// a busy machine a quick lookup's thread may be preempted for a few milliseconds, and that
/// would narrow the gate all the time.
const SLOW_LOOKUP: Duration = Duration::from_millis(10);
/// How long a slow lookup keeps the gate narrowed.
const SLOW_SPELL_MS: u64 = 1000;

impl InPlaceGate {
    fn new(cores: usize) -> Self {
        InPlaceGate {
            running: AtomicUsize::new(0),
            cores: cores.max(1),
            since: std::time::Instant::now(),
            slow_until_ms: AtomicU64::new(0),
        }
    }

    fn now_ms(&self) -> u64 {
        u64::try_from(self.since.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    /// How many may run in place now (no clock read while no lookup has ever been slow).
    fn width(&self) -> usize {
        let until = self.slow_until_ms.load(Ordering::Relaxed);
        if until != 0 && self.now_ms() < until {
            self.cores.saturating_sub(1).max(1)
        } else {
            self.cores
        }
    }

    /// A place for one more lookup, if the gate has one.
    fn enter(&self) -> Option<InPlace<'_>> {
        if self.running.fetch_add(1, Ordering::AcqRel) >= self.width() {
            self.running.fetch_sub(1, Ordering::AcqRel);
            return None;
        }
        Some(InPlace {
            gate: self,
            entered: std::time::Instant::now(),
        })
    }
}

/// One lookup running in place: counted while it lives; a slow one narrows the gate.
struct InPlace<'a> {
    gate: &'a InPlaceGate,
    entered: std::time::Instant,
}

impl Drop for InPlace<'_> {
    fn drop(&mut self) {
        if self.entered.elapsed() > SLOW_LOOKUP {
            let until = self.gate.now_ms().saturating_add(SLOW_SPELL_MS);
            self.gate.slow_until_ms.fetch_max(until, Ordering::Relaxed);
        }
        self.gate.running.fetch_sub(1, Ordering::AcqRel);
    }
}

impl std::fmt::Debug for Sqlite {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sqlite")
            .field("location", &self.inner.location)
            .field("readers", &self.inner.readers.len())
            .finish()
    }
}

enum Target {
    Memory,
    File(PathBuf, Locking),
}

/// How a SQLite file is shared with other processes: `?locking=` in its URL.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Locking {
    /// The default: the process holds the file's lock from its first transaction until it
    /// closes the file, and its connections share the WAL's index in memory (SQLite's
    /// `unix-excl`). No transaction makes a lock system call (a lookup among ten million tokens
    /// made 1.1 to 1.5 of them, docs/benchmarks.md); no other process can open the file
    /// meanwhile.
    Exclusive,
    /// `?locking=shared`: SQLite's own default, a lock system call on the file's `-shm` as
    /// each transaction begins and ends, and other processes (the `sqlite3` shell, a
    /// `graphtoken db status`) may use the file while it serves.
    Shared,
}

impl Locking {
    /// The SQLite VFS that locks this way.
    fn vfs(self) -> &'static str {
        match self {
            Locking::Exclusive => "unix-excl",
            Locking::Shared => "unix",
        }
    }
}

/// The `locking` parameter of a SQLite URL's query, in any case (other parameters are ignored,
/// as before there was one).
fn locking_of(query: Option<&str>) -> StoreResult<Locking> {
    let asked = query
        .into_iter()
        .flat_map(|q| q.split('&'))
        .filter_map(|pair| pair.split_once('='))
        .filter(|(name, _)| name.eq_ignore_ascii_case("locking"))
        .map(|(_, value)| value.to_ascii_lowercase())
        .next_back();
    match asked.as_deref() {
        None | Some("exclusive") => Ok(Locking::Exclusive),
        Some("shared") => Ok(Locking::Shared),
        Some(other) => Err(StoreError::new(format!(
            "sqlite: locking={other:?} is not a way of locking: exclusive (the default: this \
             process alone uses the file) or shared (other processes may open it meanwhile)"
        ))),
    }
}

/// Opens one connection to a SQLite file, locking the way asked.
///
/// With [`Locking::Exclusive`] nothing else in the process may open the database file by its
/// path (`std::fs::File::open`, a plain `Connection::open`): POSIX drops a process's locks on a
/// file when any of its descriptors for that file is closed, and SQLite would go on believing
/// it holds the file alone. Only the store's own connections open it.
fn open_file(path: &Path, locking: Locking, what: &str) -> StoreResult<Connection> {
    Connection::open_with_flags_and_vfs(path, OpenFlags::default(), locking.vfs()).ctx(what)
}

/// How long opening a file waits for another process to let go of it.
const IN_USE_WAIT: Duration = Duration::from_millis(1000);

/// Takes the file's lock for the first time (a read), so that a file another process holds is
/// refused within a second, saying so, rather than after the busy timeout with SQLite's
/// "database is locked".
fn claim(conn: &Connection, location: &str) -> StoreResult<()> {
    conn.busy_timeout(IN_USE_WAIT).ctx("setting busy_timeout")?;
    match conn.query_row("PRAGMA schema_version", [], |r| r.get::<_, i64>(0)) {
        Ok(_) => Ok(()),
        // Unavailable: a server may wait for it (`--db-wait`), as when a restart overlaps the
        // old process's exit.
        Err(rusqlite::Error::SqliteFailure(e, _)) if e.code == ErrorCode::DatabaseBusy => {
            Err(StoreError::new(format!(
                "sqlite: {location} is in use by another process (a graphtoken serving it?): a \
                 SQLite database is used by one process at a time, so stop that one first. A \
                 tool that must open the file while a server runs (`graphtoken db status`, the \
                 sqlite3 shell) needs ?locking=shared in the server's URL and in its own; \
                 several servers on one database need PostgreSQL"
            ))
            .unavailable())
        }
        Err(e) => Err(e).ctx(&format!("reading {location}")),
    }
}

/// The file a SQLite URL names (`None`: a database in memory); an error for any other URL.
pub(crate) fn file_of(url: &str) -> StoreResult<Option<PathBuf>> {
    Ok(match parse_url(url)? {
        Target::Memory => None,
        Target::File(path, _) => Some(path),
    })
}

fn parse_url(url: &str) -> StoreResult<Target> {
    let url = url.trim();
    if let Some(other) = crate::scheme(url).filter(|s| s != "sqlite") {
        return Err(crate::not_sqlite(&other));
    }
    let (url, query) = match url.split_once('?') {
        Some((url, query)) => (url, Some(query)),
        None => (url, None),
    };
    let lower = url.to_ascii_lowercase();
    if matches!(
        lower.as_str(),
        "sqlite::memory:" | ":memory:" | "sqlite://:memory:"
    ) {
        return Ok(Target::Memory);
    }
    // The scheme in any case; the path as written.
    let prefix = ["sqlite://", "sqlite:"]
        .into_iter()
        .find(|p| lower.starts_with(p))
        .map_or(0, str::len);
    let path = &url[prefix..];
    if path.is_empty() {
        return Err(StoreError::new(format!(
            "sqlite: no database path in {url:?}"
        )));
    }
    Ok(Target::File(PathBuf::from(path), locking_of(query)?))
}

fn configure(conn: &Connection, file: bool, writer: bool) -> StoreResult<()> {
    conn.busy_timeout(BUSY_TIMEOUT)
        .ctx("setting busy_timeout")?;
    conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
    if file && writer {
        let mode: String = conn
            .pragma_update_and_check(None, "journal_mode", "WAL", |r| r.get(0))
            .ctx("setting journal_mode=WAL")?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(StoreError::new(format!(
                "sqlite: journal_mode=WAL refused (got {mode})"
            )));
        }
        // Checkpoints are the checkpointer thread's (see `checkpoints`), not the writer's: a
        // commit never waits for the WAL being copied into the database and synced.
        conn.pragma_update(None, "wal_autocheckpoint", 0)
            .ctx("setting wal_autocheckpoint=0")?;
        conn.pragma_update(None, "journal_size_limit", WAL_KEPT)
            .ctx("setting journal_size_limit")?;
    }
    conn.pragma_update(None, "synchronous", "NORMAL")
        .ctx("setting synchronous=NORMAL")?;
    conn.pragma_update(None, "foreign_keys", "ON")
        .ctx("setting foreign_keys=ON")?;
    if !writer {
        conn.pragma_update(None, "query_only", "ON")
            .ctx("setting query_only=ON")?;
    }
    Ok(())
}

fn lock(m: &Mutex<Connection>) -> MutexGuard<'_, Connection> {
    // A panic in a write is caught where it runs (`Pending::run`), and a migration's
    // transaction rolls back when it unwinds: a poisoned lock still guards a usable connection.
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl SqliteStore {
    /// Opens (creating if missing) the database at `url`: `sqlite://relative.db`,
    /// `sqlite:///abs/path.db`, a bare path, or `sqlite::memory:` (one private in-memory
    /// database, shared by every clone of this store). Does not migrate: call
    /// `Store::migrate`.
    pub(crate) fn open(url: &str) -> Result<SqliteStore, StoreError> {
        let mut threads = Vec::new();
        let (writer, readers, location, wrote) = match parse_url(url)? {
            Target::Memory => {
                let conn = Connection::open_in_memory().ctx("opening in-memory database")?;
                configure(&conn, false, true)?;
                (conn, Vec::new(), ":memory:".to_string(), None)
            }
            Target::File(path, locking) => {
                let location = path.display().to_string();
                if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                    std::fs::create_dir_all(dir)
                        .ctx(&format!("creating directory {}", dir.display()))?;
                }
                let opening = format!("opening {location}");
                let writer = open_file(&path, locking, &opening)?;
                claim(&writer, &location)?;
                configure(&writer, true, true)?;
                let checkpointer = open_file(&path, locking, &opening)?;
                configure(&checkpointer, true, false)?;
                // Never long behind a reader: the next write brings another try.
                checkpointer
                    .busy_timeout(CHECKPOINT_WAIT)
                    .ctx("setting busy_timeout")?;
                let (tx, written) = mpsc::sync_channel(1);
                let told = Arc::new(AtomicBool::new(false));
                let wrote = Wrote {
                    tx,
                    told: Arc::clone(&told),
                };
                let thread = std::thread::Builder::new()
                    .name("sqlite-checkpoints".into())
                    .spawn(move || checkpoints(&checkpointer, &written, &told))
                    .ctx("starting the checkpointer thread")?;
                threads.push(thread);
                let mut readers = Vec::with_capacity(READERS);
                for _ in 0..READERS {
                    let conn = open_file(&path, locking, &opening)?;
                    configure(&conn, true, false)?;
                    readers.push(Mutex::new(conn));
                }
                (writer, readers, location, Some(wrote))
            }
        };
        let writer = Arc::new(Mutex::new(writer));
        let (queue, waiting) = mpsc::channel();
        let conn = Arc::clone(&writer);
        let thread = std::thread::Builder::new()
            .name("sqlite-writer".into())
            .spawn(move || write_groups(&conn, &waiting, wrote.as_ref()))
            .ctx("starting the writer thread")?;
        threads.insert(0, thread);
        Ok(SqlStore::new(Sqlite {
            inner: Arc::new(Inner {
                location,
                writer,
                queue: Some(queue),
                threads,
                readers,
                next_reader: AtomicUsize::new(0),
                in_place: InPlaceGate::new(
                    std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get),
                ),
            }),
        }))
    }
}

impl Backend for Sqlite {
    /// Runs `f` on a reader connection, on the blocking pool.
    fn read<T, F>(&self, f: F) -> StoreFuture<'static, T>
    where
        T: Send + 'static,
        F: FnOnce(&dyn Db) -> StoreResult<T> + Send + 'static,
    {
        let inner = Arc::clone(&self.inner);
        Box::pin(blocking(move || inner.with_reader(|c| f(c))))
    }

    /// Runs `f` in place on an idle reader; on the blocking pool when none is idle (or in
    /// memory, where the writer is the only connection).
    fn lookup<T, F>(&self, f: F) -> StoreFuture<'static, T>
    where
        T: Send + 'static,
        F: FnOnce(&dyn Db) -> StoreResult<T> + Send + 'static,
    {
        let inner = Arc::clone(&self.inner);
        Box::pin(async move {
            match inner.on_idle_reader(f) {
                Ok(out) => out,
                Err(f) => blocking(move || inner.with_reader(|c| f(c))).await,
            }
        })
    }

    /// Runs `f` on the writer thread, in its group's transaction, and answers once the group's
    /// commit is known; a write that fails is rolled back alone (see [`write_groups`], which may
    /// run `f` twice). The group's `BEGIN IMMEDIATE` takes the write lock at the start, so what
    /// `f` reads is not changed by another process before it writes.
    fn write<T, F>(&self, f: F) -> StoreFuture<'static, T>
    where
        T: Send + 'static,
        F: Fn(&dyn Db) -> StoreResult<T> + Send + 'static,
    {
        let inner = Arc::clone(&self.inner);
        Box::pin(async move {
            let (answer, answered) = tokio::sync::oneshot::channel();
            let job: Job = Box::new(Pending {
                f,
                out: Err(StoreError::new("store: the write was not run")),
                answer,
            });
            let stopped = || StoreError::new("store: the writer thread has stopped");
            let queue = inner.queue.as_ref().ok_or_else(stopped)?;
            queue.send(job).map_err(|_| stopped())?;
            answered
                .await
                .map_err(|_| StoreError::new("store: the writer thread dropped a write"))?
        })
    }

    fn latest_schema(&self) -> i64 {
        migrations::latest()
    }

    fn migrate(&self) -> StoreFuture<'static, ()> {
        self.on_writer(migrations::migrate)
    }
}

impl Sqlite {
    /// Runs `f` on the single writer connection itself, on the blocking pool (migrations).
    fn on_writer<T, F>(&self, f: F) -> StoreFuture<'static, T>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> StoreResult<T> + Send + 'static,
    {
        let inner = Arc::clone(&self.inner);
        Box::pin(blocking(move || f(&mut lock(&inner.writer))))
    }
}

/// A write in the writer thread's queue (see [`Write`]).
type Job = Box<dyn Write>;

/// A write waiting in the writer's queue: run once, or twice when its group starts over (see
/// [`write_groups`]), then answered with its group's commit.
trait Write: Send {
    /// Runs the write on the group's connection (or learns why there is none), alone in a
    /// savepoint when `alone`; whether it succeeded.
    fn run(&mut self, group: Result<&Connection, StoreError>, alone: bool) -> bool;
    /// Answers the caller: its last run's outcome, once the group's commit is known.
    fn answer(self: Box<Self>, committed: Result<(), &StoreError>);
}

struct Pending<T, F> {
    f: F,
    out: StoreResult<T>,
    answer: tokio::sync::oneshot::Sender<StoreResult<T>>,
}

impl<T: Send, F: Fn(&dyn Db) -> StoreResult<T> + Send> Write for Pending<T, F> {
    fn run(&mut self, group: Result<&Connection, StoreError>, alone: bool) -> bool {
        let f = &self.f;
        self.out = group.and_then(|c| {
            if alone {
                in_savepoint(c, f)
            } else {
                std::panic::catch_unwind(AssertUnwindSafe(|| f(c)))
                    .unwrap_or_else(|_| Err(StoreError::new("store: a write panicked")))
            }
        });
        self.out.is_ok()
    }

    fn answer(self: Box<Self>, committed: Result<(), &StoreError>) {
        let out = self
            .out
            .and_then(|v| committed.map(|()| v).map_err(Clone::clone));
        let _ = self.answer.send(out);
    }
}

/// How the writer tells the checkpointer thread that the WAL has grown: once until the
/// checkpointer starts its next checkpoint, however many commits come meanwhile. (A message for
/// every commit woke the resting checkpointer each time: a futex call on the writer and a
/// context switch, 7% of the writer's samples under the code exchange.)
struct Wrote {
    tx: mpsc::SyncSender<()>,
    /// Told since the checkpointer last started a checkpoint.
    told: Arc<AtomicBool>,
}

impl Wrote {
    fn tell(&self) {
        if !self.told.swap(true, Ordering::AcqRel) {
            // Full: a message is waiting already.
            let _ = self.tx.try_send(());
        }
    }
}

/// The writer thread: every write waiting, in one transaction, until the queue is closed. After
/// each commit it tells the checkpointer thread (when there is one) that the WAL has grown.
///
/// The writes of a group run one after the other, with no savepoint of their own: a savepoint
/// copies every page a write changes before it changes it (SQLite's statement journal), a tenth
/// of the writer's time under the code exchange (docs/benchmarks.md). When one fails, its
/// changes are mixed with the others', so the group starts over: rolled back, then run again
/// from the first write, each in a savepoint this time, so that the failed one is rolled back
/// alone. Each caller is answered with its write's last run, so a write must do nothing outside
/// its transaction (another process may have written between the two runs). A group whose
/// `BEGIN` failed is not started over: each of its writes is answered with that failure.
fn write_groups(conn: &Mutex<Connection>, waiting: &mpsc::Receiver<Job>, wrote: Option<&Wrote>) {
    while let Ok(first) = waiting.recv() {
        let mut group = vec![first];
        group.extend(waiting.try_iter().take(GROUP - 1));
        let c = lock(conn);
        // Some failures (an I/O error, a full disk) make SQLite roll the whole transaction
        // back: the writes after one have no transaction to go on in.
        let lost = StoreError::new("store: the write's transaction was rolled back by a failure");
        let on = |began: &StoreResult<()>| -> Result<&Connection, StoreError> {
            match began {
                Ok(()) if c.is_autocommit() => Err(lost.clone()),
                Ok(()) => Ok(&c),
                Err(e) => Err(e.clone()),
            }
        };
        let mut began = run(&c, "BEGIN IMMEDIATE").ctx("starting a write");
        let together = group.iter_mut().all(|w| w.run(on(&began), false));
        if !together {
            // A failed `BEGIN` is not tried again: the writes are all told why.
            if began.is_ok() {
                tracing::debug!(
                    writes = group.len(),
                    "sqlite: a write failed; its group runs again, each write in a savepoint"
                );
                if !c.is_autocommit() {
                    let _ = c.execute_batch("ROLLBACK");
                }
                began = run(&c, "BEGIN IMMEDIATE").ctx("starting a write");
            }
            for w in &mut group {
                w.run(on(&began), true);
            }
        }
        let committed = began.and_then(|()| {
            if c.is_autocommit() {
                return Err(lost.clone());
            }
            run(&c, "COMMIT").ctx("committing a write")
        });
        if committed.is_err() && !c.is_autocommit() {
            let _ = c.execute_batch("ROLLBACK");
        }
        drop(c);
        for w in group {
            w.answer(committed.as_ref().map(|_| ()));
        }
        if let Some(wrote) = wrote {
            wrote.tell();
        }
    }
}

/// The checkpointer thread: after writes, it copies the WAL into the database with a passive
/// checkpoint, which never blocks the writer or a reader, then rests [`CHECKPOINT_REST`]. Under
/// a steady stream of writes a passive checkpoint never finds the WAL fully copied, so the WAL
/// is never started over; once it holds [`WAL_RESTART`] frames, a `RESTART` checkpoint waits
/// for the writer's current commit, finishes the copy and starts it over. Ends when the writer
/// thread does.
fn checkpoints(conn: &Connection, written: &mpsc::Receiver<()>, told: &AtomicBool) {
    let mut owed = false;
    loop {
        if !owed && written.recv().is_err() {
            return;
        }
        owed = false;
        // Commits from now on are owed the next checkpoint: the first of them tells again. (A
        // commit told is either still in the channel or owed: never both lost.)
        told.store(false, Ordering::Release);
        let frames = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |r| r.get::<_, i64>(1));
        if let Err(e) = &frames {
            tracing::warn!("sqlite: checkpoint failed: {e}");
        }
        if frames.is_ok_and(|n| n >= WAL_RESTART) {
            // Busy (a reader held on past CHECKPOINT_WAIT) is no failure: the next write retries.
            if let Err(e) = conn.query_row("PRAGMA wal_checkpoint(RESTART)", [], |_| Ok(())) {
                tracing::warn!("sqlite: checkpoint failed: {e}");
            }
        }
        // The rest; a write meanwhile is owed a checkpoint after it. Ends at once with the
        // writer thread.
        let until = std::time::Instant::now() + CHECKPOINT_REST;
        while let Some(left) = until.checked_duration_since(std::time::Instant::now()) {
            match written.recv_timeout(left) {
                Ok(()) => owed = true,
                Err(mpsc::RecvTimeoutError::Timeout) => break,
                Err(mpsc::RecvTimeoutError::Disconnected) => return,
            }
        }
    }
}

/// `f` in a savepoint: released when it succeeds, rolled back when it fails or panics.
fn in_savepoint<T>(c: &Connection, f: impl FnOnce(&dyn Db) -> StoreResult<T>) -> StoreResult<T> {
    run(c, "SAVEPOINT write").ctx("starting a write")?;
    let out = std::panic::catch_unwind(AssertUnwindSafe(|| f(c)))
        .unwrap_or_else(|_| Err(StoreError::new("store: a write panicked")));
    let ended = if out.is_ok() {
        run(c, "RELEASE write")
    } else {
        run(c, "ROLLBACK TO write").and_then(|()| run(c, "RELEASE write"))
    };
    // The write's own error first; then the savepoint's.
    let out = out?;
    ended.ctx("ending a write")?;
    Ok(out)
}

/// One statement without parameters, compiled once per connection: the writer runs a few of
/// them for every write.
fn run(c: &Connection, sql: &str) -> rusqlite::Result<()> {
    c.prepare_cached(sql)?.execute([]).map(drop)
}

impl Drop for Inner {
    fn drop(&mut self) {
        // The writer thread finishes the writes queued, then ends; the checkpointer with it.
        self.queue = None;
        let me = std::thread::current().id();
        for t in self.threads.drain(..) {
            if t.thread().id() != me {
                let _ = t.join();
            }
        }
    }
}

impl Inner {
    /// Runs `f` on the first idle reader, or gives it back when none is, or when the gate
    /// ([`InPlaceGate`]) is full. A panic in `f` is its error.
    fn on_idle_reader<T, F>(&self, f: F) -> Result<StoreResult<T>, F>
    where
        F: FnOnce(&dyn Db) -> StoreResult<T>,
    {
        let Some(_slot) = self.in_place.enter() else {
            return Err(f);
        };
        let Ok(conn) = self.idle_reader() else {
            return Err(f);
        };
        Ok(std::panic::catch_unwind(AssertUnwindSafe(|| f(&*conn)))
            .unwrap_or_else(|_| Err(StoreError::new("store: a lookup panicked"))))
    }

    /// Takes the first idle reader (round-robin start), or waits for one.
    fn with_reader<T>(&self, f: impl FnOnce(&Connection) -> StoreResult<T>) -> StoreResult<T> {
        if self.readers.is_empty() {
            return f(&lock(&self.writer));
        }
        match self.idle_reader() {
            Ok(conn) => f(&conn),
            Err(start) => f(&lock(&self.readers[start])),
        }
    }

    /// The first idle reader, from a round-robin start; when none is idle (or there are no
    /// readers), that start, to wait on.
    fn idle_reader(&self) -> Result<MutexGuard<'_, Connection>, usize> {
        let n = self.readers.len();
        let start = self.next_reader.fetch_add(1, Ordering::Relaxed) % n.max(1);
        (0..n)
            .find_map(|i| match self.readers[(start + i) % n].try_lock() {
                Ok(conn) => Some(conn),
                Err(TryLockError::Poisoned(p)) => Some(p.into_inner()),
                Err(TryLockError::WouldBlock) => None,
            })
            .ok_or(start)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::Value;

    /// Quick lookups may run in place on every core; after a slow one (a disk), one core
    /// fewer, until the spell ends; one core always keeps one.
    #[test]
    fn a_slow_lookup_narrows_the_gate_for_a_while() {
        let gate = InPlaceGate::new(2);
        let (a, b) = (gate.enter(), gate.enter());
        assert!(a.is_some() && b.is_some(), "one per core");
        assert!(gate.enter().is_none(), "no third");
        drop((a, b));
        assert_eq!(gate.width(), 2, "quick lookups leave every core");
        {
            let slow = gate.enter();
            std::thread::sleep(SLOW_LOOKUP * 2);
            drop(slow);
        }
        assert_eq!(gate.width(), 1);
        let a = gate.enter();
        assert!(a.is_some());
        assert!(gate.enter().is_none(), "one core fewer after a slow lookup");
        drop(a);
        gate.slow_until_ms.store(gate.now_ms(), Ordering::Relaxed);
        assert_eq!(gate.width(), 2, "the spell over, every core again");
        let one = InPlaceGate::new(1);
        one.slow_until_ms.store(u64::MAX, Ordering::Relaxed);
        assert_eq!(one.width(), 1);
        assert_eq!(gate.running.load(Ordering::Relaxed), 0);
    }

    /// A logout finds the person's tokens by an index, not by reading every token.
    #[test]
    fn a_logout_reads_only_the_person_s_tokens() -> StoreResult<()> {
        let dir = tempfile::tempdir().ctx("making a folder")?;
        let path = dir.path().join("q.db");
        let store = SqliteStore::open(&path.display().to_string())?;
        migrations::migrate(&mut lock(&store.backend.inner.writer))?;
        let conn = Connection::open(&path).ctx("opening")?;
        let plan: Vec<String> = conn
            .prepare(&format!(
                "EXPLAIN QUERY PLAN {}",
                crate::events::END_SHORT_LIVED
            ))
            .ctx("planning")?
            .query_map((1, 2, 3), |r| r.get::<_, String>(3))
            .ctx("planning")?
            .collect::<Result<_, _>>()
            .ctx("planning")?;
        assert!(
            plan.iter().any(|p| p.contains("USING INDEX tokens_user")),
            "{plan:?}"
        );
        Ok(())
    }

    /// A database of version 18 keeps its tokens under the same keys (tokens minted before
    /// stamps are found by their SHA-256 as before); the table loses its index by session and
    /// its foreign key, and keeps the index of short-lived tokens by person.
    #[test]
    fn tokens_from_before_stamps_survive_the_migration() -> StoreResult<()> {
        let dir = tempfile::tempdir().ctx("making a folder")?;
        let mut conn = Connection::open(dir.path().join("m.db")).ctx("opening")?;
        migrations::apply_up_to(&conn, 18).ctx("applying steps 1 to 18")?;
        // A token alone (no person, app or session behind it), then the migration as it runs.
        conn.execute_batch("PRAGMA foreign_keys = OFF")
            .ctx("configuring")?;
        let old = "EAA".to_string() + &"b".repeat(64);
        let key = graphtoken_core::token::hash(&old);
        conn.execute(
            "INSERT INTO tokens (hash, kind, app_id, user_id, session_id, long_lived, issued_at, \
             expires_at) VALUES (?1, 'user', 1, 2, 3, 0, 10, 20)",
            [key.to_vec()],
        )
        .ctx("storing")?;
        conn.execute_batch("PRAGMA foreign_keys = ON")
            .ctx("configuring")?;
        migrations::migrate(&mut conn)?;
        let found: (i64, i64) = conn
            .query_row(
                "SELECT user_id, session_id FROM tokens WHERE hash = ?1",
                [key.to_vec()],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .ctx("finding")?;
        assert_eq!(found, (2, 3));
        let names = |sql: &str, col: usize| -> StoreResult<Vec<String>> {
            conn.prepare(sql)
                .ctx("listing")?
                .query_map([], |r| r.get::<_, String>(col))
                .ctx("listing")?
                .collect::<Result<_, _>>()
                .ctx("listing")
        };
        let mut indexes = names("PRAGMA index_list(tokens)", 1)?;
        indexes.sort();
        // The key's own (`WITHOUT ROWID`), and the short-lived tokens' by person.
        assert_eq!(indexes, ["sqlite_autoindex_tokens_1", "tokens_user"]);
        assert!(names("PRAGMA foreign_key_list(tokens)", 2)?.is_empty());
        Ok(())
    }

    /// A database of version 19 keeps its codes, each under its key with all it held; the table
    /// is kept in key order (no rowid), with its index by person and its foreign keys.
    #[test]
    fn codes_survive_the_migration_to_key_order() -> StoreResult<()> {
        let dir = tempfile::tempdir().ctx("making a folder")?;
        let mut conn = Connection::open(dir.path().join("c.db")).ctx("opening")?;
        migrations::apply_up_to(&conn, 19).ctx("applying steps 1 to 19")?;
        // A code alone (no person or app behind it), then the migration as it runs.
        conn.execute_batch("PRAGMA foreign_keys = OFF")
            .ctx("configuring")?;
        let key = graphtoken_core::token::hash("a code from before");
        conn.execute(
            "INSERT INTO auth_codes (hash, kind, app_id, user_id, redirect_uri, pkce_method, \
             pkce_challenge, session_id, created_at, expires_at, used_at) \
             VALUES (?1, 'dialog', 1, 2, 'https://x.test/cb', 'S256', 'abc', 7, 10, 20, 15)",
            [key.to_vec()],
        )
        .ctx("storing")?;
        conn.execute_batch("PRAGMA foreign_keys = ON")
            .ctx("configuring")?;
        migrations::migrate(&mut conn)?;
        use graphtoken_core::codes::{AuthCode, CodeKind, Pkce, PkceMethod};
        use graphtoken_core::model::{AppId, SessionId, UserId};
        let found = crate::login::code(&conn, &key)?;
        let kept = AuthCode {
            hash: key,
            kind: CodeKind::Dialog,
            app_id: AppId(1),
            user_id: UserId(2),
            redirect_uri: "https://x.test/cb".into(),
            pkce: Some(Pkce {
                method: PkceMethod::S256,
                challenge: "abc".into(),
            }),
            session_id: Some(SessionId(7)),
            created_at: 10,
            expires_at: 20,
            used_at: Some(15),
        };
        assert_eq!(found, Some(kept));
        let without_rowid: bool = conn
            .query_row(
                "SELECT sql LIKE '%WITHOUT ROWID' FROM sqlite_master WHERE name = 'auth_codes'",
                [],
                |r| r.get(0),
            )
            .ctx("reading the schema")?;
        assert!(without_rowid);
        let list = |pragma: &str, col: usize| -> StoreResult<Vec<String>> {
            let mut v: Vec<String> = conn
                .prepare(&format!("PRAGMA {pragma}(auth_codes)"))
                .ctx("listing")?
                .query_map([], |r| r.get::<_, String>(col))
                .ctx("listing")?
                .collect::<Result<_, _>>()
                .ctx("listing")?;
            v.sort();
            Ok(v)
        };
        assert_eq!(
            list("index_list", 1)?,
            ["auth_codes_by_user", "sqlite_autoindex_auth_codes_1"]
        );
        assert_eq!(list("foreign_key_list", 2)?, ["apps", "users"]);
        Ok(())
    }

    /// Writes at once share commits; one that fails or panics is rolled back alone, and every
    /// other is committed and answered.
    #[tokio::test(flavor = "multi_thread")]
    async fn a_write_that_fails_in_a_group_is_rolled_back_alone() -> StoreResult<()> {
        let dir = tempfile::tempdir().ctx("making a folder")?;
        let store = SqliteStore::open(&dir.path().join("g.db").display().to_string())?;
        let db = store.backend.clone();
        db.write(|d| d.execute("CREATE TABLE t (n INTEGER NOT NULL)", &[], "creating t"))
            .await?;
        let writes = (0..300_i64).map(|n| {
            db.write(move |d| {
                d.execute(
                    "INSERT INTO t (n) VALUES (?1)",
                    &[Value::Int(n)],
                    "inserting",
                )?;
                match n % 10 {
                    3 => Err(StoreError::new("refused")),
                    7 => panic!("write {n} panics"),
                    _ => Ok(n),
                }
            })
        });
        let answers = futures_join_all(writes).await;
        for (n, answer) in (0..300_i64).zip(&answers) {
            match n % 10 {
                3 | 7 => assert!(answer.is_err(), "write {n}: {answer:?}"),
                _ => assert_eq!(answer.as_ref().ok(), Some(&n), "write {n}"),
            }
        }
        let kept = numbers_in_t(&db).await?;
        let wanted: Vec<i64> = (0..300).filter(|n| !matches!(n % 10, 3 | 7)).collect();
        assert_eq!(kept, wanted);
        Ok(())
    }

    /// A group runs its writes without savepoints; when one fails, the group is rolled back and
    /// run again from its first write: the writes ahead of the failed one run twice, the ones
    /// after it once, and each caller gets its write's last run.
    #[tokio::test(flavor = "multi_thread")]
    async fn a_group_with_a_failed_write_runs_again_and_answers_from_the_last_run(
    ) -> StoreResult<()> {
        use std::sync::atomic::AtomicUsize;
        let dir = tempfile::tempdir().ctx("making a folder")?;
        let store = SqliteStore::open(&dir.path().join("r.db").display().to_string())?;
        let db = store.backend.clone();
        db.write(|d| d.execute("CREATE TABLE t (n INTEGER NOT NULL)", &[], "creating t"))
            .await?;
        let runs: Arc<[AtomicUsize; 4]> = Arc::new(Default::default());
        // Holds the writer until the next four have queued up behind it, in order, as one
        // group (each run of the hold waits for a go: two, should it share their group).
        let (go, wait) = std::sync::mpsc::channel::<()>();
        let wait = std::sync::Mutex::new(wait);
        let held = tokio::spawn(db.write(move |_| {
            let wait = wait
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            let _ = wait.recv_timeout(Duration::from_secs(30));
            Ok(0)
        }));
        tokio::time::sleep(Duration::from_millis(100)).await;
        // Each polled once here, which queues it: in this order.
        let mut writes = Vec::new();
        for i in 0..4_usize {
            let runs = Arc::clone(&runs);
            let mut w = db.write(move |d| {
                let run = runs[i].fetch_add(1, Ordering::SeqCst) + 1;
                d.execute(
                    "INSERT INTO t (n) VALUES (?1)",
                    &[Value::Int(i as i64)],
                    "inserting",
                )?;
                match i {
                    2 => Err(StoreError::new("refused")),
                    _ => Ok(run),
                }
            });
            std::future::poll_fn(|cx| {
                let _ = w.as_mut().poll(cx);
                std::task::Poll::Ready(())
            })
            .await;
            writes.push(w);
        }
        for _ in 0..2 {
            let _ = go.send(());
        }
        assert!(held.await.is_ok_and(|r| r.is_ok()));
        let mut answers = Vec::new();
        for w in writes {
            answers.push(w.await);
        }
        let ran: Vec<usize> = runs.iter().map(|r| r.load(Ordering::SeqCst)).collect();
        assert_eq!(ran, [2, 2, 2, 1]);
        assert_eq!(answers[0].as_ref().ok(), Some(&2));
        assert_eq!(answers[1].as_ref().ok(), Some(&2));
        assert!(answers[2].is_err());
        assert_eq!(answers[3].as_ref().ok(), Some(&1));
        let kept = numbers_in_t(&db).await?;
        assert_eq!(kept, [0, 1, 3]);
        Ok(())
    }

    /// Every commit reaches the database file, one that comes while the checkpointer rests
    /// after a checkpoint too (it is told once per checkpoint, not once per commit).
    #[tokio::test(flavor = "multi_thread")]
    async fn a_commit_during_the_checkpointer_s_rest_is_checkpointed() -> StoreResult<()> {
        let dir = tempfile::tempdir().ctx("making a folder")?;
        let path = dir.path().join("c.db");
        let store = SqliteStore::open(&path.display().to_string())?;
        let db = store.backend.clone();
        db.write(|d| d.execute("CREATE TABLE t (b BLOB)", &[], "creating t"))
            .await?;
        // About a MiB a write, which the database file takes only at a checkpoint (WAL mode).
        let fill = || {
            db.write(|d| {
                d.execute(
                    "WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM c \
                     WHERE n < 1000) INSERT INTO t SELECT randomblob(1024) FROM c",
                    &[],
                    "filling t",
                )
            })
        };
        let size = || std::fs::metadata(&path).map_or(0, |m| m.len());
        let grown_past = |floor: u64| async move {
            // Ten seconds at most: a loaded machine's checkpointer may be slow to run.
            for _ in 0..1000 {
                if size() > floor {
                    return true;
                }
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
            false
        };
        tokio::time::sleep(CHECKPOINT_REST * 3).await;
        let before = size();
        fill().await?;
        assert!(
            grown_past(before + 1_000_000).await,
            "the first MiB was checkpointed"
        );
        // Checkpointed just now: the checkpointer rests, and this commit comes meanwhile.
        fill().await?;
        assert!(
            grown_past(before + 2_000_000).await,
            "the second MiB was checkpointed too: {} bytes",
            size()
        );
        Ok(())
    }

    /// The numbers in the write tests' table `t`, in order.
    async fn numbers_in_t(db: &Sqlite) -> StoreResult<Vec<i64>> {
        db.read(|d| {
            d.all(
                "SELECT n FROM t ORDER BY n",
                &[],
                |r| r.get::<i64>(0),
                "reading t",
            )
        })
        .await
    }

    /// Every future at once, on tasks of their own (so that they queue together).
    async fn futures_join_all<T: Send + 'static>(
        all: impl Iterator<Item = StoreFuture<'static, T>>,
    ) -> Vec<StoreResult<T>> {
        let tasks: Vec<_> = all.map(tokio::spawn).collect();
        let mut out = Vec::new();
        for t in tasks {
            out.push(
                t.await
                    .unwrap_or_else(|e| Err(StoreError::new(e.to_string()))),
            );
        }
        out
    }

    #[test]
    fn urls_parse() {
        assert!(matches!(parse_url("sqlite::memory:"), Ok(Target::Memory)));
        let file = |u: &str| match parse_url(u) {
            Ok(Target::File(p, _)) => p,
            _ => PathBuf::new(),
        };
        assert_eq!(
            file("sqlite://graphtoken.db"),
            PathBuf::from("graphtoken.db")
        );
        assert_eq!(file("sqlite:///abs/path.db"), PathBuf::from("/abs/path.db"));
        assert_eq!(file("sqlite://x.db?mode=rwc"), PathBuf::from("x.db"));
        assert_eq!(file("data/g.db"), PathBuf::from("data/g.db"));
        assert!(parse_url("sqlite://").is_err());
        // The scheme in any case.
        assert_eq!(file("SQLite://Mixed.db"), PathBuf::from("Mixed.db"));
        assert_eq!(file("SQLITE:x.db"), PathBuf::from("x.db"));
        assert!(matches!(parse_url("SQLITE::MEMORY:"), Ok(Target::Memory)));
        // Another scheme is refused here too, not read as a file name.
        assert!(parse_url("postgres://x").is_err());
        assert!(SqliteStore::open("mysql://x").is_err());
        // How the file is locked: alone by default, or shared when asked.
        let locking = |u: &str| match parse_url(u) {
            Ok(Target::File(_, l)) => Some(l),
            _ => None,
        };
        assert_eq!(locking("sqlite://x.db"), Some(Locking::Exclusive));
        assert_eq!(
            locking("sqlite://x.db?locking=shared"),
            Some(Locking::Shared)
        );
        assert_eq!(
            locking("sqlite://x.db?mode=rwc&locking=exclusive"),
            Some(Locking::Exclusive)
        );
        assert_eq!(
            locking("sqlite://x.db?Locking=Shared"),
            Some(Locking::Shared)
        );
        assert!(matches!(
            parse_url("sqlite::memory:?locking=shared"),
            Ok(Target::Memory)
        ));
        let refused = parse_url("sqlite://x.db?locking=nfs")
            .err()
            .map(|e| e.to_string());
        assert!(
            refused
                .as_deref()
                .is_some_and(|e| e.contains("exclusive") && e.contains("shared")),
            "{refused:?}"
        );
    }

    /// Connections of one process share an exclusively locked file: what one writes, another
    /// reads at once (the WAL's index is in this process's memory, shared by all of them).
    #[test]
    fn connections_of_one_process_share_an_exclusive_file() -> StoreResult<()> {
        let dir = tempfile::tempdir().ctx("making a folder")?;
        let path = dir.path().join("x.db");
        let one = open_file(&path, Locking::Exclusive, "opening")?;
        claim(&one, "x.db")?;
        configure(&one, true, true)?;
        let two = open_file(&path, Locking::Exclusive, "opening")?;
        configure(&two, true, false)?;
        one.execute_batch("CREATE TABLE t (n INTEGER); INSERT INTO t VALUES (7)")
            .ctx("writing")?;
        let n: i64 = two
            .query_row("SELECT n FROM t", [], |r| r.get(0))
            .ctx("reading")?;
        assert_eq!(n, 7);
        assert!(
            !dir.path().join("x.db-shm").exists(),
            "the WAL's index is kept in memory, not in a file"
        );
        Ok(())
    }
}
