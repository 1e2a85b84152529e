//! Upstream identity providers.

pub mod provider;
