//! An in-memory homeserver, for the tests of what talks to one.
//!
//! It keeps users and devices the way Synapse's `/_synapse/mas` API would, and can be switched
//! off to behave like a homeserver that is down. The end-to-end tests use a real Synapse; this
//! one lets the fast tests of the HTTP handlers and the jobs see what was sent.

use std::{
    collections::{BTreeMap, BTreeSet},
    sync::{
        Mutex, MutexGuard,
        atomic::{AtomicBool, Ordering},
    },
};

use async_trait::async_trait;

use crate::{
    FieldAction, HomeserverConnection, HomeserverError, HomeserverUser, LocalpartAvailability,
    ProvisionRequest, UpsertOutcome,
};

/// A user as the in-memory homeserver keeps it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MemoryUser {
    /// The display name.
    pub display_name: Option<String>,
    /// The email addresses last provisioned.
    pub emails: Vec<String>,
    /// Locked by the last provisioning.
    pub locked: bool,
    /// Deactivated.
    pub deactivated: bool,
    /// The device IDs.
    pub devices: BTreeSet<String>,
    /// Whether a cross-signing reset was allowed.
    pub cross_signing_reset_allowed: bool,
}

/// An in-memory homeserver.
#[derive(Debug)]
pub struct MemoryHomeserver {
    server_name: String,
    users: Mutex<BTreeMap<String, MemoryUser>>,
    down: AtomicBool,
}

impl MemoryHomeserver {
    /// An empty homeserver named `server_name`, up.
    #[must_use]
    pub fn new(server_name: impl Into<String>) -> Self {
        Self {
            server_name: server_name.into(),
            users: Mutex::new(BTreeMap::new()),
            down: AtomicBool::new(false),
        }
    }

    /// Makes every call fail as if the homeserver could not be reached (`true`), or work again.
    pub fn set_down(&self, down: bool) {
        self.down.store(down, Ordering::SeqCst);
    }

    /// The user with this localpart, as it is now.
    #[must_use]
    pub fn user(&self, localpart: &str) -> Option<MemoryUser> {
        self.lock().get(localpart).cloned()
    }

    /// The device IDs of the user (empty for an unknown user).
    #[must_use]
    pub fn devices(&self, localpart: &str) -> BTreeSet<String> {
        self.user(localpart)
            .map(|user| user.devices)
            .unwrap_or_default()
    }

    fn lock(&self) -> MutexGuard<'_, BTreeMap<String, MemoryUser>> {
        // A test that panicked while holding the lock has failed already.
        self.users
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn check_up(&self, operation: &'static str) -> Result<(), HomeserverError> {
        if self.down.load(Ordering::SeqCst) {
            return Err(HomeserverError::Unreachable {
                operation,
                url: format!("memory://{}/{operation}", self.server_name),
                detail: "the in-memory homeserver is switched off".to_owned(),
            });
        }
        Ok(())
    }

    /// Runs `change` on an existing user, or fails like Synapse's 404.
    fn with_user<T>(
        &self,
        operation: &'static str,
        localpart: &str,
        change: impl FnOnce(&mut MemoryUser) -> T,
    ) -> Result<T, HomeserverError> {
        self.check_up(operation)?;
        let mut users = self.lock();
        let user = users
            .get_mut(localpart)
            .ok_or_else(|| HomeserverError::NotFound {
                operation,
                what: format!("user `{localpart}`"),
                message: "User not found".to_owned(),
            })?;
        Ok(change(user))
    }
}

#[async_trait]
impl HomeserverConnection for MemoryHomeserver {
    fn server_name(&self) -> &str {
        &self.server_name
    }

    async fn query_user(&self, localpart: &str) -> Result<Option<HomeserverUser>, HomeserverError> {
        self.check_up("query_user")?;
        Ok(self.lock().get(localpart).map(|user| HomeserverUser {
            user_id: self.mxid(localpart),
            display_name: user.display_name.clone(),
            avatar_url: None,
            is_suspended: false,
            is_deactivated: user.deactivated,
        }))
    }

    async fn is_localpart_available(
        &self,
        localpart: &str,
    ) -> Result<LocalpartAvailability, HomeserverError> {
        self.check_up("is_localpart_available")?;
        Ok(if self.lock().contains_key(localpart) {
            LocalpartAvailability::InUse
        } else {
            LocalpartAvailability::Available
        })
    }

    async fn provision_user(
        &self,
        request: &ProvisionRequest,
    ) -> Result<UpsertOutcome, HomeserverError> {
        self.check_up("provision_user")?;
        let mut users = self.lock();
        let outcome = if users.contains_key(&request.localpart) {
            UpsertOutcome::Updated
        } else {
            UpsertOutcome::Created
        };
        let user = users.entry(request.localpart.clone()).or_default();
        match &request.displayname {
            Some(FieldAction::Set(name)) => user.display_name = Some(name.clone()),
            Some(FieldAction::Unset) => user.display_name = None,
            None => {}
        }
        match &request.emails {
            Some(FieldAction::Set(emails)) => user.emails.clone_from(emails),
            Some(FieldAction::Unset) => user.emails.clear(),
            None => {}
        }
        if let Some(locked) = request.locked {
            user.locked = locked;
        }
        Ok(outcome)
    }

    async fn delete_user(&self, localpart: &str, _erase: bool) -> Result<(), HomeserverError> {
        self.with_user("delete_user", localpart, |user| {
            user.deactivated = true;
            user.devices.clear();
        })
    }

    async fn reactivate_user(&self, localpart: &str) -> Result<(), HomeserverError> {
        self.with_user("reactivate_user", localpart, |user| {
            user.deactivated = false
        })
    }

    async fn set_displayname(
        &self,
        localpart: &str,
        displayname: &str,
    ) -> Result<(), HomeserverError> {
        self.with_user("set_displayname", localpart, |user| {
            user.display_name = Some(displayname.to_owned());
        })
    }

    async fn unset_displayname(&self, localpart: &str) -> Result<(), HomeserverError> {
        self.with_user("unset_displayname", localpart, |user| {
            user.display_name = None
        })
    }

    async fn upsert_device(
        &self,
        localpart: &str,
        device_id: &str,
        _display_name: Option<&str>,
    ) -> Result<UpsertOutcome, HomeserverError> {
        self.with_user("upsert_device", localpart, |user| {
            if user.devices.insert(device_id.to_owned()) {
                UpsertOutcome::Created
            } else {
                UpsertOutcome::Updated
            }
        })
    }

    async fn update_device_display_name(
        &self,
        localpart: &str,
        device_id: &str,
        _display_name: &str,
    ) -> Result<(), HomeserverError> {
        self.with_user("update_device_display_name", localpart, |user| {
            user.devices.contains(device_id)
        })?
        .then_some(())
        .ok_or_else(|| HomeserverError::NotFound {
            operation: "update_device_display_name",
            what: format!("device `{device_id}` of user `{localpart}`"),
            message: "Device not found".to_owned(),
        })
    }

    async fn delete_device(&self, localpart: &str, device_id: &str) -> Result<(), HomeserverError> {
        self.with_user("delete_device", localpart, |user| {
            user.devices.remove(device_id);
        })
    }

    async fn sync_devices(
        &self,
        localpart: &str,
        devices: &BTreeSet<String>,
    ) -> Result<(), HomeserverError> {
        self.with_user("sync_devices", localpart, |user| {
            user.devices.clone_from(devices);
        })
    }

    async fn allow_cross_signing_reset(&self, localpart: &str) -> Result<(), HomeserverError> {
        self.with_user("allow_cross_signing_reset", localpart, |user| {
            user.cross_signing_reset_allowed = true;
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn devices_need_a_provisioned_user() {
        let homeserver = MemoryHomeserver::new("example.com");
        assert!(matches!(
            homeserver.upsert_device("alice", "DEVICEID01", None).await,
            Err(HomeserverError::NotFound { .. })
        ));
        homeserver
            .provision_user(&ProvisionRequest::new("alice").set_displayname("Alice"))
            .await
            .expect("the call succeeds");
        assert_eq!(
            homeserver
                .upsert_device("alice", "DEVICEID01", None)
                .await
                .expect("the call succeeds"),
            UpsertOutcome::Created
        );
        assert_eq!(homeserver.devices("alice").len(), 1);
        homeserver
            .delete_device("alice", "DEVICEID01")
            .await
            .expect("the call succeeds");
        assert!(homeserver.devices("alice").is_empty());
        assert_eq!(
            homeserver
                .user("alice")
                .expect("the call succeeds")
                .display_name
                .as_deref(),
            Some("Alice")
        );
    }

    #[tokio::test]
    async fn a_homeserver_switched_off_is_unreachable() {
        let homeserver = MemoryHomeserver::new("example.com");
        homeserver.set_down(true);
        let error = homeserver
            .provision_user(&ProvisionRequest::new("alice"))
            .await
            .expect_err("the call fails");
        assert!(error.is_retryable());
        homeserver.set_down(false);
        homeserver
            .provision_user(&ProvisionRequest::new("alice"))
            .await
            .expect("the call succeeds");
    }
}
