//! `graphtoken faults add|list|clear`: fault injection on a running server (`/_admin/faults`).

use clap::Subcommand;
use serde_json::{json, Map, Value};

use super::Remote;

#[derive(Subcommand)]
pub enum FaultsCommand {
    /// Arm a fault: the next N matching Graph calls fail with a catalogued error, wait, or
    /// answer a transient 5xx. Prints the fault's id.
    Add {
        /// A catalogue name: expired, invalid_token, session_invalidated, password_changed,
        /// app_not_installed, checkpoint, rate_limit_app, rate_limit_user, page_rate_limit,
        /// permission, unknown, service, ... (see the README).
        #[arg(long)]
        error: Option<String>,
        /// How many calls it fires on; 0 keeps it until cleared.
        #[arg(long, default_value_t = 1)]
        times: u64,
        /// Only calls under this path (`/me` also matches `/v25.0/me/accounts`).
        #[arg(long)]
        path: Option<String>,
        /// Only calls with this method: GET, POST or DELETE.
        #[arg(long)]
        method: Option<String>,
        /// Only calls by this app (seed key or id).
        #[arg(long)]
        app: Option<String>,
        /// Only calls for this person (seed key, id or app-scoped id).
        #[arg(long)]
        user: Option<String>,
        /// Only calls with exactly this token; `-` reads it from standard input.
        #[arg(long)]
        token: Option<String>,
        /// Delay the call by this many milliseconds (alone: delay it and let it through).
        #[arg(long)]
        latency_ms: Option<u64>,
        /// Answer with this 5xx status (alone: a transient code 1/2 error body).
        #[arg(long)]
        status: Option<u16>,
        #[command(flatten)]
        remote: Remote,
    },
    /// What is armed, and how often each fault fired.
    List {
        #[command(flatten)]
        remote: Remote,
    },
    /// Clear one fault by id, or every fault.
    Clear {
        id: Option<String>,
        #[command(flatten)]
        remote: Remote,
    },
}

pub fn run(cmd: FaultsCommand) -> Result<(), String> {
    match cmd {
        FaultsCommand::Add {
            error,
            times,
            path,
            method,
            app,
            user,
            token,
            latency_ms,
            status,
            remote,
        } => {
            let token = match token.as_deref() {
                Some("-") => {
                    let mut line = String::new();
                    std::io::stdin()
                        .read_line(&mut line)
                        .map_err(|e| format!("cannot read the token from standard input: {e}"))?;
                    Some(line.trim().to_string())
                }
                _ => token,
            };
            let mut matcher = Map::new();
            for (k, v) in [
                ("path", path),
                ("method", method),
                ("app", app),
                ("user", user),
                ("token", token),
            ] {
                if let Some(v) = v {
                    matcher.insert(k.into(), json!(v));
                }
            }
            let mut body = json!({ "times": times, "match": matcher });
            if let Some(e) = error {
                body["error"] = json!(e);
            }
            if let Some(l) = latency_ms {
                body["latency_ms"] = json!(l);
            }
            if let Some(s) = status {
                body["status"] = json!(s);
            }
            let v = remote.admin()?.add_fault(body).map_err(|e| e.to_string())?;
            println!("{}", v["id"].as_str().unwrap_or_default());
            eprint!("armed: {}", line(&v));
            Ok(())
        }
        FaultsCommand::List { remote } => {
            let v = remote.admin()?.faults().map_err(|e| e.to_string())?;
            let data = v["data"].as_array().cloned().unwrap_or_default();
            if data.is_empty() {
                println!("no faults");
            }
            for f in &data {
                print!("{}", line(f));
            }
            Ok(())
        }
        FaultsCommand::Clear { id, remote } => {
            remote
                .admin()?
                .clear_faults(id.as_deref())
                .map_err(|e| e.to_string())?;
            match id {
                Some(id) => println!("cleared fault {id}"),
                None => println!("cleared every fault"),
            }
            Ok(())
        }
    }
}

/// One fault, for people: `#1 armed   password_changed (190/460, HTTP 400) path=/me  fired 1, 1 left`.
fn line(f: &Value) -> String {
    let mut out = format!(
        "#{:<4}{:<7}",
        f["id"].as_str().unwrap_or("?"),
        if f["armed"] == true { "armed" } else { "spent" }
    );
    let what = match &f["error"] {
        Value::String(name) => name.clone(),
        Value::Object(_) => "custom".to_string(),
        _ if f["status"].is_u64() => "server error".to_string(),
        _ => "latency".to_string(),
    };
    out.push_str(&what);
    if let Some(code) = f["code"].as_u64() {
        let sub = f["subcode"]
            .as_u64()
            .map(|s| format!("/{s}"))
            .unwrap_or_default();
        out.push_str(&format!(" ({code}{sub}, HTTP {})", f["status"]));
    }
    if let Some(ms) = f["latency_ms"].as_u64().filter(|ms| *ms > 0) {
        out.push_str(&format!(" +{ms} ms"));
    }
    if let Some(m) = f["match"].as_object() {
        for k in ["path", "method", "app", "user", "token"] {
            if let Some(v) = m.get(k).and_then(Value::as_str) {
                out.push_str(&format!(" {k}={v}"));
            }
        }
    }
    let fired = f["fired"].as_u64().unwrap_or(0);
    match f["times_left"].as_u64() {
        Some(left) => out.push_str(&format!("  fired {fired}, {left} left\n")),
        None => out.push_str(&format!("  fired {fired}, until cleared\n")),
    }
    out
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    #[test]
    fn lines_read_well() {
        let l = super::line(&json!({
            "id": "3", "error": "password_changed", "status": 400, "code": 190, "subcode": 460,
            "latency_ms": 0, "match": {"path": "/me", "app": "acme", "app_id": "1"},
            "times": 2, "times_left": 1, "fired": 1, "armed": true
        }));
        assert_eq!(
            l,
            "#3   armed  password_changed (190/460, HTTP 400) path=/me app=acme  fired 1, 1 left\n"
        );
        let l = super::line(&json!({
            "id": "4", "error": null, "status": null, "code": null, "latency_ms": 250,
            "match": {}, "times": 0, "times_left": null, "fired": 7, "armed": true
        }));
        assert!(l.contains("latency +250 ms"), "{l}");
        assert!(l.ends_with("fired 7, until cleared\n"), "{l}");
    }
}
