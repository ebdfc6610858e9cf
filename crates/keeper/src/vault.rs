//! The vault: one file holding every kept token, sealed with XChaCha20-Poly1305.
//!
//! The file is JSON: a format name and version, how the key is made (`argon2id` from a
//! passphrase, with its parameters and salt, or `key` for a 32-byte key given as 64 hex digits),
//! a fresh random nonce and the sealed contents. The header is the AEAD's associated data, so
//! a changed header fails like a wrong key. Writes go to a temporary file in the same
//! directory (mode 0600), are synced, and renamed over the vault: a reader sees the old file or
//! the new one, never half of one. A lock file keeps two changing commands from interleaving.

use std::io::Write;
use std::path::{Path, PathBuf};

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use serde::{Deserialize, Serialize};

use crate::Secret;

/// The format name every vault file starts with.
pub const FORMAT: &str = "graphtoken-keeper-vault";
/// The newest format version this keeper writes (and the only one it reads).
pub const VERSION: u32 = 1;

/// argon2id's parameters for a passphrase (OWASP's: 19 MiB, 2 passes, 1 lane).
const ARGON2_M_KIB: u32 = 19_456;
const ARGON2_T: u32 = 2;
const ARGON2_P: u32 = 1;
/// The most a vault header may ask of argon2id (1 GiB, 16 passes, 16 lanes).
const MAX_M_KIB: u32 = 1 << 20;
const MAX_T: u32 = 16;
const MAX_P: u32 = 16;

/// What opens the vault.
#[derive(Clone)]
pub enum VaultKey {
    /// 32 bytes (from 64 hex digits).
    Key([u8; 32]),
    /// A passphrase, stretched with argon2id.
    Passphrase(Secret),
}

impl std::fmt::Debug for VaultKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            VaultKey::Key(_) => f.write_str("VaultKey::Key(<redacted>)"),
            VaultKey::Passphrase(_) => f.write_str("VaultKey::Passphrase(<redacted>)"),
        }
    }
}

impl VaultKey {
    /// A key written as 64 hex digits (what `graphtoken secrets new-key` writes).
    pub fn from_hex(text: &str) -> Result<VaultKey, VaultError> {
        let text = text.trim();
        let bad = || VaultError::Key("a vault key is 64 hex digits (32 bytes)".into());
        if text.len() != 64 || !text.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(bad());
        }
        let mut key = [0u8; 32];
        for (i, byte) in key.iter_mut().enumerate() {
            *byte = u8::from_str_radix(&text[2 * i..2 * i + 2], 16).map_err(|_| bad())?;
        }
        Ok(VaultKey::Key(key))
    }

    /// A new random key, as 64 hex digits.
    pub fn new_hex() -> Result<String, VaultError> {
        let mut key = [0u8; 32];
        getrandom::getrandom(&mut key).map_err(|e| VaultError::Io(format!("random: {e}")))?;
        Ok(key.iter().map(|b| format!("{b:02x}")).collect())
    }
}

/// How the vault's key is made, as written in its header.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "name", rename_all = "lowercase")]
enum Kdf {
    Argon2id {
        m_kib: u32,
        t: u32,
        p: u32,
        salt: String,
    },
    Key,
}

#[derive(Serialize, Deserialize)]
struct Envelope {
    format: String,
    version: u32,
    kdf: Kdf,
    nonce: String,
    sealed: String,
}

/// Why the vault cannot be used. Nothing is written when one of these is returned.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum VaultError {
    /// No vault at the path (commands that read it need one).
    Missing(PathBuf),
    /// The key is wrong, or the file was changed after it was written.
    WrongKey(PathBuf),
    /// The key given is not the kind the vault was sealed with, or is malformed.
    Key(String),
    /// The file is not a vault this keeper can read.
    Damaged(PathBuf, String),
    /// Reading or writing failed.
    Io(String),
}

impl std::fmt::Display for VaultError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            VaultError::Missing(p) => write!(
                f,
                "there is no vault at {} yet: `graphtoken keeper add` or `login` makes it",
                p.display()
            ),
            VaultError::WrongKey(p) => write!(
                f,
                "the vault key is wrong (or {} was changed since it was written); nothing was \
                 changed",
                p.display()
            ),
            VaultError::Key(m) => write!(f, "{m}"),
            VaultError::Damaged(p, m) => write!(
                f,
                "{} is not a vault this keeper can read ({m}); it was left as it is",
                p.display()
            ),
            VaultError::Io(m) => write!(f, "{m}"),
        }
    }
}

impl std::error::Error for VaultError {}

/// Everything kept: one entry per person, app and Graph base URL.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Contents {
    pub entries: Vec<Entry>,
}

/// A person's access to an app: the long-lived user token and the Page tokens derived from it.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Entry {
    /// The Graph base URL (`https://graph.facebook.com`, or a graphtoken server).
    pub graph: String,
    /// The Graph API version the calls name.
    pub version: String,
    pub app_id: String,
    pub app_secret: Secret,
    /// The person's app-scoped id, and name when added.
    pub user_id: String,
    pub user_name: String,
    pub user_token: Secret,
    /// The permissions the person had granted when the token was added: one gone later is
    /// worth a warning.
    pub scopes: Vec<String>,
    /// When added (unix seconds, the server's clock).
    pub added_at: i64,
    pub pages: Vec<KeptPage>,
}

/// A Page token kept for a Page.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct KeptPage {
    pub id: String,
    pub name: String,
    pub token: Secret,
    pub tasks: Vec<String>,
}

/// An open vault: its contents, and what it takes to write them back.
pub struct Vault {
    path: PathBuf,
    kdf: Kdf,
    key: [u8; 32],
    pub contents: Contents,
    _lock: Option<std::fs::File>,
}

impl std::fmt::Debug for Vault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Vault")
            .field("path", &self.path)
            .field("entries", &self.contents.entries.len())
            .finish()
    }
}

impl Vault {
    /// Opens the vault at `path` to read it. It must exist.
    pub fn open(path: &Path, key: &VaultKey) -> Result<Vault, VaultError> {
        Self::read(path, key)?.ok_or_else(|| VaultError::Missing(path.to_path_buf()))
    }

    /// Opens the vault at `path` to change it, holding its lock until dropped; a vault not
    /// there yet starts empty (and is written by [`Vault::save`]).
    pub fn open_to_change(path: &Path, key: &VaultKey) -> Result<Vault, VaultError> {
        if let Some(dir) = parent(path) {
            std::fs::create_dir_all(dir)
                .map_err(|e| VaultError::Io(format!("cannot make {}: {e}", dir.display())))?;
        }
        let lock = lock(path)?;
        match Self::read(path, key)? {
            Some(mut v) => {
                v._lock = Some(lock);
                Ok(v)
            }
            None => {
                let kdf = match key {
                    VaultKey::Key(_) => Kdf::Key,
                    VaultKey::Passphrase(_) => {
                        let mut salt = [0u8; 16];
                        getrandom::getrandom(&mut salt)
                            .map_err(|e| VaultError::Io(format!("random: {e}")))?;
                        Kdf::Argon2id {
                            m_kib: ARGON2_M_KIB,
                            t: ARGON2_T,
                            p: ARGON2_P,
                            salt: B64.encode(salt),
                        }
                    }
                };
                let derived = derive(key, &kdf)?;
                Ok(Vault {
                    path: path.to_path_buf(),
                    kdf,
                    key: derived,
                    contents: Contents::default(),
                    _lock: Some(lock),
                })
            }
        }
    }

    fn read(path: &Path, key: &VaultKey) -> Result<Option<Vault>, VaultError> {
        let bytes = match std::fs::read(path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => {
                return Err(VaultError::Io(format!(
                    "cannot read {}: {e}",
                    path.display()
                )))
            }
        };
        let damaged = |m: &str| VaultError::Damaged(path.to_path_buf(), m.to_string());
        let env: Envelope =
            serde_json::from_slice(&bytes).map_err(|e| damaged(&format!("not JSON: {e}")))?;
        if env.format != FORMAT {
            return Err(damaged("not a graphtoken keeper vault"));
        }
        if env.version != VERSION {
            return Err(damaged(&format!(
                "format version {}; this keeper reads version {VERSION}",
                env.version
            )));
        }
        if let Kdf::Argon2id { m_kib, t, p, .. } = &env.kdf {
            // Read before anything is authenticated: a changed header must not make the
            // keeper allocate terabytes or hash forever.
            if *m_kib > MAX_M_KIB || *t > MAX_T || *p > MAX_P || *t == 0 || *p == 0 {
                return Err(damaged("argon2id parameters out of bounds"));
            }
        }
        let derived = derive(key, &env.kdf)?;
        let nonce = B64
            .decode(&env.nonce)
            .ok()
            .filter(|n| n.len() == 24)
            .ok_or_else(|| damaged("bad nonce"))?;
        let sealed = B64
            .decode(&env.sealed)
            .map_err(|_| damaged("bad sealed contents"))?;
        let aad = associated_data(&env.kdf)?;
        let plain = XChaCha20Poly1305::new((&derived).into())
            .decrypt(
                XNonce::from_slice(&nonce),
                Payload {
                    msg: &sealed,
                    aad: &aad,
                },
            )
            .map_err(|_| VaultError::WrongKey(path.to_path_buf()))?;
        let contents: Contents = serde_json::from_slice(&plain)
            .map_err(|e| damaged(&format!("unreadable contents: {e}")))?;
        Ok(Some(Vault {
            path: path.to_path_buf(),
            kdf: env.kdf,
            key: derived,
            contents,
            _lock: None,
        }))
    }

    /// Writes the contents back, atomically: a temporary file (mode 0600) in the same
    /// directory, synced, renamed over the vault, and the directory synced.
    pub fn save(&self) -> Result<(), VaultError> {
        let io = |what: &str, e: std::io::Error| {
            VaultError::Io(format!(
                "cannot write {} ({what}): {e}",
                self.path.display()
            ))
        };
        let plain = serde_json::to_vec(&self.contents)
            .map_err(|e| VaultError::Io(format!("cannot encode the vault: {e}")))?;
        let mut nonce = [0u8; 24];
        getrandom::getrandom(&mut nonce).map_err(|e| VaultError::Io(format!("random: {e}")))?;
        let aad = associated_data(&self.kdf)?;
        let sealed = XChaCha20Poly1305::new((&self.key).into())
            .encrypt(
                XNonce::from_slice(&nonce),
                Payload {
                    msg: &plain,
                    aad: &aad,
                },
            )
            .map_err(|_| VaultError::Io("cannot seal the vault".into()))?;
        let env = Envelope {
            format: FORMAT.into(),
            version: VERSION,
            kdf: self.kdf.clone(),
            nonce: B64.encode(nonce),
            sealed: B64.encode(sealed),
        };
        let mut text = serde_json::to_vec_pretty(&env)
            .map_err(|e| VaultError::Io(format!("cannot encode the vault: {e}")))?;
        text.push(b'\n');
        let dir = parent(&self.path).unwrap_or(Path::new("."));
        // tempfile makes the file with mode 0600.
        let mut tmp = tempfile::Builder::new()
            .prefix(".keeper-vault-")
            .tempfile_in(dir)
            .map_err(|e| io("a temporary file", e))?;
        tmp.write_all(&text).map_err(|e| io("writing", e))?;
        tmp.as_file().sync_all().map_err(|e| io("syncing", e))?;
        tmp.persist(&self.path)
            .map_err(|e| io("renaming", e.error))?;
        if let Ok(d) = std::fs::File::open(dir) {
            let _ = d.sync_all();
        }
        Ok(())
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

fn parent(path: &Path) -> Option<&Path> {
    path.parent().filter(|d| !d.as_os_str().is_empty())
}

/// The header the AEAD binds the contents to.
fn associated_data(kdf: &Kdf) -> Result<Vec<u8>, VaultError> {
    let kdf = serde_json::to_string(kdf)
        .map_err(|e| VaultError::Io(format!("cannot encode the vault header: {e}")))?;
    Ok(format!("{FORMAT}:{VERSION}:{kdf}").into_bytes())
}

/// The 32-byte key for the vault's `kdf` from what was given.
fn derive(key: &VaultKey, kdf: &Kdf) -> Result<[u8; 32], VaultError> {
    match (key, kdf) {
        (VaultKey::Key(k), Kdf::Key) => Ok(*k),
        (
            VaultKey::Passphrase(p),
            Kdf::Argon2id {
                m_kib,
                t,
                p: lanes,
                salt,
            },
        ) => {
            let salt = B64
                .decode(salt)
                .map_err(|_| VaultError::Key("the vault's salt is unreadable".into()))?;
            let params = argon2::Params::new(*m_kib, *t, *lanes, Some(32))
                .map_err(|e| VaultError::Key(format!("the vault's argon2id parameters: {e}")))?;
            let argon =
                argon2::Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params);
            let mut out = [0u8; 32];
            argon
                .hash_password_into(p.expose().as_bytes(), &salt, &mut out)
                .map_err(|e| VaultError::Key(format!("argon2id: {e}")))?;
            Ok(out)
        }
        (VaultKey::Key(_), Kdf::Argon2id { .. }) => Err(VaultError::Key(
            "this vault is sealed with a passphrase: set GRAPHTOKEN_VAULT_PASSPHRASE".into(),
        )),
        (VaultKey::Passphrase(_), Kdf::Key) => Err(VaultError::Key(
            "this vault is sealed with a key: set GRAPHTOKEN_VAULT_KEY or --vault-key-file".into(),
        )),
    }
}

/// Takes the vault's lock file (`VAULT.lock`), waiting for another changing command to end.
fn lock(path: &Path) -> Result<std::fs::File, VaultError> {
    let mut lock_path = path.as_os_str().to_os_string();
    lock_path.push(".lock");
    let lock_path = PathBuf::from(lock_path);
    let mut opts = std::fs::OpenOptions::new();
    opts.create(true).truncate(false).write(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let file = opts
        .open(&lock_path)
        .map_err(|e| VaultError::Io(format!("cannot open {}: {e}", lock_path.display())))?;
    file.lock()
        .map_err(|e| VaultError::Io(format!("cannot lock {}: {e}", lock_path.display())))?;
    Ok(file)
}

/// For tests: Ann's access to app 1 at `graph` (her token `EAAuser`), with Page 3's token.
#[cfg(test)]
pub(crate) fn sample_entry(graph: &str, page_token: &str) -> Entry {
    Entry {
        graph: graph.into(),
        version: "v24.0".into(),
        app_id: "1".into(),
        app_secret: Secret::new("s3cret-app".into()),
        user_id: "2".into(),
        user_name: "Ann".into(),
        user_token: Secret::new("EAAuser".into()),
        scopes: vec!["pages_show_list".into()],
        added_at: 0,
        pages: vec![KeptPage {
            id: "3".into(),
            name: "P".into(),
            token: Secret::new(page_token.into()),
            tasks: vec![],
        }],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> VaultKey {
        VaultKey::Key([7u8; 32])
    }

    fn entry() -> Entry {
        sample_entry("http://127.0.0.1:1", "EAApage")
    }

    #[test]
    fn round_trip_with_a_key_and_a_passphrase() {
        let dir = tempfile::tempdir().unwrap();
        for (name, k) in [
            ("k.vault", key()),
            (
                "p.vault",
                VaultKey::Passphrase(Secret::new("correct horse".into())),
            ),
        ] {
            let path = dir.path().join(name);
            let mut v = Vault::open_to_change(&path, &k).unwrap();
            v.contents.entries.push(entry());
            v.save().unwrap();
            drop(v);
            let raw = std::fs::read_to_string(&path).unwrap();
            // The kept tokens whole (a ciphertext's base64 may hold "EAA" by chance).
            let plain = ["EAAuser", "EAApage", "s3cret", "user_token"];
            assert!(plain.iter().all(|p| !raw.contains(p)), "{raw}");
            let back = Vault::open(&path, &k).unwrap();
            assert_eq!(back.contents.entries[0].pages[0].token.expose(), "EAApage");
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt;
                let mode = std::fs::metadata(&path).unwrap().permissions().mode();
                assert_eq!(mode & 0o777, 0o600);
            }
        }
    }

    #[test]
    fn a_wrong_key_or_a_changed_header_opens_nothing_and_changes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("v");
        let mut v = Vault::open_to_change(&path, &key()).unwrap();
        v.contents.entries.push(entry());
        v.save().unwrap();
        drop(v);
        let before = std::fs::read(&path).unwrap();
        let wrong = VaultKey::Key([8u8; 32]);
        assert_eq!(
            Vault::open_to_change(&path, &wrong).unwrap_err(),
            VaultError::WrongKey(path.clone())
        );
        assert!(matches!(
            Vault::open(&path, &VaultKey::Passphrase(Secret::new("x".into()))),
            Err(VaultError::Key(_))
        ));
        assert_eq!(std::fs::read(&path).unwrap(), before);
        // A header changed by hand fails like a wrong key.
        let text = String::from_utf8(before).unwrap();
        let changed = text.replacen("\"key\"", "\"KEY\"", 1);
        std::fs::write(&path, changed).unwrap();
        assert!(matches!(
            Vault::open(&path, &key()),
            Err(VaultError::Damaged(..))
        ));
    }

    #[test]
    fn a_damaged_file_is_refused_and_left_alone() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("v");
        let greedy = r#"{"format":"graphtoken-keeper-vault","version":1,"kdf":{"name":"argon2id","m_kib":4294967295,"t":4294967295,"p":1,"salt":"AAAA"},"nonce":"","sealed":""}"#;
        std::fs::write(&path, greedy).unwrap();
        let e = Vault::open(&path, &VaultKey::Passphrase(Secret::new("x".into()))).unwrap_err();
        assert!(matches!(e, VaultError::Damaged(..)), "{e}");
        for junk in [
            "",
            "{}",
            "not json",
            r#"{"format":"graphtoken-keeper-vault","version":9,"kdf":{"name":"key"},"nonce":"","sealed":""}"#,
        ] {
            std::fs::write(&path, junk).unwrap();
            let e = Vault::open_to_change(&path, &key()).unwrap_err();
            assert!(matches!(e, VaultError::Damaged(..)), "{junk}: {e}");
            assert_eq!(std::fs::read_to_string(&path).unwrap(), junk);
        }
        // Flipped bytes in the sealed part: the key cannot open it.
        let mut v = Vault::open_to_change(&dir.path().join("w"), &key()).unwrap();
        v.contents.entries.push(entry());
        v.save().unwrap();
        drop(v);
        let text = std::fs::read_to_string(dir.path().join("w")).unwrap();
        let env: serde_json::Value = serde_json::from_str(&text).unwrap();
        let mut sealed = B64.decode(env["sealed"].as_str().unwrap()).unwrap();
        sealed[0] ^= 1;
        let text = text.replace(env["sealed"].as_str().unwrap(), &B64.encode(sealed));
        std::fs::write(dir.path().join("w"), &text).unwrap();
        assert!(matches!(
            Vault::open(&dir.path().join("w"), &key()),
            Err(VaultError::WrongKey(_))
        ));
    }

    #[test]
    fn keys_are_64_hex_digits() {
        assert!(VaultKey::from_hex(&VaultKey::new_hex().unwrap()).is_ok());
        assert!(VaultKey::from_hex("abc").is_err());
        assert!(VaultKey::from_hex(&"g".repeat(64)).is_err());
        assert!(VaultKey::from_hex(&"é".repeat(32)).is_err());
        assert!(VaultKey::from_hex(&"+f".repeat(32)).is_err());
    }
}
