//! The device code grants.

use std::net::IpAddr;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use portcullis_model::{BrowserSession, DeviceCodeGrant, OAuthSession};
use portcullis_oauth::scope::Scope;
use ulid::Ulid;

use crate::StorageError;

/// What the device authorization endpoint stores about a request; see [`DeviceCodeGrant`] for
/// each field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewDeviceCodeGrant {
    /// The client's internal id.
    pub client_id: Ulid,
    /// The scope asked for.
    pub scope: Scope,
    /// From this instant on, both codes are refused.
    pub expires_at: DateTime<Utc>,
    /// The device's address.
    pub ip: Option<IpAddr>,
    /// The device's `User-Agent`.
    pub user_agent: Option<String>,
}

/// Reads and writes [`DeviceCodeGrant`]s.
///
/// Both codes are passed in clear and stored only as their hash
/// ([`hash_token`](portcullis_model::token::hash_token)); user codes are expected already
/// normalised (upper-case), since the hash of `abc` is not the hash of `ABC`.
///
/// Every change of stage is a single conditional update that also checks expiry, so a code is
/// bound to the first approval and redeemed once, whatever the number of server processes.
#[async_trait]
pub trait DeviceCodeGrantRepository: Send {
    /// Stores a pending grant.
    ///
    /// # Errors
    /// [`StorageError::Conflict`] if the device code exists, or if the user code is the one of
    /// another grant still pending (generate another one and retry).
    async fn add(
        &mut self,
        grant: &NewDeviceCodeGrant,
        device_code: &str,
        user_code: &str,
        now: DateTime<Utc>,
    ) -> Result<DeviceCodeGrant, StorageError>;

    /// The grant with this id, if any, whatever its stage.
    async fn find(&mut self, id: Ulid) -> Result<Option<DeviceCodeGrant>, StorageError>;

    /// The grant whose device code is `device_code`, if any, whatever its stage.
    async fn find_by_device_code(
        &mut self,
        device_code: &str,
    ) -> Result<Option<DeviceCodeGrant>, StorageError>;

    /// The grant whose user code is `user_code`, if any: the pending one if there is one, the
    /// newest one otherwise.
    async fn find_by_user_code(
        &mut self,
        user_code: &str,
    ) -> Result<Option<DeviceCodeGrant>, StorageError>;

    /// Binds the grant to the user of `browser_session`, who approved it at `now`, if it is
    /// still pending and not expired; `None` means refused (another approval or a rejection
    /// came first, or it expired).
    async fn fulfill(
        &mut self,
        id: Ulid,
        browser_session: &BrowserSession,
        now: DateTime<Utc>,
    ) -> Result<Option<DeviceCodeGrant>, StorageError>;

    /// Marks the grant rejected at `now`, under the same condition as
    /// [`fulfill`](Self::fulfill).
    async fn reject(
        &mut self,
        id: Ulid,
        now: DateTime<Utc>,
    ) -> Result<Option<DeviceCodeGrant>, StorageError>;

    /// Records that the device polled at `now`, and returns when it polled before (`None` on
    /// its first poll), to tell it to `slow_down` (RFC 8628 §3.5). One statement, so two
    /// concurrent polls each see the other's instant.
    ///
    /// # Errors
    /// [`StorageError::NotFound`] if there is no such grant.
    async fn record_poll(
        &mut self,
        id: Ulid,
        now: DateTime<Utc>,
    ) -> Result<Option<DateTime<Utc>>, StorageError>;

    /// Gives the device its tokens under `session`, at `now`, if the grant is fulfilled, not
    /// expired and not yet exchanged; `None` means refused.
    ///
    /// This is a single conditional update: of several polls racing with the same device code,
    /// exactly one gets the grant.
    async fn exchange(
        &mut self,
        device_code: &str,
        session: &OAuthSession,
        now: DateTime<Utc>,
    ) -> Result<Option<DeviceCodeGrant>, StorageError>;
}
