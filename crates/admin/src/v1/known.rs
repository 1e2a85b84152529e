//! What the filters of lists name must exist: an unknown user, client or browser session is a
//! 404, as in MAS, rather than an empty list that looks like an answer.

use portcullis_oauth::scope::Scope;
use portcullis_storage::Repository;
use ulid::Ulid;

use crate::error::ApiError;

/// Each of `users` exists.
pub async fn users(
    repo: &mut dyn Repository,
    users: impl IntoIterator<Item = Option<Ulid>>,
) -> Result<(), ApiError> {
    for user in users.into_iter().flatten() {
        if repo.users().find_by_id(user).await?.is_none() {
            return Err(ApiError::not_found(format!("User ID {user} not found")));
        }
    }
    Ok(())
}

/// Each of `clients` (internal ids) exists.
pub async fn clients(
    repo: &mut dyn Repository,
    clients: impl IntoIterator<Item = Ulid>,
) -> Result<(), ApiError> {
    for client in clients {
        if repo.oauth_clients().find(client).await?.is_none() {
            return Err(ApiError::not_found(format!(
                "OAuth 2.0 client ID {client} not found"
            )));
        }
    }
    Ok(())
}

/// The browser session, if any, exists.
pub async fn user_session(
    repo: &mut dyn Repository,
    user_session: Option<Ulid>,
) -> Result<(), ApiError> {
    if let Some(id) = user_session
        && repo.browser_sessions().find(id).await?.is_none()
    {
        return Err(ApiError::not_found(format!(
            "User session ID {id} not found"
        )));
    }
    Ok(())
}

/// The scope a repeatable `filter[scope]` names: every token given; `None` when none is.
pub fn scope(tokens: &[String]) -> Result<Option<Scope>, ApiError> {
    if tokens.is_empty() {
        return Ok(None);
    }
    tokens
        .join(" ")
        .parse()
        .map(Some)
        .map_err(|_| ApiError::bad_request("Invalid filter[scope]"))
}
