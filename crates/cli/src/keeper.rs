//! `graphtoken keeper`: the token keeper's commands (the workflows are `graphtoken_keeper`'s).

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Subcommand};
use serde_json::{json, Value};

use graphtoken_keeper::assess::date;
use graphtoken_keeper::graph::{GraphError, DEFAULT_VERSION};
use graphtoken_keeper::{
    self as keeper, expiry, App, Graph, KeeperError, Level, Line, Secret, Subject, Vault, VaultKey,
};

#[derive(Args)]
pub struct KeeperArgs {
    /// The vault file. Default: $XDG_DATA_HOME/graphtoken/keeper.vault (or
    /// ~/.local/share/graphtoken/keeper.vault).
    #[arg(long, env = "GRAPHTOKEN_VAULT", global = true)]
    vault: Option<PathBuf>,
    /// A file holding the vault key (64 hex digits; `graphtoken secrets new-key FILE` makes
    /// one). Or GRAPHTOKEN_VAULT_KEY (the key) or GRAPHTOKEN_VAULT_PASSPHRASE in the
    /// environment.
    #[arg(long, env = "GRAPHTOKEN_VAULT_KEY_FILE", global = true)]
    vault_key_file: Option<PathBuf>,
    #[command(subcommand)]
    command: KeeperCommand,
}

/// The app and the Graph API a person's access is for.
#[derive(Args)]
struct AppArgs {
    #[arg(long)]
    app_id: String,
    /// The app secret (or GRAPHTOKEN_APP_SECRET, which keeps it out of the process list).
    #[arg(long, env = "GRAPHTOKEN_APP_SECRET", hide_env_values = true)]
    app_secret: String,
    /// The Graph API: https://graph.facebook.com, or a graphtoken server.
    #[arg(
        long,
        env = "GRAPHTOKEN_GRAPH",
        default_value = "https://graph.facebook.com"
    )]
    graph: String,
    /// The Graph API version the calls name.
    #[arg(long, default_value = DEFAULT_VERSION)]
    graph_version: String,
    /// The Pages to keep tokens for, comma separated (default: all the person's).
    #[arg(long, value_delimiter = ',')]
    pages: Option<Vec<String>>,
}

#[derive(Subcommand)]
enum KeeperCommand {
    /// Keep a person's access: exchange the token for a long-lived one (unless it is), read
    /// /me/accounts, and keep a Page token for each Page (each checked with debug_token).
    Add {
        #[command(flatten)]
        app: AppArgs,
        /// The person's token (`-` reads it from standard input; or GRAPHTOKEN_USER_TOKEN).
        #[arg(long, env = "GRAPHTOKEN_USER_TOKEN", hide_env_values = true)]
        user_token: String,
    },
    /// Log the person in (device login by default; --browser for a browser login back to
    /// 127.0.0.1 with PKCE), then keep their access as `add` does.
    Login {
        #[command(flatten)]
        app: AppArgs,
        /// The app's client token, for device login (App Dashboard › Settings › Advanced).
        #[arg(long, env = "GRAPHTOKEN_CLIENT_TOKEN", hide_env_values = true)]
        client_token: Option<String>,
        /// The permissions to ask for.
        #[arg(long, default_value = "pages_show_list")]
        scope: String,
        /// Log in in a browser instead, back to http://127.0.0.1:PORT/callback (which the app's
        /// redirect URIs must list).
        #[arg(long)]
        browser: bool,
        #[arg(long, default_value_t = 8765)]
        port: u16,
    },
    /// Ask debug_token about every kept token: one line each, with a verdict in words.
    Status {
        #[arg(long)]
        json: bool,
        /// Expiries within this many days count as soon.
        #[arg(long, default_value_t = 14)]
        warn_days: i64,
    },
    /// Like status, for monitoring: exit 0 when all is well, 1 when something is due within
    /// --warn-days (or a permission is gone), 2 when a kept token no longer works, 3 when the
    /// Graph API could not be asked.
    Check {
        #[arg(long, default_value_t = 14)]
        warn_days: i64,
    },
    /// Explain a token's state (TOKEN, `-` for standard input, or --page ID) or a Graph error
    /// (--error '{"error":{…}}' or --error 190/460), with the fix.
    Doctor {
        token: Option<String>,
        #[arg(long, conflicts_with = "token")]
        page: Option<String>,
        #[arg(long, conflicts_with_all = ["token", "page"])]
        error: Option<String>,
    },
    /// Derive the kept Page tokens again from the kept user token; replace those that changed
    /// with ones that work (never a working one with a failing one).
    Rotate,
    /// Revoke a person's access at the Graph API (DELETE /{user-id}/permissions) and forget
    /// it, or forget one Page's tokens.
    Revoke {
        #[arg(long, conflicts_with_all = ["user", "all"])]
        page: Option<String>,
        /// A person's id (every app entry of theirs).
        #[arg(long, conflicts_with = "all")]
        user: Option<String>,
        #[arg(long)]
        all: bool,
    },
    /// Print a Page's token (checked with debug_token first), for scripts.
    Get {
        #[arg(long)]
        page: String,
        /// The app, when tokens of several apps are kept for the Page.
        #[arg(long)]
        app: Option<String>,
    },
    /// Run a command with a Page's token in FACEBOOK_PAGE_TOKEN and its appsecret_proof in
    /// FACEBOOK_APPSECRET_PROOF (also FACEBOOK_PAGE_ID, FACEBOOK_GRAPH_URL), without printing it.
    Exec {
        #[arg(long)]
        page: String,
        #[arg(long)]
        app: Option<String>,
        #[arg(last = true, required = true)]
        command: Vec<String>,
    },
}

/// An error's exit status: 2 when what was asked for is kept but does not work.
struct Fail(String, u8);

impl From<KeeperError> for Fail {
    fn from(e: KeeperError) -> Self {
        let code = if matches!(e, KeeperError::Broken { .. }) {
            2
        } else {
            1
        };
        Fail(e.to_string(), code)
    }
}

impl From<String> for Fail {
    fn from(e: String) -> Self {
        Fail(e, 1)
    }
}

impl From<keeper::VaultError> for Fail {
    fn from(e: keeper::VaultError) -> Self {
        Fail(e.to_string(), 1)
    }
}

pub fn run(args: KeeperArgs) -> ExitCode {
    match dispatch(args) {
        Ok(code) => ExitCode::from(code),
        Err(Fail(message, code)) => {
            eprintln!("graphtoken keeper: {message}");
            ExitCode::from(code)
        }
    }
}

fn dispatch(args: KeeperArgs) -> Result<u8, Fail> {
    let path = vault_path(args.vault)?;
    let key = || vault_key(args.vault_key_file.as_deref());
    match args.command {
        KeeperCommand::Add { app, user_token } => {
            let token = read_secret(user_token, "the person's token")?;
            let mut vault = Vault::open_to_change(&path, &key()?)?;
            keep(&mut vault, app, token)
        }
        KeeperCommand::Login {
            app,
            client_token,
            scope,
            browser,
            port,
        } => {
            // The key is checked first, so that a wrong one is found before anyone logs in; the
            // vault is locked only for the write at the end.
            let key = key()?;
            if path.exists() {
                Vault::open(&path, &key)?;
            }
            let graph = Graph::new(&app.graph, &app.graph_version);
            let token = if browser {
                let a = App {
                    id: app.app_id.clone(),
                    secret: Secret::new(app.app_secret.clone()),
                };
                eprintln!(
                    "Open this address in a browser and log in (the app's redirect URIs must \
                     list {}):",
                    keeper::login::redirect_uri(port)
                );
                keeper::login::browser(
                    &graph,
                    &a,
                    &scope,
                    port,
                    std::time::Duration::from_secs(600),
                    |url| eprintln!("\n  {url}\n"),
                )?
            } else {
                let client = client_token.ok_or_else(|| {
                    "device login needs the app's client token: --client-token (or \
                     GRAPHTOKEN_CLIENT_TOKEN), or log in with --browser"
                        .to_string()
                })?;
                keeper::login::device(&graph, &app.app_id, &Secret::new(client), &scope, |s| {
                    eprintln!(
                        "To log in, open {} and enter the code {} (within {} minutes).",
                        s.verification_uri,
                        s.user_code,
                        s.expires_in / 60
                    );
                })?
            };
            let mut vault = Vault::open_to_change(&path, &key)?;
            keep(&mut vault, app, token)
        }
        KeeperCommand::Status { json, warn_days } => {
            let vault = Vault::open(&path, &key()?)?;
            let lines = keeper::status(&vault, warn_days);
            if json {
                let all: Vec<Value> = lines.iter().map(line_json).collect();
                println!("{}", serde_json::to_string_pretty(&all).unwrap_or_default());
            } else if lines.is_empty() {
                println!("the vault keeps nothing yet: `graphtoken keeper add` or `login`");
            } else {
                print_lines(&lines, true);
            }
            Ok(0)
        }
        KeeperCommand::Check { warn_days } => {
            // For monitoring, a vault that cannot be read is "unknown" (3), not "soon" (1).
            let unknown = |f: Fail| Fail(f.0, Level::Unknown.exit_code());
            let key = key().map_err(unknown)?;
            let vault = Vault::open(&path, &key).map_err(|e| unknown(e.into()))?;
            let lines = keeper::status(&vault, warn_days);
            let worst = Level::worst(lines.iter().map(|l| l.verdict.level));
            let due: Vec<Line> = lines
                .iter()
                .filter(|l| l.verdict.level != Level::Fine)
                .cloned()
                .collect();
            if due.is_empty() {
                println!(
                    "ok: no kept token needs attention within {warn_days} days ({} checked)",
                    lines.len()
                );
            } else {
                print_lines(&due, true);
            }
            Ok(worst.exit_code())
        }
        KeeperCommand::Doctor { token, page, error } => doctor(&path, key, token, page, error),
        KeeperCommand::Rotate => {
            let mut vault = Vault::open_to_change(&path, &key()?)?;
            let done = keeper::rotate(&mut vault)?;
            if done.is_empty() {
                println!("no Page token is kept: nothing to rotate");
            }
            let mut worst = 0;
            for r in &done {
                let what = format!("{} ({}) for {}", r.page_name, r.page_id, r.user_name);
                match &r.outcome {
                    keeper::Outcome::Unchanged => println!("unchanged  {what}"),
                    keeper::Outcome::Replaced => println!("replaced   {what}: the new token works"),
                    keeper::Outcome::KeptOld(why) => {
                        worst = 1;
                        println!("kept old   {what}: the new token {why}")
                    }
                    keeper::Outcome::NotDerived(why) => {
                        worst = 1;
                        println!("kept old   {what}: no new token: {why}")
                    }
                }
            }
            Ok(worst)
        }
        KeeperCommand::Revoke { page, user, all } => {
            let what = match (page, user, all) {
                (Some(p), _, _) => keeper::Revoke::Page(p),
                (_, Some(u), _) => keeper::Revoke::Person(u),
                (_, _, true) => keeper::Revoke::All,
                _ => {
                    return Err(Fail(
                        "say what to revoke: --page ID, --user ID or --all".into(),
                        1,
                    ))
                }
            };
            let mut vault = Vault::open_to_change(&path, &key()?)?;
            for r in keeper::revoke(&mut vault, &what)? {
                if r.at_graph {
                    println!("revoked at the Graph API and forgotten: {}", r.what);
                } else {
                    println!(
                        "forgotten: {} (it still works until the person's access ends: \
                         Facebook has no call that ends one Page token; `revoke --user` ends \
                         them all)",
                        r.what
                    );
                }
            }
            Ok(0)
        }
        KeeperCommand::Get { page, app } => {
            let vault = Vault::open(&path, &key()?)?;
            let t = keeper::page_token(&vault, &page, app.as_deref())?;
            println!("{}", t.token.expose());
            Ok(0)
        }
        KeeperCommand::Exec { page, app, command } => {
            let vault = Vault::open(&path, &key()?)?;
            let t = keeper::page_token(&vault, &page, app.as_deref())?;
            drop(vault);
            let (program, rest) = command
                .split_first()
                .ok_or_else(|| "exec needs a command after --".to_string())?;
            let status = std::process::Command::new(program)
                .args(rest)
                .env("FACEBOOK_PAGE_TOKEN", t.token.expose())
                .env("FACEBOOK_APPSECRET_PROOF", &t.proof)
                .env("FACEBOOK_PAGE_ID", &t.page_id)
                .env("FACEBOOK_GRAPH_URL", &t.graph)
                .status()
                .map_err(|e| format!("cannot run {program}: {e}"))?;
            Ok(status.code().map_or(1, |c| c.clamp(0, 255) as u8))
        }
    }
}

/// `add`, and the end of `login`: keep the access and say what was kept (no token printed).
fn keep(vault: &mut Vault, app: AppArgs, token: Secret) -> Result<u8, Fail> {
    let graph = Graph::new(&app.graph, &app.graph_version);
    let report = keeper::add(
        vault,
        keeper::AddRequest {
            graph,
            app: App {
                id: app.app_id,
                secret: Secret::new(app.app_secret),
            },
            user_token: token,
            pages: app.pages,
        },
    )?;
    println!(
        "kept {} ({})'s access{}: a long-lived token{}, expires {}",
        report.user_name,
        report.user_id,
        if report.replaced {
            " (replacing what was kept)"
        } else {
            ""
        },
        if report.exchanged {
            " (exchanged for the short-lived one given)"
        } else {
            ""
        },
        expiry(report.user_expires_at)
    );
    if report.pages.is_empty() {
        println!("no Page tokens: the person shares no Page with the app (pages_show_list?)");
    }
    for (id, name, expires) in &report.pages {
        println!(
            "kept the Page token for {name} ({id}), expires {}",
            expiry(*expires)
        );
    }
    Ok(0)
}

fn doctor(
    path: &std::path::Path,
    key: impl Fn() -> Result<VaultKey, Fail>,
    token: Option<String>,
    page: Option<String>,
    error: Option<String>,
) -> Result<u8, Fail> {
    if let Some(text) = error {
        let e = parse_error(&text).ok_or_else(|| {
            format!("`{text}` is not a Graph error: give its JSON, or CODE or CODE/SUBCODE")
        })?;
        let d = keeper::explain(&e);
        if !e.message.is_empty() {
            println!("error: {e}");
        }
        println!("why:   {}", d.cause);
        println!("fix:   {}", d.fix);
        if d.transient {
            println!("       (it passes by itself: retry later)");
        }
        return Ok(0);
    }
    let vault = Vault::open(path, &key()?)?;
    if let Some(t) = token {
        let t = read_secret(t, "the token")?;
        return doctor_token(&vault, &t);
    }
    let lines = keeper::status(&vault, 14);
    let chosen: Vec<Line> = match &page {
        Some(p) => lines
            .into_iter()
            .filter(|l| matches!(&l.subject, Subject::Page { id, .. } if id == p))
            .collect(),
        None => lines,
    };
    if chosen.is_empty() {
        return Err(Fail(
            match page {
                Some(p) => format!("no token is kept for Page {p}"),
                None => "the vault keeps nothing yet".into(),
            },
            1,
        ));
    }
    print_lines(&chosen, true);
    Ok(0)
}

/// Explains any token, asking debug_token with each kept app until one knows it.
fn doctor_token(vault: &Vault, token: &Secret) -> Result<u8, Fail> {
    let mut seen = Vec::new();
    let mut first = None;
    let mut failure: Option<String> = None;
    for e in &vault.contents.entries {
        if seen.contains(&(&e.graph, &e.app_id)) {
            continue;
        }
        seen.push((&e.graph, &e.app_id));
        let app = keeper::app_of(e);
        match keeper::graph_of(e).debug_token(&app, token.expose()) {
            Ok(i) if i.app_id == e.app_id => {
                let holder = if i.kind == "PAGE" {
                    keeper::Holder::Page
                } else {
                    keeper::Holder::Person { pages: false }
                };
                let v = keeper::assess(&i, holder, &[], 14);
                println!("graph:       {}", e.graph);
                println!("app:         {} ({})", i.application, i.app_id);
                println!("type:        {}", i.kind);
                if let Some(p) = &i.profile_id {
                    println!("page:        {p}");
                }
                println!("user:        {}", i.user_id);
                println!("expires:     {}", expiry(i.expires_at));
                if let Some(da) = i.data_access_expires_at {
                    println!("data access: until {}", date(da));
                }
                println!("scopes:      {}", i.scopes.join(", "));
                println!("verdict:     {}: {}", v.level.as_str(), v.words);
                if let Some(fix) = v.fix {
                    println!("fix:         {fix}");
                }
                return Ok(0);
            }
            Ok(i) => first = first.or(Some(i)),
            // Another app may know it: ask on, and say this only if none does.
            Err(f) => failure = failure.or(Some(f.to_string())),
        }
    }
    match first {
        Some(i) => {
            let why = i
                .error
                .map(|e| {
                    let d = keeper::explain(&e);
                    format!("{e}\n  why: {}\n  fix: {}", d.cause, d.fix)
                })
                .unwrap_or_else(|| "it belongs to an app the vault does not know".into());
            println!("no kept app knows this token: {why}");
            Ok(0)
        }
        None => Err(Fail(
            failure.unwrap_or_else(|| {
                "the vault keeps no app to ask debug_token with: `graphtoken keeper add` first"
                    .into()
            }),
            1,
        )),
    }
}

/// `{"error":{…}}`, the error object alone, or `CODE[/SUBCODE]`.
fn parse_error(text: &str) -> Option<GraphError> {
    let text = text.trim();
    if let Ok(v) = serde_json::from_str::<Value>(text) {
        if !v.is_object() {
            return parse_code(text);
        }
        let e = if v["error"].is_object() {
            &v["error"]
        } else {
            &v
        };
        return e["code"].is_i64().then(|| GraphError::from_json(e));
    }
    parse_code(text)
}

/// `CODE[/SUBCODE]`.
fn parse_code(text: &str) -> Option<GraphError> {
    let (code, sub) = match text.split_once('/') {
        Some((c, s)) => (c, Some(s)),
        None => (text, None),
    };
    Some(GraphError {
        code: code.trim().parse().ok()?,
        subcode: match sub {
            Some(s) => Some(s.trim().parse().ok()?),
            None => None,
        },
        message: String::new(),
        kind: String::new(),
        is_transient: false,
    })
}

/// One line a token, the fix beneath when there is one to do.
fn print_lines(lines: &[Line], fixes: bool) {
    let mut current: Option<(&str, &str)> = None;
    for l in lines {
        if current != Some((&l.graph, &l.app_id)) {
            println!("app {} at {}", l.app_id, l.graph);
            current = Some((&l.graph, &l.app_id));
        }
        let (kind, who) = match &l.subject {
            Subject::Person { id, name } => ("person", format!("{name} ({id})")),
            Subject::Page { id, name } => ("Page", format!("{name} ({id})")),
        };
        let facts = match &l.inspection {
            Some(i) => format!(
                "{}  expires {}  data access {}  scopes {}",
                if i.kind.is_empty() { "?" } else { &i.kind },
                expiry(i.expires_at),
                i.data_access_expires_at.map_or("-".into(), date),
                if i.scopes.is_empty() {
                    "-".into()
                } else {
                    i.scopes.join(",")
                }
            ),
            None => "?".into(),
        };
        println!(
            "  {kind:<6} {who}  {facts}  {}: {}",
            l.verdict.level.as_str(),
            l.verdict.words
        );
        if fixes && l.verdict.level != Level::Fine {
            if let Some(fix) = &l.verdict.fix {
                println!("         fix: {fix}");
            }
        }
    }
}

fn line_json(l: &Line) -> Value {
    let (kind, id, name) = match &l.subject {
        Subject::Person { id, name } => ("person", id, name),
        Subject::Page { id, name } => ("page", id, name),
    };
    let i = l.inspection.as_ref();
    json!({
        "graph": l.graph,
        "app_id": l.app_id,
        "kind": kind,
        "id": id,
        "name": name,
        "type": i.map(|i| i.kind.clone()),
        "expires_at": i.map(|i| i.expires_at),
        "data_access_expires_at": i.and_then(|i| i.data_access_expires_at),
        "scopes": i.map(|i| i.scopes.clone()),
        "level": l.verdict.level.as_str(),
        "verdict": l.verdict.words,
        "fix": l.verdict.fix,
    })
}

/// A secret given on the command line or in the environment; `-` reads one line of
/// standard input.
fn read_secret(given: String, what: &str) -> Result<Secret, Fail> {
    let text = if given == "-" {
        let mut line = String::new();
        std::io::stdin()
            .read_line(&mut line)
            .map_err(|e| format!("cannot read {what} from standard input: {e}"))?;
        line.trim().to_string()
    } else {
        given.trim().to_string()
    };
    if text.is_empty() {
        return Err(Fail(format!("{what} is empty"), 1));
    }
    Ok(Secret::new(text))
}

fn vault_path(given: Option<PathBuf>) -> Result<PathBuf, Fail> {
    if let Some(p) = given {
        return Ok(p);
    }
    let base = std::env::var_os("XDG_DATA_HOME")
        .filter(|d| !d.is_empty())
        .map(PathBuf::from)
        .or_else(|| {
            std::env::var_os("HOME")
                .filter(|h| !h.is_empty())
                .map(|h| PathBuf::from(h).join(".local/share"))
        })
        .ok_or_else(|| "no home directory: give --vault (or GRAPHTOKEN_VAULT)".to_string())?;
    Ok(base.join("graphtoken").join("keeper.vault"))
}

/// The vault key: --vault-key-file, GRAPHTOKEN_VAULT_KEY, or GRAPHTOKEN_VAULT_PASSPHRASE.
fn vault_key(file: Option<&std::path::Path>) -> Result<VaultKey, Fail> {
    if let Some(f) = file {
        let text = std::fs::read_to_string(f)
            .map_err(|e| format!("cannot read the vault key file {}: {e}", f.display()))?;
        return VaultKey::from_hex(&text).map_err(|e| Fail(format!("{}: {e}", f.display()), 1));
    }
    if let Some(k) = std::env::var("GRAPHTOKEN_VAULT_KEY")
        .ok()
        .filter(|k| !k.is_empty())
    {
        return VaultKey::from_hex(&k).map_err(|e| Fail(format!("GRAPHTOKEN_VAULT_KEY: {e}"), 1));
    }
    if let Some(p) = std::env::var("GRAPHTOKEN_VAULT_PASSPHRASE")
        .ok()
        .filter(|p| !p.is_empty())
    {
        return Ok(VaultKey::Passphrase(Secret::new(p)));
    }
    Err(Fail(
        "the vault needs a key: --vault-key-file FILE (make one with `graphtoken secrets \
         new-key FILE`), GRAPHTOKEN_VAULT_KEY or GRAPHTOKEN_VAULT_PASSPHRASE"
            .into(),
        1,
    ))
}
