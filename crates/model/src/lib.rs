//! The domain types of Portcullis.
//!
//! This crate does no I/O: it holds the values the services reason about (users, OAuth clients,
//! upstream providers, registration tokens, background jobs), the pure rules attached to them,
//! and the [`Clock`] through which every piece of logic learns the time.
//!
//! Identifiers are [`ulid::Ulid`]s and instants are [`chrono::DateTime<Utc>`](chrono::DateTime).

pub mod clock;
pub mod oauth;
pub mod queue;
pub mod token;
pub mod upstream;
pub mod user;

pub use self::{
    clock::{Clock, MockClock, SystemClock},
    oauth::OAuthClient,
    queue::{FailureOutcome, Job, JobStatus, UnknownJobStatus},
    upstream::UpstreamProvider,
    user::{RegistrationToken, User},
};
pub use ulid::Ulid;
