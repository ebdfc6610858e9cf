//! The `graphtoken` binary's library: how `graphtoken serve` wires the store, the services and
//! the server together, so that the integration tests can start the same server in their own
//! process.

pub mod secrets;
pub mod serve;
