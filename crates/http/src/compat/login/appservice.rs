//! `m.login.application_service`: a bridge signs one of its users in, presenting its
//! appservice's `as_token` as the bearer token (`matrix.app_service_config_files`), for a user
//! in one of the appservice's exclusive user namespaces, or its sender. The errors are
//! Synapse's: `M_MISSING_TOKEN` and `M_UNKNOWN_TOKEN` (401) for the token, `M_FORBIDDEN` for a
//! user outside the namespaces.
//!
//! The bridge's users are the homeserver's (it registered them there, and refuses to let us
//! provision them): one unknown here is recorded without a password, and is not provisioned.
//! It can sign in no other way.

use portcullis_services::{
    app_services,
    sign_in::{Identifier, localpart_of},
};
use portcullis_storage::StorageError;

use super::{Login, LoginResponse, With, check_active};
use crate::{AppState, compat::error::MatrixError};

pub(super) async fn login(
    state: &AppState,
    login: &Login<'_>,
    who: &Identifier,
    token: Option<&str>,
) -> Result<LoginResponse, MatrixError> {
    let token = token
        .filter(|token| !token.is_empty())
        .ok_or_else(MatrixError::missing_token)?;
    let service = app_services::by_token(state.app_services(), token)
        .ok_or_else(|| MatrixError::unknown_token("Invalid access token passed."))?;
    let server_name = &state.site_config().server_name;
    let localpart = match who {
        Identifier::Username(name) => localpart_of(name, server_name),
        Identifier::Email(_) => None,
    }
    .ok_or_else(|| MatrixError::forbidden("Application service cannot masquerade as this user."))?;
    if !service.may_sign_in(&localpart, server_name) {
        return Err(MatrixError::forbidden(
            "Application service cannot masquerade as this user.",
        ));
    }

    let now = state.now();
    let user = {
        let mut repo = state.database().transaction().await?;
        let user = match repo.users().find_by_username(&localpart).await? {
            Some(user) => user,
            // The homeserver's user, as the bridge registered it there: known here from now
            // on, without a password, and not provisioned (the homeserver would refuse).
            None => match repo.users().add(&localpart, now).await {
                Ok(user) => user,
                Err(StorageError::Conflict(_)) => repo
                    .users()
                    .find_by_username(&localpart)
                    .await?
                    .ok_or_else(|| MatrixError::forbidden("This user cannot sign in."))?,
                Err(error) => return Err(error.into()),
            },
        };
        repo.commit().await?;
        user
    };
    check_active(&user)?;

    tracing::info!(app_service = %service.id, user.username = %user.username, "an application service signs a user in");
    login
        .sign_in(
            state,
            &user,
            None,
            With::AppService,
            "an application service's token",
        )
        .await?
        .ok_or_else(|| MatrixError::forbidden("The sign-in could not be completed"))
}
