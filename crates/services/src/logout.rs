//! RP-initiated logout (OpenID Connect RP-Initiated Logout 1.0): which client asks to sign the
//! user out, and where the browser may go afterwards.

use portcullis_keys::Keystore;
use portcullis_model::OAuthClient;
use portcullis_storage::{RepositoryFactory, StorageError};
use url::Url;

/// The request, as the client sent it.
#[derive(Debug, Clone, Copy, Default)]
pub struct LogoutRequest<'a> {
    /// `id_token_hint`: an ID token we issued, expired or not.
    pub id_token_hint: Option<&'a str>,
    /// `client_id`.
    pub client_id: Option<&'a str>,
    /// `post_logout_redirect_uri`.
    pub post_logout_redirect_uri: Option<&'a str>,
    /// `state`, given back on the redirect.
    pub state: Option<&'a str>,
}

/// What the request asks, once checked.
#[derive(Debug)]
pub struct CheckedLogout {
    /// The client that asks, if it said.
    pub client: Option<OAuthClient>,
    /// Where to go afterwards, with `state`: only a URI the client registered.
    pub redirect: Option<Url>,
}

/// Why the request is refused (always with a page, never a redirect).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogoutProblem {
    /// The hint is not an ID token signed by us.
    ForeignToken,
    /// The hint was issued by another issuer.
    OtherIssuer,
    /// The hint's audience and `client_id` differ.
    ClientMismatch,
    /// No such client.
    UnknownClient,
    /// The redirect URI is not one the client registered.
    UnregisteredRedirect,
}

/// Checks the hint (signed by our keys, issued by `issuer`), the client and the redirect URI.
///
/// # Errors
/// When storage fails.
pub async fn check(
    repositories: &dyn RepositoryFactory,
    keystore: &Keystore,
    issuer: &Url,
    request: &LogoutRequest<'_>,
) -> Result<Result<CheckedLogout, LogoutProblem>, StorageError> {
    // The hint must be an ID token we issued; it may have expired (it is only a hint).
    let hinted_client = match request.id_token_hint {
        Some(hint) => {
            let jwks = serde_json::to_string(keystore.public_jwks()).unwrap_or_default();
            let Ok(claims) = portcullis_keys::verify_jwt(&jwks, hint) else {
                return Ok(Err(LogoutProblem::ForeignToken));
            };
            if claims.get("iss").and_then(|v| v.as_str()) != Some(issuer.as_str()) {
                return Ok(Err(LogoutProblem::OtherIssuer));
            }
            match claims.get("aud") {
                Some(serde_json::Value::String(aud)) => Some(aud.clone()),
                Some(serde_json::Value::Array(auds)) => {
                    auds.first().and_then(|a| a.as_str()).map(str::to_owned)
                }
                _ => None,
            }
        }
        None => None,
    };
    if let (Some(hinted), Some(named)) = (&hinted_client, request.client_id)
        && hinted != named
    {
        return Ok(Err(LogoutProblem::ClientMismatch));
    }
    let client_id = hinted_client.or_else(|| request.client_id.map(str::to_owned));
    let client = match &client_id {
        Some(client_id) => {
            let mut repository = repositories.read_transaction().await?;
            let client = repository
                .oauth_clients()
                .find_by_client_id(client_id)
                .await?;
            repository.rollback().await?;
            if client.is_none() {
                return Ok(Err(LogoutProblem::UnknownClient));
            }
            client
        }
        None => None,
    };
    let redirect = match request.post_logout_redirect_uri {
        None => None,
        Some(requested) => {
            // §3: the URI must have been registered by the client the request identifies.
            // Compared as strings (as registered, which is as parsed), not as parsed URLs.
            let registered = client.as_ref().and_then(|c| {
                c.post_logout_redirect_uris
                    .iter()
                    .find(|uri| uri.as_str() == requested)
            });
            let Some(mut url) = registered.cloned() else {
                return Ok(Err(LogoutProblem::UnregisteredRedirect));
            };
            if let Some(state) = request.state {
                url.query_pairs_mut().append_pair("state", state);
            }
            Some(url)
        }
    };
    Ok(Ok(CheckedLogout { client, redirect }))
}
