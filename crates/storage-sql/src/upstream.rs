//! Upstream identity providers, the accounts linked through them, and the sign-in attempts.

mod authorization_session;
mod link;
mod provider;
