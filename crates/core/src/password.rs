//! Passwords: argon2id hashes in PHC string form. Hashing is slow on purpose (tens of
//! milliseconds): request handlers must run it on a blocking thread. Seeding calls it directly,
//! once per person, before the server takes requests.
//!
//! A few hashes' memory (19 MiB each with the OWASP parameters) is kept for the next ones: the
//! `argon2` crate's own entry points allocate it zeroed each time, and the zeroing was 9% of the
//! server's CPU under a load of sign-ins (docs/benchmarks.md, "Sign-ins"). At most
//! [`KEPT_AT_MOST`] are kept, whichever threads hash: the server runs one hash per core at a
//! time, on a blocking pool whose threads come and go.

use std::sync::Mutex;

use argon2::password_hash::{Output, PasswordHash, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, Version};

use crate::token::{random_bytes, RandomError};

/// A kept hash memory's size at most, in 1 KiB blocks: 64 MiB. A stored hash asking for more
/// gets its memory for that hash only.
const KEPT_BLOCKS: usize = 64 * 1024;
/// How many hash memories are kept at most (19 MiB each for the OWASP parameters).
const KEPT_AT_MOST: usize = 4;

/// Hash memories between hashes: taken by a hash, given back after it.
static KEPT: Mutex<Vec<Vec<Block>>> = Mutex::new(Vec::new());

/// Runs `argon2` over `password` and `salt` into `out`, in kept memory when there is some.
fn fill(argon2: &Argon2, password: &[u8], salt: &[u8], out: &mut [u8]) -> argon2::Result<()> {
    let need = argon2.params().block_count();
    if need > KEPT_BLOCKS {
        return argon2.hash_password_into(password, salt, out);
    }
    let mut blocks = KEPT
        .lock()
        .ok()
        .and_then(|mut k| k.pop())
        .unwrap_or_default();
    if blocks.len() < need {
        blocks.resize(need, Block::default());
    }
    let hashed = argon2.hash_password_into_with_memory(password, salt, out, &mut blocks[..need]);
    if let Ok(mut kept) = KEPT.lock() {
        if kept.len() < KEPT_AT_MOST {
            kept.push(blocks);
        }
    }
    hashed
}

/// An argon2id hash of `password` with the OWASP parameters (the `argon2` crate's defaults:
/// 19 MiB, 2 passes, 1 lane) and a fresh 16-byte salt.
pub fn hash(password: &str) -> Result<String, RandomError> {
    let salt = SaltString::encode_b64(&random_bytes(16)?).map_err(|_| RandomError)?;
    let argon2 = Argon2::default();
    let mut salt_bytes = [0u8; 64];
    let salt_bytes = salt.decode_b64(&mut salt_bytes).map_err(|_| RandomError)?;
    let mut out = [0u8; Params::DEFAULT_OUTPUT_LEN];
    fill(&argon2, password.as_bytes(), salt_bytes, &mut out).map_err(|_| RandomError)?;
    let phc = PasswordHash {
        algorithm: Algorithm::Argon2id.ident(),
        version: Some(Version::default().into()),
        params: argon2.params().try_into().map_err(|_| RandomError)?,
        salt: Some(salt.as_salt()),
        hash: Some(Output::new(&out).map_err(|_| RandomError)?),
    };
    Ok(phc.to_string())
}

/// True when `password` matches the stored hash, compared in constant time; false for a
/// malformed hash. The algorithm, version and parameters are the stored hash's own.
pub fn verify(password: &str, stored: &str) -> bool {
    let Ok(phc) = PasswordHash::new(stored) else {
        return false;
    };
    let (Some(salt), Some(expected)) = (phc.salt, phc.hash) else {
        return false;
    };
    let (Ok(algorithm), Ok(params)) = (Algorithm::try_from(phc.algorithm), Params::try_from(&phc))
    else {
        return false;
    };
    let version = match phc.version.map(Version::try_from).transpose() {
        Ok(v) => v.unwrap_or_default(),
        Err(_) => return false,
    };
    let mut salt_bytes = [0u8; 64];
    let Ok(salt_bytes) = salt.decode_b64(&mut salt_bytes) else {
        return false;
    };
    let mut out = [0u8; Output::MAX_LENGTH];
    let Some(out) = out.get_mut(..expected.len()) else {
        return false;
    };
    let argon2 = Argon2::new(algorithm, version, params);
    if fill(&argon2, password.as_bytes(), salt_bytes, out).is_err() {
        return false;
    }
    // `Output`'s equality is constant-time.
    Output::new(out).is_ok_and(|computed| computed == expected)
}

#[cfg(test)]
mod tests {
    use argon2::password_hash::{PasswordHasher, PasswordVerifier, SaltString};
    use argon2::{Algorithm, Argon2, Params, Version};

    #[test]
    fn round_trip() {
        let h = super::hash("hunter2").unwrap();
        assert!(h.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{h}");
        assert!(super::verify("hunter2", &h));
        assert!(!super::verify("hunter3", &h));
        assert!(!super::verify("hunter2", "not a hash"));
        assert!(!super::verify("hunter2", ""));
    }

    /// The hashes are the `argon2` crate's, both ways: a hash it made verifies here, and one
    /// made here verifies there.
    #[test]
    fn hashes_are_those_of_the_argon2_crate() {
        let salt = SaltString::from_b64("c29tZXNhbHRzb21lc2FsdA").unwrap();
        let theirs = Argon2::default()
            .hash_password(b"correct horse", &salt)
            .unwrap()
            .to_string();
        assert!(super::verify("correct horse", &theirs));
        assert!(!super::verify("correct horsf", &theirs));

        let ours = super::hash("battery staple").unwrap();
        let parsed = argon2::PasswordHash::new(&ours).unwrap();
        assert!(Argon2::default()
            .verify_password(b"battery staple", &parsed)
            .is_ok());
        assert!(Argon2::default()
            .verify_password(b"battery stapler", &parsed)
            .is_err());
    }

    /// A stored hash's own parameters are used, whatever the memory kept from the hashes before:
    /// larger, then smaller, then another algorithm and output length.
    #[test]
    fn each_hash_is_checked_with_its_own_parameters() {
        let salt = SaltString::from_b64("YW5vdGhlcnNhbHR2YWx1ZQ").unwrap();
        let made = |alg, version, m, t, len| {
            let params = Params::new(m, t, 1, Some(len)).unwrap();
            Argon2::new(alg, version, params)
                .hash_password(b"pw", &salt)
                .unwrap()
                .to_string()
        };
        let big = made(Algorithm::Argon2id, Version::V0x13, 32 * 1024, 1, 32);
        let small = made(Algorithm::Argon2id, Version::V0x13, 1024, 3, 32);
        let other = made(Algorithm::Argon2i, Version::V0x13, 2048, 2, 16);
        let older = made(Algorithm::Argon2id, Version::V0x10, 1024, 1, 32);
        for h in [&big, &small, &other, &older, &big, &small] {
            assert!(super::verify("pw", h), "{h}");
            assert!(!super::verify("pW", h), "{h}");
        }
        // A hash whose output was cut short is refused, not compared on a prefix.
        let cut = &big[..big.len() - 4];
        assert!(!super::verify("pw", cut));
        // More than the memory kept: still checked (on its own allocation).
        let huge = made(Algorithm::Argon2id, Version::V0x13, 65 * 1024, 1, 32);
        assert!(super::verify("pw", &huge));
        assert!(!super::verify("pW", &huge));
    }

    /// However many threads hash at once, no more than a few memories are kept.
    #[test]
    fn a_few_memories_are_kept_at_most() {
        let h = super::hash("many").unwrap();
        std::thread::scope(|s| {
            for _ in 0..8 {
                s.spawn(|| assert!(super::verify("many", &h)));
            }
        });
        let kept = super::KEPT.lock().unwrap();
        assert!(
            !kept.is_empty() && kept.len() <= super::KEPT_AT_MOST,
            "{}",
            kept.len()
        );
    }
}
