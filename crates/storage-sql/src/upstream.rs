//! Upstream identity providers and the accounts linked through them.

mod link;
mod provider;
