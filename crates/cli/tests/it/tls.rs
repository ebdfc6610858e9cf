//! TLS on graphtoken's own port (`--tls-cert`, `--tls-key`), and `Secure` cookies over TLS or
//! behind a proxy that says so (issue #12).

use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::Arc;

use crate::harness::{fixture, Sandbox, Server};

/// A certificate for 127.0.0.1 and its key, written into the sandbox; the certificate's DER.
fn certificate(sb: &Sandbox) -> (std::path::PathBuf, std::path::PathBuf, Vec<u8>) {
    let key = rcgen::KeyPair::generate().unwrap_or_else(|e| panic!("{e}"));
    let params = rcgen::CertificateParams::new(vec!["127.0.0.1".to_string(), "localhost".into()])
        .unwrap_or_else(|e| panic!("{e}"));
    let cert = params.self_signed(&key).unwrap_or_else(|e| panic!("{e}"));
    let cert_file = sb.write("cert.pem", &cert.pem());
    let key_file = sb.write("key.pem", &key.serialize_pem());
    (cert_file, key_file, cert.der().to_vec())
}

/// Sends `request` over TLS to `addr`, trusting `cert`; the answer as text.
fn over_tls(addr: &str, cert: &[u8], request: &str) -> String {
    let mut roots = rustls::RootCertStore::empty();
    roots
        .add(rustls::pki_types::CertificateDer::from(cert.to_vec()))
        .unwrap_or_else(|e| panic!("{e}"));
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap_or_else(|e| panic!("{e}"))
        .with_root_certificates(roots)
        .with_no_client_auth();
    let name =
        rustls::pki_types::ServerName::try_from("127.0.0.1").unwrap_or_else(|e| panic!("{e}"));
    let mut conn =
        rustls::ClientConnection::new(Arc::new(config), name).unwrap_or_else(|e| panic!("{e}"));
    let mut sock = TcpStream::connect(addr).unwrap_or_else(|e| panic!("{e}"));
    let mut tls = rustls::Stream::new(&mut conn, &mut sock);
    tls.write_all(request.as_bytes())
        .unwrap_or_else(|e| panic!("{e}"));
    let mut answer = Vec::new();
    let _ = tls.read_to_end(&mut answer);
    String::from_utf8_lossy(&answer).to_string()
}

#[test]
fn https_is_served_with_the_given_certificate_and_its_cookies_are_secure() {
    let sb = Sandbox::new();
    let (cert, key, der) = certificate(&sb);
    let mut args = Server::args(&sb.db_url(), Some(&fixture("login.toml")));
    args.tls_cert = Some(cert);
    args.tls_key = Some(key);
    let s = Server::in_process_with(args, &sb).unwrap_or_else(|e| panic!("{e}"));
    let printed = s.stdout.join("\n");
    assert!(printed.contains("listening on https://"), "{printed}");
    let addr = s
        .base
        .trim_start_matches("http://")
        .trim_start_matches("https://")
        .to_string();
    let health = over_tls(
        &addr,
        &der,
        "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    );
    assert!(health.starts_with("HTTP/1.1 200"), "{health}");
    let dialog = over_tls(
        &addr,
        &der,
        "GET /dialog/oauth?client_id=1000000000000011&redirect_uri=https%3A%2F%2Fapp.test%2Fcb HTTP/1.1\r\n\
         Host: x\r\nConnection: close\r\n\r\n",
    );
    let cookie = dialog
        .lines()
        .find(|l| l.to_ascii_lowercase().starts_with("set-cookie:"))
        .unwrap_or_else(|| panic!("no cookie: {dialog}"));
    assert!(cookie.ends_with("; Secure"), "{cookie}");
    // Plain HTTP to the TLS port gets no answer.
    let mut plain = TcpStream::connect(&addr).unwrap_or_else(|e| panic!("{e}"));
    let _ = plain.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
    let mut got = Vec::new();
    let _ = plain.read_to_end(&mut got);
    assert!(!String::from_utf8_lossy(&got).contains("200 OK"));
}

#[test]
fn a_trusted_proxy_s_forwarded_proto_makes_cookies_secure_and_no_one_else_s_does() {
    let dialog =
        "/dialog/oauth?client_id=1000000000000011&redirect_uri=https%3A%2F%2Fapp.test%2Fcb";
    for (trusted, proto, secure) in [
        (true, Some("https"), true),
        (true, Some("http"), false),
        (true, None, false),
        (false, Some("https"), false),
    ] {
        let sb = Sandbox::new();
        let mut args = Server::args(&sb.db_url(), Some(&fixture("login.toml")));
        if trusted {
            args.trusted_proxies = vec![std::net::Ipv4Addr::LOCALHOST.into()];
        }
        let s = Server::in_process_with(args, &sb).unwrap_or_else(|e| panic!("{e}"));
        let r = match proto {
            Some(p) => s.get_with_header(dialog, "X-Forwarded-Proto", p),
            None => s.get(dialog),
        };
        let cookie = r.header("set-cookie").unwrap_or_default().to_string();
        assert!(!cookie.is_empty(), "{}", r.text);
        assert_eq!(
            cookie.ends_with("; Secure"),
            secure,
            "{trusted} {proto:?}: {cookie}"
        );
    }
}

#[test]
fn a_key_without_a_certificate_or_a_bad_file_is_refused_at_start() {
    let sb = Sandbox::new();
    let (cert, _, _) = certificate(&sb);
    let mut args = Server::args(&sb.db_url(), None);
    args.tls_cert = Some(cert.clone());
    args.tls_key = Some(sb.write("not-a-key.pem", "nothing here"));
    let refused = Server::in_process_with(args, &sb).err().unwrap_or_default();
    assert!(refused.contains("--tls-key"), "{refused}");
    let mut args = Server::args(&sb.db_url(), None);
    args.tls_cert = Some(cert);
    let refused = Server::in_process_with(args, &sb).err().unwrap_or_default();
    assert!(
        refused.contains("--tls-cert and --tls-key go together"),
        "{refused}"
    );
}

#[test]
fn callbacks_go_over_https_to_an_app_whose_authority_is_trusted() {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::{Duration, Instant};

    let sb = Sandbox::new();
    // The app's endpoint: HTTPS on loopback with a certificate of its own.
    let key = rcgen::KeyPair::generate().unwrap_or_else(|e| panic!("{e}"));
    let params = rcgen::CertificateParams::new(vec!["127.0.0.1".to_string()])
        .unwrap_or_else(|e| panic!("{e}"));
    let cert = params.self_signed(&key).unwrap_or_else(|e| panic!("{e}"));
    let ca_file = sb.write("app-ca.pem", &cert.pem());
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let server_config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap_or_else(|e| panic!("{e}"))
        .with_no_client_auth()
        .with_single_cert(
            vec![cert.der().clone()],
            rustls::pki_types::PrivateKeyDer::Pkcs8(key.serialize_der().into()),
        )
        .unwrap_or_else(|e| panic!("{e}"));
    let server_config = Arc::new(server_config);
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap_or_else(|e| panic!("{e}"));
    let hook = format!(
        "https://{}/hook",
        listener.local_addr().unwrap_or_else(|e| panic!("{e}"))
    );
    let posts = Arc::new(AtomicUsize::new(0));
    let counted = Arc::clone(&posts);
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let (config, counted) = (Arc::clone(&server_config), Arc::clone(&counted));
            std::thread::spawn(move || {
                let Ok(conn) = rustls::ServerConnection::new(config) else {
                    return;
                };
                let mut tls = rustls::StreamOwned::new(conn, stream);
                let mut buf = [0u8; 8192];
                let mut got = Vec::new();
                while let Ok(n) = tls.read(&mut buf) {
                    if n == 0 {
                        break;
                    }
                    got.extend_from_slice(&buf[..n]);
                    if String::from_utf8_lossy(&got).contains("signed_request=") {
                        break;
                    }
                }
                if String::from_utf8_lossy(&got).contains("signed_request=") {
                    counted.fetch_add(1, Ordering::SeqCst);
                }
                let _ = tls.write_all(
                    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}",
                );
                let _ = tls.flush();
            });
        }
    });
    let seed = sb.write(
        "hooked.toml",
        &format!(
            "[[apps]]\nkey = \"hooked\"\nname = \"Hooked\"\ndata_deletion_url = \"{hook}\"\n\
             [[users]]\nkey = \"dana\"\nname = \"Dana\"\n"
        ),
    );
    let mut args = Server::args(&sb.db_url(), Some(&seed));
    args.callback_ca_file = Some(ca_file);
    let s = Server::in_process_with(args, &sb).unwrap_or_else(|e| panic!("{e}"));
    let r = s.admin_post(
        "/_admin/users/dana/apps/hooked/data_deletion",
        serde_json::json!({}),
    );
    assert_eq!(r.status, 200, "{}", r.text);
    let start = Instant::now();
    while posts.load(Ordering::SeqCst) == 0 && start.elapsed() < Duration::from_secs(10) {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(
        posts.load(Ordering::SeqCst),
        1,
        "the https callback did not arrive"
    );
}
