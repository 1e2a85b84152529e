//! Telling the homeserver about devices before their tokens are handed out.
//!
//! Every sign-in that gives a Matrix client a token for a device, OAuth 2.0 or through the
//! compatibility login API, first creates (or updates) that device on the homeserver: the
//! homeserver refuses tokens of devices it does not know. The call is made outside any database
//! transaction, and before anything is committed, so that an unreachable homeserver leaves
//! nothing half-done behind.

use portcullis_homeserver::{HomeserverError, ProvisionRequest};
use portcullis_model::User;

use crate::AppState;

/// Creates device `device_id` of `user` on the homeserver, or brings its display name up to
/// date. A user the homeserver does not know yet (their provisioning job has not run) is
/// provisioned first rather than failing the sign-in; the job still runs later and brings the
/// rest of the profile.
///
/// # Errors
/// When the homeserver cannot be reached or refuses.
pub async fn provision_device(
    state: &AppState,
    user: &User,
    device_id: &str,
    display_name: Option<&str>,
) -> Result<(), HomeserverError> {
    let homeserver = state.homeserver();
    let upsert = || homeserver.upsert_device(&user.username, device_id, display_name);
    let outcome = match upsert().await {
        Err(HomeserverError::NotFound { .. }) => {
            homeserver
                .provision_user(&ProvisionRequest::new(&user.username))
                .await?;
            upsert().await
        }
        other => other,
    }?;
    tracing::debug!(user.username = %user.username, device.id = %device_id, ?outcome, "device provisioned on the homeserver");
    Ok(())
}
