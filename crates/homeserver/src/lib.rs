//! The connection to the Matrix homeserver this service authenticates for.
//!
//! The homeserver owns no accounts: this service tells it which users and devices exist
//! ([`HomeserverConnection`]). [`connection_from_config`] picks the implementation from
//! `matrix.kind`:
//!
//! | `matrix.kind` | connection |
//! | --- | --- |
//! | `synapse`, `synapse_modern` | [`SynapseConnection`]: Synapse's `/_synapse/mas/*` API (Synapse 1.136+) |
//! | `synapse_read_only` | [`ReadOnlyConnection`] around it: reads only, writes refused and logged |
//! | `synapse_legacy` | refused at start-up (the admin-API flavour is not implemented) |
//!
//! Errors say whether trying again later can help ([`HomeserverError::is_retryable`]), so
//! that the job queue retries while the homeserver is down and gives up on a refusal.

mod connection;
mod error;
mod memory;
mod metrics;
mod read_only;
mod setup;
mod synapse;

pub use crate::{
    connection::{
        FieldAction, HomeserverConnection, HomeserverUser, LocalpartAvailability, ProvisionRequest,
        UpsertOutcome,
    },
    error::HomeserverError,
    memory::{MemoryHomeserver, MemoryUser},
    read_only::ReadOnlyConnection,
    setup::{SetupError, connection_from_config},
    synapse::{DEFAULT_TIMEOUT, SynapseConnection},
};
