//! Upstream identity providers and the accounts linked through them.

pub mod link;
pub mod provider;
