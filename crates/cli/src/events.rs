//! `graphtoken user …`, `graphtoken app …`, `graphtoken page …`: trigger the events of spec §7
//! on a running server.

use clap::Subcommand;
use serde_json::Value;

use crate::Remote;

#[derive(Subcommand)]
pub enum UserCommand {
    /// Change the person's password: every session, in every app, fails with 190/460.
    Password {
        /// The person (seed key or id).
        user: String,
        /// The new password; `-` reads it from standard input.
        #[arg(long)]
        password: String,
        #[command(flatten)]
        remote: Remote,
    },
    /// A security reset: every session of the person fails with 190/460.
    Invalidate {
        user: String,
        #[command(flatten)]
        remote: Remote,
    },
    /// The person logs out: short-lived tokens fail with 190/467, long-lived ones keep working.
    Logout {
        user: String,
        #[command(flatten)]
        remote: Remote,
    },
    /// Checkpoint (190/459), unconfirm (190/464) or reactivate the account.
    Status {
        user: String,
        /// active, checkpointed or unconfirmed.
        status: String,
        #[command(flatten)]
        remote: Remote,
    },
}

#[derive(Subcommand)]
pub enum AppCommand {
    /// The person removes the app in their settings: their tokens fail with 190/458.
    Remove {
        /// The app (seed key or id).
        app: String,
        /// The person (seed key or id).
        #[arg(long)]
        user: String,
        #[command(flatten)]
        remote: Remote,
    },
    /// The person asks the app to delete their data: the app's data_deletion_url is called.
    DataDeletion {
        app: String,
        #[arg(long)]
        user: String,
        #[command(flatten)]
        remote: Remote,
    },
    /// The callbacks sent to apps (deauthorize, data deletion): attempts, status, answer.
    Callbacks {
        #[command(flatten)]
        remote: Remote,
    },
    /// A new app secret (printed once): app tokens of the old secret stop working.
    ResetSecret {
        app: String,
        #[command(flatten)]
        remote: Remote,
    },
    /// Change an app's call budgets per hour; a budget not given stays as it is.
    RateLimits {
        /// The app (seed key or id).
        app: String,
        /// Calls per hour for the whole app (error 4), or `default`.
        #[arg(long = "app-calls", value_name = "N|default", value_parser = budget)]
        app_calls: Option<Value>,
        /// Calls per hour for one person with the app (error 17), or `default`.
        #[arg(long = "user-calls", value_name = "N|default", value_parser = budget)]
        user_calls: Option<Value>,
        /// Calls per hour for one Page with the app (errors 80001 and 32), or `default`.
        #[arg(long = "page-calls", value_name = "N|default", value_parser = budget)]
        page_calls: Option<Value>,
        #[command(flatten)]
        remote: Remote,
    },
}

/// A budget on the command line: a positive number of calls per hour, or `default` (`null`).
fn budget(v: &str) -> Result<Value, String> {
    if v == "default" {
        return Ok(Value::Null);
    }
    match v.parse::<u32>() {
        Ok(n) if n > 0 => Ok(Value::from(n)),
        _ => Err(format!(
            "a positive number of calls per hour up to {}, or `default`",
            u32::MAX
        )),
    }
}

#[derive(Subcommand)]
pub enum PageCommand {
    /// Set a person's tasks on a Page; no tasks removes them (their Page tokens: 190/492).
    Tasks {
        /// The Page (seed key or id).
        page: String,
        #[arg(long)]
        user: String,
        /// Tasks, comma separated (ADVERTISE, ANALYZE, CREATE_CONTENT, MANAGE, MESSAGING,
        /// MODERATE); empty to remove.
        #[arg(long, default_value = "")]
        tasks: String,
        #[command(flatten)]
        remote: Remote,
    },
}

fn say(v: Value) {
    println!("{v}");
}

fn read_secret(v: String) -> Result<String, String> {
    if v != "-" {
        return Ok(v);
    }
    let mut line = String::new();
    std::io::stdin()
        .read_line(&mut line)
        .map_err(|e| format!("cannot read standard input: {e}"))?;
    Ok(line.trim_end_matches(['\n', '\r']).to_string())
}

pub fn user(cmd: UserCommand) -> Result<(), String> {
    let v = match cmd {
        UserCommand::Password {
            user,
            password,
            remote,
        } => remote
            .admin()?
            .change_password(&user, &read_secret(password)?),
        UserCommand::Invalidate { user, remote } => remote.admin()?.invalidate_user(&user),
        UserCommand::Logout { user, remote } => remote.admin()?.logout(&user),
        UserCommand::Status {
            user,
            status,
            remote,
        } => remote.admin()?.set_status(&user, &status),
    };
    v.map(say).map_err(|e| e.to_string())
}

pub fn app(cmd: AppCommand) -> Result<(), String> {
    let v = match cmd {
        AppCommand::Remove { app, user, remote } => remote.admin()?.remove_app(&user, &app),
        AppCommand::ResetSecret { app, remote } => remote.admin()?.reset_secret(&app),
        AppCommand::DataDeletion { app, user, remote } => {
            remote.admin()?.data_deletion(&user, &app)
        }
        AppCommand::Callbacks { remote } => remote.admin()?.callbacks(),
        AppCommand::RateLimits {
            app,
            app_calls,
            user_calls,
            page_calls,
            remote,
        } => {
            let given = [
                ("app", app_calls),
                ("user", user_calls),
                ("page", page_calls),
            ];
            let budgets: serde_json::Map<String, Value> = given
                .into_iter()
                .filter_map(|(k, v)| Some((k.to_string(), v?)))
                .collect();
            remote
                .admin()?
                .set_rate_limits(&app, Value::Object(budgets))
        }
    };
    v.map(say).map_err(|e| e.to_string())
}

pub fn page(cmd: PageCommand) -> Result<(), String> {
    let PageCommand::Tasks {
        page,
        user,
        tasks,
        remote,
    } = cmd;
    let tasks: Vec<String> = tasks
        .split(',')
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(str::to_ascii_uppercase)
        .collect();
    remote
        .admin()?
        .set_page_tasks(&page, &user, &tasks)
        .map(say)
        .map_err(|e| e.to_string())
}
