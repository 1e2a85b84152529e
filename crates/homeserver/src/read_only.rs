//! `matrix.kind: synapse_read_only`: look at the homeserver, never change it.
//!
//! For a trial roll-out beside an existing authentication set-up: reads pass through, and
//! every write is refused with a warning in the logs and [`HomeserverError::ReadOnly`], as
//! the reference implementation's read-only connection does.

use std::collections::BTreeSet;

use async_trait::async_trait;

use crate::{
    HomeserverConnection, HomeserverError, HomeserverUser, LocalpartAvailability, ProvisionRequest,
    UpsertOutcome,
};

/// Wraps a connection so that only its reads reach the homeserver.
#[derive(Debug, Clone)]
pub struct ReadOnlyConnection<C> {
    inner: C,
}

impl<C: HomeserverConnection> ReadOnlyConnection<C> {
    /// Reads go to `inner`; writes go nowhere.
    pub fn new(inner: C) -> Self {
        Self { inner }
    }

    /// The wrapped connection.
    pub fn inner(&self) -> &C {
        &self.inner
    }
}

/// The refusal of one write, logged so that an operator sees what was not done.
fn refuse(operation: &'static str, localpart: &str) -> HomeserverError {
    tracing::warn!(
        operation,
        localpart,
        "not writing to the homeserver: `matrix.kind` is `synapse_read_only`"
    );
    HomeserverError::ReadOnly { operation }
}

#[async_trait]
impl<C: HomeserverConnection> HomeserverConnection for ReadOnlyConnection<C> {
    fn server_name(&self) -> &str {
        self.inner.server_name()
    }

    fn mxid(&self, localpart: &str) -> String {
        self.inner.mxid(localpart)
    }

    fn localpart<'a>(&self, mxid: &'a str) -> Option<&'a str> {
        self.inner.localpart(mxid)
    }

    async fn query_user(&self, localpart: &str) -> Result<Option<HomeserverUser>, HomeserverError> {
        self.inner.query_user(localpart).await
    }

    async fn is_localpart_available(
        &self,
        localpart: &str,
    ) -> Result<LocalpartAvailability, HomeserverError> {
        self.inner.is_localpart_available(localpart).await
    }

    async fn provision_user(
        &self,
        request: &ProvisionRequest,
    ) -> Result<UpsertOutcome, HomeserverError> {
        Err(refuse("provision_user", &request.localpart))
    }

    async fn delete_user(&self, localpart: &str, _erase: bool) -> Result<(), HomeserverError> {
        Err(refuse("delete_user", localpart))
    }

    async fn reactivate_user(&self, localpart: &str) -> Result<(), HomeserverError> {
        Err(refuse("reactivate_user", localpart))
    }

    async fn set_displayname(
        &self,
        localpart: &str,
        _displayname: &str,
    ) -> Result<(), HomeserverError> {
        Err(refuse("set_displayname", localpart))
    }

    async fn unset_displayname(&self, localpart: &str) -> Result<(), HomeserverError> {
        Err(refuse("unset_displayname", localpart))
    }

    async fn upsert_device(
        &self,
        localpart: &str,
        _device_id: &str,
        _display_name: Option<&str>,
    ) -> Result<UpsertOutcome, HomeserverError> {
        Err(refuse("upsert_device", localpart))
    }

    async fn update_device_display_name(
        &self,
        localpart: &str,
        _device_id: &str,
        _display_name: &str,
    ) -> Result<(), HomeserverError> {
        Err(refuse("update_device_display_name", localpart))
    }

    async fn delete_device(
        &self,
        localpart: &str,
        _device_id: &str,
    ) -> Result<(), HomeserverError> {
        Err(refuse("delete_device", localpart))
    }

    async fn sync_devices(
        &self,
        localpart: &str,
        _devices: &BTreeSet<String>,
    ) -> Result<(), HomeserverError> {
        Err(refuse("sync_devices", localpart))
    }

    async fn allow_cross_signing_reset(&self, localpart: &str) -> Result<(), HomeserverError> {
        Err(refuse("allow_cross_signing_reset", localpart))
    }
}
