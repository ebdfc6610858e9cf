//! Passwords: argon2id hashes in PHC string form. Hashing is slow on purpose (tens of
//! milliseconds): request handlers must run it on a blocking thread. Seeding calls it directly,
//! once per person, before the server takes requests.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;

use crate::token::{random_bytes, RandomError};

pub fn hash(password: &str) -> Result<String, RandomError> {
    let salt = SaltString::encode_b64(&random_bytes(16)?).map_err(|_| RandomError)?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|_| RandomError)
}

/// True when `password` matches the stored hash (false for a malformed hash).
pub fn verify(password: &str, stored: &str) -> bool {
    PasswordHash::new(stored)
        .map(|h| {
            Argon2::default()
                .verify_password(password.as_bytes(), &h)
                .is_ok()
        })
        .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    #[test]
    fn round_trip() {
        let h = super::hash("hunter2").unwrap();
        assert!(h.starts_with("$argon2id$"));
        assert!(super::verify("hunter2", &h));
        assert!(!super::verify("hunter3", &h));
        assert!(!super::verify("hunter2", "not a hash"));
    }
}
