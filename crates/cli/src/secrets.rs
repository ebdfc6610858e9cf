//! The key that seals the database's secrets (app secrets, client tokens, the cookie key; see
//! `graphtoken_core::seal`), where it comes from, and `graphtoken secrets rotate`.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use clap::Args;
use graphtoken_core::seal::Sealer;

#[derive(Args, Clone, Default)]
pub struct KeyArgs {
    /// The file holding the key that seals the database's secrets (64 hex digits). Default:
    /// for a SQLite file, `FILE.key` beside it, made on first use with mode 0600. PostgreSQL
    /// needs one (the same for every instance).
    #[arg(long, env = "GRAPHTOKEN_SECRET_KEY_FILE")]
    pub secret_key_file: Option<PathBuf>,
    /// The key itself, 64 hex digits: from `GRAPHTOKEN_SECRET_KEY` only (a command line is
    /// visible to every user of the machine).
    #[arg(skip = std::env::var("GRAPHTOKEN_SECRET_KEY").ok())]
    pub secret_key: Option<String>,
}

impl std::fmt::Debug for KeyArgs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyArgs")
            .field("secret_key_file", &self.secret_key_file)
            .field(
                "secret_key",
                &self.secret_key.as_ref().map(|_| "<redacted>"),
            )
            .finish()
    }
}

/// Where the key of a SQLite database lives by default: beside the file (`None` for a database
/// in memory, whose key lives as long as it does). Other databases have no default.
fn default_key_file(db: &str) -> Result<Option<PathBuf>, String> {
    match graphtoken_store::sqlite_file(db) {
        Ok(file) => Ok(file.map(|f| PathBuf::from(format!("{}.key", f.display())))),
        // A SQLite URL that is wrong (a bad `locking=`, say) says what is wrong with it.
        Err(e) if !graphtoken_store::is_postgres(db) => Err(format!("cannot open {db}: {e}")),
        Err(_) => Err(
            "a PostgreSQL database needs the key that seals its secrets: give \
             --secret-key-file (or GRAPHTOKEN_SECRET_KEY), the same for every instance; \
             make one with `graphtoken secrets new-key FILE`"
                .into(),
        ),
    }
}

/// The sealer for `db`: the key given, or the SQLite database's own key file (made when
/// missing), or a key for this run only (a database in memory).
pub fn sealer(db: &str, keys: &KeyArgs) -> Result<Arc<Sealer>, String> {
    if let Some(hex) = keys.secret_key.as_deref().filter(|k| !k.is_empty()) {
        return Sealer::from_hex(hex)
            .map(Arc::new)
            .map_err(|e| format!("GRAPHTOKEN_SECRET_KEY: {e}"));
    }
    if let Some(file) = &keys.secret_key_file {
        return read_key(file);
    }
    match default_key_file(db)? {
        Some(file) if file.exists() => read_key(&file),
        Some(file) => {
            let key = Sealer::new_key().map_err(|e| e.to_string())?;
            match write_key(&file, &key, false) {
                Ok(()) => {
                    eprintln!(
                        "made {} (the key that seals the database's secrets: keep it safe, apart from the database's backups)",
                        file.display()
                    );
                    Sealer::from_hex(&key).map(Arc::new)
                }
                // Another process made it first: that one is the key.
                Err(_) if file.exists() => read_key(&file),
                Err(e) => Err(e),
            }
        }
        None => {
            let key = Sealer::new_key().map_err(|e| e.to_string())?;
            Sealer::from_hex(&key).map(Arc::new)
        }
    }
}

fn read_key(file: &Path) -> Result<Arc<Sealer>, String> {
    let text = std::fs::read_to_string(file)
        .map_err(|e| format!("cannot read the secret key file {}: {e}", file.display()))?;
    Sealer::from_hex(&text)
        .map(Arc::new)
        .map_err(|e| format!("the secret key file {}: {e}", file.display()))
}

/// Writes a key file with mode 0600: to a temporary file beside it, synced, then put in place
/// and the folder synced. Without `replace` it is linked into place, which fails when a file is
/// there already (two processes making a key at once: one of them wins, and the other is told).
pub fn write_key(file: &Path, key: &str, replace: bool) -> Result<(), String> {
    let tmp = file.with_extension(format!("key.tmp{}", std::process::id()));
    let written = (|| {
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        let mut f = options.open(&tmp)?;
        f.write_all(format!("{key}\n").as_bytes())?;
        f.sync_all()?;
        if replace {
            std::fs::rename(&tmp, file)?;
        } else {
            std::fs::hard_link(&tmp, file)?;
            std::fs::remove_file(&tmp)?;
        }
        sync_folder(file)
    })();
    written.map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        if e.kind() == std::io::ErrorKind::AlreadyExists {
            format!("{} exists already: not overwritten", file.display())
        } else {
            format!("cannot write the secret key file {}: {e}", file.display())
        }
    })
}

/// Makes a rename or link in `file`'s folder durable.
fn sync_folder(file: &Path) -> std::io::Result<()> {
    let folder = match file.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    std::fs::File::open(folder)?.sync_all()
}

/// `graphtoken secrets new-key FILE`.
pub fn new_key(file: &Path) -> Result<(), String> {
    let key = Sealer::new_key().map_err(|e| e.to_string())?;
    write_key(file, &key, false)?;
    println!("wrote a new key to {} (mode 0600)", file.display());
    Ok(())
}

/// `graphtoken secrets rotate`: a new key; every secret sealed again under it in one
/// transaction; the new key written where the old one was (or to `new_file`). The new key is
/// written beside the old first (`FILE.new`), so that whatever stops the rotation half-way,
/// the key the database needs is on disk.
pub fn rotate(db: &str, keys: &KeyArgs, new_file: Option<&Path>) -> Result<(), String> {
    let old_file = match (&keys.secret_key, &keys.secret_key_file) {
        (Some(k), _) if !k.is_empty() => None,
        (_, Some(f)) => Some(f.clone()),
        _ => default_key_file(db)?,
    };
    if keys.secret_key.as_deref().is_none_or(str::is_empty)
        && old_file.as_ref().is_none_or(|f| !f.exists())
    {
        return Err("no key to rotate from: give the key in use (--secret-key-file)".into());
    }
    let old = sealer(db, keys)?;
    let target = match (new_file, &old_file) {
        (Some(f), _) => f.to_path_buf(),
        (None, Some(f)) => f.clone(),
        (None, None) => return Err(
            "the key came from GRAPHTOKEN_SECRET_KEY: say where the new one goes (--new-key-file)"
                .into(),
        ),
    };
    let key = Sealer::new_key().map_err(|e| e.to_string())?;
    let staged = target.with_extension("key.new");
    write_key(&staged, &key, false)?;
    let new = Sealer::from_hex(&key).map(Arc::new)?;
    let rt = tokio::runtime::Runtime::new().map_err(|e| e.to_string())?;
    let changed = rt.block_on(async {
        let store = graphtoken_store::open_sealed(db, Some(new))
            .map_err(|e| format!("cannot open {db}: {e}"))?;
        store
            .reseal(Some(old))
            .await
            .map_err(|e| format!("cannot seal the secrets again: {e}"))
    });
    let changed = match changed {
        Ok(n) => n,
        Err(e) => {
            // Nothing changed in the database: the staged key is of no use.
            let _ = std::fs::remove_file(&staged);
            return Err(e);
        }
    };
    std::fs::rename(&staged, &target)
        .and_then(|()| sync_folder(&target))
        .map_err(|e| {
            format!(
                "the database is sealed under the key in {}, but it could not be moved to {}: {e}",
                staged.display(),
                target.display()
            )
        })?;
    println!(
        "sealed {changed} secrets under a new key, now in {} (mode 0600); restart every instance with it",
        target.display()
    );
    Ok(())
}
