//! graphtoken's integration tests, one binary: each module is one area of the Graph API, the
//! admin API, the login dialog or the CLI. `harness` starts servers (in this process, on the
//! router, for protocol tests; as the real `graphtoken` binary where the process matters) and
//! holds the HTTP helpers.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod harness;

mod admin_api;
mod admin_cli;
mod asid;
mod batch;
mod console;
mod content;
mod conventions;
mod db;
mod debug_token;
mod demo;
mod dialog;
mod expansion;
mod faults;
mod insights;
mod instances;
mod invalidation;
mod keeper;
mod messaging;
mod multi;
mod nodes;
mod oauth;
mod page_roles;
mod page_settings;
mod policy_matrix;
mod production;
mod psids;
mod rate_limits;
mod refusals;
mod restart;
mod sealing;
mod seed;
mod seed_content;
mod slow_clients;
mod test_users;
mod tls;
mod tokens;
