//! The keeper's workflows over a vault: add, status, rotate, revoke, and a Page's token.

use crate::assess::{assess, date, Holder, Level, Verdict};
use crate::explain::explain;
use crate::graph::{App, Failure, Graph, Inspection, PageAccess};
use crate::vault::{Entry, KeptPage, Vault, VaultError};
use crate::Secret;

const DAY: i64 = 86_400;

/// Why a keeper command did nothing (the vault is unchanged).
#[derive(Clone, Debug)]
pub enum KeeperError {
    Vault(VaultError),
    Graph(Failure),
    /// The request cannot be done as asked: the words say why and what to do.
    Refused(String),
    /// Nothing is kept for what was named.
    NotKept(String),
    /// What was asked for is kept, but does not work.
    Broken {
        what: String,
        verdict: Verdict,
    },
}

impl std::fmt::Display for KeeperError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            KeeperError::Vault(e) => write!(f, "{e}"),
            KeeperError::Graph(Failure::Graph(e)) => {
                let d = explain(e);
                write!(
                    f,
                    "the Graph API refused: {e}\n  why: {}\n  fix: {}",
                    d.cause, d.fix
                )
            }
            KeeperError::Graph(e) => write!(f, "{e}"),
            KeeperError::Refused(m) | KeeperError::NotKept(m) => write!(f, "{m}"),
            KeeperError::Broken { what, verdict } => {
                write!(f, "{what} {}", verdict.words)?;
                if let Some(fix) = &verdict.fix {
                    write!(f, "\n  fix: {fix}")?;
                }
                Ok(())
            }
        }
    }
}

impl std::error::Error for KeeperError {}

impl From<VaultError> for KeeperError {
    fn from(e: VaultError) -> Self {
        KeeperError::Vault(e)
    }
}

impl From<Failure> for KeeperError {
    fn from(e: Failure) -> Self {
        KeeperError::Graph(e)
    }
}

/// The Graph API an entry was kept from.
pub fn graph_of(e: &Entry) -> Graph {
    Graph::new(&e.graph, &e.version)
}

/// The app of an entry.
pub fn app_of(e: &Entry) -> App {
    App {
        id: e.app_id.clone(),
        secret: e.app_secret.clone(),
    }
}

/// `keeper add`: what to keep.
#[derive(Debug)]
pub struct AddRequest {
    pub graph: Graph,
    pub app: App,
    pub user_token: Secret,
    /// The Pages to keep tokens for (all of the person's when `None`).
    pub pages: Option<Vec<String>>,
}

/// What `add` kept.
#[derive(Clone, Debug)]
pub struct AddReport {
    pub user_id: String,
    pub user_name: String,
    /// The token given was short-lived and was exchanged for a long-lived one.
    pub exchanged: bool,
    pub user_expires_at: i64,
    /// Each Page kept, with its token's expiry (0: never).
    pub pages: Vec<(String, String, i64)>,
    /// Replaced an entry for the same person, app and Graph API.
    pub replaced: bool,
}

/// The documents' recipe: a long-lived user token (exchanged when the one given is short-
/// lived), `/me/accounts`, and a Page token for each chosen Page, each checked with
/// `debug_token`; then one write to the vault. Nothing is written when any step fails.
pub fn add(vault: &mut Vault, req: AddRequest) -> Result<AddReport, KeeperError> {
    let AddRequest {
        graph,
        app,
        user_token,
        pages: chosen,
    } = req;
    let given = graph.debug_token(&app, user_token.expose())?;
    usable_user_token(&given, &app)?;
    let long_lived = given.expires_at == 0 || given.expires_at.saturating_sub(given.now) > 2 * DAY;
    let (token, user) = if long_lived {
        (user_token, given)
    } else {
        let (t, _) = graph.exchange(&app, user_token.expose())?;
        let i = graph.debug_token(&app, t.expose())?;
        usable_user_token(&i, &app)?;
        (t, i)
    };
    let (user_id, user_name) = graph.me(&app, token.expose())?;
    let all = match graph.accounts(&app, token.expose()) {
        Ok(p) => p,
        // No Pages to read without pages_show_list: the person's token alone is kept, unless
        // Pages were asked for.
        Err(Failure::Graph(e)) if chosen.is_none() && matches!(e.code, 10 | 200..=299) => {
            Vec::new()
        }
        Err(e) => return Err(e.into()),
    };
    let picked: Vec<PageAccess> = match &chosen {
        None => all,
        Some(ids) => {
            let mut picked = Vec::new();
            for id in ids {
                match all.iter().find(|p| &p.id == id) {
                    Some(p) => picked.push(p.clone()),
                    None => {
                        let known: Vec<String> = all
                            .iter()
                            .map(|p| format!("{} ({})", p.name, p.id))
                            .collect();
                        return Err(KeeperError::Refused(format!(
                            "Page {id} is not among the Pages {user_name} let app {} use: {}",
                            app.id,
                            if known.is_empty() {
                                "none".to_string()
                            } else {
                                known.join(", ")
                            }
                        )));
                    }
                }
            }
            picked
        }
    };
    let mut kept = Vec::new();
    let mut report_pages = Vec::new();
    for p in picked {
        let i = graph.debug_token(&app, p.token.expose())?;
        let v = assess(&i, Holder::Page, &[], 0);
        if v.level == Level::Broken {
            return Err(KeeperError::Broken {
                what: format!("the Page token for {} ({})", p.name, p.id),
                verdict: v,
            });
        }
        if i.kind != "PAGE" || i.profile_id.as_deref() != Some(p.id.as_str()) {
            return Err(KeeperError::Refused(format!(
                "/me/accounts gave a token for {} ({}) that debug_token does not call that \
                 Page's token ({} {}); nothing was kept",
                p.name,
                p.id,
                i.kind,
                i.profile_id.as_deref().unwrap_or("-")
            )));
        }
        report_pages.push((p.id.clone(), p.name.clone(), i.expires_at));
        kept.push(KeptPage {
            id: p.id,
            name: p.name,
            token: p.token,
            tasks: p.tasks,
        });
    }
    let entry = Entry {
        graph: graph.base().to_string(),
        version: graph.version().to_string(),
        app_id: app.id.clone(),
        app_secret: app.secret.clone(),
        user_id: user_id.clone(),
        user_name: user_name.clone(),
        user_token: token,
        scopes: user.scopes.clone(),
        added_at: user.now,
        pages: kept,
    };
    let mut entry = entry;
    let entries = &mut vault.contents.entries;
    let same =
        |e: &Entry| e.graph == entry.graph && e.app_id == entry.app_id && e.user_id == user_id;
    let earlier = entries.iter().position(same).map(|i| entries.remove(i));
    // Pages asked for by name join those kept already; without a list, all are taken anew.
    if let (Some(old), Some(_)) = (&earlier, &chosen) {
        for p in &old.pages {
            if !entry.pages.iter().any(|k| k.id == p.id) {
                entry.pages.push(p.clone());
            }
        }
    }
    let replaced = earlier.is_some();
    entries.push(entry);
    vault.save()?;
    Ok(AddReport {
        user_id,
        user_name,
        exchanged: !long_lived,
        user_expires_at: user.expires_at,
        pages: report_pages,
        replaced,
    })
}

/// A person's token of this app that works.
fn usable_user_token(i: &Inspection, app: &App) -> Result<(), KeeperError> {
    let v = assess(i, Holder::Person { pages: false }, &[], 0);
    if v.level == Level::Broken {
        return Err(KeeperError::Broken {
            what: "the person's token".into(),
            verdict: v,
        });
    }
    if i.kind != "USER" {
        return Err(KeeperError::Refused(format!(
            "that is {} token; the keeper starts from a person's (USER) token",
            match i.kind.as_str() {
                "" => "not a person's".to_string(),
                k => format!("a {k}"),
            }
        )));
    }
    if i.app_id != app.id {
        return Err(KeeperError::Refused(format!(
            "that token belongs to app {}, not {}",
            i.app_id, app.id
        )));
    }
    Ok(())
}

/// Whose token a status line is about.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Subject {
    Person { id: String, name: String },
    Page { id: String, name: String },
}

/// One kept token and its verdict.
#[derive(Clone, Debug)]
pub struct Line {
    pub graph: String,
    pub app_id: String,
    pub subject: Subject,
    /// What `debug_token` said (none when it could not be asked).
    pub inspection: Option<Inspection>,
    pub verdict: Verdict,
}

/// `debug_token` on every kept token (with the app token and `appsecret_proof`), each with a
/// verdict: expiries and data-access expiries within `warn_days` are soon.
pub fn status(vault: &Vault, warn_days: i64) -> Vec<Line> {
    let mut lines = Vec::new();
    for e in &vault.contents.entries {
        let graph = graph_of(e);
        let app = app_of(e);
        let mut line = |subject: Subject, token: &Secret, holder: Holder| {
            let (inspection, verdict) = match graph.debug_token(&app, token.expose()) {
                Ok(i) => {
                    let v = assess(&i, holder, &e.scopes, warn_days);
                    (Some(i), v)
                }
                Err(f) => (None, unasked(&f)),
            };
            lines.push(Line {
                graph: e.graph.clone(),
                app_id: e.app_id.clone(),
                subject,
                inspection,
                verdict,
            });
        };
        line(
            Subject::Person {
                id: e.user_id.clone(),
                name: e.user_name.clone(),
            },
            &e.user_token,
            Holder::Person {
                pages: !e.pages.is_empty(),
            },
        );
        for p in &e.pages {
            line(
                Subject::Page {
                    id: p.id.clone(),
                    name: p.name.clone(),
                },
                &p.token,
                Holder::Page,
            );
        }
    }
    lines
}

/// The verdict when `debug_token` could not be asked.
fn unasked(f: &Failure) -> Verdict {
    match f {
        // debug_token itself refused: the app token (a reset secret, a deleted app) or the
        // proof is the matter.
        Failure::Graph(e) if !explain(e).transient => {
            let d = explain(e);
            Verdict {
                level: Level::Broken,
                words: format!(
                    "cannot be checked: debug_token refused the app: {e} ({})",
                    d.cause
                ),
                fix: Some(format!(
                    "{}; if the app secret was reset, add the person again with the new one",
                    d.fix
                )),
            }
        }
        _ => Verdict {
            level: Level::Unknown,
            words: format!("cannot be checked: {f}"),
            fix: Some("check the network and the Graph base URL, then run again".into()),
        },
    }
}

/// What `rotate` did for one Page.
#[derive(Clone, Debug)]
pub struct Rotated {
    pub user_name: String,
    pub page_id: String,
    pub page_name: String,
    pub outcome: Outcome,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// The same token came back.
    Unchanged,
    /// A new token that works replaced the kept one.
    Replaced,
    /// The new token does not work: the kept one stays (the words say why).
    KeptOld(String),
    /// No new token could be derived: the kept one stays.
    NotDerived(String),
}

/// Derives every kept Page token again from the kept user token, replacing those that changed
/// with ones that work; never drops a working token for a failing one. One write at the end.
pub fn rotate(vault: &mut Vault) -> Result<Vec<Rotated>, KeeperError> {
    let mut done = Vec::new();
    let mut changed = false;
    for e in vault.contents.entries.iter_mut() {
        let graph = graph_of(e);
        let app = app_of(e);
        let derived = graph
            .debug_token(&app, e.user_token.expose())
            .map_err(|f| unasked(&f).words)
            .and_then(|i| {
                let v = assess(&i, Holder::Person { pages: false }, &[], 0);
                if v.level == Level::Broken {
                    Err(format!(
                        "the person's token {}; the person logs in again (`graphtoken keeper \
                         login`)",
                        v.words
                    ))
                } else {
                    graph
                        .accounts(&app, e.user_token.expose())
                        .map_err(|f| f.to_string())
                }
            });
        for p in e.pages.iter_mut() {
            let outcome = match &derived {
                Err(why) => Outcome::NotDerived(why.clone()),
                Ok(all) => match all.iter().find(|a| a.id == p.id) {
                    None => Outcome::NotDerived(format!(
                        "{} no longer lists this Page in /me/accounts (a task taken away, or \
                         the Page not chosen at login)",
                        e.user_name
                    )),
                    Some(a) if a.token == p.token => Outcome::Unchanged,
                    Some(a) => match graph.debug_token(&app, a.token.expose()) {
                        Ok(i)
                            if assess(&i, Holder::Page, &[], 0).level != Level::Broken
                                && i.kind == "PAGE"
                                && i.profile_id.as_deref() == Some(p.id.as_str()) =>
                        {
                            p.token = a.token.clone();
                            p.tasks = a.tasks.clone();
                            p.name = a.name.clone();
                            changed = true;
                            Outcome::Replaced
                        }
                        Ok(i) if i.kind != "PAGE" => {
                            Outcome::KeptOld(format!("is not a Page token ({})", i.kind))
                        }
                        Ok(i) => Outcome::KeptOld(assess(&i, Holder::Page, &[], 0).words),
                        Err(f) => Outcome::KeptOld(f.to_string()),
                    },
                },
            };
            done.push(Rotated {
                user_name: e.user_name.clone(),
                page_id: p.id.clone(),
                page_name: p.name.clone(),
                outcome,
            });
        }
    }
    if changed {
        vault.save()?;
    }
    Ok(done)
}

/// What to revoke.
#[derive(Clone, Debug)]
pub enum Revoke {
    /// One Page's kept tokens (Facebook has no call that ends one Page token alone: they end
    /// with the person's access, a lost task, or a reset secret; the keeper forgets them).
    Page(String),
    /// One person's access (every app entry of theirs).
    Person(String),
    /// Everything kept.
    All,
}

/// What `revoke` did.
#[derive(Clone, Debug)]
pub struct Revoked {
    pub what: String,
    /// Revoked at the Graph API (`DELETE /{user-id}/permissions`), or only forgotten.
    pub at_graph: bool,
}

/// Revokes at the Graph API (a person's access: `DELETE /{user-id}/permissions`) and removes
/// from the vault. A token that already does not work is removed too; a Graph API that
/// cannot be reached stops the command with nothing removed for that person.
pub fn revoke(vault: &mut Vault, what: &Revoke) -> Result<Vec<Revoked>, KeeperError> {
    let mut done = Vec::new();
    match what {
        Revoke::Page(id) => {
            for e in vault.contents.entries.iter_mut() {
                let before = e.pages.len();
                e.pages.retain(|p| &p.id != id);
                if e.pages.len() != before {
                    done.push(Revoked {
                        what: format!("the Page token for {id} (kept for {})", e.user_name),
                        at_graph: false,
                    });
                }
            }
            if done.is_empty() {
                return Err(KeeperError::NotKept(format!(
                    "no token is kept for Page {id}"
                )));
            }
        }
        Revoke::Person(_) | Revoke::All => {
            let chosen: Vec<usize> = vault
                .contents
                .entries
                .iter()
                .enumerate()
                .filter(|(_, e)| match what {
                    Revoke::Person(id) => &e.user_id == id,
                    _ => true,
                })
                .map(|(i, _)| i)
                .collect();
            if chosen.is_empty() {
                return Err(KeeperError::NotKept(match what {
                    Revoke::Person(id) => format!("nothing is kept for person {id}"),
                    _ => "the vault keeps nothing".into(),
                }));
            }
            let mut gone = Vec::new();
            for i in chosen {
                let e = &vault.contents.entries[i];
                let graph = graph_of(e);
                let app = app_of(e);
                // With the person's token; when it has ended (expired, say), with the app
                // token, which may end an access the person's token no longer can.
                let revoked = match graph.revoke(&app, &e.user_id, e.user_token.expose()) {
                    Err(Failure::Graph(g)) if g.code == 190 => {
                        graph.revoke(&app, &e.user_id, app.token().expose())
                    }
                    other => other,
                };
                if let Err(f) = revoked {
                    let why = format!(
                        "{} ({})'s access to app {} could not be revoked at the Graph API, so \
                         it is still kept: {f}",
                        e.user_name, e.user_id, e.app_id
                    );
                    // What was revoked so far is forgotten; this one and the rest stay.
                    remove(vault, &gone)?;
                    return Err(KeeperError::Refused(why));
                }
                let at_graph = true;
                gone.push(i);
                done.push(Revoked {
                    what: format!(
                        "{} ({})'s access to app {} ({} Page token{})",
                        e.user_name,
                        e.user_id,
                        e.app_id,
                        e.pages.len(),
                        if e.pages.len() == 1 { "" } else { "s" }
                    ),
                    at_graph,
                });
            }
            remove(vault, &gone)?;
            return Ok(done);
        }
    }
    vault.save()?;
    Ok(done)
}

fn remove(vault: &mut Vault, gone: &[usize]) -> Result<(), KeeperError> {
    if gone.is_empty() {
        return Ok(());
    }
    let mut i = 0;
    vault.contents.entries.retain(|_| {
        let keep = !gone.contains(&i);
        i += 1;
        keep
    });
    vault.save()?;
    Ok(())
}

/// A Page's token that works, with what a call needs beside it.
#[derive(Clone, Debug)]
pub struct PageToken {
    pub page_id: String,
    pub page_name: String,
    pub app_id: String,
    pub graph: String,
    pub token: Secret,
    /// `appsecret_proof` for this token.
    pub proof: String,
    pub verdict: Verdict,
}

/// The kept token for `page` (of `app`, when several apps keep one) that `debug_token` says
/// works; otherwise why not.
pub fn page_token(vault: &Vault, page: &str, app: Option<&str>) -> Result<PageToken, KeeperError> {
    let mut last: Option<KeeperError> = None;
    for e in &vault.contents.entries {
        if app.is_some_and(|a| a != e.app_id) {
            continue;
        }
        let Some(p) = e.pages.iter().find(|p| p.id == page) else {
            continue;
        };
        let graph = graph_of(e);
        let a = app_of(e);
        let verdict = match graph.debug_token(&a, p.token.expose()) {
            Ok(i) => assess(&i, Holder::Page, &e.scopes, 0),
            // The network or a transient refusal: say so, not "broken".
            Err(f) if unasked(&f).level == Level::Unknown => return Err(f.into()),
            Err(f) => unasked(&f),
        };
        if matches!(verdict.level, Level::Fine | Level::Soon) {
            return Ok(PageToken {
                page_id: p.id.clone(),
                page_name: p.name.clone(),
                app_id: e.app_id.clone(),
                graph: e.graph.clone(),
                proof: a.proof(p.token.expose()),
                token: p.token.clone(),
                verdict,
            });
        }
        last = Some(KeeperError::Broken {
            what: format!("the Page token for {} ({page})", p.name),
            verdict,
        });
    }
    Err(last.unwrap_or_else(|| {
        KeeperError::NotKept(format!(
            "no token is kept for Page {page}{}: `graphtoken keeper add` keeps one",
            app.map(|a| format!(" of app {a}")).unwrap_or_default()
        ))
    }))
}

/// `date` for a token's expiry: `never` for 0.
pub fn expiry(t: i64) -> String {
    if t == 0 {
        "never".into()
    } else {
        date(t)
    }
}

#[cfg(test)]
mod tests {
    use std::io::{Read, Write};
    use std::net::TcpListener;

    use super::*;
    use crate::vault::VaultKey;

    /// A Graph API that answers `debug_token` for the person's token (valid), `/me/accounts`
    /// (Page 3 with the token `new`), and `debug_token` for `new` as `new_valid` says: what a
    /// rotation meets when Facebook hands out a new Page token.
    fn graph(new: &'static str, new_valid: bool) -> String {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        std::thread::spawn(move || {
            for mut conn in listener.incoming().flatten() {
                let mut head = Vec::new();
                let mut buf = [0u8; 4096];
                while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                    match conn.read(&mut buf) {
                        Ok(0) | Err(_) => break,
                        Ok(n) => head.extend_from_slice(&buf[..n]),
                    }
                }
                let line = String::from_utf8_lossy(&head)
                    .lines()
                    .next()
                    .unwrap_or("")
                    .to_string();
                let body = if line.contains("/me/accounts") {
                    format!(
                        r#"{{"data":[{{"id":"3","name":"P","access_token":"{new}","tasks":["MODERATE"]}}]}}"#
                    )
                } else if line.contains("input_token=EAAuser") {
                    r#"{"data":{"is_valid":true,"type":"USER","app_id":"1","user_id":"2","expires_at":0,"scopes":["pages_show_list"]}}"#.to_string()
                } else if line.contains(&format!("input_token={new}")) && new_valid {
                    r#"{"data":{"is_valid":true,"type":"PAGE","app_id":"1","profile_id":"3","expires_at":0,"scopes":["pages_show_list"]}}"#.to_string()
                } else if line.contains(&format!("input_token={new}")) {
                    r#"{"data":{"is_valid":false,"type":"PAGE","app_id":"1","profile_id":"3","expires_at":0,"scopes":[],"error":{"code":190,"subcode":460,"message":"The session has been invalidated because the user changed their password."}}}"#.to_string()
                } else {
                    r#"{"error":{"code":100,"message":"unexpected call","type":"GraphMethodException"}}"#.to_string()
                };
                let _ = write!(
                    conn,
                    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
            }
        });
        base
    }

    fn vault(dir: &std::path::Path, graph: String) -> Vault {
        let mut v = Vault::open_to_change(&dir.join("k.vault"), &VaultKey::Key([7u8; 32])).unwrap();
        v.contents
            .entries
            .push(crate::vault::sample_entry(&graph, "EAAold"));
        v.save().unwrap();
        v
    }

    #[test]
    fn rotate_keeps_the_working_token_when_the_new_one_fails() {
        let dir = tempfile::tempdir().unwrap();
        let mut v = vault(dir.path(), graph("EAAbroken", false));
        let before = std::fs::read(dir.path().join("k.vault")).unwrap();
        let done = rotate(&mut v).unwrap();
        assert_eq!(done.len(), 1);
        match &done[0].outcome {
            Outcome::KeptOld(why) => assert!(why.contains("password"), "{why}"),
            other => panic!("{other:?}"),
        }
        assert_eq!(v.contents.entries[0].pages[0].token.expose(), "EAAold");
        assert_eq!(std::fs::read(dir.path().join("k.vault")).unwrap(), before);
    }

    #[test]
    fn rotate_replaces_a_token_when_the_new_one_works() {
        let dir = tempfile::tempdir().unwrap();
        let mut v = vault(dir.path(), graph("EAAfresh", true));
        let done = rotate(&mut v).unwrap();
        assert_eq!(done[0].outcome, Outcome::Replaced);
        assert_eq!(v.contents.entries[0].pages[0].token.expose(), "EAAfresh");
        drop(v);
        let back = Vault::open(&dir.path().join("k.vault"), &VaultKey::Key([7u8; 32])).unwrap();
        assert_eq!(back.contents.entries[0].pages[0].token.expose(), "EAAfresh");
        assert_eq!(back.contents.entries[0].pages[0].tasks, vec!["MODERATE"]);
    }
}
