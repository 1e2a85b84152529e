//! What the services need from a database, as traits.
//!
//! The layout mirrors the aggregates: [`user`], [`user::registration_token`],
//! [`oauth::client`], [`upstream::provider`], [`queue::job`]. The one implementation,
//! `portcullis-storage-sql`, keeps the same relative paths.
//!
//! Work happens inside a [`Repository`], a unit of work that is one database transaction:
//! nothing it writes is visible to others until [`Repository::commit`], and dropping it without
//! committing rolls everything back.
//!
//! Conventions shared by every repository:
//! - identifiers are ULIDs and instants are UTC; the current instant is always passed in (`now`),
//!   never read from the wall clock, so tests can move time;
//! - secrets that only need comparing (registration tokens, later access tokens and codes) are
//!   passed in clear and hashed by the repository, so no caller can store one in clear;
//! - single-use things are consumed by one conditional update, so two processes can never both
//!   win.

pub mod error;
pub mod oauth;
pub mod queue;
pub mod repository;
pub mod upstream;
pub mod user;

pub use self::{
    error::StorageError,
    oauth::client::OAuthClientRepository,
    queue::job::JobRepository,
    repository::{BoxRepository, Repository, RepositoryFactory},
    upstream::provider::UpstreamProviderRepository,
    user::{UserRepository, registration_token::RegistrationTokenRepository},
};
