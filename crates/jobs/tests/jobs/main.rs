//! Tests of the jobs against a real database and the in-memory homeserver.
//!
//! One test binary for the whole crate: each module is one area; they share [`common`].

mod common;

mod cleanup;
mod expire_sessions;
mod provision_user;
mod send_email;
