//! `mas-cli syn2mas`: moving an existing Synapse homeserver over.
//!
//! [`SynapseConfig`] reads what matters in Synapse's `homeserver.yaml`; [`SynapseDatabase`]
//! reads its users, third-party ids, external ids, devices and tokens straight from its
//! database, on SQLite or PostgreSQL; [`check`] says what stands in the way and what deserves a
//! look; [`migrate`] writes everything into our storage, in one unit of work that the caller
//! commits (or rolls back for a dry run), and reports every row it did not move, with why.

pub mod check;
pub mod migrate;
pub mod synapse_admin;
pub mod synapse_config;
pub mod synapse_database;

pub use check::{Finding, Report, check};
pub use migrate::{MigrateOptions, Summary, import, migrate};
pub use synapse_config::SynapseConfig;
pub use synapse_database::SynapseDatabase;
