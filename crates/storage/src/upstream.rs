//! Upstream identity providers, the accounts linked through them, and the sign-in attempts.

pub mod authorization_session;
pub mod link;
pub mod provider;
