//! graphtoken's domain: the Facebook Graph API access-token system, without IO.
//!
//! `core` knows ids, tokens, permissions, Page tasks, the policy that joins them, the Graph error
//! catalogue and the services that answer Graph requests. It does not know HTTP or SQL: storage
//! is the [`store::Store`] trait, time is the [`clock::Clock`] trait.

pub mod auth;
pub mod cache;
pub mod clock;
pub mod codes;
pub mod content;
pub mod error;
pub mod events;
pub mod exec;
pub mod faults;
pub mod fields;
pub mod graph;
pub mod messaging;
pub mod model;
pub mod outbox;
pub mod password;
pub mod permissions;
pub mod policy;
pub mod proof;
pub mod ratelimit;
pub mod request;
pub mod seal;
pub mod services;
pub mod signed_request;
pub mod signin;
pub mod stats;
pub mod store;
pub mod tasks;
pub mod timefmt;
pub mod token;
pub mod world;
pub mod written;

/// The layers of core, one way down (docs/architecture.md): a module may import modules of its
/// own layer or below, never above. This test reads the sources and fails on an upward import.
#[cfg(test)]
mod layers {
    use std::path::Path;

    /// Leaf records and rules (0) → auth (1) → policy, ratelimit (2) → services (3) → graph (4).
    const LAYERS: &[(&str, u8)] = &[
        ("cache", 0),
        ("clock", 0),
        ("codes", 0),
        ("content", 0),
        ("error", 0),
        ("events", 0),
        ("exec", 0),
        ("faults", 0),
        ("fields", 0),
        ("messaging", 0),
        ("model", 0),
        ("outbox", 0),
        ("password", 0),
        ("permissions", 0),
        ("proof", 0),
        ("request", 0),
        ("seal", 0),
        ("signed_request", 0),
        ("signin", 0),
        ("stats", 0),
        ("store", 0),
        ("tasks", 0),
        ("timefmt", 0),
        ("token", 0),
        ("world", 0),
        ("written", 0),
        ("auth", 1),
        ("policy", 2),
        ("ratelimit", 2),
        ("services", 3),
        ("graph", 4),
    ];

    fn layer(module: &str) -> Option<u8> {
        LAYERS.iter().find(|(m, _)| *m == module).map(|(_, l)| *l)
    }

    /// The top-level modules a source names with `crate::…` (tests and comments left out).
    fn imports(text: &str) -> Vec<String> {
        paths(&code_of(text), "crate::")
    }

    /// The names that follow `prefix` in `code`, plain (`prefix name`) or grouped
    /// (`prefix {a, b::c}`).
    fn paths(code: &str, prefix: &str) -> Vec<String> {
        let ident = |s: &str| -> String {
            s.trim_start()
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect()
        };
        let mut out = Vec::new();
        for (i, _) in code.match_indices(prefix) {
            let rest = &code[i + prefix.len()..];
            if let Some(group) = rest.strip_prefix('{') {
                let inner = group.split('}').next().unwrap_or("");
                out.extend(inner.split(',').map(ident).filter(|m| !m.is_empty()));
            } else {
                out.push(ident(rest));
            }
        }
        out
    }

    /// A source without its tests and comments.
    fn code_of(text: &str) -> String {
        let code = text.split("#[cfg(test)]").next().unwrap_or("");
        code.lines()
            .map(|l| l.split("//").next().unwrap_or(""))
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// Whether a source of another crate names `graphtoken_core::store`, plainly or in a group.
    fn names_the_store(text: &str) -> bool {
        paths(&code_of(text), "graphtoken_core::")
            .iter()
            .any(|m| m == "store")
    }

    fn sources(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                sources(&path, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(path);
            }
        }
    }

    #[test]
    fn no_module_imports_a_layer_above_its_own() {
        let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let mut files = Vec::new();
        sources(&src, &mut files);
        let mut upward = Vec::new();
        for file in files {
            let rel = file.strip_prefix(&src).unwrap();
            let top = rel
                .components()
                .next()
                .unwrap()
                .as_os_str()
                .to_string_lossy();
            let top = top.trim_end_matches(".rs").to_string();
            if top == "lib" {
                continue;
            }
            let own = layer(&top).unwrap_or_else(|| panic!("{top}: add it to LAYERS"));
            let text = std::fs::read_to_string(&file).unwrap();
            for m in imports(&text) {
                let theirs =
                    layer(&m).unwrap_or_else(|| panic!("{m} (named in {rel:?}): add it to LAYERS"));
                if theirs > own {
                    upward.push(format!("{} imports {m}", rel.display()));
                }
                // The Graph handlers reach the store only through the services.
                if top == "graph" && m == "store" {
                    upward.push(format!("{} names the store", rel.display()));
                }
            }
        }
        assert!(upward.is_empty(), "imports up the layers: {upward:#?}");
    }

    /// The server reaches the store only through the services (docs/architecture.md).
    #[test]
    fn the_server_never_names_the_store() {
        let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("../server/src");
        let mut files = Vec::new();
        sources(&src, &mut files);
        assert!(!files.is_empty(), "no server sources at {src:?}");
        let offenders: Vec<_> = files
            .iter()
            .filter(|f| names_the_store(&std::fs::read_to_string(f).unwrap()))
            .collect();
        assert!(
            offenders.is_empty(),
            "the server names the store: {offenders:#?}"
        );
    }

    #[test]
    fn the_store_is_seen_in_plain_and_grouped_paths() {
        assert!(names_the_store("use graphtoken_core::store::Store;"));
        assert!(names_the_store(
            "use graphtoken_core::{model, store::Store};"
        ));
        assert!(!names_the_store(
            "use graphtoken_core::{model, services::Services};"
        ));
        assert!(!names_the_store(
            "// graphtoken_core::store\nuse graphtoken_core::model;"
        ));
    }

    #[test]
    fn the_reader_sees_grouped_and_plain_imports() {
        let text = "use crate::auth::Caller;\nuse crate::{graph, policy::check};\n// crate::services\n#[cfg(test)]\nuse crate::services;";
        assert_eq!(imports(text), ["auth", "graph", "policy"]);
    }
}
