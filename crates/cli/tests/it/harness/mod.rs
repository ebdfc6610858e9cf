//! The integration-test harness: a server on port 0 with a temporary database, and small HTTP
//! helpers that treat 4xx answers as data.
//!
//! [`Server::seeded`], [`Server::seeded_with`] and [`Server::demo`] start the server in this
//! process, on an in-memory database (the same `graphtoken::serve::start` the binary runs, on
//! its own runtime thread): no process to spawn, no file to write per test. [`Server::on`] and its kin run the real `graphtoken` binary,
//! for the tests where the process matters (restarts, signals, stderr, the CLI).
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

pub const BIN: &str = env!("CARGO_BIN_EXE_graphtoken");
pub const ADMIN_KEY: &str = "test-admin-key-0123456789";
/// The key the test servers seal their secrets with (every instance on a database the same).
pub const TEST_SECRET_KEY: &str =
    "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
const READY: &str = "graphtoken listening on ";
const START_TIMEOUT: Duration = Duration::from_secs(20);

pub mod browser;
pub mod pages;
pub mod postgres;
pub mod seeding;

/// The fixture world (`tests/fixtures/world.toml`).
pub mod world {
    pub const ACME: &str = "1000000000000001";
    pub const ACME_NAME: &str = "Acme Social";
    pub const ACME_SECRET: &str = "acme-secret-0123456789abcdef";
    pub const RIVAL: &str = "1000000000000002";
    pub const RIVAL_SECRET: &str = "rival-secret-0123456789abcdef";
    pub const ALICE: &str = "100000000000101";
    pub const BOB: &str = "100000000000102";
    pub const CAROL: &str = "100000000000103";
    pub const COFFEE: &str = "200000000000001";
    pub const NEWS: &str = "200000000000002";
    pub const BAKERY: &str = "200000000000003";
    pub const DAY: i64 = 86_400;
    pub const SHORT: i64 = 3600;
    pub const LONG: i64 = 5_184_000;
}

pub fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

/// A temporary directory holding one database (and any seed files a test writes).
pub struct Sandbox {
    pub dir: tempfile::TempDir,
}

impl Sandbox {
    pub fn new() -> Sandbox {
        Sandbox {
            dir: tempfile::tempdir().expect("temp dir"),
        }
    }
    pub fn db_path(&self) -> PathBuf {
        self.dir.path().join("gt.db")
    }
    pub fn db_url(&self) -> String {
        format!("sqlite://{}", self.db_path().display())
    }
    /// Deletes every token's row from the sandbox's database file (while no server holds it):
    /// what is left to answer a long-lived token is its claims.
    pub fn forget_token_rows(&self) {
        let conn = rusqlite::Connection::open(self.db_path()).unwrap_or_else(|e| panic!("{e}"));
        conn.execute("DELETE FROM tokens", [])
            .unwrap_or_else(|e| panic!("{e}"));
    }
    /// How many of `tokens` have their row in the sandbox's database file (read directly, while
    /// no server holds it): long-lived tokens' claims answer for them even without it.
    pub fn tokens_stored<T: AsRef<str>>(&self, tokens: &[T]) -> usize {
        let conn = rusqlite::Connection::open(self.db_path()).unwrap_or_else(|e| panic!("{e}"));
        let stored = |t: &T| -> i64 {
            conn.query_row(
                "SELECT count(*) FROM tokens WHERE hash = ?1",
                [graphtoken_core::token::hash(t.as_ref()).to_vec()],
                |r| r.get(0),
            )
            .unwrap_or_else(|e| panic!("{e}"))
        };
        tokens.iter().filter(|t| stored(t) == 1).count()
    }
    /// Writes a file in the sandbox and returns its path.
    pub fn write(&self, name: &str, contents: &str) -> PathBuf {
        let p = self.dir.path().join(name);
        std::fs::write(&p, contents).expect("write file");
        p
    }
    /// The raw bytes of the database and its WAL, as a copy of them would hold.
    pub fn db_bytes(&self) -> Vec<u8> {
        let mut all = Vec::new();
        for suffix in ["", "-wal", "-shm"] {
            let p = PathBuf::from(format!("{}{suffix}", self.db_path().display()));
            if let Ok(b) = std::fs::read(p) {
                all.extend(b);
            }
        }
        all
    }
}

/// Runs `graphtoken` with `args` to completion (bounded), returning status, stdout, stderr.
pub fn run(args: &[&str], env: &[(&str, &str)]) -> (ExitStatus, String, String) {
    let mut cmd = Command::new(BIN);
    cmd.args(args)
        .env_remove("GRAPHTOKEN_SERVER")
        .env_remove("GRAPHTOKEN_ADMIN_KEY")
        .env_remove("GRAPHTOKEN_DB")
        .env_remove("GRAPHTOKEN_SEED")
        .env_remove("GRAPHTOKEN_LISTEN")
        .env_remove("GRAPHTOKEN_MEMORY_BUDGET")
        .env_remove("GRAPHTOKEN_VAULT")
        .env_remove("GRAPHTOKEN_VAULT_KEY")
        .env_remove("GRAPHTOKEN_VAULT_KEY_FILE")
        .env_remove("GRAPHTOKEN_VAULT_PASSPHRASE");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn graphtoken");
    let out = drain(child.stdout.take());
    let err = drain(child.stderr.take());
    let status = wait_bounded(&mut child, Duration::from_secs(30)).unwrap_or_else(|| {
        let _ = child.kill();
        let _ = child.wait();
        panic!("graphtoken {args:?} did not finish; stderr: {}", err.text());
    });
    let out = out.finish();
    let err = err.finish();
    (status, out, err)
}

/// A pipe read to the end on a thread.
struct Drain(Arc<Mutex<String>>, Option<std::thread::JoinHandle<()>>);

impl Drain {
    fn text(&self) -> String {
        self.0.lock().map(|s| s.clone()).unwrap_or_default()
    }
    fn finish(mut self) -> String {
        if let Some(h) = self.1.take() {
            let _ = h.join();
        }
        self.text()
    }
}

fn drain(pipe: Option<impl Read + Send + 'static>) -> Drain {
    let buf = Arc::new(Mutex::new(String::new()));
    let b = Arc::clone(&buf);
    let handle = pipe.map(|mut p| {
        std::thread::spawn(move || {
            let mut chunk = [0u8; 4096];
            while let Ok(n) = p.read(&mut chunk) {
                if n == 0 {
                    break;
                }
                if let Ok(mut s) = b.lock() {
                    s.push_str(&String::from_utf8_lossy(&chunk[..n]));
                }
            }
        })
    });
    Drain(buf, handle)
}

fn wait_bounded(child: &mut Child, limit: Duration) -> Option<ExitStatus> {
    let start = Instant::now();
    loop {
        if let Ok(Some(s)) = child.try_wait() {
            return Some(s);
        }
        if start.elapsed() > limit {
            return None;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A running server; stopped when dropped.
pub struct Server {
    running: Running,
    pub base: String,
    /// Everything the server printed on stdout up to and including the `listening` line.
    pub stdout: Vec<String>,
    pub db_path: PathBuf,
    own: Option<Sandbox>,
}

enum Running {
    /// `graphtoken serve` as a child process (stopped with SIGTERM, then SIGKILL).
    Process { child: Option<Child>, stderr: Drain },
    /// The server in this process, on a runtime thread of its own.
    InProcess {
        stop: Option<tokio::sync::oneshot::Sender<()>>,
        thread: Option<std::thread::JoinHandle<Result<(), String>>>,
    },
}

/// The database of a server whose data no test reads directly: `sqlite::memory:`, or, with
/// `GRAPHTOKEN_IT_DB=postgres`, a new database on the test command's PostgreSQL
/// (`GRAPHTOKEN_TEST_POSTGRES`), so the protocol tests can run on either backend.
pub fn scratch_db() -> String {
    match std::env::var("GRAPHTOKEN_IT_DB").as_deref() {
        Ok("postgres") => {
            let base = std::env::var("GRAPHTOKEN_TEST_POSTGRES").unwrap_or_else(|_| {
                panic!("GRAPHTOKEN_IT_DB=postgres needs GRAPHTOKEN_TEST_POSTGRES")
            });
            graphtoken_store::conformance::fresh_postgres_database(&base)
                .unwrap_or_else(|e| panic!("{e}"))
        }
        _ => "sqlite::memory:".into(),
    }
}

impl Server {
    /// A server (in this process) on the fixture world, with its own sandbox.
    pub fn seeded() -> Server {
        Server::seeded_with("world.toml")
    }

    /// A server (in this process, on a scratch database: [`scratch_db`]) on another fixture world
    /// (`tests/fixtures/{name}`), with its own sandbox.
    pub fn seeded_with(name: &str) -> Server {
        let sb = Sandbox::new();
        let seed = fixture(name);
        let mut s =
            Server::in_process(&scratch_db(), &sb, Some(&seed)).unwrap_or_else(|e| panic!("{e}"));
        s.own = Some(sb);
        s
    }

    /// A server (in this process, with its own sandbox) on the database `db`, optionally
    /// applying a seed: for several servers on one shared database.
    pub fn on_database(db: &str, seed: Option<&Path>) -> Server {
        let sb = Sandbox::new();
        let mut s = Server::in_process(db, &sb, seed).unwrap_or_else(|e| panic!("{e}"));
        s.own = Some(sb);
        s
    }

    /// Like [`Server::seeded`], on a database file in its sandbox (for tests that read it).
    pub fn seeded_on_file() -> Server {
        let sb = Sandbox::new();
        let seed = fixture("world.toml");
        let mut s =
            Server::in_process(&sb.db_url(), &sb, Some(&seed)).unwrap_or_else(|e| panic!("{e}"));
        s.own = Some(sb);
        s
    }

    /// A server (in this process) on a fresh database without a seed (the demo world), with
    /// its own sandbox.
    pub fn demo() -> Server {
        let sb = Sandbox::new();
        let mut s = Server::in_process(&scratch_db(), &sb, None).unwrap_or_else(|e| panic!("{e}"));
        s.own = Some(sb);
        s
    }

    /// The server in this process on the database `db`, optionally applying a seed, ready to
    /// answer: `graphtoken::serve::start` (the router with everything `graphtoken serve`
    /// wires), on a runtime thread of its own.
    pub fn in_process(db: &str, sb: &Sandbox, seed: Option<&Path>) -> Result<Server, String> {
        Server::in_process_with(Server::args(db, seed), sb)
    }

    /// What `graphtoken serve` gets from the tests: the database, a seed, the test admin key.
    pub fn args(db: &str, seed: Option<&Path>) -> graphtoken::serve::ServeArgs {
        graphtoken::serve::ServeArgs {
            listen: "127.0.0.1:0".into(),
            db: db.to_string(),
            seed: seed.map(Path::to_path_buf),
            admin_key: Some(ADMIN_KEY.into()),
            no_migrate: false,
            production: false,
            trusted_proxies: Vec::new(),
            log_format: graphtoken::serve::LogFormat::Text,
            db_wait: 0,
            head_timeout: 10,
            body_timeout: 30,
            max_connections: 1000,
            tls_cert: None,
            tls_key: None,
            keys: graphtoken::secrets::KeyArgs {
                secret_key: Some(TEST_SECRET_KEY.into()),
                secret_key_file: None,
            },
            callback_ca_file: None,
            memory_budget: 256,
            plain_tokens: false,
        }
    }

    /// Like [`Server::in_process`], with the arguments given.
    pub fn in_process_with(
        args: graphtoken::serve::ServeArgs,
        sb: &Sandbox,
    ) -> Result<Server, String> {
        let (ready_tx, ready_rx) = mpsc::channel();
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .map_err(|e| e.to_string())?;
            rt.block_on(async move {
                let started = match graphtoken::serve::start(args).await {
                    Ok(s) => s,
                    Err(e) => {
                        let _ = ready_tx.send(Err(e.clone()));
                        return Err(e);
                    }
                };
                let _ = ready_tx.send(Ok((started.addr, started.printed.clone())));
                started
                    .serve(async move {
                        let _ = stop_rx.await;
                    })
                    .await
            })
        });
        let (addr, printed) = match ready_rx.recv_timeout(START_TIMEOUT) {
            Ok(Ok(ready)) => ready,
            Ok(Err(e)) => return Err(format!("the server did not start: {e}")),
            Err(_) => return Err("the server did not start in time".into()),
        };
        Ok(Server {
            running: Running::InProcess {
                stop: Some(stop_tx),
                thread: Some(thread),
            },
            base: format!("http://{addr}"),
            stdout: printed.lines().map(str::to_string).collect(),
            db_path: sb.db_path(),
            own: None,
        })
    }

    /// The sandbox this server owns (servers from [`Server::seeded`] and [`Server::demo`]).
    pub fn sandbox(&self) -> &Sandbox {
        self.own.as_ref().expect("this server owns no sandbox")
    }

    /// A server on `sb`'s database, optionally applying a seed, ready to answer.
    pub fn on(sb: &Sandbox, seed: Option<&Path>) -> Server {
        Server::try_on(sb, seed).unwrap_or_else(|e| panic!("{e}"))
    }

    /// Like [`Server::on`], or why the server did not come up (with its stderr).
    pub fn try_on(sb: &Sandbox, seed: Option<&Path>) -> Result<Server, String> {
        Server::try_on_with_key(sb, seed, Some(ADMIN_KEY))
    }

    /// Like [`Server::try_on`]; `key: None` lets the server generate its admin key.
    pub fn try_on_with_key(
        sb: &Sandbox,
        seed: Option<&Path>,
        key: Option<&str>,
    ) -> Result<Server, String> {
        Server::try_on_with(sb, seed, key, &[])
    }

    /// Like [`Server::try_on_with_key`], with more `graphtoken serve` arguments.
    pub fn try_on_with(
        sb: &Sandbox,
        seed: Option<&Path>,
        key: Option<&str>,
        extra: &[&str],
    ) -> Result<Server, String> {
        Server::process_on(sb, &sb.db_url(), seed, key, extra)
    }

    /// `graphtoken serve` as a child process on the database `db`, run in `sb`.
    pub fn process_on(
        sb: &Sandbox,
        db: &str,
        seed: Option<&Path>,
        key: Option<&str>,
        extra: &[&str],
    ) -> Result<Server, String> {
        let mut args = vec!["serve", "--listen", "127.0.0.1:0", "--db", db];
        args.extend(extra);
        if let Some(key) = key {
            args.extend(["--admin-key", key]);
        }
        let seed_text;
        if let Some(seed) = seed {
            seed_text = seed.display().to_string();
            args.extend(["--seed", &seed_text]);
        }
        let mut cmd = Command::new(BIN);
        // A SQLite server keeps its key beside its file; a PostgreSQL one is given the tests'.
        if db.starts_with("postgres") {
            cmd.env("GRAPHTOKEN_SECRET_KEY", TEST_SECRET_KEY);
        }
        let mut child = cmd
            .args(&args)
            .env_remove("GRAPHTOKEN_SEED")
            .env_remove("GRAPHTOKEN_ADMIN_KEY")
            .env("RUST_LOG", "warn")
            .current_dir(sb.dir.path())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| format!("cannot spawn {BIN}: {e}"))?;
        let stderr = drain(child.stderr.take());
        let (tx, rx) = mpsc::channel();
        if let Some(out) = child.stdout.take() {
            std::thread::spawn(move || {
                for line in BufReader::new(out).lines() {
                    let Ok(line) = line else { break };
                    if tx.send(line).is_err() {
                        break;
                    }
                }
            });
        }
        let start = Instant::now();
        let mut lines = Vec::new();
        let base = loop {
            match rx.recv_timeout(Duration::from_millis(100)) {
                Ok(line) => {
                    let found = line.strip_prefix(READY).map(|b| b.trim().to_string());
                    lines.push(line);
                    if let Some(b) = found {
                        break b;
                    }
                }
                Err(mpsc::RecvTimeoutError::Timeout) => {
                    if let Ok(Some(status)) = child.try_wait() {
                        let err = stderr.finish();
                        return Err(format!("graphtoken serve exited with {status}: {err}"));
                    }
                    if start.elapsed() > START_TIMEOUT {
                        let _ = child.kill();
                        let _ = child.wait();
                        return Err(format!(
                            "graphtoken serve did not start in time: {}",
                            stderr.finish()
                        ));
                    }
                }
                Err(mpsc::RecvTimeoutError::Disconnected) => {
                    let status = match wait_bounded(&mut child, Duration::from_secs(5)) {
                        Some(s) => s.to_string(),
                        None => {
                            let _ = child.kill();
                            let _ = child.wait();
                            "no exit after closing stdout".to_string()
                        }
                    };
                    return Err(format!(
                        "graphtoken serve exited with {status}: {}",
                        stderr.finish()
                    ));
                }
            }
        };
        Ok(Server {
            running: Running::Process {
                child: Some(child),
                stderr,
            },
            base,
            stdout: lines,
            db_path: sb.db_path(),
            own: None,
        })
    }

    /// Stops the server (a process with SIGTERM) and returns its exit status and stderr (an
    /// in-process server has none).
    pub fn stop(mut self) -> (ExitStatus, String) {
        let status = self.terminate().expect("server already stopped");
        let stderr = match &mut self.running {
            Running::Process { stderr, .. } => {
                std::mem::replace(stderr, drain(None::<std::fs::File>)).finish()
            }
            Running::InProcess { .. } => String::new(),
        };
        (status, stderr)
    }

    /// The server's process id, when it runs as a child process.
    pub fn pid(&self) -> Option<u32> {
        match &self.running {
            Running::Process { child, .. } => child.as_ref().map(Child::id),
            Running::InProcess { .. } => None,
        }
    }

    /// Runs `clients` threads that send `mint` again and again, each keeping the
    /// `access_token` of every answer, and kills the server's process (SIGKILL) in the middle
    /// of that load: once `after` has passed and more than 20 tokens have been answered, so a
    /// slow machine waits for its load instead of failing for want of it (at most a minute). A
    /// call that fails ends its thread (the server is gone): not the harness's request (`None`
    /// for any failure), so a refused connection is no failure of the test. The tokens answered
    /// before the kill; more than 20 of them, or the load was no load.
    pub fn kill9_under_load(
        &mut self,
        clients: usize,
        after: Duration,
        mint: impl Fn() -> Option<ureq::Response> + Sync,
    ) -> Vec<String> {
        const LOAD: usize = 20;
        let mint = || -> Option<String> {
            let answer = mint()?.into_json::<Value>().ok()?;
            answer["access_token"].as_str().map(String::from)
        };
        assert!(
            self.pid().is_some(),
            "kill9_under_load needs a server process"
        );
        let answered = std::sync::Mutex::new(Vec::new());
        std::thread::scope(|scope| {
            for _ in 0..clients {
                scope.spawn(|| {
                    while let Some(token) = mint() {
                        answered
                            .lock()
                            .unwrap_or_else(std::sync::PoisonError::into_inner)
                            .push(token);
                    }
                });
            }
            let started = Instant::now();
            std::thread::sleep(after);
            while answered
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .len()
                <= LOAD
                && started.elapsed() < Duration::from_secs(60)
            {
                std::thread::sleep(Duration::from_millis(20));
            }
            self.kill9();
        });
        let tokens = answered
            .into_inner()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        assert!(
            tokens.len() > LOAD,
            "only {} tokens were answered in a minute",
            tokens.len()
        );
        tokens
    }

    /// Kills the server's process at once (SIGKILL): no request in flight is finished.
    pub fn kill9(&mut self) {
        if let Running::Process { child, .. } = &mut self.running {
            if let Some(mut c) = child.take() {
                let _ = c.kill();
                let _ = c.wait();
            }
        }
    }

    fn terminate(&mut self) -> Option<ExitStatus> {
        let child = match &mut self.running {
            Running::Process { child, .. } => child,
            Running::InProcess { stop, thread } => {
                let _ = stop.take()?.send(());
                let served = thread.take()?.join().ok()?;
                use std::os::unix::process::ExitStatusExt;
                return Some(ExitStatus::from_raw(if served.is_ok() {
                    0
                } else {
                    1 << 8
                }));
            }
        };
        let mut child = child.take()?;
        let _ = Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status();
        match wait_bounded(&mut child, Duration::from_secs(5)) {
            Some(s) => Some(s),
            None => {
                let _ = child.kill();
                child.wait().ok()
            }
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    // ---- Graph requests ---------------------------------------------------------------------

    pub fn get(&self, path: &str) -> Resp {
        send(ureq::get(&self.url(path)), Body::None)
    }

    /// GET with `access_token` appended to the query.
    pub fn get_as(&self, path: &str, token: &str) -> Resp {
        self.get(&with_token(path, token))
    }

    pub fn get_with_header(&self, path: &str, name: &str, value: &str) -> Resp {
        send(ureq::get(&self.url(path)).set(name, value), Body::None)
    }

    pub fn post_form(&self, path: &str, form: &[(&str, &str)]) -> Resp {
        send(ureq::post(&self.url(path)), Body::Form(form))
    }

    /// `GET /debug_token` of `input` as seen by `viewer`.
    pub fn debug_as(&self, input: &str, viewer: &str) -> Resp {
        self.get(&format!(
            "/debug_token?input_token={}&access_token={}",
            enc(input),
            enc(viewer)
        ))
    }

    /// `debug_token`'s `data` for a token of the acme app, viewed with acme's app token.
    pub fn debug(&self, input: &str) -> Value {
        let r = self.debug_as(input, &app_literal());
        assert_eq!(r.status, 200, "debug_token: {}", r.body);
        r.body["data"].clone()
    }

    // ---- the admin API ----------------------------------------------------------------------

    pub fn admin(&self, method: &str, path: &str, body: Option<Value>, key: Option<&str>) -> Resp {
        let mut req = ureq::request(method, &self.url(path));
        if let Some(k) = key {
            req = req.set("Authorization", &format!("Bearer {k}"));
        }
        send(req, body.map_or(Body::None, Body::Json))
    }

    /// `POST` of a raw body, as JSON, with the admin key.
    pub fn admin_raw(&self, path: &str, body: &str) -> Resp {
        let req = ureq::post(&self.url(path))
            .set("Authorization", &format!("Bearer {ADMIN_KEY}"))
            .set("Content-Type", "application/json");
        send(req, Body::Raw(body))
    }

    /// `GET /_admin/callbacks`: every callback sent to apps, newest first.
    pub fn callbacks(&self) -> Vec<Value> {
        let listed = self.admin("GET", "/_admin/callbacks", None, Some(ADMIN_KEY));
        assert_eq!(listed.status, 200, "{}", listed.text);
        listed.body["data"].as_array().cloned().unwrap_or_default()
    }

    pub fn admin_post(&self, path: &str, body: Value) -> Resp {
        self.admin("POST", path, Some(body), Some(ADMIN_KEY))
    }

    /// Runs a client subcommand against this server with `--server`/`--admin-key`; it must
    /// succeed. Returns its stdout.
    pub fn cli(&self, args: &[&str]) -> String {
        let mut all = args.to_vec();
        all.extend(["--server", &self.base, "--admin-key", ADMIN_KEY]);
        let (status, out, err) = run(&all, &[]);
        assert!(status.success(), "graphtoken {args:?}: {err}");
        out
    }

    /// A user token from `POST /_admin/tokens` (short-lived unless `long`).
    pub fn issue(&self, user: &str, app: &str, scopes: &[&str], long: bool) -> String {
        let r = self.admin_post(
            "/_admin/tokens",
            json!({"user": user, "app": app, "scopes": scopes,
                   "lifetime": if long { "long" } else { "short" }}),
        );
        assert_eq!(r.status, 200, "issue token: {}", r.body);
        r.str("access_token")
    }

    /// alice's short-lived token for acme with her seeded grant.
    pub fn alice(&self) -> String {
        self.issue("alice", "acme", &[], false)
    }

    /// `fb_exchange_token` for acme: the long-lived token.
    pub fn exchange(&self, short: &str) -> String {
        let r = self.get(&format!(
            "/v25.0/oauth/access_token?grant_type=fb_exchange_token&client_id={}&client_secret={}&fb_exchange_token={}",
            world::ACME,
            world::ACME_SECRET,
            enc(short)
        ));
        assert_eq!(r.status, 200, "exchange: {}", r.body);
        r.str("access_token")
    }

    /// The Page token `GET /{page}?fields=access_token` yields for `user_token`.
    pub fn page_token(&self, page: &str, user_token: &str) -> String {
        let r = self.get_as(&format!("/{page}?fields=access_token"), user_token);
        assert_eq!(r.status, 200, "page token: {}", r.body);
        r.str("access_token")
    }

    pub fn clock(&self) -> i64 {
        let r = self.admin("GET", "/_admin/clock", None, Some(ADMIN_KEY));
        assert_eq!(r.status, 200, "clock: {}", r.body);
        r.body["now"].as_i64().expect("now")
    }

    pub fn advance(&self, seconds: i64) -> i64 {
        let r = self.admin_post("/_admin/clock", json!({ "advance_seconds": seconds }));
        assert_eq!(r.status, 200, "advance clock: {}", r.body);
        r.body["now"].as_i64().expect("now")
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.terminate();
    }
}

/// `{app-id}|{app-secret}` for acme.
pub fn app_literal() -> String {
    format!("{}|{}", world::ACME, world::ACME_SECRET)
}

/// The hex HMAC-SHA256 of `data` keyed with `secret`: an `appsecret_proof` (data: the token),
/// a timed one (`token|time`) or an app token's (`app-id|secret`).
pub fn proof(secret: &str, data: &str) -> String {
    use hmac::{Hmac, Mac};
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(data.as_bytes());
    mac.finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The keys of a JSON object, in the order the server wrote them.
/// The `id` of each item of a `{"data": [...]}` answer.
pub fn data_ids(body: &Value) -> Vec<String> {
    body["data"]
        .as_array()
        .unwrap_or_else(|| panic!("no data array: {body}"))
        .iter()
        .map(|p| p["id"].as_str().unwrap_or_default().to_string())
        .collect()
}

/// The `(permission, status)` pairs of a `/{user}/permissions` answer, which must be a 200.
pub fn permission_statuses(r: &Resp) -> Vec<(String, String)> {
    assert_eq!(r.status, 200, "{}", r.text);
    r.body["data"]
        .as_array()
        .unwrap_or_else(|| panic!("no data array: {}", r.text))
        .iter()
        .map(|p| {
            let text = |k: &str| p[k].as_str().unwrap_or_default().to_string();
            (text("permission"), text("status"))
        })
        .collect()
}

pub fn keys(v: &Value) -> Vec<&str> {
    v.as_object().unwrap().keys().map(String::as_str).collect()
}

/// The keys of a JSON object, sorted.
pub fn sorted_keys(v: &Value) -> Vec<&str> {
    let mut k = keys(v);
    k.sort_unstable();
    k
}

/// The wall clock (not the server's virtual one), in unix seconds.
pub fn real_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

pub fn enc(s: &str) -> String {
    form_encode(&[("", s)])[1..].to_string()
}

fn form_encode(pairs: &[(&str, &str)]) -> String {
    let mut out = String::new();
    for (i, (k, v)) in pairs.iter().enumerate() {
        if i > 0 {
            out.push('&');
        }
        out.push_str(&pct(k));
        out.push('=');
        out.push_str(&pct(v));
    }
    out
}

fn pct(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

pub fn with_token(path: &str, token: &str) -> String {
    let sep = if path.contains('?') { '&' } else { '?' };
    format!("{path}{sep}access_token={}", enc(token))
}

/// What a request body is.
pub enum Body<'a> {
    None,
    Form(&'a [(&'a str, &'a str)]),
    Json(Value),
    Raw(&'a str),
}

/// An answer, whatever its status.
#[derive(Debug)]
pub struct Resp {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub text: String,
    pub body: Value,
}

impl Resp {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// A string member of the body, which must be there.
    pub fn str(&self, key: &str) -> String {
        self.body[key]
            .as_str()
            .unwrap_or_else(|| panic!("no string `{key}` in {}", self.body))
            .to_string()
    }

    /// Asserts a matrix cell's outcome: 200, or the error code (and exact message, if given).
    pub fn assert_outcome(&self, want: Result<(), (u64, Option<&str>)>, what: &str) {
        match want {
            Ok(()) => assert_eq!(self.status, 200, "{what}: {}", self.text),
            Err((code, message)) => {
                assert_eq!(self.body["error"]["code"], code, "{what}: {}", self.text);
                if let Some(m) = message {
                    self.assert_error(code, None, "OAuthException", m);
                }
            }
        }
    }

    /// Asserts a Graph error envelope: status 400, code, subcode, type and exact message, with
    /// an `fbtrace_id`, the JSON content type and the version header.
    pub fn assert_error(&self, code: u64, subcode: Option<u64>, kind: &str, message: &str) {
        assert_eq!(self.status, 400, "status of {}", self.text);
        let e = &self.body["error"];
        assert_eq!(e["code"].as_u64(), Some(code), "code of {}", self.text);
        assert_eq!(
            e["error_subcode"].as_u64(),
            subcode,
            "subcode of {}",
            self.text
        );
        assert_eq!(e["type"], kind, "type of {}", self.text);
        assert_eq!(e["message"], message, "message of {}", self.text);
        assert!(
            e["fbtrace_id"].as_str().is_some_and(|t| !t.is_empty()),
            "fbtrace_id in {}",
            self.text
        );
        assert_eq!(
            self.header("content-type"),
            Some("application/json; charset=UTF-8")
        );
        assert!(self.header("facebook-api-version").is_some());
        if kind == "OAuthException" {
            let www = self.header("www-authenticate").unwrap_or_default();
            assert!(
                www.starts_with("OAuth \"Facebook Platform\" "),
                "WWW-Authenticate of {}: {www:?}",
                self.text
            );
        }
    }

    /// Asserts a 190 error with subcode 463 and the Pacific-time message.
    pub fn assert_expired(&self) {
        assert_eq!(self.status, 400, "{}", self.text);
        assert_eq!(self.body["error"]["code"], 190, "{}", self.text);
        assert_eq!(self.body["error"]["error_subcode"], 463, "{}", self.text);
        assert_eq!(self.body["error"]["type"], "OAuthException");
        assert_expired_message(self.body["error"]["message"].as_str().unwrap_or(""));
    }
}

/// `Error validating access token: Session has expired on <day>, DD-Mon-YY HH:MM:SS PST|PDT.
/// The current time is <...> PST|PDT.`
pub fn assert_expired_message(m: &str) {
    let rest = m
        .strip_prefix("Error validating access token: Session has expired on ")
        .unwrap_or_else(|| panic!("not an expiry message: {m}"));
    let (then, now) = rest
        .split_once(". The current time is ")
        .unwrap_or_else(|| panic!("no current time in: {m}"));
    let now = now
        .strip_suffix('.')
        .unwrap_or_else(|| panic!("no final dot: {m}"));
    for t in [then, now] {
        assert_pacific_time(t);
    }
}

/// `Thursday, 06-Oct-22 00:00:00 PDT`.
fn assert_pacific_time(t: &str) {
    let (day, rest) = t.split_once(", ").unwrap_or_else(|| panic!("bad time {t}"));
    assert!(
        [
            "Monday",
            "Tuesday",
            "Wednesday",
            "Thursday",
            "Friday",
            "Saturday",
            "Sunday"
        ]
        .contains(&day),
        "weekday in {t}"
    );
    let parts: Vec<&str> = rest.split(' ').collect();
    assert_eq!(parts.len(), 3, "time {t}");
    let date: Vec<&str> = parts[0].split('-').collect();
    assert_eq!(date.len(), 3, "date in {t}");
    assert!(date[0].len() == 2 && date[0].bytes().all(|b| b.is_ascii_digit()));
    assert_eq!(date[1].len(), 3, "month in {t}");
    assert!(date[2].len() == 2 && date[2].bytes().all(|b| b.is_ascii_digit()));
    assert_eq!(parts[1].len(), 8, "clock in {t}");
    assert!(parts[2] == "PST" || parts[2] == "PDT", "zone in {t}");
}

pub fn send(req: ureq::Request, body: Body<'_>) -> Resp {
    let res = match body {
        Body::None => req.call(),
        Body::Form(f) => req
            .set("Content-Type", "application/x-www-form-urlencoded")
            .send_string(&form_encode(f)),
        Body::Json(v) => req.send_json(v),
        Body::Raw(b) => req.send_string(b),
    };
    let r = match res {
        Ok(r) => r,
        Err(ureq::Error::Status(_, r)) => r,
        Err(e) => panic!("request failed: {e}"),
    };
    let status = r.status();
    let mut names = r.headers_names();
    names.dedup();
    let headers = names
        .into_iter()
        .flat_map(|n| {
            r.all(&n)
                .into_iter()
                .map(|v| (n.clone(), v.to_string()))
                .collect::<Vec<_>>()
        })
        .collect();
    let text = r.into_string().unwrap_or_default();
    let body = serde_json::from_str(&text).unwrap_or(Value::Null);
    Resp {
        status,
        headers,
        text,
        body,
    }
}

/// The scopes of a `debug_token` data object, as strings.
pub fn scopes(data: &Value) -> Vec<String> {
    data["scopes"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|s| s.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}
