//! The authorization code flow's grant (RFC 6749 §4.1, OpenID Connect Core §3): what happens
//! when a signed-in user allows a client, at the consent page or because they consented before.
//!
//! Exchanging the code for tokens is [`crate::tokens::authorization_code`].

use chrono::{DateTime, Utc};
use portcullis_config::sections::experimental::SessionLimitConfig;
use portcullis_keys::Keystore;
use portcullis_model::{
    AuthorizationGrant, AuthorizationGrantStage, BrowserSession, CodeChallenge, OAuthClient, User,
};
use portcullis_oauth::{
    errors::{ClientError, ErrorCode, ToClientError as _},
    redirect_uri::matches_registered,
    requests::{AuthorizationRequest, GrantType, PromptValue, ResponseType},
    scope::{GrantKind, Scope, ScopeContext, check_requested_scope},
    token::generate_code,
};
use portcullis_policy::{
    AuthorizationGrantInput, ClientInput, GrantType as PolicyGrantType, Policy, Requester,
};
use portcullis_storage::{NewAuthorizationGrant, NewOAuthSession, Repository, StorageError};
use rand::RngCore;
use ulid::Ulid;
use url::Url;

use crate::{policy::Decision, tokens::id_token};

/// How long a request may wait for the user's consent.
pub const GRANT_LIFETIME: chrono::TimeDelta = chrono::TimeDelta::hours(1);

/// Why a redirect URI cannot be trusted: told to the person, never sent (RFC 6749 §4.1.2.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RedirectProblem {
    /// The requested URI is not a URL.
    Invalid,
    /// The client did not register it.
    Unregistered,
    /// None was requested and the client registered several (or none).
    Missing,
}

/// The redirect URI to answer to: the one requested if `client` registered it (a native
/// client's loopback URI on any port, RFC 8252 §7.3), or the client's only one when none was
/// requested (RFC 6749 §3.1.2.3).
///
/// # Errors
/// [`RedirectProblem`] when there is none to trust.
pub fn redirect_uri(client: &OAuthClient, requested: Option<&str>) -> Result<Url, RedirectProblem> {
    let registered = &client.redirect_uris;
    match requested {
        Some(requested) => {
            let url = requested
                .parse::<Url>()
                .map_err(|_| RedirectProblem::Invalid)?;
            if matches_registered(&url, registered, client.is_native()) {
                Ok(url)
            } else {
                Err(RedirectProblem::Unregistered)
            }
        }
        None => match registered.as_slice() {
            [only] => Ok(only.clone()),
            _ => Err(RedirectProblem::Missing),
        },
    }
}

/// Whether `client` may make `request`, now that both are known to be genuine: the response
/// types of its grants, PKCE for a public client, and the shape of the scope (what this user
/// may have is decided at consent, once we know who they are).
///
/// # Errors
/// The error to send back to the client.
pub fn check_request(
    client: &OAuthClient,
    request: &AuthorizationRequest,
) -> Result<(), ClientError> {
    let refuse = |code: ErrorCode, description: &str| {
        Err(ClientError::new(code).with_description(description))
    };
    let wants_code = request.response_type.contains(ResponseType::Code);
    // An ID token from the authorization endpoint (the implicit and hybrid flows) is for
    // clients registered for the implicit grant only, as in MAS.
    if request.response_type.contains(ResponseType::IdToken)
        && !client.has_grant(GrantType::Implicit)
    {
        return refuse(
            ErrorCode::UnauthorizedClient,
            "this client may not receive ID tokens from the authorization endpoint",
        );
    }
    if wants_code && !client.has_grant(GrantType::AuthorizationCode) {
        return refuse(
            ErrorCode::UnauthorizedClient,
            "this client may not use the authorization code grant",
        );
    }
    // RFC 9700 §2.1.1: public clients must use PKCE; we do not leave it optional as MAS does.
    if wants_code && client.is_public() && request.pkce.is_none() {
        return refuse(
            ErrorCode::InvalidRequest,
            "code_challenge is required for public clients",
        );
    }
    let structure = ScopeContext {
        grant: GrantKind::AuthorizationCode,
    };
    check_requested_scope(&request.scope, &structure)
        .map_err(|violation| violation.to_client_error())
}

/// The grant that keeps `request` until the user answers, to be answered at `redirect_uri`.
#[must_use]
pub fn new_grant(
    client: &OAuthClient,
    request: &AuthorizationRequest,
    redirect_uri: &Url,
) -> NewAuthorizationGrant {
    let prompt = |value| {
        request
            .prompt
            .as_ref()
            .is_some_and(|prompt| prompt.contains(value))
    };
    // `prompt=login` asks for a password typed after this request: the same as a `max_age`
    // of zero, which the consent step enforces against the time of the request.
    let max_age = if prompt(PromptValue::Login) {
        Some(0)
    } else {
        request
            .max_age
            .map(|age| u32::try_from(age).unwrap_or(u32::MAX))
    };
    NewAuthorizationGrant {
        client_id: client.id,
        redirect_uri: redirect_uri.clone(),
        scope: request.scope.clone(),
        state: request.state.clone(),
        nonce: request.nonce.clone(),
        response_mode: request.response_mode,
        response_type_code: request.response_type.contains(ResponseType::Code),
        response_type_id_token: request.response_type.contains(ResponseType::IdToken),
        code_challenge: request.pkce.as_ref().map(|pkce| CodeChallenge {
            challenge: pkce.challenge.as_str().to_owned(),
            method: pkce.method,
        }),
        max_age,
        login_hint: request.login_hint.clone(),
        locale: request.ui_locales.first().cloned(),
        requires_consent: prompt(PromptValue::Consent),
        raw_parameters: None,
    }
}

/// Whether `user` consented before to every token of `scope` for `client`. A public client's
/// consent is never remembered: anyone can claim to be it.
///
/// # Errors
/// When storage fails.
pub async fn consented_before(
    repo: &mut dyn Repository,
    user: &User,
    client: &OAuthClient,
    scope: &Scope,
) -> Result<bool, StorageError> {
    if client.is_public() {
        return Ok(false);
    }
    let remembered = repo.oauth_consents().granted_scope(user, client).await?;
    Ok(scope
        .iter()
        .all(|token| remembered.iter().any(|granted| granted == token.as_str())))
}

/// Where a signed-in user's answer to a waiting grant leads.
#[derive(Debug)]
pub enum Consent {
    /// The grant is unknown, answered, or older than [`GRANT_LIFETIME`].
    Stale,
    /// The grant's client is gone.
    ClientGone,
    /// The request wants a password typed more recently (`max_age`, `prompt=login`).
    SignInAgain,
    /// The policy refuses this grant (a scope this user may not have, a banned requester, too
    /// many sessions); the grant is cancelled (the caller commits). The client is told
    /// `access_denied` with the reasons.
    ScopeNotAllowed(AuthorizationGrant, ClientError),
    /// The user has to be asked.
    Ask(AuthorizationGrant, OAuthClient),
    /// The user refused; the grant is cancelled (the caller commits).
    Denied(AuthorizationGrant),
    /// Allowed, by the user now or by a consent remembered: ready for [`fulfill`].
    Allowed(AuthorizationGrant, OAuthClient),
}

/// Who answers a grant, and how.
#[derive(Debug, Clone, Copy)]
pub struct Answer<'a> {
    /// The signed-in user.
    pub user: &'a User,
    /// Their browser session.
    pub browser_session: &'a BrowserSession,
    /// The policy deciding the grant.
    pub policy: &'a Policy,
    /// Who answers, from where.
    pub requester: &'a Requester,
    /// How sessions are counted (`experimental.session_limit`).
    pub session_limit: Option<&'a SessionLimitConfig>,
    /// `Some(true)` to allow, `Some(false)` to refuse, `None` when only looking.
    pub decision: Option<bool>,
}

/// Decides, in `repo`'s unit of work, what `answer` does to the grant `grant_id` at `now`:
/// the grant must be waiting and young, the password fresh enough for its `max_age`, the
/// scope one this user may have; then the user's decision, or a consent they gave before to
/// a confidential client, settles it.
///
/// # Errors
/// When storage fails.
pub async fn consent(
    repo: &mut dyn Repository,
    grant_id: Ulid,
    answer: Answer<'_>,
    now: DateTime<Utc>,
) -> Result<Consent, StorageError> {
    let grant = repo.oauth_authorization_grants().find(grant_id).await?;
    let Some(grant) = grant.filter(|grant| {
        grant.stage == AuthorizationGrantStage::Pending && now - grant.created_at < GRANT_LIFETIME
    }) else {
        return Ok(Consent::Stale);
    };
    let Some(client) = repo.oauth_clients().find(grant.client_id).await? else {
        return Ok(Consent::ClientGone);
    };
    // max_age, and prompt=login stored as max_age 0: a password typed after the request always
    // counts as fresh; otherwise the last one must be recent enough.
    if let Some(max_age) = grant.max_age {
        let last = repo
            .browser_sessions()
            .last_authentication(answer.browser_session)
            .await?;
        let fresh = last.is_some_and(|at| {
            at >= grant.created_at || now - at <= chrono::TimeDelta::seconds(i64::from(max_age))
        });
        if !fresh {
            return Ok(Consent::SignInAgain);
        }
    }
    // What this user may be given is decided now that we know who they are.
    let verdict = grant_verdict(
        repo,
        GrantAsked {
            policy: answer.policy,
            user: answer.user,
            client: &client,
            scope: &grant.scope,
            grant_type: PolicyGrantType::AuthorizationCode,
            requester: answer.requester,
            session_limit: answer.session_limit,
        },
        now,
    )
    .await?;
    if let Some(error) = refusal_for_client(&verdict) {
        repo.oauth_authorization_grants()
            .cancel(grant.id, now)
            .await?;
        return Ok(Consent::ScopeNotAllowed(grant, error));
    }
    let allowed = match answer.decision {
        Some(decision) => decision,
        None if !grant.requires_consent
            && consented_before(repo, answer.user, &client, &grant.scope).await? =>
        {
            true
        }
        None => return Ok(Consent::Ask(grant, client)),
    };
    if allowed {
        Ok(Consent::Allowed(grant, client))
    } else {
        repo.oauth_authorization_grants()
            .cancel(grant.id, now)
            .await?;
        Ok(Consent::Denied(grant))
    }
}

/// A grant the policy is asked about.
#[derive(Clone, Copy)]
pub struct GrantAsked<'a> {
    pub policy: &'a Policy,
    pub user: &'a User,
    pub client: &'a OAuthClient,
    pub scope: &'a Scope,
    pub grant_type: PolicyGrantType,
    pub requester: &'a Requester,
    pub session_limit: Option<&'a SessionLimitConfig>,
}

/// Asks the policy (`authorization_grant/violation`) whether `asked.user` may give
/// `asked.client` this scope.
///
/// # Errors
/// When storage fails.
pub async fn grant_verdict(
    repo: &mut dyn Repository,
    asked: GrantAsked<'_>,
    now: DateTime<Utc>,
) -> Result<Decision, StorageError> {
    let counts = crate::policy::session_counts(repo, asked.user, asked.session_limit, now).await?;
    let input = AuthorizationGrantInput {
        user: Some(crate::policy::user_input(asked.user)),
        session_counts: Some(counts),
        client: ClientInput {
            id: &asked.client.client_id,
            client_id: &asked.client.client_id,
        },
        scope: asked.scope.to_string(),
        grant_type: asked.grant_type,
        requester: asked.requester,
    };
    let decision = Decision::from(asked.policy.evaluate_authorization_grant(&input));
    if let Decision::Refused(verdict) = &decision {
        tracing::info!(user.id = %asked.user.id, client.id = %asked.client.client_id, reasons = %verdict.messages(), "authorization refused by the policy");
    }
    Ok(decision)
}

/// What the client is told when the policy refuses a grant: `access_denied` with the policy's
/// reasons, or `server_error` when it could not be evaluated (the check fails closed).
#[must_use]
pub fn refusal_for_client(decision: &Decision) -> Option<ClientError> {
    match decision {
        Decision::Allowed => None,
        Decision::Refused(verdict) => {
            Some(ClientError::new(ErrorCode::AccessDenied).with_description(verdict.messages()))
        }
        Decision::Failed(_) => Some(
            ClientError::new(ErrorCode::ServerError)
                .with_description("the authorization policy could not be evaluated"),
        ),
    }
}

/// What the client gets back through the user's browser.
#[derive(Debug)]
pub struct Fulfilled {
    /// The authorization code, when the response type asks for one.
    pub code: Option<String>,
    /// The ID token, when the response type asks for one.
    pub id_token: Option<String>,
}

/// Why a grant was not fulfilled.
#[derive(Debug)]
pub enum FulfillError {
    /// Answered meanwhile, in another tab or by a double click.
    AlreadyAnswered,
    /// The ID token cannot be signed.
    Signing(String),
    /// Storage failed.
    Storage(StorageError),
}

impl From<StorageError> for FulfillError {
    fn from(error: StorageError) -> Self {
        Self::Storage(error)
    }
}

/// Who allows a grant, and what signs its ID token.
pub struct Approval<'a> {
    /// The user.
    pub user: &'a User,
    /// The browser session they are signed in with.
    pub browser_session: &'a BrowserSession,
    /// The client's `User-Agent`, as the browser sent it.
    pub user_agent: Option<String>,
    /// Signs the ID token of a hybrid or implicit response.
    pub keystore: &'a Keystore,
    /// Our issuer identifier.
    pub issuer: &'a Url,
}

/// Allows `grant` in `repo`'s unit of work: the session starts, the code is made, a
/// confidential client's consent is remembered, and the ID token signed when asked for. The
/// caller commits on success; on error nothing is kept.
///
/// # Errors
/// A [`FulfillError`] when the grant was answered meanwhile or storage or signing fails.
pub async fn fulfill(
    repository: &mut dyn Repository,
    grant: &AuthorizationGrant,
    client: &OAuthClient,
    approval: &Approval<'_>,
    rng: &mut (dyn RngCore + Send),
    now: DateTime<Utc>,
) -> Result<Fulfilled, FulfillError> {
    let session = repository
        .oauth_sessions()
        .add(
            &NewOAuthSession {
                client_id: client.id,
                user_id: Some(approval.user.id),
                user_session_id: Some(approval.browser_session.id),
                scope: grant.scope.clone(),
                user_agent: approval.user_agent.clone(),
                human_name: None,
            },
            now,
        )
        .await?;
    let code = grant.response_type_code.then(|| generate_code(rng, 32));
    let fulfilled = repository
        .oauth_authorization_grants()
        .fulfill(
            grant.id,
            &session,
            approval.browser_session,
            code.as_deref(),
            now,
        )
        .await?;
    if fulfilled.is_none() {
        return Err(FulfillError::AlreadyAnswered);
    }
    if !client.is_public() {
        let tokens: Vec<String> = grant
            .scope
            .iter()
            .map(|token| token.as_str().to_owned())
            .collect();
        repository
            .oauth_consents()
            .grant(approval.user, client, &tokens, now)
            .await?;
    }
    let id_token = if grant.response_type_id_token {
        let auth_time = repository
            .browser_sessions()
            .last_authentication(approval.browser_session)
            .await?
            .unwrap_or(now);
        let email = if grant.scope.contains("email") {
            id_token::primary_email(repository, approval.user).await?
        } else {
            None
        };
        let claims = id_token::IdTokenClaims {
            client,
            user: approval.user,
            auth_time,
            nonce: grant.nonce.as_deref(),
            access_token: None,
            code: code.as_deref(),
            email: email.as_deref(),
        };
        let signed = id_token::sign(approval.keystore, approval.issuer, &claims, now)
            .map_err(|error| FulfillError::Signing(error.to_string()))?;
        Some(signed)
    } else {
        None
    };
    tracing::info!(grant.id = %grant.id, client.id = %client.client_id, user.id = %approval.user.id, "authorization granted");
    Ok(Fulfilled { code, id_token })
}

#[cfg(test)]
mod tests {
    use portcullis_oauth::registration::ApplicationType;

    use super::*;

    fn client(uris: &[&str], native: bool) -> OAuthClient {
        OAuthClient {
            redirect_uris: uris.iter().map(|uri| uri.parse().expect("a URL")).collect(),
            application_type: native.then_some(ApplicationType::Native),
            ..OAuthClient::default()
        }
    }

    #[test]
    fn only_a_registered_redirect_uri_is_trusted_and_one_alone_is_the_default() {
        let web = client(&["https://app.example/cb"], false);
        assert_eq!(
            redirect_uri(&web, Some("https://app.example/cb")).map(String::from),
            Ok("https://app.example/cb".to_owned())
        );
        assert_eq!(
            redirect_uri(&web, Some("https://evil.example/cb")),
            Err(RedirectProblem::Unregistered)
        );
        assert_eq!(
            redirect_uri(&web, Some("not a url")),
            Err(RedirectProblem::Invalid)
        );
        assert_eq!(
            redirect_uri(&web, None).map(String::from),
            Ok("https://app.example/cb".to_owned())
        );
        let two = client(&["https://app.example/a", "https://app.example/b"], false);
        assert_eq!(redirect_uri(&two, None), Err(RedirectProblem::Missing));
    }

    #[test]
    fn a_native_clients_loopback_uri_matches_on_any_port() {
        let native = client(&["http://127.0.0.1/callback"], true);
        assert!(redirect_uri(&native, Some("http://127.0.0.1:51234/callback")).is_ok());
        let web = client(&["http://127.0.0.1/callback"], false);
        assert_eq!(
            redirect_uri(&web, Some("http://127.0.0.1:51234/callback")),
            Err(RedirectProblem::Unregistered)
        );
    }
}
