//! The project's docs, served by the console at `/docs/` so that the home page can link to
//! them: the README and every file of `docs/`, built into the binary, each shown as the
//! Markdown it is written in.

use axum::extract::Path;
use axum::http::StatusCode;
use axum::response::Response;
use maud::html;

use crate::browser;
use crate::pages;

/// Each doc: its name in the path, what it covers, and its text.
const DOCS: &[(&str, &str, &str)] = &[
    (
        "README.md",
        "start here: the two commands, the flags, the admin API",
        include_str!("../../../../README.md"),
    ),
    (
        "console.md",
        "the console's pages",
        include_str!("../../../../docs/console.md"),
    ),
    (
        "seed.md",
        "seed files: the world a server starts with",
        include_str!("../../../../docs/seed.md"),
    ),
    (
        "compatibility.md",
        "what is Facebook's, field by field and error by error",
        include_str!("../../../../docs/compatibility.md"),
    ),
    (
        "login.md",
        "the login dialog",
        include_str!("../../../../docs/login.md"),
    ),
    (
        "invalidation.md",
        "what ends a token, and the error each case gets",
        include_str!("../../../../docs/invalidation.md"),
    ),
    (
        "keeper.md",
        "graphtoken keeper: your own tokens, kept as the documents advise",
        include_str!("../../../../docs/keeper.md"),
    ),
    (
        "production.md",
        "the production token service",
        include_str!("../../../../docs/production.md"),
    ),
    (
        "deployment.md",
        "PostgreSQL, many instances, a proxy in front",
        include_str!("../../../../docs/deployment.md"),
    ),
    (
        "security.md",
        "the threat model, secrets at rest, limits",
        include_str!("../../../../docs/security.md"),
    ),
    (
        "architecture.md",
        "how the code is laid out",
        include_str!("../../../../docs/architecture.md"),
    ),
    (
        "benchmarks.md",
        "every figure, with the command behind it",
        include_str!("../../../../docs/benchmarks.md"),
    ),
    (
        "insights.md",
        "Page and post insights",
        include_str!("../../../../docs/insights.md"),
    ),
];

/// `GET /docs/`: the list.
pub(super) async fn index() -> Response {
    let content = html! {
        h1 { "Docs" }
        p class="lede" { "What graphtoken does and how, as written in its repository." }
        ul class="tools" {
            @for (name, what, _) in DOCS {
                li { a href=(format!("/docs/{name}")) { (name) } " — " (what) }
            }
        }
        p class="note" { a href="/" { "← Console" } }
    };
    browser::html(
        StatusCode::OK,
        pages::console_document("Docs", content),
        None,
    )
}

/// `GET /docs/{name}`: one doc, as its Markdown.
pub(super) async fn doc(Path(name): Path<String>) -> Response {
    let Some((name, _, text)) = DOCS.iter().find(|(n, _, _)| *n == name) else {
        let content = html! {
            h1 { "No such doc" }
            p { "There is no doc by that name. " a href="/docs/" { "The docs" } " lists them all." }
        };
        return browser::html(
            StatusCode::NOT_FOUND,
            pages::console_document("No such doc", content),
            None,
        );
    };
    let content = html! {
        p class="note" { a href="/docs/" { "← Docs" } }
        h1 { (name) }
        pre class="json doc" { (text) }
    };
    browser::html(
        StatusCode::OK,
        pages::wide_console_document(name, content),
        None,
    )
}
