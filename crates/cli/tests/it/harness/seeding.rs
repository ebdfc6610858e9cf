//! Seeding a sandbox's database with `graphtoken seed`, and reading all of it back.

use std::path::Path;

use super::{run, Sandbox};

/// Runs `graphtoken seed FILE` on the sandbox's database: whether it succeeded, and stderr.
pub fn seed(sb: &Sandbox, file: &Path) -> (bool, String) {
    let (status, _, err) = run(
        &["seed", &file.display().to_string(), "--db", &sb.db_url()],
        &[],
    );
    (status.success(), err)
}

/// Every row of every table but `schema_version`, as text, in a stable order.
pub fn dump(db: &Path) -> Vec<(String, Vec<String>)> {
    let conn = rusqlite::Connection::open(db).unwrap();
    let mut tables: Vec<String> = conn
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    tables.retain(|t| t != "schema_version");
    tables
        .into_iter()
        .map(|t| {
            let mut stmt = conn.prepare(&format!("SELECT * FROM \"{t}\"")).unwrap();
            let n = stmt.column_count();
            let mut rows: Vec<String> = stmt
                .query_map([], |r| {
                    let cols: Vec<String> = (0..n)
                        .map(|i| format!("{:?}", r.get_ref(i).unwrap()))
                        .collect();
                    Ok(cols.join(" | "))
                })
                .unwrap()
                .collect::<Result<_, _>>()
                .unwrap();
            rows.sort();
            (t, rows)
        })
        .collect()
}
