//! The test command's PostgreSQL, for the tests of many instances and of a database lost under
//! a running server.

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::os::unix::net::UnixStream;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

/// A new database on the test command's PostgreSQL; without one, the test says so and passes
/// (unless `GRAPHTOKEN_REQUIRE_POSTGRES` is set, as the test command does: then it fails).
pub fn shared_database() -> Option<String> {
    let Ok(base) = std::env::var("GRAPHTOKEN_TEST_POSTGRES") else {
        assert!(
            std::env::var_os("GRAPHTOKEN_REQUIRE_POSTGRES").is_none(),
            "GRAPHTOKEN_REQUIRE_POSTGRES is set but GRAPHTOKEN_TEST_POSTGRES is not"
        );
        eprintln!("no PostgreSQL: run under scripts/with-postgres to test it");
        return None;
    };
    Some(
        graphtoken_store::conformance::fresh_postgres_database(&base)
            .unwrap_or_else(|e| panic!("{e}")),
    )
}

/// A TCP port in front of the test PostgreSQL's Unix socket that can be cut: every connection
/// through it closed and new ones refused, as when the database is lost, and then restored.
pub struct Cuttable {
    port: u16,
    cut: Arc<AtomicBool>,
    open: Arc<Mutex<Vec<TcpStream>>>,
}

impl Cuttable {
    /// In front of the server that `db` (a `?host=/socket/dir` URL of [`shared_database`])
    /// names; and the same database's URL through it.
    pub fn before(db: &str) -> (Cuttable, String) {
        let (head, query) = db.split_once('?').unwrap_or((db, ""));
        let dir = query
            .split('&')
            .find_map(|p| p.strip_prefix("host="))
            .unwrap_or_else(|| panic!("no socket directory in {db}"));
        let name = head.rsplit('/').next().unwrap_or_default();
        // The socket's name carries the server's port.
        let port = head
            .rsplit_once('@')
            .map_or(head, |(_, h)| h)
            .split('/')
            .next()
            .and_then(|h| h.rsplit_once(':'))
            .map_or("5432", |(_, p)| p);
        let socket = PathBuf::from(dir).join(format!(".s.PGSQL.{port}"));
        let listener = TcpListener::bind("127.0.0.1:0").unwrap_or_else(|e| panic!("{e}"));
        let port = listener.local_addr().map(|a| a.port()).unwrap_or_default();
        let c = Cuttable {
            port,
            cut: Arc::default(),
            open: Arc::default(),
        };
        let (cut, open) = (Arc::clone(&c.cut), Arc::clone(&c.open));
        std::thread::spawn(move || {
            for client in listener.incoming().flatten() {
                if cut.load(Ordering::SeqCst) {
                    continue; // dropped: closed at once
                }
                let Ok(server) = UnixStream::connect(&socket) else {
                    continue;
                };
                if let Ok(c) = client.try_clone() {
                    open.lock().unwrap_or_else(|p| p.into_inner()).push(c);
                }
                pipe(client, server);
            }
        });
        (c, format!("postgres://graphtoken@127.0.0.1:{port}/{name}"))
    }

    /// Closes every connection through it and refuses new ones.
    pub fn cut(&self) {
        self.cut.store(true, Ordering::SeqCst);
        for s in self
            .open
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .drain(..)
        {
            let _ = s.shutdown(Shutdown::Both);
        }
    }

    /// Lets connections through again.
    pub fn restore(&self) {
        self.cut.store(false, Ordering::SeqCst);
    }

    pub fn port(&self) -> u16 {
        self.port
    }
}

/// Copies bytes both ways until either side closes, then closes both.
fn pipe(client: TcpStream, server: UnixStream) {
    let (Ok(client2), Ok(server2)) = (client.try_clone(), server.try_clone()) else {
        return;
    };
    std::thread::spawn(move || copy(client, server, |s| drop(s.shutdown(Shutdown::Both))));
    std::thread::spawn(move || copy(server2, client2, |s| drop(s.shutdown(Shutdown::Both))));
}

fn copy<R: Read, W: Write>(mut from: R, mut to: W, close: impl Fn(&W)) {
    let mut buf = [0u8; 16 * 1024];
    while let Ok(n) = from.read(&mut buf) {
        if n == 0 || to.write_all(&buf[..n]).is_err() {
            break;
        }
    }
    close(&to);
}
