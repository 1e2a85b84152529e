//! The client credentials grant (RFC 6749 §4.4): a confidential client acting for itself.

use portcullis_model::OAuthClient;
use portcullis_oauth::{
    ToClientError as _,
    requests::AccessTokenResponse,
    scope::{GrantKind, Scope, ScopeContext, check_requested_scope},
};
use portcullis_storage::NewOAuthSession;

use super::{TokenError, TokenIssuer};

/// Starts a session without user for `client` and gives it an access token (no refresh
/// token: the client can ask again whenever it wants, RFC 6749 §4.4.3).
pub async fn grant(
    issuer: &mut TokenIssuer<'_>,
    client: &OAuthClient,
    scope: &Scope,
    user_agent: Option<&str>,
) -> Result<AccessTokenResponse, TokenError> {
    // RFC 6749 §4.4: "The client credentials grant type MUST only be used by confidential
    // clients": a public client proves nothing about who is asking.
    if client.is_public() {
        return Err(TokenError::UnauthorizedClient(
            "public clients may not use the client_credentials grant",
        ));
    }
    let context = ScopeContext {
        grant: GrantKind::ClientCredentials,
        user_can_request_admin: false,
        client_is_admin_client: issuer
            .admin_clients
            .iter()
            .any(|admin| admin == &client.client_id),
    };
    check_requested_scope(scope, &context)
        .map_err(|violation| TokenError::Request(violation.to_client_error()))?;

    let now = issuer.now;
    let mut repo = issuer.repositories.transaction().await?;
    let session = repo
        .oauth_sessions()
        .add(
            &NewOAuthSession {
                client_id: client.id,
                user_id: None,
                user_session_id: None,
                scope: scope.clone(),
                user_agent: user_agent.map(str::to_owned),
                human_name: None,
            },
            now,
        )
        .await?;
    let issued = issuer.issue_tokens(&mut *repo, &session, false).await?;
    repo.commit().await?;
    tracing::info!(client.id = %client.client_id, session.id = %session.id, "client credentials granted");
    Ok(issued.response(scope, None))
}
