//! The registrations waiting for their email address to be verified.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use portcullis_model::UserRegistration;
use ulid::Ulid;

use crate::StorageError;

/// What a pending registration is made of.
#[derive(Debug, Clone)]
pub struct NewUserRegistration<'a> {
    /// The username asked for.
    pub username: &'a str,
    /// The password's hash.
    pub hashed_password: &'a str,
    /// The version of the hashing scheme.
    pub password_version: u32,
    /// The display name asked for.
    pub display_name: Option<&'a str>,
    /// The address being verified.
    pub email: &'a str,
    /// The registration token checked at the form.
    pub registration_token_id: Option<Ulid>,
    /// Where to go once the account exists.
    pub continuation: Option<&'a str>,
    /// The code sent to `email`.
    pub email_authentication_id: Ulid,
}

/// Reads and writes [`UserRegistration`]s.
#[async_trait]
pub trait UserRegistrationRepository: Send {
    /// Stores a pending registration.
    async fn add(
        &mut self,
        registration: NewUserRegistration<'_>,
        now: DateTime<Utc>,
    ) -> Result<UserRegistration, StorageError>;

    /// The registration with this id, if any.
    async fn find(&mut self, id: Ulid) -> Result<Option<UserRegistration>, StorageError>;

    /// Points the registration at a new code (after a resend); `None` if there is no such
    /// pending registration.
    async fn set_email_authentication(
        &mut self,
        id: Ulid,
        email_authentication_id: Ulid,
    ) -> Result<Option<UserRegistration>, StorageError>;

    /// Marks the registration done, if it was not yet; `None` means it already was (or does
    /// not exist). One conditional update: a registration makes one account.
    async fn complete(
        &mut self,
        id: Ulid,
        now: DateTime<Utc>,
    ) -> Result<Option<UserRegistration>, StorageError>;
}
