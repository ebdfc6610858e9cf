//! `graphtoken serve` and `graphtoken seed`.

use std::io::Write;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::Args;

use graphtoken_core::clock::VirtualClock;
use graphtoken_core::error::GraphError;
use graphtoken_core::services::tokens::Bulk;
use graphtoken_core::services::world::{self as seeding, DEMO_PASSWORD};
use graphtoken_core::services::{Services, DEFAULT_CACHE_BYTES};
use graphtoken_core::store::StoreError;
use graphtoken_core::token;
use graphtoken_server::{AppState, Mode};

#[derive(Args, Clone)]
pub struct ServeArgs {
    /// Address to listen on (port 0 picks a free port).
    #[arg(long, env = "GRAPHTOKEN_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: String,
    /// Database URL: sqlite://FILE (created if missing), sqlite::memory:, or
    /// postgres://USER[:PASSWORD]@HOST[:PORT]/DB (also postgresql://; ?host=/socket/dir).
    #[arg(long, env = "GRAPHTOKEN_DB", default_value = "sqlite://graphtoken.db")]
    pub db: String,
    /// A world in TOML, applied at start (see docs/seed.md).
    #[arg(long, env = "GRAPHTOKEN_SEED")]
    pub seed: Option<std::path::PathBuf>,
    /// The admin API's key; generated and printed when absent.
    #[arg(long, env = "GRAPHTOKEN_ADMIN_KEY", hide_env_values = true)]
    pub admin_key: Option<String>,
    /// Do not migrate the database at start (it was migrated apart, with `graphtoken db
    /// migrate`); refuse to start when its schema is not the one this graphtoken needs.
    #[arg(long, env = "GRAPHTOKEN_NO_MIGRATE")]
    pub no_migrate: bool,
    /// Run as the production token service: no demo world, no virtual clock (the stored offset
    /// is ignored), and only an operator's admin API (no minted tokens, clock, faults, or
    /// people's own actions); the admin key must be given. See docs/production.md.
    #[arg(long, env = "GRAPHTOKEN_PRODUCTION")]
    pub production: bool,
    /// A proxy in front (its address, as the server sees it; repeat for several) whose
    /// `X-Forwarded-For` names the client: the sign-in throttle then counts the client's
    /// address, not the proxy's. See docs/deployment.md.
    #[arg(
        long = "trusted-proxy",
        env = "GRAPHTOKEN_TRUSTED_PROXIES",
        value_delimiter = ','
    )]
    pub trusted_proxies: Vec<std::net::IpAddr>,
    /// How the log (on standard error) is written: `text`, or `json` (one object a line).
    #[arg(long, env = "GRAPHTOKEN_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,
    /// How many seconds a start waits for a database that cannot be reached yet.
    #[arg(long, env = "GRAPHTOKEN_DB_WAIT", default_value_t = 60)]
    pub db_wait: u64,
    /// Seconds a client has to send a request's head, and on a kept-alive connection to start
    /// the next request, before the connection is closed (between the timeout and a quarter
    /// more).
    #[arg(long, env = "GRAPHTOKEN_HEAD_TIMEOUT", default_value_t = 10,
          value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub head_timeout: u64,
    /// Seconds a request's body may pause between pieces before the request fails (408).
    #[arg(long, env = "GRAPHTOKEN_BODY_TIMEOUT", default_value_t = 30,
          value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub body_timeout: u64,
    /// Connections served at once; more wait in the listen queue until one closes. Keep it
    /// under the process's open-file limit (`ulimit -n`).
    #[arg(long, env = "GRAPHTOKEN_MAX_CONNECTIONS", default_value_t = 1000,
          value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
    pub max_connections: u64,
    /// Serve HTTPS with this certificate chain (PEM; with --tls-key). Cookies are then
    /// `Secure`.
    #[arg(long, env = "GRAPHTOKEN_TLS_CERT", requires = "tls_key")]
    pub tls_cert: Option<std::path::PathBuf>,
    /// The certificate's private key (PEM; with --tls-cert).
    #[arg(long, env = "GRAPHTOKEN_TLS_KEY", requires = "tls_cert")]
    pub tls_key: Option<std::path::PathBuf>,
    /// Resident memory (MiB) the server aims to stay under: its caches are sized to hold what
    /// is left of it after the rest of the process (96 MiB; see docs/benchmarks.md).
    #[arg(long, env = "GRAPHTOKEN_MEMORY_BUDGET", default_value_t = DEFAULT_MEMORY_BUDGET,
          value_parser = clap::value_parser!(u64).range(128..=1 << 20))]
    pub memory_budget: u64,
    #[command(flatten)]
    pub keys: crate::secrets::KeyArgs,
    /// Mint user tokens without claims, in the form that versions before them read (`EAA`, a
    /// stamp, 64 characters): for a rolling upgrade from such a version, until every instance
    /// runs this one (docs/deployment.md). Tokens with claims are read either way.
    #[arg(long, env = "GRAPHTOKEN_PLAIN_TOKENS")]
    pub plain_tokens: bool,
    /// More authorities (PEM) to trust for `https` callbacks to apps, besides the web's: an
    /// internal CA, say.
    #[arg(long, env = "GRAPHTOKEN_CALLBACK_CA_FILE")]
    pub callback_ca_file: Option<std::path::PathBuf>,
}

/// The TLS configuration of `--tls-cert` and `--tls-key`, when both are given.
fn tls_config(args: &ServeArgs) -> Result<Option<Arc<rustls::ServerConfig>>, String> {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let (cert, key) = match (&args.tls_cert, &args.tls_key) {
        (None, None) => return Ok(None),
        (Some(c), Some(k)) => (c, k),
        _ => return Err("--tls-cert and --tls-key go together".into()),
    };
    let chain = CertificateDer::pem_file_iter(cert)
        .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
        .map_err(|e| format!("--tls-cert {}: {e}", cert.display()))?;
    if chain.is_empty() {
        return Err(format!(
            "--tls-cert {}: no certificate in the file",
            cert.display()
        ));
    }
    let key = PrivateKeyDer::from_pem_file(key)
        .map_err(|e| format!("--tls-key {}: {e}", key.display()))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS: {e}"))?
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .map_err(|e| format!("--tls-cert and --tls-key do not make a certificate: {e}"))?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Some(Arc::new(config)))
}

/// What a server needs besides its caches, measured (MiB): the runtime, SQLite's
/// connections and their page caches, buffers for the connections served.
const MEMORY_RESERVE: u64 = 96;

/// The default budget (256 MiB): the caches' default size and the rest of the process.
const DEFAULT_MEMORY_BUDGET: u64 = (DEFAULT_CACHE_BYTES >> 20) as u64 + MEMORY_RESERVE;

impl ServeArgs {
    /// What the caches may hold: the memory budget less what the rest of the process needs.
    pub fn cache_bytes(&self) -> usize {
        usize::try_from(self.memory_budget.saturating_sub(MEMORY_RESERVE) << 20)
            .unwrap_or(usize::MAX)
    }

    /// What a client may take of the server (see `graphtoken_server::Limits`).
    pub fn limits(&self) -> graphtoken_server::Limits {
        graphtoken_server::Limits {
            head_timeout: Duration::from_secs(self.head_timeout),
            body_timeout: Duration::from_secs(self.body_timeout),
            max_connections: usize::try_from(self.max_connections).unwrap_or(usize::MAX),
        }
    }
}

fn runtime() -> Result<tokio::runtime::Runtime, String> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the async runtime: {e}"))
}

/// The store at `db`, migrated (or, with `migrate` false, checked to be current), and the
/// service on it with the virtual clock as it was left.
async fn open(
    db: &str,
    migrate: bool,
    wait: Duration,
    mode: Mode,
    keys: &crate::secrets::KeyArgs,
    cache_bytes: usize,
) -> Result<(Services, Arc<VirtualClock>), String> {
    let sealer = crate::secrets::sealer(db, keys)?;
    let start = Instant::now();
    // A SQLite file another process still holds (a restart overlapping the old process's exit)
    // is waited for, as a database out of reach is.
    let store = until_reachable(db, wait, start, "cannot open", || async {
        graphtoken_store::open_sealed(db, Some(Arc::clone(&sealer)))
    })
    .await?;
    let schema = until_reachable(db, wait, start, "cannot read the schema version of", || {
        store.schema()
    })
    .await?;
    if migrate {
        store
            .migrate()
            .await
            .map_err(|e| format!("cannot migrate {db}: {e}"))?;
    } else {
        if !schema.is_current() {
            return Err(format!(
                "the database {db} is at schema version {}, and this graphtoken needs {}: \
                 run `graphtoken db migrate --db …` first (or start without --no-migrate)",
                schema.found, schema.wanted
            ));
        }
    }
    // The key must open the secrets sealed already (a wrong key stops here, changing nothing);
    // then secrets written before sealing existed are sealed (sealed ones are left alone).
    store
        .check_seals()
        .await
        .map_err(|e| format!("cannot open the secrets of {db}: {e}"))?;
    store
        .reseal(None)
        .await
        .map_err(|e| format!("cannot seal the secrets of {db}: {e}"))?;
    let clock = Arc::new(VirtualClock::default());
    let services = Services::within(store, Arc::clone(&clock) as Arc<_>, cache_bytes)
        .with_blocking(Arc::new(
            graphtoken_server::blocking::TokioBlocking::default(),
        ));
    // In production the clock is the machine's: an emulator's stored offset is not applied.
    if mode == Mode::Emulator {
        services
            .restore_clock(&clock)
            .await
            .map_err(|e| format!("cannot read the clock offset: {e}"))?;
    }
    Ok((services, clock))
}

/// Runs `f` until it succeeds or fails otherwise than by the database being out of reach
/// (then: "`failed` `db`: why"), waiting with backoff, and saying so, while it is out of reach
/// (a server starting beside its database, say), until `wait` after `start`.
async fn until_reachable<T, F, Fut>(
    db: &str,
    wait: Duration,
    start: Instant,
    failed: &str,
    mut f: F,
) -> Result<T, String>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, StoreError>>,
{
    let mut pause = Duration::from_millis(500);
    loop {
        match f().await {
            Err(e) if graphtoken_store::is_unreachable(&e) => {
                if start.elapsed() + pause > wait {
                    return Err(format!(
                        "cannot reach the database {db} after {} s: {e}",
                        wait.as_secs()
                    ));
                }
                eprintln!(
                    "waiting for the database {db} ({e}); trying again in {} ms",
                    pause.as_millis()
                );
                tokio::time::sleep(pause).await;
                pause = (pause * 2).min(Duration::from_secs(5));
            }
            Err(e) => return Err(format!("{failed} {db}: {e}")),
            Ok(v) => return Ok(v),
        }
    }
}

async fn apply_seed(services: &Services, file: &Path) -> Result<(), String> {
    let world = graphtoken_seed::load(file).map_err(|e| e.to_string())?;
    let applied = seeding::apply(services, &world)
        .await
        .map_err(|e| e.to_string())?;
    eprintln!(
        "applied {}: {} apps, {} users, {} pages, {} grants, {} posts, {} messages",
        file.display(),
        applied.apps,
        applied.users,
        applied.pages,
        applied.grants,
        applied.posts,
        applied.messages
    );
    Ok(())
}

/// The services for a command that writes and ends (`seed`, `bench populate`): the database
/// migrated, the caches of the default size.
async fn for_command(db: &str, keys: &crate::secrets::KeyArgs) -> Result<Services, String> {
    let (services, _) = open(
        db,
        true,
        Duration::ZERO,
        Mode::Emulator,
        keys,
        DEFAULT_CACHE_BYTES,
    )
    .await?;
    Ok(services)
}

pub fn seed_only(file: &Path, db: &str, keys: &crate::secrets::KeyArgs) -> Result<(), String> {
    runtime()?.block_on(async {
        let services = for_command(db, keys).await?;
        apply_seed(&services, file).await
    })
}

/// What `graphtoken bench populate` was asked for.
pub struct Populate<'a> {
    pub db: &'a str,
    pub app: &'a str,
    pub users: &'a str,
    pub tokens: usize,
    pub scopes: &'a str,
    pub long: bool,
    pub out: &'a Path,
}

/// The most tokens one write stores.
const POPULATE_WRITE: usize = 500_000;

/// `graphtoken bench populate`: `tokens` user tokens spread over the people, stored through the
/// services in writes of up to [`POPULATE_WRITE`], each write's written to `out` one per line
/// once stored. Says how many, how fast, and the database's size.
pub fn populate(p: &Populate<'_>, keys: &crate::secrets::KeyArgs) -> Result<(), String> {
    use std::io::Write;
    // The world comes first (`graphtoken seed`): no file is made for it here.
    graphtoken_store::must_exist(p.db).map_err(|e| format!("cannot open {}: {e}", p.db))?;
    runtime()?.block_on(async {
        let services = for_command(p.db, keys).await?;
        let app = services
            .find_app(p.app)
            .await
            .map_err(|e| e.message)?
            .ok_or_else(|| format!("no app {:?}", p.app))?;
        let mut people = Vec::new();
        for r in p.users.split(',').map(str::trim).filter(|r| !r.is_empty()) {
            let user = services.find_user(r).await.map_err(|e| e.message)?;
            people.push(user.ok_or_else(|| format!("no person {r:?}"))?);
        }
        if people.is_empty() {
            return Err("--users names no one".to_string());
        }
        let scopes: Vec<String> = graphtoken_core::permissions::split_scope(p.scopes)
            .map(str::to_string)
            .collect();
        // Made once everything asked for is known to exist: a refusal leaves no file behind.
        let file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(p.out)
            .map_err(|e| format!("cannot create {}: {e}", p.out.display()))?;
        let mut out = std::io::BufWriter::new(file);
        let start = std::time::Instant::now();
        let bulk = Bulk {
            count: p.tokens,
            long_lived: p.long,
            per_write: POPULATE_WRITE,
        };
        let write = |tokens: Vec<String>| -> Result<(), GraphError> {
            for t in &tokens {
                writeln!(out, "{t}").map_err(|e| {
                    GraphError::internal_because(format!("cannot write the tokens: {e}"))
                })?;
            }
            Ok(())
        };
        let made = services
            .populate(&people, &app, &scopes, bulk, write)
            .await
            .and_then(|made| {
                out.flush().map(|()| made).map_err(|e| {
                    GraphError::internal_because(format!("cannot write the tokens: {e}"))
                })
            });
        let made = match made {
            Ok(made) => made,
            Err(e) => {
                let _ = std::fs::remove_file(p.out);
                return Err(e.detail().unwrap_or(&e.message).to_string());
            }
        };
        let took = start.elapsed().as_secs_f64();
        println!(
            "stored {made} tokens in {took:.1} s ({:.0} a second), written to {}",
            made as f64 / took.max(1e-9),
            p.out.display()
        );
        if let Ok(Some(path)) = graphtoken_store::sqlite_file(p.db) {
            let size: u64 = ["", "-wal"]
                .iter()
                .filter_map(|s| std::fs::metadata(format!("{}{s}", path.display())).ok())
                .map(|m| m.len())
                .sum();
            println!(
                "the database: {:.1} MiB with its WAL",
                size as f64 / (1 << 20) as f64
            );
        }
        Ok(())
    })
}

/// `graphtoken db migrate`: brings the schema up to date and says where it stands.
pub fn migrate_only(db: &str) -> Result<(), String> {
    runtime()?.block_on(async {
        let store = graphtoken_store::open(db).map_err(|e| format!("cannot open {db}: {e}"))?;
        let before = store.schema().await.map_err(|e| e.to_string())?;
        store
            .migrate()
            .await
            .map_err(|e| format!("cannot migrate {db}: {e}"))?;
        let after = store.schema().await.map_err(|e| e.to_string())?;
        if before.found == after.found {
            println!("the schema is current (version {})", after.found);
        } else {
            println!(
                "migrated the schema from version {} to {}",
                before.found, after.found
            );
        }
        Ok(())
    })
}

/// `graphtoken db copy`: every record of `from` into `to`, with the rows each table carried.
pub fn copy_db(from: &str, to: &str) -> Result<(), String> {
    runtime()?.block_on(async {
        let copied = graphtoken_store::copy(from, to)
            .await
            .map_err(|e| format!("cannot copy {from} to {to}: {e}"))?;
        let total: u64 = copied.iter().map(|(_, n)| n).sum();
        for (table, n) in copied.iter().filter(|(_, n)| *n > 0) {
            println!("{table:>18}  {n}");
        }
        println!("copied {total} rows; the counts match");
        Ok(())
    })
}

/// `graphtoken db status`: the database's schema version and the one this graphtoken needs.
pub fn schema_status(db: &str) -> Result<(), String> {
    graphtoken_store::must_exist(db).map_err(|e| format!("cannot open {db}: {e}"))?;
    runtime()?.block_on(async {
        let store = graphtoken_store::open(db).map_err(|e| format!("cannot open {db}: {e}"))?;
        let s = store.schema().await.map_err(|e| e.to_string())?;
        let state = match s.found.cmp(&s.wanted) {
            std::cmp::Ordering::Equal => "current",
            std::cmp::Ordering::Less => "behind: run `graphtoken db migrate`",
            std::cmp::Ordering::Greater => "newer than this graphtoken knows",
        };
        println!(
            "schema version {} (this graphtoken: {}): {state}",
            s.found, s.wanted
        );
        Ok(())
    })
}

/// How the log is written.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

pub fn run(args: ServeArgs) -> Result<(), String> {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let log = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match args.log_format {
        LogFormat::Text => log.init(),
        LogFormat::Json => log.json().init(),
    }
    runtime()?.block_on(serve(args))
}

/// A server that is listening and has its world in place, not yet answering: what it would
/// print (the demo banner or the admin key, then the `listening` line), and the state to serve.
pub struct Started {
    pub addr: SocketAddr,
    /// What `graphtoken serve` prints on stdout before it answers.
    pub printed: String,
    listener: tokio::net::TcpListener,
    state: Arc<AppState>,
    limits: graphtoken_server::Limits,
    tls: Option<Arc<rustls::ServerConfig>>,
}

impl Started {
    /// Answers requests until `stop` resolves, then finishes the requests in flight.
    pub async fn serve(
        self,
        stop: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> Result<(), String> {
        graphtoken_server::serve(self.listener, self.state, stop, self.limits, self.tls)
            .await
            .map_err(|e| e.to_string())
    }
}

/// Opens the database, applies the seed (or makes the demo world on an empty database), binds
/// the address and builds the server's state: everything `graphtoken serve` does before it
/// answers. The tests start servers in their own process with it.
pub async fn start(args: ServeArgs) -> Result<Started, String> {
    let mode = if args.production {
        Mode::Production
    } else {
        Mode::Emulator
    };
    if mode == Mode::Production && args.admin_key.as_deref().is_none_or(str::is_empty) {
        return Err(
            "--production needs --admin-key (or GRAPHTOKEN_ADMIN_KEY): a production server \
             prints no generated key"
                .into(),
        );
    }
    let wait = Duration::from_secs(args.db_wait);
    let limits = args.limits();
    let tls = tls_config(&args)?;
    let (services, clock) = open(
        &args.db,
        !args.no_migrate,
        wait,
        mode,
        &args.keys,
        args.cache_bytes(),
    )
    .await?;
    let services = if args.plain_tokens {
        services.with_plain_tokens()
    } else {
        services
    };
    let empty = services.is_empty().await.map_err(|e| e.to_string())?;
    match &args.seed {
        Some(file) => apply_seed(&services, file).await?,
        None if empty && mode == Mode::Emulator => {
            seeding::apply(&services, &seeding::demo_world())
                .await
                .map_err(|e| format!("cannot create the demo world: {e}"))?;
        }
        None => {}
    }

    // A key the operator chose is never printed; a generated one must be, or nobody has it.
    let (admin_key, generated) = match args.admin_key {
        Some(k) if !k.is_empty() => (k, false),
        _ => (token::random_alnum(32).map_err(|e| e.to_string())?, true),
    };
    let shown_key = if generated {
        admin_key.clone()
    } else {
        "$GRAPHTOKEN_ADMIN_KEY".to_string()
    };
    let listener = tokio::net::TcpListener::bind(&args.listen)
        .await
        .map_err(|e| format!("cannot listen on {}: {e}", args.listen))?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;

    // The demo banner (with the demo app's secret) is shown when the demo world is created.
    let banner = if args.seed.is_none() && empty && mode == Mode::Emulator {
        demo_banner(&services, addr, &shown_key).await?
    } else {
        None
    };
    let mut printed = match (banner, generated) {
        (Some(b), _) => format!("{b}\n"),
        (None, true) => format!("admin key: {admin_key}\n"),
        (None, false) => String::new(),
    };
    let scheme = if tls.is_some() { "https" } else { "http" };
    printed.push_str(&format!("graphtoken listening on {scheme}://{addr}\n"));

    let browser = Arc::new(graphtoken_server::browser::Browser::load(&services).await?);
    let authorities = match &args.callback_ca_file {
        Some(f) => {
            use rustls::pki_types::pem::PemObject;
            let pem = std::fs::read(f)
                .map_err(|e| format!("cannot read --callback-ca-file {}: {e}", f.display()))?;
            let certs = rustls::pki_types::CertificateDer::pem_slice_iter(&pem)
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| format!("--callback-ca-file {}: {e}", f.display()))?;
            if certs.is_empty() {
                return Err(format!(
                    "--callback-ca-file {}: no certificate in the file",
                    f.display()
                ));
            }
            pem
        }
        None => Vec::new(),
    };
    let state = Arc::new(
        AppState::new(services, clock, admin_key, browser, mode)?
            .with_trusted_proxies(args.trusted_proxies.clone())
            .with_seed(args.seed.as_ref().map(|p| p.display().to_string()))
            .with_callback_authorities(&authorities),
    );
    Ok(Started {
        addr,
        printed,
        listener,
        state,
        limits,
        tls,
    })
}

async fn serve(args: ServeArgs) -> Result<(), String> {
    let started = start(args).await?;
    // The handlers are installed before the server says it is listening.
    let stop = shutdown()?;
    let mut out = std::io::stdout().lock();
    out.write_all(started.printed.as_bytes())
        .and_then(|_| out.flush())
        .map_err(|e| e.to_string())?;
    drop(out);
    started.serve(stop).await?;
    eprintln!("graphtoken stopped");
    Ok(())
}

/// Resolves on Ctrl-C or SIGTERM. The handlers are installed now, before the server says it
/// is listening, so a signal sent as soon as the line is read stops the server cleanly.
fn shutdown() -> Result<impl std::future::Future<Output = ()>, String> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        let handler = |kind| signal(kind).map_err(|e| format!("cannot handle signals: {e}"));
        let mut int = handler(SignalKind::interrupt())?;
        let mut term = handler(SignalKind::terminate())?;
        Ok(async move {
            tokio::select! {
                _ = int.recv() => {},
                _ = term.recv() => {},
            }
        })
    }
    #[cfg(not(unix))]
    {
        Ok(async {
            let _ = tokio::signal::ctrl_c().await;
        })
    }
}

/// The banner for the demo world, when the database has it.
async fn demo_banner(
    services: &Services,
    addr: SocketAddr,
    admin_key: &str,
) -> Result<Option<String>, String> {
    let (Some(app), Some(user)) = (
        services.find_app("demo").await.map_err(|e| e.to_string())?,
        services
            .find_user("demo")
            .await
            .map_err(|e| e.to_string())?,
    ) else {
        return Ok(None);
    };
    let base = format!("http://{addr}");
    let email = user.email.unwrap_or_default();
    Ok(Some(format!(
        r#"
graphtoken — the Facebook Graph API token system, on your machine

  base URL     {base}
  demo app     {name}: id {id}, secret {secret}
  demo user    {email} / {DEMO_PASSWORD}
  admin key    {key_line}

The recipe: a short-lived user token → a long-lived one → Page tokens that never expire.

  # 1. a short-lived user token, as if the demo user had logged in
  SHORT=$(curl -s -X POST {base}/_admin/tokens -H "Authorization: Bearer {admin_key}" \
    -d '{{"user":"demo","app":"demo","scopes":["pages_show_list","pages_read_engagement"]}}' | sed 's/.*"access_token":"\([^"]*\)".*/\1/')

  # 2. exchange it for a long-lived one (60 days)
  LONG=$(curl -s "{base}/v25.0/oauth/access_token?grant_type=fb_exchange_token&client_id={id}&client_secret={secret}&fb_exchange_token=$SHORT" | sed 's/.*"access_token":"\([^"]*\)".*/\1/')

  # 3. the Pages and their tokens (they never expire: debug one to see expires_at 0)
  curl -s "{base}/v25.0/me/accounts?access_token=$LONG"

Or log in as people do: open the dialog in a browser, sign in as the demo user, and trade the
code it sends back (to {redirect}) on /oauth/access_token (docs/login.md):

  {base}/v25.0/dialog/oauth?client_id={id}&redirect_uri={redirect}&scope=email
"#,
        redirect = app.redirect_uris.first().map_or(
            "http://localhost:3000/auth/facebook/callback",
            String::as_str
        ),
        name = app.name,
        id = app.id,
        secret = app.secret,
        key_line = if admin_key.starts_with('$') {
            "the one you passed; the commands below read it from $GRAPHTOKEN_ADMIN_KEY"
        } else {
            admin_key
        },
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Tokens stored over many writes (three at a time here, the last one short; half a million
    /// in `graphtoken bench populate`) all work, the logins' first, then the rest in hash order.
    #[test]
    fn populate_in_many_writes_stores_every_token_in_hash_order() {
        let dir = tempfile::tempdir().unwrap();
        let db = format!("sqlite://{}", dir.path().join("p.db").display());
        let world = dir.path().join("world.toml");
        std::fs::write(
            &world,
            "[[apps]]\nkey = \"acme\"\nname = \"Acme\"\n\n\
             [[users]]\nkey = \"alice\"\nname = \"Alice\"\n\n\
             [[users]]\nkey = \"bob\"\nname = \"Bob\"\n",
        )
        .unwrap();
        let keys = crate::secrets::KeyArgs {
            secret_key_file: None,
            secret_key: None,
        };
        runtime().unwrap().block_on(async {
            let services = for_command(&db, &keys).await.unwrap();
            apply_seed(&services, &world).await.unwrap();
            let app = services.find_app("acme").await.unwrap().unwrap();
            let people = vec![
                services.find_user("alice").await.unwrap().unwrap(),
                services.find_user("bob").await.unwrap().unwrap(),
            ];
            let scopes = vec!["email".to_string()];
            let bulk = Bulk {
                count: 12,
                long_lived: true,
                per_write: 3,
            };
            let mut tokens = Vec::new();
            let mut writes = 0;
            let made = services
                .populate(&people, &app, &scopes, bulk, |more| {
                    writes += 1;
                    tokens.extend(more);
                    Ok(())
                })
                .await
                .unwrap();
            assert_eq!((made, tokens.len()), (12, 12));
            // The logins' two, then writes of three, three, three and one.
            assert_eq!(writes, 5);
            let hashes: Vec<_> = tokens[2..]
                .iter()
                .map(|t| graphtoken_core::token::hash(t))
                .collect();
            assert!(hashes.windows(2).all(|w| w[0] < w[1]), "in hash order");
            let mut whose = Vec::new();
            for t in &tokens {
                let caller = services.authenticate(t).await.unwrap();
                whose.push(caller.principal.loaded().map(|t| t.user.id));
            }
            assert_eq!(
                whose.iter().filter(|u| **u == Some(people[0].id)).count(),
                6
            );
            assert_eq!(
                whose.iter().filter(|u| **u == Some(people[1].id)).count(),
                6
            );
        });
    }
}
