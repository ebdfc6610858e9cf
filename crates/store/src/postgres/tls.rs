//! TLS to PostgreSQL, with libpq's meaning of `sslmode` (rustls, on ring):
//!
//! | `sslmode` | encrypted | server certificate checked |
//! |---|---|---|
//! | `disable` | never | — |
//! | `prefer` (the default) | when the server offers it | no |
//! | `require` | always | no (against `sslrootcert`'s authorities when one is given) |
//! | `verify-ca` | always | signed by an authority of `sslrootcert` |
//! | `verify-full` | always | that, and issued for the host connected to |
//!
//! `sslrootcert` is a PEM file of authorities, or `system` for the web's (Mozilla's list). As in
//! libpq, `system` goes only with `verify-full` (any public certificate would pass a check of
//! its authority alone) and is `verify-full` when no mode is given; a `verify-*` mode needs an
//! `sslrootcert`. Only `verify-full` stops someone on the path from posing as the database:
//! use it across any network you do not trust.

use std::sync::Arc;

use graphtoken_core::store::{StoreError, StoreResult};
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::WebPkiServerVerifier;
use rustls::crypto::{verify_tls12_signature, verify_tls13_signature, CryptoProvider};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{
    CertificateError, ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme,
};
use tokio_postgres::config::SslMode;
use tokio_postgres_rustls::MakeRustlsConnect;

/// How much of the server's certificate is checked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Check {
    Nothing,
    Authority,
    AuthorityAndHost,
}

/// A URL's TLS settings, taken out of it (tokio-postgres knows only `disable`, `prefer` and
/// `require`, and no `sslrootcert`).
#[derive(Debug)]
pub(crate) struct Tls {
    /// What tokio-postgres is told.
    pub(crate) mode: SslMode,
    check: Check,
    roots: Option<String>,
}

/// Splits `url` into the URL tokio-postgres reads and its TLS settings.
pub(crate) fn split(url: &str) -> StoreResult<(String, Tls)> {
    let (head, query) = match url.split_once('?') {
        Some((h, q)) => (h, q),
        None => (url, ""),
    };
    let (mut mode, mut roots, mut rest) = (None, None, Vec::new());
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        // Percent-decoded as tokio-postgres decodes the rest (a `+` stays a `+`).
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        let value = percent_encoding::percent_decode_str(value)
            .decode_utf8_lossy()
            .into_owned();
        match key {
            "sslmode" => mode = Some(value),
            "sslrootcert" => roots = Some(value),
            _ => rest.push(pair),
        }
    }
    let system = roots.as_deref() == Some("system");
    let default_mode = if system { "verify-full" } else { "prefer" };
    let (mode, check) = match mode.as_deref().unwrap_or(default_mode) {
        "disable" => (SslMode::Disable, Check::Nothing),
        "prefer" => (SslMode::Prefer, Check::Nothing),
        "require" if roots.is_some() => (SslMode::Require, Check::Authority),
        "require" => (SslMode::Require, Check::Nothing),
        "verify-ca" => (SslMode::Require, Check::Authority),
        "verify-full" => (SslMode::Require, Check::AuthorityAndHost),
        other => {
            return Err(StoreError::new(format!(
                "postgres: sslmode={other} is not supported: use disable, prefer, require, \
                 verify-ca or verify-full"
            )))
        }
    };
    if system && check != Check::AuthorityAndHost {
        return Err(StoreError::new(
            "postgres: sslrootcert=system needs sslmode=verify-full (any public certificate \
             would pass a check of its authority alone)",
        ));
    }
    if check != Check::Nothing && roots.is_none() {
        return Err(StoreError::new(
            "postgres: sslmode=verify-ca and verify-full need sslrootcert=FILE (the PEM file \
             of the database's certificate authority), or sslrootcert=system with verify-full",
        ));
    }
    let url = if rest.is_empty() {
        head.to_string()
    } else {
        format!("{head}?{}", rest.join("&"))
    };
    Ok((url, Tls { mode, check, roots }))
}

impl Tls {
    /// The connector for these settings.
    pub(crate) fn connector(&self) -> StoreResult<MakeRustlsConnect> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let builder = ClientConfig::builder_with_provider(Arc::clone(&provider))
            .with_safe_default_protocol_versions()
            .map_err(|e| StoreError::new(format!("postgres: setting up TLS: {e}")))?;
        let authority = match self.check {
            Check::Nothing => None,
            Check::Authority | Check::AuthorityAndHost => Some(
                WebPkiServerVerifier::builder_with_provider(
                    Arc::new(self.authorities()?),
                    Arc::clone(&provider),
                )
                .build()
                .map_err(|e| StoreError::new(format!("postgres: setting up TLS: {e}")))?,
            ),
        };
        let verifier = Arc::new(Checker {
            provider,
            authority,
            host: self.check == Check::AuthorityAndHost,
        });
        let config = builder
            .dangerous()
            .with_custom_certificate_verifier(verifier)
            .with_no_client_auth();
        Ok(MakeRustlsConnect::new(config))
    }

    /// The authorities a server certificate must come from.
    fn authorities(&self) -> StoreResult<RootCertStore> {
        let mut roots = RootCertStore::empty();
        match self.roots.as_deref() {
            // `split` lets no mode that checks certificates through without one.
            None | Some("system") => roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned()),
            Some(file) => {
                let bad = |e: &dyn std::fmt::Display| {
                    StoreError::new(format!("postgres: sslrootcert {file}: {e}"))
                };
                for cert in CertificateDer::pem_file_iter(file).map_err(|e| bad(&e))? {
                    roots.add(cert.map_err(|e| bad(&e))?).map_err(|e| bad(&e))?;
                }
                if roots.is_empty() {
                    return Err(bad(&"no certificate in the file"));
                }
            }
        }
        Ok(roots)
    }
}

/// Checks the server's certificate as far as the mode asks: not at all (libpq's `prefer` and
/// `require`), its authority (`verify-ca`), or that and its host name (`verify-full`). That
/// the server holds the certificate's key is always checked.
#[derive(Debug)]
struct Checker {
    provider: Arc<CryptoProvider>,
    authority: Option<Arc<WebPkiServerVerifier>>,
    host: bool,
}

impl ServerCertVerifier for Checker {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let Some(authority) = &self.authority else {
            return Ok(ServerCertVerified::assertion());
        };
        match authority.verify_server_cert(end_entity, intermediates, server_name, ocsp, now) {
            Err(rustls::Error::InvalidCertificate(
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
            )) if !self.host => Ok(ServerCertVerified::assertion()),
            other => other,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        let algorithms = &self.provider.signature_verification_algorithms;
        verify_tls12_signature(message, cert, dss, algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        let algorithms = &self.provider.signature_verification_algorithms;
        verify_tls13_signature(message, cert, dss, algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tls_settings_are_taken_out_of_the_url() {
        let (url, tls) = split(
            "postgres://u@h/db?sslmode=verify-full&sslrootcert=%2Fetc%2Fca.pem&application_name=x",
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(url, "postgres://u@h/db?application_name=x");
        assert_eq!(
            (tls.mode, tls.check),
            (SslMode::Require, Check::AuthorityAndHost)
        );
        assert_eq!(tls.roots.as_deref(), Some("/etc/ca.pem"));

        let (url, tls) = split("postgres://u@h/db").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(url, "postgres://u@h/db");
        assert_eq!((tls.mode, tls.check), (SslMode::Prefer, Check::Nothing));
        let (_, tls) = split("postgres://u@h/db?sslmode=require&sslrootcert=ca.pem")
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(tls.check, Check::Authority);
        let e = split("postgres://u@h/db?sslmode=allow")
            .err()
            .map(|e| e.message);
        assert!(e
            .unwrap_or_default()
            .contains("sslmode=allow is not supported"));
        // A `+` is a `+`, as tokio-postgres reads the rest of the URL.
        let (_, tls) = split("postgres://u@h/db?sslmode=verify-ca&sslrootcert=/etc/ca+x.pem")
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(tls.roots.as_deref(), Some("/etc/ca+x.pem"));
    }

    #[test]
    fn the_web_s_authorities_go_only_with_a_host_check() {
        let (_, tls) =
            split("postgres://u@h/db?sslrootcert=system").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            (tls.mode, tls.check),
            (SslMode::Require, Check::AuthorityAndHost)
        );
        for url in [
            "postgres://u@h/db?sslmode=verify-ca&sslrootcert=system",
            "postgres://u@h/db?sslmode=require&sslrootcert=system",
        ] {
            let e = split(url).err().map(|e| e.message).unwrap_or_default();
            assert!(
                e.contains("sslrootcert=system needs sslmode=verify-full"),
                "{url}: {e}"
            );
        }
        for url in [
            "postgres://u@h/db?sslmode=verify-ca",
            "postgres://u@h/db?sslmode=verify-full",
        ] {
            let e = split(url).err().map(|e| e.message).unwrap_or_default();
            assert!(e.contains("need sslrootcert"), "{url}: {e}");
        }
    }

    #[test]
    fn a_missing_root_file_is_named() {
        let (_, tls) = split("postgres://u@h/db?sslmode=verify-ca&sslrootcert=/nonexistent/ca.pem")
            .unwrap_or_else(|e| panic!("{e}"));
        let e = tls.connector().err().map(|e| e.message).unwrap_or_default();
        assert!(e.contains("sslrootcert /nonexistent/ca.pem"), "{e}");
    }
}
