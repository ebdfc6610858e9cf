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
pub mod fields;
pub mod graph;
pub mod messaging;
pub mod model;
pub mod password;
pub mod permissions;
pub mod policy;
pub mod proof;
pub mod ratelimit;
pub mod request;
pub mod services;
pub mod signed_request;
pub mod signin;
pub mod store;
pub mod tasks;
pub mod timefmt;
pub mod token;
pub mod world;
