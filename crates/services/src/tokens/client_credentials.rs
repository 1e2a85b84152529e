//! The client credentials grant (RFC 6749 §4.4): a confidential client acting for itself.

use portcullis_model::OAuthClient;
use portcullis_oauth::{
    ToClientError as _,
    requests::AccessTokenResponse,
    scope::{GrantKind, Scope, ScopeContext, check_requested_scope},
};
use portcullis_policy::{AuthorizationGrantInput, ClientInput, GrantType, Requester};
use portcullis_storage::NewOAuthSession;

use super::{TokenError, TokenIssuer};

/// Starts a session without user for `client` and gives it an access token (no refresh
/// token: the client can ask again whenever it wants, RFC 6749 §4.4.3).
pub async fn grant(
    issuer: &mut TokenIssuer<'_>,
    client: &OAuthClient,
    scope: &Scope,
    requester: &Requester,
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
    };
    check_requested_scope(scope, &context)
        .map_err(|violation| TokenError::Request(violation.to_client_error()))?;
    // Which client may have which scope is the policy's (`admin_clients`, banned requesters).
    let input = AuthorizationGrantInput {
        user: None,
        session_counts: None,
        client: ClientInput {
            id: &client.client_id,
            client_id: &client.client_id,
        },
        scope: scope.to_string(),
        grant_type: GrantType::ClientCredentials,
        requester,
    };
    match issuer.policy.evaluate_authorization_grant(&input) {
        Ok(verdict) if verdict.is_allowed() => {}
        Ok(verdict) => return Err(TokenError::InvalidScope(verdict.messages())),
        Err(error) => {
            tracing::error!(%error, "the authorization grant policy failed");
            return Err(TokenError::Internal(
                "the authorization policy could not be evaluated".to_owned(),
            ));
        }
    }
    let user_agent = requester.user_agent.as_deref();

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
