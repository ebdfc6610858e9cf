//! Secrets sealed at rest: app secrets, client tokens and the cookie-signing key are kept in
//! the database encrypted (XChaCha20-Poly1305, RustCrypto) under a key kept outside it, so a
//! copy of the database alone reveals none of them. A sealed value is `sealed1:` and the
//! base64 of a random 24-byte nonce and the ciphertext; the app's id (or the setting's name) is
//! bound in as associated data, so a sealed secret cannot be moved to another app.

use base64::engine::general_purpose::STANDARD_NO_PAD;
use base64::Engine;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};

use crate::token::{self, RandomError};

const PREFIX: &str = "sealed1:";
const NONCE: usize = 24;

/// A key that seals and opens secrets.
pub struct Sealer {
    cipher: XChaCha20Poly1305,
}

impl std::fmt::Debug for Sealer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Sealer(..)")
    }
}

impl Sealer {
    /// The sealer of a key written as 64 hex digits (a key file's content, or
    /// `GRAPHTOKEN_SECRET_KEY`); surrounding whitespace does not count.
    pub fn from_hex(text: &str) -> Result<Sealer, String> {
        let text = text.trim();
        let bytes: Option<Vec<u8>> = (text.len() == 64)
            .then(|| {
                (0..32)
                    .map(|i| u8::from_str_radix(text.get(2 * i..2 * i + 2)?, 16).ok())
                    .collect()
            })
            .flatten();
        let key = bytes.ok_or("a secret key is 64 hex digits (32 bytes)")?;
        Ok(Sealer {
            cipher: XChaCha20Poly1305::new_from_slice(&key).map_err(|e| e.to_string())?,
        })
    }

    /// A new random key from the OS CSPRNG, as 64 hex digits.
    pub fn new_key() -> Result<String, RandomError> {
        Ok(token::hex(&token::random_bytes(32)?))
    }

    /// `plain` sealed, bound to `context` (the app id or setting name it belongs to).
    pub fn seal(&self, plain: &str, context: &str) -> Result<String, String> {
        let nonce = token::random_bytes(NONCE).map_err(|e| e.to_string())?;
        let payload = Payload {
            msg: plain.as_bytes(),
            aad: context.as_bytes(),
        };
        // Encryption fails only for messages far beyond any secret's size; an empty sealed value
        // would open to nothing, so that is refused rather than stored.
        let sealed = self
            .cipher
            .encrypt(XNonce::from_slice(&nonce), payload)
            .map_err(|_| "a secret too large to seal".to_string())?;
        let mut out = nonce;
        out.extend_from_slice(&sealed);
        Ok(format!("{PREFIX}{}", STANDARD_NO_PAD.encode(out)))
    }

    /// The secret a stored value holds: opened when sealed (with the same `context`), as it is
    /// when it predates sealing. `Err` when it was sealed under another key, or changed.
    pub fn open(&self, stored: &str, context: &str) -> Result<String, String> {
        let Some(body) = stored.strip_prefix(PREFIX) else {
            return Ok(stored.to_string());
        };
        let bytes = STANDARD_NO_PAD
            .decode(body)
            .map_err(|_| "a sealed secret is damaged".to_string())?;
        if bytes.len() < NONCE {
            return Err("a sealed secret is damaged".into());
        }
        let (nonce, sealed) = bytes.split_at(NONCE);
        let payload = Payload {
            msg: sealed,
            aad: context.as_bytes(),
        };
        let plain = self
            .cipher
            .decrypt(XNonce::from_slice(nonce), payload)
            .map_err(|_| "a secret is sealed under another key (or was changed)".to_string())?;
        String::from_utf8(plain).map_err(|_| "a sealed secret is damaged".to_string())
    }
}

/// Whether a stored value is sealed.
pub fn is_sealed(stored: &str) -> bool {
    stored.starts_with(PREFIX)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sealer() -> Sealer {
        Sealer::from_hex(&"ab".repeat(32)).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn sealed_secrets_open_with_their_key_and_context_only() {
        let s = sealer();
        let sealed = s
            .seal("acme-secret", "app:1")
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(is_sealed(&sealed) && !sealed.contains("acme-secret"));
        assert_ne!(
            sealed,
            s.seal("acme-secret", "app:1").unwrap_or_default(),
            "random nonces"
        );
        assert_eq!(s.open(&sealed, "app:1").as_deref(), Ok("acme-secret"));
        assert!(s.open(&sealed, "app:2").is_err(), "bound to its app");
        let other = Sealer::from_hex(&"cd".repeat(32)).unwrap_or_else(|e| panic!("{e}"));
        assert!(other
            .open(&sealed, "app:1")
            .unwrap_err()
            .contains("another key"));
        assert_eq!(
            s.open("plain", "app:1").as_deref(),
            Ok("plain"),
            "from before sealing"
        );
        assert!(s
            .open("sealed1:!!", "app:1")
            .unwrap_err()
            .contains("damaged"));
        assert!(Sealer::from_hex("short").is_err());
        assert_eq!(format!("{s:?}"), "Sealer(..)");
    }
}

/// Property tests (see `fields::props`): any key file's text is a key or refused; any stored
/// value opens or is refused, never a panic.
#[cfg(test)]
mod props {
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn any_key_text_is_a_key_or_refused(text in "\\PC{0,100}", hex in "[0-9a-fA-F]{64}") {
            let _ = super::Sealer::from_hex(&text);
            prop_assert!(super::Sealer::from_hex(&hex).is_ok());
        }

        #[test]
        fn any_stored_value_opens_or_is_refused(stored in "(sealed1:)?[A-Za-z0-9+/=!]{0,120}") {
            let s = super::Sealer::from_hex(&"ab".repeat(32)).map_err(TestCaseError::fail)?;
            let _ = s.open(&stored, "app:1");
        }
    }
}
