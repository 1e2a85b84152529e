//! Tests of the real `mas-cli` binary: configuration, server, management commands, templates and Synapse end to end.
//!
//! One test binary for the whole crate: each module is one area; they share [`common`].

mod common;

mod config;
mod database;
mod database_outage;
mod emailed_secrets;
mod help;
mod manage;
mod policy;
mod quick_start;
mod reload;
mod server;
mod syn2mas;
mod synapse;
mod telemetry;
mod templates;
mod two_servers;
