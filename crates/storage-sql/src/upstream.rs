//! Upstream identity providers.

mod provider;
