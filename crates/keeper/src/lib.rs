//! The token keeper: the documents' best practices for Page integrations as a library.
//!
//! Get a long-lived user token, derive Page tokens that never expire, keep them in a sealed
//! vault ([`vault`]), check their expiry and data-access expiry before they bite
//! ([`status`]), recognise each invalidation and say what to do ([`explain`]), derive them
//! again ([`rotate`]) and revoke what is no longer needed ([`revoke`]). It speaks to any Graph
//! base URL: `https://graph.facebook.com`, or a graphtoken server, whose virtual clock shows
//! every warning on demand.
//!
//! A service asks [`page_token`] for a Page's token and gets one that works, or a typed error
//! that says why not.

pub mod assess;
pub mod explain;
pub mod graph;
pub mod login;
pub mod vault;
mod work;

pub use assess::{assess, Holder, Level, Verdict};
pub use explain::{explain, Diagnosis};
pub use graph::{App, Failure, Graph, GraphError, Inspection};
pub use vault::{Contents, Entry, KeptPage, Vault, VaultError, VaultKey};
pub use work::*;

use serde::{Deserialize, Serialize};

/// A token or secret: never in `Debug` output, read only through [`Secret::expose`].
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    pub fn new(s: String) -> Secret {
        Secret(s)
    }
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("<redacted>")
    }
}

#[cfg(test)]
mod tests {
    /// The use docs/keeper.md shows a service, kept compiling.
    #[allow(dead_code)]
    fn a_service_asks_for_a_page_token(path: &std::path::Path, key: &str) -> Result<(), String> {
        use crate::{page_token, KeeperError, Vault, VaultKey};
        let vault = Vault::open(path, &VaultKey::from_hex(key).map_err(|e| e.to_string())?)
            .map_err(|e| e.to_string())?;
        match page_token(&vault, "200000000000001", None) {
            Ok(t) => {
                let _call = (&t.graph, t.token.expose(), &t.proof);
                Ok(())
            }
            Err(KeeperError::Broken { verdict, .. }) => {
                Err(format!("{} ({:?})", verdict.words, verdict.fix))
            }
            Err(e) => Err(e.to_string()),
        }
    }

    #[test]
    fn secrets_stay_out_of_debug_output() {
        let s = super::Secret::new("EAAsecret".into());
        assert_eq!(format!("{s:?}"), "<redacted>");
        let app = super::App {
            id: "1".into(),
            secret: super::Secret::new("shh".into()),
        };
        assert!(!format!("{app:?}").contains("shh"));
        // appsecret_proof: HMAC-SHA256 of the token keyed with the secret (the value core checks against).
        let app = super::App {
            id: "1".into(),
            secret: super::Secret::new("xyz789".into()),
        };
        assert_eq!(
            app.proof("abc123"),
            "4dad02ff1693df832f9c183fe400fc4f601360be06514acb4a73edb783eec345"
        );
    }
}
