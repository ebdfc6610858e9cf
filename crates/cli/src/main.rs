//! `graphtoken`: run the server, apply seeds, and drive a running server's admin API.

mod events;
mod faults;
mod keeper;

/// mimalloc: the hot path allocates small, short-lived buffers on two threads, where glibc's
/// allocator cost about a tenth of the server's CPU (see docs/benchmarks.md).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};

use graphtoken::serve;
use graphtoken_client::{parse_duration, Admin};
use graphtoken_core::timefmt;

#[derive(Parser)]
#[command(
    name = "graphtoken",
    version,
    about = "The Facebook Graph API access-token system, self-hosted"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the server (the emulator, on an embedded SQLite database by default).
    Serve(serve::ServeArgs),
    /// Apply a seed file to a database and exit.
    Seed {
        /// The world, in TOML (see docs/seed.md).
        file: std::path::PathBuf,
        #[arg(long, env = "GRAPHTOKEN_DB", default_value = "sqlite://graphtoken.db")]
        db: String,
        #[command(flatten)]
        keys: graphtoken::secrets::KeyArgs,
    },
    /// The key that seals the database's secrets: make one, or rotate to a new one.
    #[command(subcommand)]
    Secrets(SecretsCommand),
    /// Tools for load tests.
    #[command(subcommand)]
    Bench(BenchCommand),
    /// The database: migrate it apart from serving, or see where its schema stands.
    #[command(subcommand)]
    Db(DbCommand),
    /// Issue and inspect tokens on a running server.
    #[command(subcommand)]
    Token(TokenCommand),
    /// Show or move the virtual clock of a running server.
    #[command(subcommand)]
    Clock(ClockCommand),
    /// Inject faults into a running server's Graph API: errors, latency, transient 5xx.
    #[command(subcommand)]
    Faults(faults::FaultsCommand),
    /// Events on a person: password change, security reset, logout, account status.
    #[command(subcommand)]
    User(events::UserCommand),
    /// Events on an app: removed by a person, secret reset.
    #[command(subcommand)]
    App(events::AppCommand),
    /// Events on a Page: a person's tasks.
    #[command(subcommand)]
    Page(events::PageCommand),
    /// The token keeper: a sealed vault of long-lived user and Page tokens, checked,
    /// explained, rotated and revoked, against real Facebook or graphtoken (docs/keeper.md).
    Keeper(keeper::KeeperArgs),
}

#[derive(Subcommand)]
enum SecretsCommand {
    /// Writes a new random key to FILE (mode 0600), for `--secret-key-file`.
    NewKey { file: std::path::PathBuf },
    /// Seals every secret of the database again under a new key, in one transaction, and
    /// writes the new key: over the key file in use (SQLite's beside the database, or
    /// --secret-key-file), or to --new-key-file. Stop every instance first.
    Rotate {
        #[arg(long, env = "GRAPHTOKEN_DB", default_value = "sqlite://graphtoken.db")]
        db: String,
        #[command(flatten)]
        keys: graphtoken::secrets::KeyArgs,
        /// Where the new key goes (required when the old one came from GRAPHTOKEN_SECRET_KEY).
        #[arg(long)]
        new_key_file: Option<std::path::PathBuf>,
    },
}

#[derive(Subcommand)]
enum DbCommand {
    /// Applies the pending migrations and exits (for deployments that migrate once before
    /// rolling instances started with `serve --no-migrate`).
    Migrate {
        #[arg(long, env = "GRAPHTOKEN_DB", default_value = "sqlite://graphtoken.db")]
        db: String,
    },
    /// Copies every record of one database into another, empty one (any two backends: an
    /// emulator's SQLite world into PostgreSQL, say); counts are checked after the copy.
    Copy {
        /// The database to read (not changed).
        #[arg(long)]
        from: String,
        /// The database to write: migrated here, and holding nothing yet.
        #[arg(long)]
        to: String,
    },
    /// Shows the database's schema version and the one this graphtoken needs.
    Status {
        #[arg(long, env = "GRAPHTOKEN_DB", default_value = "sqlite://graphtoken.db")]
        db: String,
    },
}

#[derive(Args, Clone)]
pub(crate) struct Remote {
    /// The running server.
    #[arg(
        long,
        env = "GRAPHTOKEN_SERVER",
        default_value = "http://127.0.0.1:8080",
        global = true
    )]
    server: String,
    /// Its admin key (printed when it started).
    #[arg(
        long,
        env = "GRAPHTOKEN_ADMIN_KEY",
        global = true,
        hide_env_values = true
    )]
    admin_key: Option<String>,
}

impl Remote {
    pub(crate) fn admin(&self) -> Result<Admin, String> {
        let key = self
            .admin_key
            .as_deref()
            .ok_or("the admin key is needed: pass --admin-key or set GRAPHTOKEN_ADMIN_KEY")?;
        Ok(Admin::new(&self.server, key))
    }
}

#[derive(Subcommand)]
enum TokenCommand {
    /// A user token, as if the person had consented in the login dialog.
    Issue {
        /// The person (seed key or id).
        #[arg(long)]
        user: String,
        /// The app (seed key or id).
        #[arg(long)]
        app: String,
        /// Permissions, comma separated.
        #[arg(long, default_value = "")]
        scopes: String,
        /// A long-lived (60-day) token instead of a short-lived (1-hour) one.
        #[arg(long)]
        long: bool,
        #[command(flatten)]
        remote: Remote,
    },
    /// What debug_token says of a token, in words. `-` reads the token from standard input,
    /// which keeps it out of the process list and shell history.
    Debug {
        token: String,
        #[command(flatten)]
        remote: Remote,
    },
}

#[derive(Subcommand)]
enum BenchCommand {
    /// Store many user tokens fast, straight into a database (seeded first; on SQLite, with no
    /// server running on that file), and write them one per line to a file: for load tests of
    /// large worlds. Each person logs in once; the tokens are spread over those sessions. Holds
    /// one write's tokens in memory at a time (500,000, some 300 MB).
    Populate {
        #[arg(long, env = "GRAPHTOKEN_DB", default_value = "sqlite://graphtoken.db")]
        db: String,
        /// The app (seed key or id).
        #[arg(long)]
        app: String,
        /// The people (seed keys or ids), comma separated: the tokens are spread over them.
        #[arg(long)]
        users: String,
        /// How many tokens.
        #[arg(long)]
        tokens: usize,
        /// Permissions, comma separated.
        #[arg(long, default_value = "")]
        scopes: String,
        /// Long-lived (60-day) tokens instead of short-lived (1-hour) ones.
        #[arg(long)]
        long: bool,
        /// Where the tokens go, one per line (created; refused if it exists).
        #[arg(long)]
        out: std::path::PathBuf,
        #[command(flatten)]
        keys: graphtoken::secrets::KeyArgs,
    },
}

#[derive(Subcommand)]
enum ClockCommand {
    /// The virtual now.
    Show {
        #[command(flatten)]
        remote: Remote,
    },
    /// Move the clock forward (or back): 61d, 2h, 90m, 30s, 1w.
    Advance {
        #[arg(allow_hyphen_values = true)]
        by: String,
        #[command(flatten)]
        remote: Remote,
    },
    /// Set the clock: 2027-01-31, 2027-01-31T12:00:00Z, or unix seconds.
    Set {
        date: String,
        #[command(flatten)]
        remote: Remote,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Serve(args) => serve::run(args),
        Command::Seed { file, db, keys } => serve::seed_only(&file, &db, &keys),
        Command::Secrets(SecretsCommand::NewKey { file }) => graphtoken::secrets::new_key(&file),
        Command::Secrets(SecretsCommand::Rotate {
            db,
            keys,
            new_key_file,
        }) => graphtoken::secrets::rotate(&db, &keys, new_key_file.as_deref()),
        Command::Bench(BenchCommand::Populate {
            db,
            app,
            users,
            tokens,
            scopes,
            long,
            out,
            keys,
        }) => serve::populate(
            &serve::Populate {
                db: &db,
                app: &app,
                users: &users,
                tokens,
                scopes: &scopes,
                long,
                out: &out,
            },
            &keys,
        ),
        Command::Db(DbCommand::Migrate { db }) => serve::migrate_only(&db),
        Command::Db(DbCommand::Status { db }) => serve::schema_status(&db),
        Command::Db(DbCommand::Copy { from, to }) => serve::copy_db(&from, &to),
        Command::Token(t) => token(t),
        Command::Clock(c) => clock(c),
        Command::Faults(f) => faults::run(f),
        Command::User(c) => events::user(c),
        Command::App(c) => events::app(c),
        Command::Page(c) => events::page(c),
        Command::Keeper(k) => return keeper::run(k),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("graphtoken: {e}");
            ExitCode::FAILURE
        }
    }
}

fn token(cmd: TokenCommand) -> Result<(), String> {
    match cmd {
        TokenCommand::Issue {
            user,
            app,
            scopes,
            long,
            remote,
        } => {
            let scopes: Vec<String> = graphtoken_core::permissions::split_scope(&scopes)
                .map(str::to_string)
                .collect();
            let v = remote
                .admin()?
                .issue_token(&user, &app, &scopes, long)
                .map_err(|e| e.to_string())?;
            println!("{}", v["access_token"].as_str().unwrap_or_default());
            eprintln!(
                "expires in {} s ({})",
                v["expires_in"],
                if long { "long-lived" } else { "short-lived" }
            );
            Ok(())
        }
        TokenCommand::Debug { token, remote } => {
            let token = if token == "-" {
                let mut line = String::new();
                std::io::stdin()
                    .read_line(&mut line)
                    .map_err(|e| format!("cannot read the token from standard input: {e}"))?;
                line.trim().to_string()
            } else {
                token
            };
            let v = remote
                .admin()?
                .debug_token(&token)
                .map_err(|e| e.to_string())?;
            print!("{}", verdict(&v["data"]));
            Ok(())
        }
    }
}

/// `debug_token`'s answer, for people.
fn verdict(d: &serde_json::Value) -> String {
    let s = |k: &str| d[k].as_str().unwrap_or("").to_string();
    let mut out = String::new();
    let valid = d["is_valid"].as_bool() == Some(true);
    match d["error"]["message"].as_str() {
        _ if valid => out.push_str("valid:       yes\n"),
        Some(m) => {
            let sub = d["error"]["subcode"]
                .as_u64()
                .map(|c| format!(" (190/{c})"))
                .unwrap_or_default();
            out.push_str(&format!("valid:       no{sub}: {m}\n"));
        }
        None => out.push_str("valid:       no\n"),
    }
    if !s("type").is_empty() {
        out.push_str(&format!("type:        {}\n", s("type")));
        out.push_str(&format!(
            "app:         {} ({})\n",
            s("application"),
            s("app_id")
        ));
    }
    if !s("user_id").is_empty() {
        out.push_str(&format!("user:        {} (app-scoped id)\n", s("user_id")));
    }
    if !s("profile_id").is_empty() {
        out.push_str(&format!("page:        {}\n", s("profile_id")));
    }
    if let Some(scopes) = d["scopes"].as_array() {
        let names: Vec<&str> = scopes.iter().filter_map(|v| v.as_str()).collect();
        out.push_str(&format!(
            "scopes:      {}\n",
            if names.is_empty() {
                "(none)".to_string()
            } else {
                names.join(", ")
            }
        ));
    }
    let when = |k: &str| match d[k].as_i64() {
        Some(0) => Some("never".to_string()),
        Some(t) => Some(timefmt::utc(t)),
        None => None,
    };
    if let Some(e) = when("expires_at") {
        out.push_str(&format!("expires:     {e}\n"));
    } else if s("type") == "APP" {
        out.push_str("expires:     never (until the app secret is reset)\n");
    }
    if let Some(e) = when("data_access_expires_at") {
        out.push_str(&format!("data access: until {e}\n"));
    }
    if let Some(e) = when("issued_at") {
        out.push_str(&format!("issued:      {e}\n"));
    }
    out
}

fn clock(cmd: ClockCommand) -> Result<(), String> {
    let now = match cmd {
        ClockCommand::Show { remote } => remote.admin()?.clock(),
        ClockCommand::Advance { by, remote } => {
            let secs = parse_duration(&by)
                .ok_or_else(|| format!("`{by}` is not a duration: use 61d, 2h, 90m, 30s or 1w"))?;
            remote.admin()?.advance_clock(secs)
        }
        ClockCommand::Set { date, remote } => {
            let t = timefmt::parse_utc(&date).ok_or_else(|| {
                format!(
                    "`{date}` is not a date: use 2027-01-31, 2027-01-31T12:00:00Z or unix seconds"
                )
            })?;
            remote.admin()?.set_clock(t)
        }
    }
    .map_err(|e| e.to_string())?;
    println!("{} ({now})", timefmt::utc(now));
    Ok(())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    #[test]
    fn verdicts_read_well() {
        let v = super::verdict(&json!({
            "app_id": "1", "type": "PAGE", "application": "Acme", "expires_at": 0,
            "is_valid": true, "profile_id": "9", "scopes": ["pages_show_list"], "user_id": "7"
        }));
        assert!(v.contains("valid:       yes"));
        assert!(v.contains("expires:     never"));
        assert!(v.contains("page:        9"));
        let v = super::verdict(&json!({
            "error": {"code": 190, "message": "Error validating access token: Session has expired", "subcode": 463},
            "is_valid": false, "scopes": [], "type": "USER", "app_id": "1", "application": "Acme",
            "expires_at": 86400
        }));
        assert!(v.contains("no (190/463): Error validating"), "{v}");
        assert!(v.contains("1970-01-02 00:00:00 UTC"));
    }
}
