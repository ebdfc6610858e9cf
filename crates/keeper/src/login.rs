//! Getting the person's token: device login (the person types a code on another screen), or
//! a browser login back to a loopback address with PKCE.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::time::{Duration, Instant};

use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64URL;
use base64::Engine;
use sha2::Digest;

use crate::graph::{App, DeviceStart, DeviceStatus, Failure, Graph};
use crate::work::KeeperError;
use crate::Secret;

/// Device login: asks for a code with the app's client token, hands it to `show` (the person
/// types `user_code` at `verification_uri`), and polls at the interval given until they answer
/// or the code expires.
pub fn device(
    graph: &Graph,
    app_id: &str,
    client_token: &Secret,
    scope: &str,
    show: impl FnOnce(&DeviceStart),
) -> Result<Secret, KeeperError> {
    let start = graph.device_login(app_id, client_token.expose(), scope)?;
    show(&start);
    let mut interval = Duration::from_secs(start.interval.clamp(1, 60) as u64);
    let deadline = Instant::now() + Duration::from_secs(start.expires_in.clamp(1, 3_600) as u64);
    loop {
        std::thread::sleep(interval);
        match graph.device_status(app_id, client_token.expose(), start.code.expose())? {
            DeviceStatus::Done(token) => return Ok(token),
            DeviceStatus::SlowDown => interval += Duration::from_secs(1),
            DeviceStatus::Pending => {}
        }
        if Instant::now() > deadline {
            return Err(KeeperError::Refused(
                "the device code expired before the person answered: start again".into(),
            ));
        }
    }
}

/// A browser login: the dialog URL is handed to `show`; the person logs in and consents; the
/// dialog sends the browser back to `http://127.0.0.1:{port}/callback`, where the keeper
/// waits (up to `wait`), checks `state`, and redeems the code with PKCE's verifier and the app
/// secret. The app's redirect URIs must list that address.
pub fn browser(
    graph: &Graph,
    app: &App,
    scope: &str,
    port: u16,
    wait: Duration,
    show: impl FnOnce(&str),
) -> Result<Secret, KeeperError> {
    let listener = TcpListener::bind(("127.0.0.1", port)).map_err(|e| {
        KeeperError::Refused(format!(
            "cannot listen on 127.0.0.1:{port} for the redirect: {e}"
        ))
    })?;
    let redirect = redirect_uri(port);
    let state = random_text(16)?;
    let verifier = random_text(32)?;
    let challenge = B64URL.encode(sha2::Sha256::digest(verifier.as_bytes()));
    let query: String = form_urlencoded::Serializer::new(String::new())
        .append_pair("client_id", &app.id)
        .append_pair("redirect_uri", &redirect)
        .append_pair("state", &state)
        .append_pair("scope", scope)
        .append_pair("response_type", "code")
        .append_pair("code_challenge", &challenge)
        .append_pair("code_challenge_method", "S256")
        .finish();
    show(&format!(
        "{}/{}/dialog/oauth?{query}",
        graph.dialog_base(),
        graph.version()
    ));
    listener
        .set_nonblocking(true)
        .map_err(|e| KeeperError::Refused(format!("loopback listener: {e}")))?;
    let deadline = Instant::now() + wait;
    loop {
        match listener.accept() {
            Ok((stream, _)) => {
                if let Some(answer) = callback(stream, &state) {
                    let code = answer?;
                    return Ok(graph.redeem_code(app, &code, &redirect, &verifier)?);
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                if Instant::now() > deadline {
                    return Err(KeeperError::Refused(
                        "no answer came back from the login dialog in time: start again".into(),
                    ));
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            Err(e) => return Err(KeeperError::Refused(format!("loopback listener: {e}"))),
        }
    }
}

/// The redirect URI a browser login on `port` uses (list it in the app's settings).
pub fn redirect_uri(port: u16) -> String {
    format!("http://127.0.0.1:{port}/callback")
}

/// Reads one request on the loopback listener. `None`: not the callback (a favicon, a probe),
/// keep waiting; otherwise the code, or why the login did not happen.
///
/// Hand-written rather than a server crate: one GET on loopback, its request line read and a
/// fixed page answered.
fn callback(stream: TcpStream, state: &str) -> Option<Result<String, KeeperError>> {
    let _ = stream.set_nonblocking(false);
    let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
    let mut reader = BufReader::new(stream.try_clone().ok()?);
    let line = request_line(&mut reader)?;
    let target = line.split_whitespace().nth(1)?.to_string();
    let (path, query) = target.split_once('?').unwrap_or((&target, ""));
    let mut out = stream;
    if path != "/callback" {
        let _ = out
            .write_all(b"HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\nconnection: close\r\n\r\n");
        return None;
    }
    let params: Vec<(String, String)> = form_urlencoded::parse(query.as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    let get = |k: &str| params.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
    let result = if get("state").as_deref() != Some(state) {
        Err(KeeperError::Refused(
            "the login came back with another state: it was not this login (start again)".into(),
        ))
    } else if let Some(code) = get("code") {
        Ok(code)
    } else {
        let why = get("error_description")
            .or_else(|| get("error_message"))
            .or_else(|| get("error"))
            .unwrap_or_else(|| "no code".into());
        Err(KeeperError::Refused(format!(
            "the login did not happen: {why}"
        )))
    };
    let page = match &result {
        Ok(_) => "graphtoken keeper: logged in. You can close this window.",
        Err(_) => "graphtoken keeper: the login did not happen. See the terminal.",
    };
    let _ = write!(
        out,
        "HTTP/1.1 200 OK\r\ncontent-type: text/plain; charset=utf-8\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{page}",
        page.len()
    );
    Some(result)
}

/// The request line, at most 8 KiB.
fn request_line(reader: &mut impl BufRead) -> Option<String> {
    let mut line = String::new();
    reader
        .by_ref()
        .take(8 * 1024)
        .read_line(&mut line)
        .ok()
        .filter(|n| *n > 0)?;
    Some(line)
}

/// `n` random bytes from the OS, URL-safe.
fn random_text(n: usize) -> Result<String, KeeperError> {
    let mut b = vec![0u8; n];
    getrandom::getrandom(&mut b)
        .map_err(|e| KeeperError::Graph(Failure::Network(format!("random: {e}"))))?;
    Ok(B64URL.encode(b))
}
