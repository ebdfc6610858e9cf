//! `signed_request` (spec §7): `base64url(HMAC-SHA256(app secret, payload part)) + "." +
//! base64url(JSON payload)`, unpadded; the HMAC covers the still-encoded payload.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hmac::{Hmac, Mac};
use serde_json::Value;
use sha2::Sha256;

use crate::token;

fn mac(secret: &str, payload_part: &str) -> Vec<u8> {
    // HMAC takes keys of any length: `new_from_slice` cannot fail; an empty MAC never verifies.
    match <Hmac<Sha256> as Mac>::new_from_slice(secret.as_bytes()) {
        Ok(mut m) => {
            m.update(payload_part.as_bytes());
            m.finalize().into_bytes().to_vec()
        }
        Err(_) => Vec::new(),
    }
}

/// Signs a JSON payload (which should carry `"algorithm": "HMAC-SHA256"`).
pub fn encode(secret: &str, payload: &Value) -> String {
    let payload_part = URL_SAFE_NO_PAD.encode(payload.to_string());
    let sig = URL_SAFE_NO_PAD.encode(mac(secret, &payload_part));
    format!("{sig}.{payload_part}")
}

/// The payload of a well-signed request, or `None` (bad form, algorithm or signature).
pub fn parse(signed: &str, secret: &str) -> Option<Value> {
    let (sig, payload_part) = signed.split_once('.')?;
    let sig = URL_SAFE_NO_PAD.decode(sig.trim_end_matches('=')).ok()?;
    let payload: Value = serde_json::from_slice(
        &URL_SAFE_NO_PAD
            .decode(payload_part.trim_end_matches('='))
            .ok()?,
    )
    .ok()?;
    if !payload["algorithm"]
        .as_str()?
        .eq_ignore_ascii_case("HMAC-SHA256")
    {
        return None;
    }
    let expected = mac(secret, payload_part);
    // Constant time, as for every secret comparison.
    let equal = token::secrets_equal(&token::hex(&sig), &token::hex(&expected));
    equal.then_some(payload)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// The spec's test vector (secret `key`).
    const VECTOR: &str = "Mf_s6nTb38UYqioBmPqu0Ewm9souPZB9I2fIGwV729U.eyJ1c2VyX2lkIjoiMCIsImFsZ29yaXRobSI6IkhNQUMtU0hBMjU2IiwiaXNzdWVkX2F0IjoxNjI0MjQ0MTU2fQ";

    #[test]
    fn the_spec_vector_verifies() {
        let p = parse(VECTOR, "key").unwrap();
        assert_eq!(
            p,
            json!({"user_id": "0", "algorithm": "HMAC-SHA256", "issued_at": 1_624_244_156})
        );
        assert_eq!(parse(VECTOR, "other"), None);
        assert_eq!(parse("nodot", "key"), None);
    }

    #[test]
    fn encode_matches_the_vector_and_round_trips() {
        // serde_json keeps insertion order (preserve_order), as the vector's JSON has it.
        let payload =
            json!({"user_id": "0", "algorithm": "HMAC-SHA256", "issued_at": 1_624_244_156});
        assert_eq!(encode("key", &payload), VECTOR);
        let s = encode(
            "s3cret",
            &json!({"algorithm": "HMAC-SHA256", "user_id": "42"}),
        );
        assert_eq!(parse(&s, "s3cret").unwrap()["user_id"], "42");
        let bad = json!({"algorithm": "none", "user_id": "42"});
        assert_eq!(parse(&encode("k", &bad), "k"), None);
    }
}

/// Property tests (see `fields::props`): any signed request is read or refused; what is
/// encoded reads back, and only with its secret.
#[cfg(test)]
mod props {
    use proptest::prelude::*;
    use serde_json::json;

    proptest! {
        #[test]
        fn any_text_is_read_or_refused(s in "\\PC{0,300}", secret in "\\PC{0,40}") {
            let _ = super::parse(&s, &secret);
        }

        #[test]
        fn encoded_reads_back_with_its_secret_only(user in "\\PC{0,40}", secret in "[a-z0-9]{1,40}") {
            let payload = json!({"algorithm": "HMAC-SHA256", "user_id": user});
            let signed = super::encode(&secret, &payload);
            prop_assert_eq!(super::parse(&signed, &secret), Some(payload));
            let other = format!("{secret}x");
            prop_assert_eq!(super::parse(&signed, &other), None);
        }
    }
}
