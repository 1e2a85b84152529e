//! Telling the homeserver about devices before their tokens are handed out.
//!
//! Every path that gives a Matrix client a token for a device (an OAuth 2.0 code or device
//! grant, the Matrix login API, `mas-cli manage issue-compatibility-token`) first creates (or
//! updates) that device on the homeserver: the homeserver refuses tokens of devices it does not
//! know. The call is made outside any database transaction and before anything is committed,
//! so that an unreachable homeserver leaves nothing half-done behind.

use portcullis_homeserver::{HomeserverConnection, HomeserverError, ProvisionRequest};

/// Creates device `device_id` of user `localpart` on the homeserver, or brings its display name
/// up to date. A user the homeserver does not know yet (their provisioning job has not run) is
/// provisioned first rather than failing; the job still runs later and brings the rest of the
/// profile. A user or device that already exists is success, whoever created it.
///
/// # Errors
/// When the homeserver cannot be reached or refuses.
pub async fn provision_device(
    homeserver: &dyn HomeserverConnection,
    localpart: &str,
    device_id: &str,
    display_name: Option<&str>,
) -> Result<(), HomeserverError> {
    let upsert = || homeserver.upsert_device(localpart, device_id, display_name);
    let outcome = match upsert().await {
        Err(HomeserverError::NotFound { .. }) => {
            homeserver
                .provision_user(&ProvisionRequest::new(localpart))
                .await?;
            upsert().await
        }
        other => other,
    }?;
    tracing::debug!(user.username = %localpart, device.id = %device_id, ?outcome, "device provisioned on the homeserver");
    Ok(())
}

#[cfg(test)]
mod tests {
    use portcullis_homeserver::MemoryHomeserver;

    use super::*;

    #[tokio::test]
    async fn a_device_of_a_user_the_homeserver_does_not_know_yet_provisions_the_user_first() {
        let homeserver = MemoryHomeserver::new("example.com");

        provision_device(&homeserver, "alice", "PHONE", None)
            .await
            .expect("provisioned");

        assert!(homeserver.user("alice").is_some());
        assert!(homeserver.devices("alice").contains("PHONE"));
    }

    #[tokio::test]
    async fn a_device_that_exists_already_is_success() {
        let homeserver = MemoryHomeserver::new("example.com");
        provision_device(&homeserver, "alice", "PHONE", None)
            .await
            .expect("first");

        provision_device(&homeserver, "alice", "PHONE", Some("Phone"))
            .await
            .expect("again");

        assert_eq!(homeserver.devices("alice").len(), 1);
    }
}
