//! Sealing the secrets the store keeps (see `graphtoken_core::seal`): app secrets, client
//! tokens and the settings in [`SEALED_SETTINGS`] are sealed on the way in and opened on the
//! way out, inside the store's own calls, so nothing above it sees a sealed value.

use std::sync::Arc;

use graphtoken_core::model::{App, AppId};
use graphtoken_core::seal::{self, Sealer};
use graphtoken_core::services::TOKEN_KEY;
use graphtoken_core::store::{StoreError, StoreResult};
use graphtoken_core::token::TokenKey;

use crate::args;
use crate::db::{Db, Value};
use crate::rows::Sql;

/// Settings kept sealed: the key that signs browser cookies, and a value sealed on first start
/// so that a wrong key is told even on a database with no secret yet (see [`check`]).
pub(crate) const SEALED_SETTINGS: &[&str] = &["browser_key", TOKEN_KEY, KEY_CHECK];

/// The setting that holds a sealed value of its own name.
const KEY_CHECK: &str = "key_check";

/// The store's key, if it has one. Without one, values are kept as they are, and a sealed value
/// read back is an error that says which key is missing.
#[derive(Clone, Debug, Default)]
pub(crate) struct Seals(pub(crate) Option<Arc<Sealer>>);

fn secret_of(app: AppId) -> String {
    format!("app:{app}:secret")
}

fn client_token_of(app: AppId) -> String {
    format!("app:{app}:client_token")
}

fn setting_of(name: &str) -> String {
    format!("setting:{name}")
}

impl Seals {
    fn seal(&self, plain: &str, context: &str) -> StoreResult<String> {
        match &self.0 {
            Some(s) => s
                .seal(plain, context)
                .map_err(|e| StoreError::new(format!("sealing a secret: {e}"))),
            None => Ok(plain.to_string()),
        }
    }

    fn open(&self, stored: &str, context: &str) -> StoreResult<String> {
        match &self.0 {
            Some(s) => s
                .open(stored, context)
                .map_err(|e| StoreError::new(format!("{context}: {e}"))),
            None if seal::is_sealed(stored) => Err(StoreError::new(
                "the database's secrets are sealed: start graphtoken with their key \
                 (--secret-key-file or GRAPHTOKEN_SECRET_KEY)",
            )),
            None => Ok(stored.to_string()),
        }
    }

    /// An app as read, its secrets opened.
    pub(crate) fn open_app(&self, mut app: App) -> StoreResult<App> {
        app.secret = self.open(&app.secret, &secret_of(app.id))?;
        app.client_token = self.open(&app.client_token, &client_token_of(app.id))?;
        Ok(app)
    }

    /// An app to write, its secrets sealed; a secret the database already holds sealed is
    /// kept as it is stored (so that applying a seed again writes nothing new).
    pub(crate) fn seal_app(&self, db: &dyn Db, app: &App) -> StoreResult<App> {
        let stored: Option<(String, String)> = db.one(
            "SELECT secret, client_token FROM apps WHERE id = ?1",
            args![app.id.sql()],
            |r| Ok((r.get(0)?, r.get(1)?)),
            "reading an app's sealed secrets",
        )?;
        let keep = |stored: Option<&String>, plain: &str, context: &str| -> StoreResult<String> {
            match stored {
                Some(s)
                    if (self.0.is_none() || seal::is_sealed(s))
                        && self.open(s, context).is_ok_and(|p| p == plain) =>
                {
                    Ok(s.clone())
                }
                _ => self.seal(plain, context),
            }
        };
        let mut out = app.clone();
        out.secret = keep(
            stored.as_ref().map(|s| &s.0),
            &app.secret,
            &secret_of(app.id),
        )?;
        out.client_token = keep(
            stored.as_ref().map(|s| &s.1),
            &app.client_token,
            &client_token_of(app.id),
        )?;
        Ok(out)
    }

    pub(crate) fn seal_secret(&self, app: AppId, secret: &str) -> StoreResult<String> {
        self.seal(secret, &secret_of(app))
    }

    pub(crate) fn seal_setting(&self, name: &str, value: &str) -> StoreResult<String> {
        if SEALED_SETTINGS.contains(&name) {
            self.seal(value, &setting_of(name))
        } else {
            Ok(value.to_string())
        }
    }

    pub(crate) fn open_setting(
        &self,
        name: &str,
        stored: Option<String>,
    ) -> StoreResult<Option<String>> {
        match stored {
            Some(v) if SEALED_SETTINGS.contains(&name) => {
                Ok(Some(self.open(&v, &setting_of(name))?))
            }
            other => Ok(other),
        }
    }
}

/// A stored value sealed again under `to`: opened with `from`, or, when `from` has no key, a
/// value from before sealing (`None`: one already sealed, left as it is).
fn again(v: &str, context: &str, from: &Seals, to: &Seals) -> StoreResult<Option<String>> {
    if from.0.is_none() && seal::is_sealed(v) {
        return Ok(None);
    }
    Ok(Some(to.seal(&from.open(v, context)?, context)?))
}

/// A sealed (or to-be-sealed) value of the database, where it is kept.
struct Kept {
    /// The statement that writes it (`?1` the value, `?2` its row).
    update: &'static str,
    row: Value,
    stored: String,
    context: String,
}

/// Every secret value the database keeps, and where: each app's secret and client token, and
/// the sealed settings.
fn kept(db: &dyn Db, what: &str) -> StoreResult<Vec<Kept>> {
    let apps: Vec<(i64, String, String)> = db.all(
        "SELECT id, secret, client_token FROM apps ORDER BY id",
        args![],
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        what,
    )?;
    let mut all = Vec::new();
    for (id, secret, client_token) in apps {
        let app = AppId(id as u64);
        all.push(Kept {
            update: "UPDATE apps SET secret = ?1 WHERE id = ?2",
            row: Value::Int(app.sql()),
            stored: secret,
            context: secret_of(app),
        });
        all.push(Kept {
            update: "UPDATE apps SET client_token = ?1 WHERE id = ?2",
            row: Value::Int(app.sql()),
            stored: client_token,
            context: client_token_of(app),
        });
    }
    for name in SEALED_SETTINGS {
        let stored: Option<String> = db.one(
            "SELECT value FROM settings WHERE name = ?1",
            args![*name],
            |r| r.get(0),
            what,
        )?;
        if let Some(stored) = stored {
            all.push(Kept {
                update: "UPDATE settings SET value = ?1 WHERE name = ?2",
                row: Value::Text(name.to_string()),
                stored,
                context: setting_of(name),
            });
        }
    }
    Ok(all)
}

/// Seals again, under `to`, every secret that `from` opens (`from` without a key: the values
/// kept as they are, from before sealing); how many values changed. In the caller's
/// transaction, so a rotation is all or nothing.
///
/// A rotation (`from` with a key) also draws a new token key: the old one may have leaked with
/// the old secret key, and with it anyone could tag claims. Tokens tagged under the old one are
/// then read from the store, as tokens without claims are.
pub(crate) fn reseal(db: &dyn Db, from: &Seals, to: &Seals) -> StoreResult<u64> {
    let what = "sealing the secrets again";
    let mut changed = 0;
    let rotating = from.0.is_some();
    for k in kept(db, what)? {
        // A rotation draws a new token key below: the old one need not open.
        if rotating && k.context == setting_of(TOKEN_KEY) {
            continue;
        }
        if let Some(v) = again(&k.stored, &k.context, from, to)? {
            changed += db.execute(k.update, &[Value::Text(v), k.row], what)?;
        }
    }
    if rotating {
        let fresh = TokenKey::new_hex().map_err(|e| StoreError::new(e.to_string()))?;
        let sealed = to.seal(&fresh, &setting_of(TOKEN_KEY))?;
        db.execute(
            "UPDATE settings SET value = ?1 WHERE name = ?2",
            args![sealed, TOKEN_KEY],
            what,
        )?;
    }
    Ok(changed)
}

/// Whether `seals` opens every sealed secret (an error names the first it cannot). The first
/// time, a value sealed under this key is stored, so that from then on a database with no
/// secret yet refuses another key too.
///
/// The one exception is the token key, which nothing needs kept: when every other secret
/// opens, the value sealed to check the key among them, and it alone does not (a rotation by a
/// graphtoken from before token claims, which did not know to seal it again), it is dropped,
/// and a new one is drawn on first need. Tokens tagged under it are then read from the store.
pub(crate) fn check(db: &dyn Db, seals: &Seals) -> StoreResult<()> {
    let what = "checking the sealed secrets";
    // Whether a value sealed before (under the key that sealed the rest) is there to prove the
    // key: only then may a token key that does not open be taken for a stale one.
    let mut proven = false;
    if seals.0.is_some() {
        let sealed = seals.seal(KEY_CHECK, &setting_of(KEY_CHECK))?;
        proven = db.execute(
            "INSERT INTO settings (name, value) VALUES (?1, ?2) ON CONFLICT (name) DO NOTHING",
            args![KEY_CHECK, sealed],
            what,
        )? == 0;
    }
    let token_key = setting_of(TOKEN_KEY);
    let mut stale_token_key = false;
    for k in kept(db, what)? {
        match seals.open(&k.stored, &k.context) {
            Err(_) if proven && k.context == token_key => stale_token_key = true,
            opened => {
                opened?;
            }
        }
    }
    if stale_token_key {
        db.execute(
            "DELETE FROM settings WHERE name = ?1",
            args![TOKEN_KEY],
            what,
        )?;
    }
    Ok(())
}
