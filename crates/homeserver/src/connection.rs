//! What the service asks of the homeserver, independent of how it is reached.

use std::{collections::BTreeSet, fmt::Debug, sync::Arc};

use async_trait::async_trait;

use crate::HomeserverError;

/// A user as the homeserver knows it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
pub struct HomeserverUser {
    /// The full Matrix user id, `@localpart:server_name`.
    pub user_id: String,
    /// The display name on the homeserver's profile, if any.
    pub display_name: Option<String>,
    /// The avatar (`mxc://` URI) on the homeserver's profile, if any.
    pub avatar_url: Option<String>,
    /// Suspended by a homeserver admin (the user can read but not send).
    pub is_suspended: bool,
    /// Deactivated (by us through [`HomeserverConnection::delete_user`], or on the homeserver).
    pub is_deactivated: bool,
}

/// Whether a localpart can be given to a new user, and why not.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LocalpartAvailability {
    /// Nobody has it and the homeserver accepts it.
    Available,
    /// A user with this localpart exists on the homeserver (`M_USER_IN_USE`).
    InUse,
    /// The homeserver does not accept it as a localpart (`M_INVALID_USERNAME`).
    Invalid {
        /// The homeserver's explanation.
        reason: String,
    },
    /// An application service has claimed its namespace (`M_EXCLUSIVE`).
    Exclusive {
        /// The homeserver's explanation.
        reason: String,
    },
}

impl LocalpartAvailability {
    /// True when the localpart can be registered.
    #[must_use]
    pub fn is_available(&self) -> bool {
        matches!(self, Self::Available)
    }
}

/// What to do with one profile field when provisioning a user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FieldAction<T> {
    /// Replace the homeserver's value with this one.
    Set(T),
    /// Remove the homeserver's value.
    Unset,
}

/// Create a user on the homeserver, or bring an existing one up to date.
///
/// A field left at `None` is not touched on the homeserver.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProvisionRequest {
    /// The user's localpart.
    pub localpart: String,
    /// The display name.
    pub displayname: Option<FieldAction<String>>,
    /// The avatar, an `mxc://` URI.
    pub avatar_url: Option<FieldAction<String>>,
    /// The complete list of the user's email addresses (it replaces the homeserver's list).
    pub emails: Option<FieldAction<Vec<String>>>,
    /// Whether the account is locked.
    pub locked: Option<bool>,
}

impl ProvisionRequest {
    /// A request that only makes sure the user exists.
    #[must_use]
    pub fn new(localpart: impl Into<String>) -> Self {
        Self {
            localpart: localpart.into(),
            displayname: None,
            avatar_url: None,
            emails: None,
            locked: None,
        }
    }

    /// Set the display name.
    #[must_use]
    pub fn set_displayname(mut self, displayname: impl Into<String>) -> Self {
        self.displayname = Some(FieldAction::Set(displayname.into()));
        self
    }

    /// Remove the display name.
    #[must_use]
    pub fn unset_displayname(mut self) -> Self {
        self.displayname = Some(FieldAction::Unset);
        self
    }

    /// Set the avatar.
    #[must_use]
    pub fn set_avatar_url(mut self, avatar_url: impl Into<String>) -> Self {
        self.avatar_url = Some(FieldAction::Set(avatar_url.into()));
        self
    }

    /// Remove the avatar.
    #[must_use]
    pub fn unset_avatar_url(mut self) -> Self {
        self.avatar_url = Some(FieldAction::Unset);
        self
    }

    /// Replace the email addresses.
    #[must_use]
    pub fn set_emails(mut self, emails: Vec<String>) -> Self {
        self.emails = Some(FieldAction::Set(emails));
        self
    }

    /// Remove every email address.
    #[must_use]
    pub fn unset_emails(mut self) -> Self {
        self.emails = Some(FieldAction::Unset);
        self
    }

    /// Lock or unlock the account.
    #[must_use]
    pub fn locked(mut self, locked: bool) -> Self {
        self.locked = Some(locked);
        self
    }
}

/// Whether an upsert created the thing or updated an existing one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UpsertOutcome {
    /// It did not exist before (HTTP 201).
    Created,
    /// It existed and was brought up to date (HTTP 200).
    Updated,
}

/// The homeserver this service authenticates for: the users and devices it must know about.
///
/// Object-safe: the application holds a `Box<dyn HomeserverConnection>` chosen from
/// `matrix.kind` by [`crate::connection_from_config`].
#[async_trait]
pub trait HomeserverConnection: Send + Sync + Debug {
    /// The homeserver's `server_name`, the part after the `:` in user ids.
    fn server_name(&self) -> &str;

    /// The full Matrix user id of a localpart on this homeserver.
    fn mxid(&self, localpart: &str) -> String {
        format!("@{localpart}:{}", self.server_name())
    }

    /// The localpart of a user id of this homeserver; `None` for another server's user ids.
    fn localpart<'a>(&self, mxid: &'a str) -> Option<&'a str> {
        mxid.strip_prefix('@')?
            .strip_suffix(self.server_name())?
            .strip_suffix(':')
            .filter(|localpart| !localpart.is_empty())
    }

    /// The user with this localpart, or `None` when the homeserver has no such user.
    async fn query_user(&self, localpart: &str) -> Result<Option<HomeserverUser>, HomeserverError>;

    /// Whether a new user could take this localpart.
    async fn is_localpart_available(
        &self,
        localpart: &str,
    ) -> Result<LocalpartAvailability, HomeserverError>;

    /// Create the user, or update the fields the request names.
    async fn provision_user(
        &self,
        request: &ProvisionRequest,
    ) -> Result<UpsertOutcome, HomeserverError>;

    /// Deactivate the user; with `erase`, also forget its profile and hide its messages
    /// from new room members (GDPR erasure).
    async fn delete_user(&self, localpart: &str, erase: bool) -> Result<(), HomeserverError>;

    /// Undo [`HomeserverConnection::delete_user`].
    async fn reactivate_user(&self, localpart: &str) -> Result<(), HomeserverError>;

    /// Set the display name on the user's profile.
    async fn set_displayname(
        &self,
        localpart: &str,
        displayname: &str,
    ) -> Result<(), HomeserverError>;

    /// Remove the display name from the user's profile.
    async fn unset_displayname(&self, localpart: &str) -> Result<(), HomeserverError>;

    /// Create the device, or update its display name when it exists.
    async fn upsert_device(
        &self,
        localpart: &str,
        device_id: &str,
        display_name: Option<&str>,
    ) -> Result<UpsertOutcome, HomeserverError>;

    /// Rename an existing device.
    async fn update_device_display_name(
        &self,
        localpart: &str,
        device_id: &str,
        display_name: &str,
    ) -> Result<(), HomeserverError>;

    /// Delete a device (and so end the access tokens the homeserver cached for it).
    /// Deleting a device that does not exist succeeds.
    async fn delete_device(&self, localpart: &str, device_id: &str) -> Result<(), HomeserverError>;

    /// Make the user's devices exactly this set: create the missing ones, delete the others.
    async fn sync_devices(
        &self,
        localpart: &str,
        devices: &BTreeSet<String>,
    ) -> Result<(), HomeserverError>;

    /// Let the user replace its cross-signing master key without interactive auth
    /// for the next 10 minutes.
    async fn allow_cross_signing_reset(&self, localpart: &str) -> Result<(), HomeserverError>;
}

/// Forwards every call, so a `Box<dyn HomeserverConnection>` or an `Arc` can be wrapped.
macro_rules! forward_connection {
    ($pointer:ident) => {
        #[async_trait]
        impl<T: HomeserverConnection + ?Sized> HomeserverConnection for $pointer<T> {
            fn server_name(&self) -> &str {
                (**self).server_name()
            }

            fn mxid(&self, localpart: &str) -> String {
                (**self).mxid(localpart)
            }

            fn localpart<'a>(&self, mxid: &'a str) -> Option<&'a str> {
                (**self).localpart(mxid)
            }

            async fn query_user(
                &self,
                localpart: &str,
            ) -> Result<Option<HomeserverUser>, HomeserverError> {
                (**self).query_user(localpart).await
            }

            async fn is_localpart_available(
                &self,
                localpart: &str,
            ) -> Result<LocalpartAvailability, HomeserverError> {
                (**self).is_localpart_available(localpart).await
            }

            async fn provision_user(
                &self,
                request: &ProvisionRequest,
            ) -> Result<UpsertOutcome, HomeserverError> {
                (**self).provision_user(request).await
            }

            async fn delete_user(
                &self,
                localpart: &str,
                erase: bool,
            ) -> Result<(), HomeserverError> {
                (**self).delete_user(localpart, erase).await
            }

            async fn reactivate_user(&self, localpart: &str) -> Result<(), HomeserverError> {
                (**self).reactivate_user(localpart).await
            }

            async fn set_displayname(
                &self,
                localpart: &str,
                displayname: &str,
            ) -> Result<(), HomeserverError> {
                (**self).set_displayname(localpart, displayname).await
            }

            async fn unset_displayname(&self, localpart: &str) -> Result<(), HomeserverError> {
                (**self).unset_displayname(localpart).await
            }

            async fn upsert_device(
                &self,
                localpart: &str,
                device_id: &str,
                display_name: Option<&str>,
            ) -> Result<UpsertOutcome, HomeserverError> {
                (**self)
                    .upsert_device(localpart, device_id, display_name)
                    .await
            }

            async fn update_device_display_name(
                &self,
                localpart: &str,
                device_id: &str,
                display_name: &str,
            ) -> Result<(), HomeserverError> {
                (**self)
                    .update_device_display_name(localpart, device_id, display_name)
                    .await
            }

            async fn delete_device(
                &self,
                localpart: &str,
                device_id: &str,
            ) -> Result<(), HomeserverError> {
                (**self).delete_device(localpart, device_id).await
            }

            async fn sync_devices(
                &self,
                localpart: &str,
                devices: &BTreeSet<String>,
            ) -> Result<(), HomeserverError> {
                (**self).sync_devices(localpart, devices).await
            }

            async fn allow_cross_signing_reset(
                &self,
                localpart: &str,
            ) -> Result<(), HomeserverError> {
                (**self).allow_cross_signing_reset(localpart).await
            }
        }
    };
}

forward_connection!(Box);
forward_connection!(Arc);
