//! Every edge of the Page node, in one table: its endpoint (`/{page-id}/{edge}`), whether it
//! renders as a field of the Page (`fields=feed.limit(2){message}`), and so the connections
//! that `metadata=1` lists. A new edge is one row here and one arm in each `match` below (the
//! compiler asks for both).

use serde_json::Value;

use super::paging::EdgeQuery;
use crate::auth::Caller;
use crate::error::GraphError;
use crate::model::Page;
use crate::request::GraphRequest;
use crate::services::Services;

/// What answers an edge.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Edge {
    /// `feed`, `posts`, `published_posts`: the Page's posts (`graph::content`).
    Feed,
    /// `assigned_users`: who holds which task (`graph::page_roles`).
    AssignedUsers,
    /// `roles`: the legacy form of `assigned_users`.
    Roles,
    /// `insights[/{metric}[/{period}]]` (`graph::insights`).
    Insights,
    /// `conversations` (`graph::messaging`).
    Conversations,
    /// `messages`: the Send API (POST only).
    Messages,
    /// `call_to_actions` (`graph::page_settings`).
    CallToActions,
    /// `instant_articles` (`graph::page_settings`).
    InstantArticles,
}

struct Row {
    name: &'static str,
    edge: Edge,
    /// Readable as a field of the Page.
    field: bool,
    /// Listed in `metadata.connections` (every edge that can be read with GET).
    connection: bool,
}

const fn row(name: &'static str, edge: Edge, field: bool, connection: bool) -> Row {
    Row {
        name,
        edge,
        field,
        connection,
    }
}

const PAGE_EDGES: &[Row] = &[
    row("assigned_users", Edge::AssignedUsers, true, true),
    row("call_to_actions", Edge::CallToActions, true, true),
    row("conversations", Edge::Conversations, true, true),
    row("feed", Edge::Feed, true, true),
    row("insights", Edge::Insights, false, true),
    row("instant_articles", Edge::InstantArticles, true, true),
    row("messages", Edge::Messages, false, false),
    row("posts", Edge::Feed, true, true),
    row("published_posts", Edge::Feed, true, true),
    row("roles", Edge::Roles, false, true),
];

fn find(name: &str) -> Option<&'static Row> {
    PAGE_EDGES.iter().find(|r| r.name == name)
}

/// Whether `name` is an edge of the Page node.
pub fn is_edge(name: &str) -> bool {
    find(name).is_some()
}

/// Whether `name` renders as a field of the Page.
pub fn is_field(name: &str) -> bool {
    find(name).is_some_and(|r| r.field)
}

/// The edges `metadata=1` lists for a Page, in the table's order.
pub fn connections() -> impl Iterator<Item = &'static str> {
    PAGE_EDGES.iter().filter(|r| r.connection).map(|r| r.name)
}

/// `/{page-id}/{edge}/{rest…}`: the edge's endpoint. `None` when `edge` is no Page edge.
pub async fn endpoint(
    g: &Services,
    req: &GraphRequest,
    caller: &Caller,
    page: &Page,
    edge: &str,
    rest: &[&str],
) -> Option<Result<Value, GraphError>> {
    let row = find(edge)?;
    // Only insights take more path segments (`insights/{metric}/{period}`).
    if !rest.is_empty() && row.edge != Edge::Insights {
        let path = format!("/{edge}/{}", rest.join("/"));
        return Some(Err(GraphError::unknown_path(&path)));
    }
    Some(match row.edge {
        Edge::Feed => Box::pin(super::content::page_edge(g, req, caller, page, edge)).await,
        Edge::AssignedUsers => {
            Box::pin(super::page_roles::assigned_users(g, req, caller, page)).await
        }
        Edge::Roles => Box::pin(super::page_roles::roles(g, req, caller, page)).await,
        Edge::Insights => Box::pin(super::insights::insights(g, req, caller, page, rest)).await,
        Edge::Conversations | Edge::Messages => {
            Box::pin(super::messaging::page_edge(g, req, caller, page, edge)).await
        }
        Edge::CallToActions | Edge::InstantArticles => {
            Box::pin(super::page_settings::page_edge(g, req, caller, page, edge)).await
        }
    })
}

/// The edge as a field of the Page, rendered exactly as its endpoint answers a GET and under
/// the same checks (a refusal fails the whole request, as on Facebook). `None` when `edge` is
/// not readable as a field.
pub async fn field(
    g: &Services,
    req: &GraphRequest,
    caller: &Caller,
    page: &Page,
    edge: &str,
    q: &EdgeQuery,
) -> Option<Result<Value, GraphError>> {
    let row = find(edge).filter(|r| r.field)?;
    Some(match row.edge {
        Edge::Feed => Box::pin(super::content::read_feed(g, req, caller, page, edge, q)).await,
        Edge::AssignedUsers => {
            Box::pin(super::page_roles::read_assigned_users(
                g, req, caller, page, q,
            ))
            .await
        }
        Edge::Conversations => {
            Box::pin(super::messaging::read_conversations(
                g, req, caller, page, q,
            ))
            .await
        }
        Edge::CallToActions => {
            Box::pin(super::page_settings::read_call_to_actions(
                g, req, caller, page, q,
            ))
            .await
        }
        Edge::InstantArticles => {
            Box::pin(super::page_settings::read_instant_articles(
                g, req, caller, page, q,
            ))
            .await
        }
        Edge::Roles | Edge::Insights | Edge::Messages => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_row_per_edge_and_fields_are_connections() {
        let mut names: Vec<&str> = PAGE_EDGES.iter().map(|r| r.name).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), PAGE_EDGES.len(), "an edge is listed twice");
        for r in PAGE_EDGES {
            assert!(
                !r.field || r.connection,
                "{}: a field edge is a connection",
                r.name
            );
        }
        assert!(connections().any(|c| c == "insights"));
        assert!(!is_field("messages") && is_edge("messages"));
    }
}
