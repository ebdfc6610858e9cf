//! `graphtoken keeper` against a real graphtoken server: add from a short-lived token, the
//! clock moved past expiries, each invalidation named by `check` and `doctor`, the vault's key,
//! rotate, revoke, get and exec, and both logins.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use serde_json::{json, Value};

use crate::harness::browser::{field, is_consent, Browser};
use crate::harness::world::{ACME, ACME_SECRET, BAKERY, COFFEE, DAY, NEWS};
use crate::harness::{fixture, proof, run, scratch_db, Sandbox, Server, BIN};

/// A vault in a temporary directory, opened with a key from the environment.
struct Keeper {
    dir: tempfile::TempDir,
    key: String,
}

impl Keeper {
    fn new() -> Keeper {
        Keeper {
            dir: tempfile::tempdir().unwrap(),
            key: "ab".repeat(32),
        }
    }

    fn vault(&self) -> std::path::PathBuf {
        self.dir.path().join("keeper.vault")
    }

    fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("GRAPHTOKEN_VAULT", self.vault().display().to_string()),
            ("GRAPHTOKEN_VAULT_KEY", self.key.clone()),
        ]
    }

    /// Runs `graphtoken keeper ARGS`: exit status, stdout, stderr.
    fn run(&self, args: &[&str]) -> (i32, String, String) {
        self.run_with(args, &self.env())
    }

    fn run_with(&self, args: &[&str], env: &[(&'static str, String)]) -> (i32, String, String) {
        let mut all = vec!["keeper"];
        all.extend(args);
        let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let (status, out, err) = run(&all, &env);
        (status.code().unwrap_or(-1), out, err)
    }

    /// `keeper add` for acme with `token` (and `extra` arguments), with `env`.
    fn add_with(
        &self,
        s: &Server,
        token: &str,
        extra: &[&str],
        env: &[(&'static str, String)],
    ) -> (i32, String, String) {
        let mut args = vec![
            "add",
            "--app-id",
            ACME,
            "--app-secret",
            ACME_SECRET,
            "--user-token",
            token,
            "--graph",
            &s.base,
        ];
        args.extend(extra);
        self.run_with(&args, env)
    }

    /// `keeper add` with alice's short-lived token for acme.
    fn add_alice(&self, s: &Server) -> String {
        let (code, out, err) = self.add_with(s, &s.alice(), &[], &self.env());
        assert_eq!(code, 0, "{out}{err}");
        out
    }

    fn status(&self) -> Vec<Value> {
        let (code, out, err) = self.run(&["status", "--json"]);
        assert_eq!(code, 0, "{err}");
        serde_json::from_str::<Value>(&out)
            .unwrap()
            .as_array()
            .unwrap()
            .clone()
    }

    fn check(&self) -> (i32, String) {
        let (code, out, err) = self.run(&["check"]);
        assert!(err.is_empty(), "{err}");
        (code, out)
    }
}

fn line<'a>(lines: &'a [Value], id: &str) -> &'a Value {
    lines
        .iter()
        .find(|l| l["id"] == id)
        .unwrap_or_else(|| panic!("no line for {id}: {lines:?}"))
}

#[test]
fn add_keeps_page_tokens_that_never_expire_and_check_follows_the_clock() {
    let s = Server::seeded();
    let k = Keeper::new();
    let out = k.add_alice(&s);
    assert!(
        out.contains("exchanged for the short-lived one given"),
        "{out}"
    );
    for name in ["Acme Coffee", "Acme News", "Acme Bakery"] {
        assert!(
            out.contains(&format!("kept the Page token for {name}")),
            "{out}"
        );
    }
    assert_eq!(out.matches("expires never").count(), 3, "{out}");

    let lines = k.status();
    assert_eq!(lines.len(), 4);
    let alice = &lines[0];
    assert_eq!(
        (alice["kind"].as_str(), alice["type"].as_str()),
        (Some("person"), Some("USER"))
    );
    assert!(
        alice["expires_at"].as_i64().unwrap() > s.clock() + 59 * DAY,
        "long-lived"
    );
    for page in [COFFEE, NEWS, BAKERY] {
        let l = line(&lines, page);
        assert_eq!(
            (l["type"].as_str(), l["expires_at"].as_i64()),
            (Some("PAGE"), Some(0))
        );
        assert_eq!(l["level"], "ok", "{l}");
    }
    assert_eq!(k.check().0, 0);

    // Nothing kept is readable in the file: no field but the ciphertext and its nonce holds a
    // token, and the ciphertext is no plain text of the entries (their field names are not in
    // it). The ciphertext's own base64 may hold "EAA" by chance, as any random text may.
    let raw = std::fs::read_to_string(k.vault()).unwrap();
    assert!(!raw.contains(ACME_SECRET), "{raw}");
    let vault: Value = serde_json::from_str(&raw).unwrap();
    for (name, field) in vault.as_object().unwrap() {
        if name != "sealed" && name != "nonce" {
            assert!(!field.to_string().contains("EAA"), "{name}: {raw}");
        }
    }
    use base64::Engine;
    let sealed = base64::engine::general_purpose::STANDARD
        .decode(vault["sealed"].as_str().unwrap())
        .unwrap();
    assert!(sealed.len() > 100, "{raw}");
    assert!(
        !sealed.windows(10).any(|w| w == b"user_token") && !raw.contains("user_token"),
        "{raw}"
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(k.vault()).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }

    // 61 days on: the person's token expired, as long-lived tokens do; the Page tokens work.
    s.advance(61 * DAY);
    let lines = k.status();
    assert_eq!(lines[0]["level"], "ok");
    assert!(
        lines[0]["verdict"].as_str().unwrap().starts_with("expired"),
        "{}",
        lines[0]
    );
    for page in [COFFEE, NEWS, BAKERY] {
        assert_eq!(line(&lines, page)["level"], "ok");
    }
    // Data access ends 90 days after the person last used the app.
    let ends = line(&lines, COFFEE)["data_access_expires_at"]
        .as_i64()
        .unwrap();
    let left = ends - s.clock();
    assert!((28 * DAY..=30 * DAY).contains(&left), "{left}");
    let (code, out) = k.check();
    assert_eq!(code, 0, "{out}");
    assert!(
        out.starts_with("ok: no kept token needs attention within 14 days (4 checked)"),
        "{out}"
    );

    // Within the warning window: check warns, and says what to do.
    let (code, out, _) = k.run(&["check", "--warn-days", "30"]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("data access ends"), "{out}");
    assert!(out.contains("fix: the person uses the app"), "{out}");

    // Past it: the Page tokens still authenticate, but read nothing; check fails.
    s.advance(left + 60);
    let (code, out) = k.check();
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("data access expired"), "{out}");
    let (code, out, _) = k.run(&["doctor", "--page", COFFEE]);
    assert_eq!(code, 0);
    assert!(out.contains("graphtoken keeper login"), "{out}");
    // `get` will not hand out a token that reads nothing.
    let (code, _, err) = k.run(&["get", "--page", COFFEE]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("data access expired"), "{err}");
}

/// Each invalidation: `check` exits 2 and `doctor` names the cause.
#[test]
fn check_and_doctor_name_each_invalidation() {
    let cases: [(&str, Value, &str, &[&str]); 5] = [
        (
            "/_admin/users/alice/status",
            json!({"status": "checkpointed"}),
            "security checkpoint",
            &[COFFEE, NEWS, BAKERY],
        ),
        (
            "/_admin/users/alice/status",
            json!({"status": "unconfirmed"}),
            "not confirmed",
            &[COFFEE, NEWS, BAKERY],
        ),
        (
            "/_admin/users/alice/password",
            json!({"password": "n3w-pass"}),
            "changed their password",
            &[COFFEE, NEWS, BAKERY],
        ),
        (
            "/_admin/pages/coffee/tasks",
            json!({"user": "alice", "tasks": []}),
            "no longer has a task",
            &[COFFEE],
        ),
        (
            "/_admin/users/alice/apps/acme/remove",
            json!({}),
            "removed the app",
            &[COFFEE, NEWS, BAKERY],
        ),
    ];
    for (path, body, cause, broken) in cases {
        let s = Server::seeded();
        let k = Keeper::new();
        k.add_alice(&s);
        let r = s.admin_post(path, body);
        assert_eq!(r.status, 200, "{path}: {}", r.text);
        let (code, out) = k.check();
        assert_eq!(code, 2, "{path}: {out}");
        for page in [COFFEE, NEWS, BAKERY] {
            let (_, doc, _) = k.run(&["doctor", "--page", page]);
            if broken.contains(&page) {
                assert!(doc.contains(cause), "{path} {page}: {doc}");
                assert!(doc.contains("fix:"), "{doc}");
            } else {
                assert!(
                    doc.contains("ok: works; never expires"),
                    "{path} {page}: {doc}"
                );
            }
        }
    }
}

#[test]
fn doctor_explains_graph_errors_and_tokens() {
    let s = Server::seeded();
    let k = Keeper::new();
    for (given, words) in [
        ("190/460", "changed their password"),
        ("190/492", "no longer has a task"),
        ("190/459", "checkpoint"),
        ("4", "too many calls"),
        (
            r#"{"error":{"message":"Invalid appsecret_proof provided in the API argument","type":"GraphMethodException","code":100}}"#,
            "does not match the token",
        ),
    ] {
        let (code, out, err) = k.run(&["doctor", "--error", given]);
        assert_eq!(code, 0, "{err}");
        assert!(out.contains(words), "{given}: {out}");
    }
    let (code, _, err) = k.run(&["doctor", "--error", "not an error"]);
    assert_eq!(code, 1);
    assert!(err.contains("is not a Graph error"), "{err}");

    // A token: asked of the kept apps.
    k.add_alice(&s);
    let page = s.page_token(COFFEE, &s.exchange(&s.alice()));
    let (code, out, err) = k.run(&["doctor", &page]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("type:        PAGE"), "{out}");
    assert!(out.contains("expires:     never"), "{out}");
}

#[test]
fn a_wrong_vault_key_or_a_damaged_vault_changes_nothing() {
    let s = Server::seeded();
    let k = Keeper::new();
    k.add_alice(&s);
    let before = std::fs::read(k.vault()).unwrap();
    let wrong = vec![
        ("GRAPHTOKEN_VAULT", k.vault().display().to_string()),
        ("GRAPHTOKEN_VAULT_KEY", "cd".repeat(32)),
    ];
    for args in [
        &["status"][..],
        &["rotate"],
        &["revoke", "--all"],
        &["get", "--page", COFFEE],
    ] {
        let (code, out, err) = k.run_with(args, &wrong);
        assert_eq!(code, 1, "{args:?}: {out}");
        assert!(err.contains("the vault key is wrong"), "{err}");
    }
    let (code, _, err) = k.add_with(&s, &s.alice(), &[], &wrong);
    assert_eq!(code, 1);
    assert!(err.contains("the vault key is wrong"), "{err}");
    let passphrase = vec![
        ("GRAPHTOKEN_VAULT", k.vault().display().to_string()),
        ("GRAPHTOKEN_VAULT_PASSPHRASE", "a passphrase".to_string()),
    ];
    let (code, _, err) = k.run_with(&["status"], &passphrase);
    assert_eq!(code, 1);
    assert!(err.contains("sealed with a key"), "{err}");
    assert_eq!(std::fs::read(k.vault()).unwrap(), before, "unchanged");

    // A damaged file is refused, not overwritten.
    let damaged = &before[..before.len() / 2];
    std::fs::write(k.vault(), damaged).unwrap();
    let (code, _, err) = k.run(&["rotate"]);
    assert_eq!(code, 1);
    assert!(err.contains("is not a vault this keeper can read"), "{err}");
    assert_eq!(std::fs::read(k.vault()).unwrap(), damaged);

    // No key at all: said so.
    let (code, _, err) = k.run_with(&["status"], &[("GRAPHTOKEN_VAULT", "x".into())]);
    assert_eq!(code, 1);
    assert!(err.contains("the vault needs a key"), "{err}");
}

#[test]
fn a_permission_taken_back_makes_check_warn() {
    let s = Server::seeded();
    let k = Keeper::new();
    k.add_alice(&s);
    assert_eq!(k.check().0, 0);
    // The person takes `email` back: every token still works, with one scope fewer.
    let r = s.post_form(
        "/me/permissions/email",
        &[("access_token", &s.alice()), ("method", "delete")],
    );
    assert_eq!(r.body, json!({"success": true}), "{}", r.text);
    let (code, out) = k.check();
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("no longer granted: email"), "{out}");
    assert!(out.contains("auth_type=rerequest"), "{out}");
}

#[test]
fn a_key_file_opens_the_vault() {
    let s = Server::seeded();
    let k = Keeper::new();
    let file = k.dir.path().join("vault.key");
    let (status, _, err) = run(&["secrets", "new-key", &file.display().to_string()], &[]);
    assert!(status.success(), "{err}");
    let env = vec![("GRAPHTOKEN_VAULT", k.vault().display().to_string())];
    let key_file = ["--vault-key-file", file.to_str().unwrap_or_default()];
    let with_file = |args: &[&str]| k.run_with(&[args, &key_file[..]].concat(), &env);
    let (code, out, err) = k.add_with(&s, &s.alice(), &key_file, &env);
    assert_eq!(code, 0, "{out}{err}");
    let (code, out, err) = with_file(&["check"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("(4 checked)"), "{out}");
    // The file's key is the vault's: the same key from the environment opens it too.
    let key = std::fs::read_to_string(&file).unwrap();
    let (code, _, err) = k.run_with(
        &["check"],
        &[
            env[0].clone(),
            ("GRAPHTOKEN_VAULT_KEY", key.trim().to_string()),
        ],
    );
    assert_eq!(code, 0, "{err}");
    // A file that holds no key is named in the refusal, and nothing changes.
    let before = std::fs::read(k.vault()).unwrap();
    std::fs::write(&file, "not a key\n").unwrap();
    let (code, _, err) = with_file(&["status"]);
    assert_eq!(code, 1);
    assert!(err.contains("vault.key"), "{err}");
    assert_eq!(std::fs::read(k.vault()).unwrap(), before);
}

#[test]
fn a_passphrase_vault_opens_with_its_passphrase() {
    let s = Server::seeded();
    let k = Keeper::new();
    let env = vec![
        ("GRAPHTOKEN_VAULT", k.vault().display().to_string()),
        (
            "GRAPHTOKEN_VAULT_PASSPHRASE",
            "correct horse battery".to_string(),
        ),
    ];
    let short = s.alice();
    let (code, out, err) = k.add_with(&s, &short, &["--pages", NEWS], &env);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("Acme News") && !out.contains("Acme Coffee"),
        "{out}"
    );
    let (code, out, _) = k.run_with(&["check"], &env);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("(2 checked)"), "{out}");
    let wrong = vec![
        env[0].clone(),
        ("GRAPHTOKEN_VAULT_PASSPHRASE", "wrong".to_string()),
    ];
    let (code, _, err) = k.run_with(&["status"], &wrong);
    assert_eq!(code, 1);
    assert!(err.contains("the vault key is wrong"), "{err}");
    // A Page the person does not share with the app is refused by name.
    let (code, _, err) = k.add_with(&s, &short, &["--pages", "999"], &env);
    assert_eq!(code, 1);
    assert!(err.contains("Page 999 is not among the Pages"), "{err}");
}

#[test]
fn get_and_exec_hand_a_working_token_to_scripts() {
    let s = Server::seeded();
    let k = Keeper::new();
    k.add_alice(&s);
    let (code, token, err) = k.run(&["get", "--page", COFFEE]);
    assert_eq!(code, 0, "{err}");
    let token = token.trim();
    let me = s.get_as(
        &format!("/me?appsecret_proof={}", proof(ACME_SECRET, token)),
        token,
    );
    assert_eq!(me.str("id"), COFFEE);

    let (code, out, err) = k.run(&[
        "exec",
        "--page",
        COFFEE,
        "--",
        "sh",
        "-c",
        r#"test -n "$FACEBOOK_PAGE_TOKEN" && echo "$FACEBOOK_PAGE_ID $FACEBOOK_APPSECRET_PROOF"; exit 7"#,
    ]);
    assert_eq!(code, 7, "the command's own exit status: {err}");
    assert_eq!(
        out.trim(),
        format!("{COFFEE} {}", proof(ACME_SECRET, token))
    );
    assert!(!out.contains(token) && !err.contains(token));

    let (code, _, err) = k.run(&["get", "--page", "999"]);
    assert_eq!(code, 1);
    assert!(err.contains("no token is kept for Page 999"), "{err}");
}

#[test]
fn rotate_keeps_a_working_token_and_revoke_ends_access() {
    let s = Server::seeded();
    let k = Keeper::new();
    k.add_alice(&s);
    let (code, out, err) = k.run(&["rotate"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(out.lines().count(), 3, "{out}");
    assert!(!out.contains("kept old"), "{out}");

    // The person's token ended: nothing can be derived, nothing is dropped.
    let before = std::fs::read(k.vault()).unwrap();
    s.admin_post(
        "/_admin/users/alice/password",
        json!({"password": "n3w-pass"}),
    );
    let (code, out, _) = k.run(&["rotate"]);
    assert_eq!(code, 1, "{out}");
    assert_eq!(out.matches("kept old").count(), 3, "{out}");
    assert!(out.contains("changed their password"), "{out}");
    assert_eq!(std::fs::read(k.vault()).unwrap(), before, "nothing written");

    // Forget one Page; then revoke the person's access at the Graph API.
    let s = Server::seeded();
    let k = Keeper::new();
    k.add_alice(&s);
    let (code, out, _) = k.run(&["revoke", "--page", BAKERY]);
    assert_eq!(code, 0);
    assert!(out.contains("forgotten"), "{out}");
    assert_eq!(k.status().len(), 3);
    let (_, page, _) = k.run(&["get", "--page", COFFEE]);
    let (code, out, err) = k.run(&["revoke", "--all"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("revoked at the Graph API"), "{out}");
    let d = s.debug(page.trim());
    assert_eq!(d["is_valid"], false, "{d}");
    assert_eq!(k.status().len(), 0);
    let (code, _, err) = k.run(&["revoke"]);
    assert_eq!(code, 1);
    assert!(err.contains("say what to revoke"), "{err}");
}

#[test]
fn a_graph_api_that_cannot_be_reached_is_unknown_not_fine() {
    let s = Server::seeded();
    let k = Keeper::new();
    k.add_alice(&s);
    drop(s);
    let (code, out) = k.check();
    assert_eq!(code, 3, "{out}");
    assert!(
        out.contains("cannot be checked: cannot reach the Graph API"),
        "{out}"
    );
    assert!(!out.contains("EAA"), "no token in the words: {out}");
    let (code, _, err) = k.run(&["get", "--page", COFFEE]);
    assert_eq!(code, 1, "an outage is not a broken token: {err}");
    assert!(!err.contains("EAA"), "{err}");
    // A vault check cannot read is unknown too, for monitoring (not "soon").
    let (code, _, err) = k.run_with(
        &["check"],
        &[
            ("GRAPHTOKEN_VAULT", k.vault().display().to_string()),
            ("GRAPHTOKEN_VAULT_KEY", "cd".repeat(32)),
        ],
    );
    assert_eq!(code, 3, "{err}");
}

/// Runs `graphtoken keeper ARGS` in the background; its stderr lines arrive on the channel.
fn spawn(k: &Keeper, args: &[&str]) -> (std::process::Child, mpsc::Receiver<String>) {
    let mut cmd = Command::new(BIN);
    cmd.arg("keeper").args(args);
    for (name, value) in k.env() {
        cmd.env(name, value);
    }
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let (tx, rx) = mpsc::channel();
    let err = child.stderr.take().unwrap();
    std::thread::spawn(move || {
        for l in BufReader::new(err).lines() {
            let Ok(l) = l else { break };
            if tx.send(l).is_err() {
                break;
            }
        }
    });
    (child, rx)
}

/// The first stderr line that `pick` accepts (within 20 s).
fn wait_for(rx: &mpsc::Receiver<String>, pick: impl Fn(&str) -> Option<String>) -> String {
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while let Ok(l) = rx.recv_timeout(deadline.saturating_duration_since(std::time::Instant::now()))
    {
        if let Some(v) = pick(&l) {
            return v;
        }
    }
    panic!("the keeper did not say what was expected");
}

fn finish(mut child: std::process::Child) -> (i32, String) {
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            let mut out = String::new();
            std::io::Read::read_to_string(&mut child.stdout.take().unwrap(), &mut out).unwrap();
            return (status.code().unwrap_or(-1), out);
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the keeper did not finish"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn device_login_keeps_the_persons_access() {
    let s = Server::seeded();
    let k = Keeper::new();
    let (child, rx) = spawn(
        &k,
        &[
            "login",
            "--app-id",
            ACME,
            "--app-secret",
            ACME_SECRET,
            "--client-token",
            "acme-client-token-0123456789",
            "--graph",
            &s.base,
        ],
    );
    let code = wait_for(&rx, |l| {
        l.split("enter the code ")
            .nth(1)
            .map(|r| r.split_whitespace().next().unwrap_or("").to_string())
    });
    let mut b = Browser::new(&s);
    let page = b.get("/device");
    let page = b.sign_in(&page, "alice@example.com", "alice-password");
    let csrf = field(&page.text, "csrf").unwrap();
    let consent = b.post("/device", &[("csrf", &csrf), ("user_code", &code)]);
    let done = if consent.text.contains(r#"name="pages_offered""#) {
        b.answer_with_pages(&consent, &["pages_show_list"], &[COFFEE, NEWS, BAKERY])
    } else {
        b.answer(&consent, &["pages_show_list"], true)
    };
    assert_eq!(done.status, 200, "{}", done.text);
    let (status, out) = finish(child);
    assert_eq!(status, 0, "{out}");
    assert!(out.contains("kept Alice Marie Admin"), "{out}");
    assert_eq!(out.matches("expires never").count(), 3, "{out}");
    assert_eq!(k.check().0, 0);
}

#[test]
fn browser_login_comes_back_to_loopback_with_pkce() {
    // A free port for the redirect, listed in the app's settings.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let sb = Sandbox::new();
    let world = std::fs::read_to_string(fixture("world.toml")).unwrap().replacen(
        "client_token = \"acme-client-token-0123456789\"",
        &format!(
            "client_token = \"acme-client-token-0123456789\"\nredirect_uris = [\"http://127.0.0.1:{port}/callback\"]"
        ),
        1,
    );
    let seed = sb.write("world.toml", &world);
    let s = Server::in_process(&scratch_db(), &sb, Some(&seed)).unwrap();
    let k = Keeper::new();
    let port_text = port.to_string();
    let (child, rx) = spawn(
        &k,
        &[
            "login",
            "--browser",
            "--port",
            &port_text,
            "--app-id",
            ACME,
            "--app-secret",
            ACME_SECRET,
            "--graph",
            &s.base,
            "--pages",
            COFFEE,
        ],
    );
    let url = wait_for(&rx, |l| {
        l.trim().starts_with("http").then(|| l.trim().to_string())
    });
    assert!(url.contains("code_challenge_method=S256"), "{url}");
    let mut b = Browser::new(&s);
    let page = b.get(&url);
    let mut next = b.sign_in(&page, "alice@example.com", "alice-password");
    if is_consent(&next) {
        next = b.answer_with_pages(&next, &["pages_show_list"], &[COFFEE, NEWS, BAKERY]);
    }
    assert_eq!(next.status, 302, "{}", next.text);
    let back = next.header("location").unwrap().to_string();
    assert!(
        back.starts_with(&format!("http://127.0.0.1:{port}/callback?code=")),
        "{back}"
    );
    let landed = ureq::get(&back).call().unwrap().into_string().unwrap();
    assert!(landed.contains("logged in"), "{landed}");
    let (status, out) = finish(child);
    assert_eq!(status, 0, "{out}");
    assert!(out.contains("kept the Page token for Acme Coffee"), "{out}");
    assert_eq!(k.status().len(), 2);
}

#[test]
fn revoke_after_the_persons_token_expired_still_ends_the_access() {
    let s = Server::seeded();
    let k = Keeper::new();
    k.add_alice(&s);
    let (_, page, _) = k.run(&["get", "--page", COFFEE]);
    s.advance(61 * DAY);
    assert_eq!(
        s.debug(page.trim())["is_valid"],
        true,
        "the Page token outlives it"
    );
    // The person's token expired: the app token revokes the access.
    let alice = k.status()[0]["id"].as_str().unwrap().to_string();
    let (code, out, err) = k.run(&["revoke", "--user", &alice]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("revoked at the Graph API"), "{out}");
    assert_eq!(
        s.debug(page.trim())["is_valid"],
        false,
        "the Page token ended with it"
    );
    assert_eq!(k.status().len(), 0);
}

#[test]
fn add_with_pages_keeps_the_pages_kept_before() {
    let s = Server::seeded();
    let k = Keeper::new();
    let env = k.env();
    let (code, _, err) = k.add_with(&s, &s.alice(), &["--pages", NEWS], &env);
    assert_eq!(code, 0, "{err}");
    let (code, out, err) = k.add_with(&s, &s.alice(), &["--pages", COFFEE], &env);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("replacing what was kept"), "{out}");
    let lines = k.status();
    assert_eq!(lines.len(), 3, "{lines:?}");
    line(&lines, NEWS);
    line(&lines, COFFEE);
    // Without --pages, all the person's Pages are taken anew.
    k.add_alice(&s);
    assert_eq!(k.status().len(), 4);
}
