//! Signing in through an upstream provider (MAS's `upstream_oauth2`): the authorization
//! request, the provider's answer at the callback, and the sign-in of the linked user.
//!
//! The network calls to the provider happen outside any unit of work; the answer is then
//! stored by one conditional update, so a replayed callback finds nothing to complete.

use chrono::{DateTime, Utc};
use portcullis_config::sections::upstream_oauth2::{ProviderConfig, TokenAuthMethod};
use portcullis_keys::{Encrypter, Keystore};
use portcullis_model::{
    AuthenticationKind, BrowserSession, UpstreamAnswer, UpstreamAuthorizationSession, UpstreamLink,
    User,
};
use portcullis_oidc_client::{
    JwksCache, authorization,
    id_token::{self, Expected, ProviderKeys, TokenValidationError},
    metadata::{MetadataCache, MetadataError},
    template::{self, TemplateError},
    token::{self, Credentials, TokenError},
    userinfo::{self, UserinfoError},
};
use portcullis_storage::{
    NewUpstreamAuthorizationSession, Repository, RepositoryFactory, StorageError,
};
use rand::RngCore;
use serde_json::{Map, Value, json};
use ulid::Ulid;
use url::Url;
use zeroize::Zeroizing;

use crate::sessions::start_browser_session;

/// The subject template when the configuration gives none.
const DEFAULT_SUBJECT_TEMPLATE: &str = "{{ user.sub }}";

/// The caches shared by every sign-in of a process.
#[derive(Debug, Clone, Default)]
pub struct UpstreamClient {
    pub metadata: MetadataCache,
    pub jwks: JwksCache,
}

/// A provider as the sign-in uses it: its settings and its client secret, decrypted (for Sign
/// in with Apple, its private key).
#[derive(Clone)]
pub struct Provider {
    pub config: ProviderConfig,
    pub client_secret: Option<Zeroizing<String>>,
}

impl std::fmt::Debug for Provider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Provider")
            .field("id", &self.config.id)
            .finish_non_exhaustive()
    }
}

/// Why a provider cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ProviderProblem {
    #[error("there is no upstream provider `{0}`")]
    Unknown(String),
    #[error("the upstream provider `{0}` is disabled")]
    Disabled(String),
    #[error("the stored settings of the upstream provider `{id}` cannot be read: {reason}")]
    Unreadable { id: String, reason: String },
}

/// The provider `id`, as `config sync` stored it, if it is enabled.
///
/// # Errors
/// Storage failures; the provider's own problems are the inner `Err`.
pub async fn provider(
    repo: &mut dyn Repository,
    encrypter: &Encrypter,
    id: &str,
) -> Result<Result<Provider, ProviderProblem>, StorageError> {
    let Some(stored) = repo.upstream_providers().find(id).await? else {
        return Ok(Err(ProviderProblem::Unknown(id.to_owned())));
    };
    let unreadable = |reason: String| ProviderProblem::Unreadable {
        id: id.to_owned(),
        reason,
    };
    let config: ProviderConfig = match serde_json::from_value(stored.config.clone()) {
        Ok(config) => config,
        Err(error) => return Ok(Err(unreadable(error.to_string()))),
    };
    if !stored.is_enabled() || !config.enabled {
        return Ok(Err(ProviderProblem::Disabled(id.to_owned())));
    }
    let client_secret = match &stored.encrypted_client_secret {
        Some(encrypted) => match encrypter.decrypt(encrypted) {
            Ok(bytes) => Some(Zeroizing::new(String::from_utf8_lossy(&bytes).into_owned())),
            Err(error) => return Ok(Err(unreadable(format!("client secret: {error}")))),
        },
        None => None,
    };
    Ok(Ok(Provider {
        config,
        client_secret,
    }))
}

/// The providers people may sign in with now (enabled in the file and in the database),
/// ordered by id, for the sign-in page's buttons.
///
/// # Errors
/// When storage fails; a provider whose stored settings cannot be read is left out.
pub async fn enabled_providers(
    repo: &mut dyn Repository,
) -> Result<Vec<ProviderConfig>, StorageError> {
    Ok(repo
        .upstream_providers()
        .list()
        .await?
        .into_iter()
        .filter(portcullis_model::UpstreamProvider::is_enabled)
        .filter_map(|stored| serde_json::from_value::<ProviderConfig>(stored.config).ok())
        .filter(|config| config.enabled)
        .collect())
}

/// Why the sign-in could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    Metadata(#[from] MetadataError),
    #[error("an additional authorization parameter's template: {0}")]
    Template(#[from] TemplateError),
    #[error(transparent)]
    Storage(#[from] StorageError),
}

/// Starts a sign-in: records the attempt and returns it with where to send the browser.
/// `post_auth_action` is what the visitor was doing (given back once signed in); `params` are
/// the parameters of the request that led here (a client's authorization request, or the
/// sign-in page's `login_hint`), which the provider's `additional_authorization_parameters`
/// templates read as `params` (and `forward_login_hint` as `params.login_hint`), with
/// `logged_out`: whether the browser signed out here a few minutes ago.
///
/// # Errors
/// See [`StartError`].
#[allow(clippy::too_many_arguments)]
pub async fn start(
    database: &dyn RepositoryFactory,
    client: &UpstreamClient,
    provider: &Provider,
    redirect_uri: &Url,
    post_auth_action: Option<Value>,
    params: &Map<String, Value>,
    logged_out: bool,
    rng: &mut (dyn RngCore + Send),
    now: DateTime<Utc>,
) -> Result<(UpstreamAuthorizationSession, Url), StartError> {
    let config = &provider.config;
    let metadata = client.metadata.get(config).await?;
    let context = json!({ "params": params, "logged_out": logged_out });
    let mut extra = Vec::new();
    let mut templates: Vec<(&str, &str)> = config
        .additional_authorization_parameters
        .iter()
        .map(|(name, value)| (name.as_str(), value.as_str()))
        .collect();
    if config.forward_login_hint {
        templates.push(("login_hint", "{{ params.login_hint }}"));
    }
    for (name, value) in templates {
        if let Some(rendered) = template::render(value, &context)? {
            extra.push((name.to_owned(), rendered));
        }
    }
    let request = authorization::build(config, &metadata, redirect_uri, &extra, rng);
    let mut repo = database.transaction().await?;
    let session = repo
        .upstream_authorization_sessions()
        .add(
            &NewUpstreamAuthorizationSession {
                provider_id: config.id.clone(),
                state: request.state.clone(),
                nonce: request.nonce.clone(),
                code_verifier: request.code_verifier.clone(),
                post_auth_action,
            },
            now,
        )
        .await?;
    repo.commit().await?;
    Ok((session, request.url))
}

/// What the provider sent to the callback.
#[derive(Debug, Clone, Default)]
pub struct CallbackParams {
    pub state: Option<String>,
    pub code: Option<String>,
    pub error: Option<String>,
    pub error_description: Option<String>,
    /// Every other parameter, for the templates' `extra_callback_parameters`.
    pub extra: Map<String, Value>,
}

/// Why the provider's answer is refused.
#[derive(Debug, thiserror::Error)]
pub enum CallbackError {
    #[error("no sign-in is waiting for this answer (unknown or missing `state`)")]
    UnknownState,
    #[error("this answer was already used")]
    AlreadyUsed,
    #[error("the provider refused: {error}{}", description.as_deref().map(|d| format!(" ({d})")).unwrap_or_default())]
    Refused {
        error: String,
        description: Option<String>,
    },
    #[error("the provider's answer has no code")]
    NoCode,
    #[error(transparent)]
    Metadata(#[from] MetadataError),
    #[error("the token request failed: {0}")]
    Token(#[from] TokenError),
    #[error("the provider sent no ID token, although the scope asks for one")]
    NoIdToken,
    #[error("the ID token is refused: {0}")]
    IdToken(#[from] TokenValidationError),
    #[error("userinfo: {0}")]
    Userinfo(#[from] UserinfoError),
    #[error("a claims template: {0}")]
    Template(#[from] TemplateError),
    #[error("the subject template gave nothing: the provider's claims lack what it names")]
    NoSubject,
    #[error(transparent)]
    Storage(#[from] StorageError),
}

/// Checks the provider's answer and stores it: the code exchanged, the ID token validated,
/// userinfo fetched if configured, the account's link found or recorded (without a user yet
/// when new). Returns the completed attempt and its link.
///
/// # Errors
/// See [`CallbackError`].
#[allow(clippy::too_many_arguments)]
pub async fn complete(
    database: &dyn RepositoryFactory,
    client: &UpstreamClient,
    keystore: &Keystore,
    provider: &Provider,
    redirect_uri: &Url,
    params: &CallbackParams,
    rng: &mut (dyn RngCore + Send),
    now: DateTime<Utc>,
) -> Result<(UpstreamAuthorizationSession, UpstreamLink), CallbackError> {
    let config = &provider.config;
    let state = params.state.as_deref().ok_or(CallbackError::UnknownState)?;
    let mut repo = database.read_transaction().await?;
    let attempt = repo
        .upstream_authorization_sessions()
        .find_by_state(&config.id, state)
        .await?;
    repo.rollback().await?;
    let attempt = attempt.ok_or(CallbackError::UnknownState)?;
    if attempt.completed_at.is_some() {
        return Err(CallbackError::AlreadyUsed);
    }
    if let Some(error) = &params.error {
        return Err(CallbackError::Refused {
            error: error.clone(),
            description: params.error_description.clone(),
        });
    }
    let code = params.code.as_deref().ok_or(CallbackError::NoCode)?;

    let metadata = client.metadata.get(config).await?;
    let secret = provider.client_secret.as_deref().map(String::as_str);
    // For Sign in with Apple, what is stored in the secret's place is the private key.
    let apple = config.token_endpoint_auth_method == TokenAuthMethod::SignInWithApple;
    let credentials = Credentials {
        client_secret: secret.filter(|_| !apple),
        keystore,
        apple_private_key: secret.filter(|_| apple),
    };
    let tokens = token::exchange_code(
        config,
        &metadata,
        credentials,
        code,
        redirect_uri,
        attempt.code_verifier.as_deref(),
        now,
        rng,
    )
    .await?;
    let keys = ProviderKeys {
        jwks_uri: metadata.jwks_uri.as_ref(),
        client_secret: secret,
        cache: &client.jwks,
    };
    let id_token_claims = match (&tokens.id_token, &metadata.issuer, &attempt.nonce) {
        (Some(token), Some(issuer), _) => Some(
            id_token::validate(
                token,
                Expected {
                    issuer,
                    client_id: &config.client_id,
                    alg: config.id_token_signed_response_alg,
                    nonce: attempt.nonce.as_deref(),
                    access_token: Some(&tokens.access_token),
                    code: Some(code),
                    now,
                },
                keys,
            )
            .await?,
        ),
        (None, _, Some(_)) => return Err(CallbackError::NoIdToken),
        _ => None,
    };
    let subject_hint = id_token_claims
        .as_ref()
        .and_then(|claims| claims.get("sub"))
        .and_then(Value::as_str);
    let userinfo_claims = if config.fetch_userinfo {
        Some(userinfo::fetch(config, &metadata, &tokens.access_token, subject_hint, keys).await?)
    } else {
        None
    };

    let empty = Map::new();
    let context = template::claims_context(
        id_token_claims.as_ref().unwrap_or(&empty),
        userinfo_claims.as_ref().unwrap_or(&empty),
        &params.extra,
    );
    let imports = &config.claims_imports;
    let subject_template = imports
        .subject
        .template
        .as_deref()
        .unwrap_or(DEFAULT_SUBJECT_TEMPLATE);
    let subject = template::render(subject_template, &context)?.ok_or(CallbackError::NoSubject)?;
    let account_name = match imports.account_name.template.as_deref() {
        Some(template) => template::render(template, &context)?,
        None => None,
    };

    let mut repo = database.transaction().await?;
    let link = match repo
        .upstream_links()
        .find_by_subject(&config.id, &subject)
        .await?
    {
        Some(link) => link,
        None => {
            repo.upstream_links()
                .add(&config.id, &subject, account_name.as_deref(), now)
                .await?
        }
    };
    let answer = UpstreamAnswer {
        link_id: link.id,
        id_token: tokens.id_token.clone(),
        id_token_claims: id_token_claims.map(Value::Object),
        userinfo_claims: userinfo_claims.map(Value::Object),
        extra_callback_parameters: (!params.extra.is_empty())
            .then(|| Value::Object(params.extra.clone())),
    };
    let completed = repo
        .upstream_authorization_sessions()
        .complete(attempt.id, &answer, now)
        .await?
        .ok_or(CallbackError::AlreadyUsed)?;
    repo.commit().await?;
    Ok((completed, link))
}

/// What a completed attempt leads to.
#[derive(Debug)]
pub enum Continued {
    /// Nobody was signed in: the account's user is, in a new browser session.
    SignedIn {
        user: User,
        session: BrowserSession,
    },
    /// The account's user was signed in already: their session counts as freshly
    /// authenticated (a re-authentication).
    Reauthenticated,
    /// Another user is signed in in this browser: nothing is done.
    OtherUser,
    /// The account is linked to nobody yet: the visitor registers, or links it to the user
    /// signed in.
    Unlinked(UpstreamLink),
    Locked,
    Deactivated,
    /// The attempt is not completed, or was already used.
    NotUsable,
    /// The account's user has a second factor (or must add one) that the provider did not
    /// vouch for: nothing is recorded yet; the session starts, and the attempt is consumed by
    /// it, after the second step ([`consume_after_second_factor`]).
    SecondFactor(User),
}

/// Whether the provider says, in the ID token's `amr` (RFC 8176), that its user proved more
/// than one factor: then this service does not ask for its own second factor.
#[must_use]
pub fn vouches_for_second_factor(attempt: &UpstreamAuthorizationSession) -> bool {
    attempt
        .id_token_claims
        .as_ref()
        .and_then(|claims| claims.get("amr"))
        .and_then(Value::as_array)
        .is_some_and(|methods| methods.iter().any(|method| method == "mfa"))
}

/// Consumes the attempt `attempt_id` for `session`, started after the second step of a sign-in
/// that began at the provider; whether it was still unused (a browser can use it once).
///
/// # Errors
/// Storage failures.
pub async fn consume_after_second_factor(
    repo: &mut dyn Repository,
    attempt_id: Ulid,
    session: &BrowserSession,
    now: DateTime<Utc>,
) -> Result<bool, StorageError> {
    Ok(repo
        .upstream_authorization_sessions()
        .consume(attempt_id, session.id, now)
        .await?
        .is_some())
}

/// Goes on with a completed attempt, once, for the browser whose signed-in session is
/// `current` (if any): signs in the account's user (unless a second step is needed, see
/// [`Continued::SecondFactor`]; `requirement` is `account.second_factors.required`), or
/// re-authenticates them. The caller
/// commits on [`Continued::SignedIn`] and [`Continued::Reauthenticated`].
///
/// # Errors
/// Storage failures.
pub async fn continue_sign_in(
    repo: &mut dyn Repository,
    attempt: &UpstreamAuthorizationSession,
    current: Option<(&User, &BrowserSession)>,
    requirement: portcullis_config::SecondFactorRequirement,
    user_agent: Option<&str>,
    now: DateTime<Utc>,
) -> Result<Continued, StorageError> {
    let Some(link_id) = attempt.link_id.filter(|_| attempt.consumed_at.is_none()) else {
        return Ok(Continued::NotUsable);
    };
    let Some(link) = repo.upstream_links().find(link_id).await? else {
        return Ok(Continued::NotUsable);
    };
    let Some(user_id) = link.user_id else {
        return Ok(Continued::Unlinked(link));
    };
    if let Some((current_user, current_session)) = current {
        if current_user.id != user_id {
            return Ok(Continued::OtherUser);
        }
        if repo
            .upstream_authorization_sessions()
            .consume(attempt.id, current_session.id, now)
            .await?
            .is_none()
        {
            return Ok(Continued::NotUsable);
        }
        repo.browser_sessions()
            .authenticate(current_session, AuthenticationKind::Upstream, now)
            .await?;
        return Ok(Continued::Reauthenticated);
    }
    let Some(user) = repo.users().find_by_id(user_id).await? else {
        return Ok(Continued::NotUsable);
    };
    if user.deactivated_at.is_some() {
        return Ok(Continued::Deactivated);
    }
    if user.locked_at.is_some() {
        return Ok(Continued::Locked);
    }
    if !vouches_for_second_factor(attempt) {
        let factors = crate::second_factor::factors_of(repo, &user).await?;
        if factors.any() || crate::second_factor::required_for(requirement, &user) {
            return Ok(Continued::SecondFactor(user));
        }
    }
    let session =
        start_browser_session(repo, &user, AuthenticationKind::Upstream, user_agent, now).await?;
    if repo
        .upstream_authorization_sessions()
        .consume(attempt.id, session.id, now)
        .await?
        .is_none()
    {
        return Ok(Continued::NotUsable);
    }
    Ok(Continued::SignedIn { user, session })
}
