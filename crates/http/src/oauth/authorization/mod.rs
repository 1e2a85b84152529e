//! `GET /authorize`: the authorization endpoint (RFC 6749 §4.1.1, OIDC Core §3.1.2).
//!
//! Until the client and its redirect URI are known to be genuine, errors are shown as a page
//! and never redirected (RFC 6749 §4.1.2.1: an open redirector is an attack tool). After that,
//! every error goes back to the client with `state` and `iss`.

pub mod callback;
pub mod consent;

use axum::{
    extract::{Query, State},
    http::StatusCode,
    response::{IntoResponse, Redirect, Response},
};
use portcullis_model::OAuthClient;
use portcullis_oauth::{
    errors::{ClientError, ErrorCode, ToClientError as _},
    redirect_uri::matches_registered,
    requests::{
        AuthorizationParams, AuthorizationRequest, AuthorizationRequestError, GrantType,
        PromptValue, ResponseType,
    },
    scope::{GrantKind, ScopeContext, check_requested_scope},
};
use portcullis_storage::{NewAuthorizationGrant, StorageError};
use url::Url;

use self::callback::Callback;
use crate::{
    AppState,
    cookies::CookieJar,
    human::post_auth::{PostAuthAction, login_url, register_url},
    pages::tr,
    session,
};

/// A request older than this cannot be consented to any more.
pub const GRANT_LIFETIME: chrono::TimeDelta = chrono::TimeDelta::hours(1);

pub async fn get(
    State(state): State<AppState>,
    jar: CookieJar,
    Query(params): Query<AuthorizationParams>,
) -> Response {
    match authorize(&state, &jar, params).await {
        Ok(response) => response,
        Err(Refusal::Shown(response)) => *response,
        Err(Refusal::Internal(error)) => state.internal_error_page(&error),
    }
}

enum Refusal {
    /// An answer already made (a page, or a redirect to the client), boxed: a response is
    /// large and this is the uncommon path.
    Shown(Box<Response>),
    Internal(StorageError),
}

impl From<StorageError> for Refusal {
    fn from(error: StorageError) -> Self {
        Self::Internal(error)
    }
}

async fn authorize(
    state: &AppState,
    jar: &CookieJar,
    params: AuthorizationParams,
) -> Result<Response, Refusal> {
    let mode = params.error_response_mode();
    let raw_state = params.state.clone();

    // 1. The client, and the redirect URI it registered: problems here are shown, not sent.
    let Some(client_id) = params.client_id.clone() else {
        return Err(shown(state, tr("authorize.error.no_client_id", &[])));
    };
    let mut repository = state.database().transaction().await?;
    let client = repository
        .oauth_clients()
        .find_by_client_id(&client_id)
        .await?;
    let Some(client) = client else {
        repository.rollback().await?;
        return Err(shown(state, tr("authorize.error.unknown_client", &[])));
    };
    let redirect_uri = trusted_redirect_uri(state, &client, params.redirect_uri.as_deref())?;
    let callback = Callback {
        redirect_uri,
        mode,
        state: raw_state,
    };

    // 2. The rest of the request: errors go back to the client.
    let request = AuthorizationRequest::try_from(params).map_err(|error| {
        if error.is_redirectable() {
            Refusal::Shown(Box::new(callback.error(state, error.to_client_error())))
        } else {
            shown(state, unsendable_error_message(&error))
        }
    })?;
    let callback = Callback {
        mode: request.response_mode,
        ..callback
    };
    let refuse = |code: ErrorCode, description: &str| {
        Refusal::Shown(Box::new(
            callback.error(state, ClientError::new(code).with_description(description)),
        ))
    };

    let wants_code = request.response_type.contains(ResponseType::Code);
    // An ID token from the authorization endpoint (the implicit and hybrid flows) is for
    // clients registered for the implicit grant only, as in MAS.
    if request.response_type.contains(ResponseType::IdToken)
        && !client.has_grant(GrantType::Implicit)
    {
        return Err(refuse(
            ErrorCode::UnauthorizedClient,
            "this client may not receive ID tokens from the authorization endpoint",
        ));
    }
    if wants_code && !client.has_grant(GrantType::AuthorizationCode) {
        return Err(refuse(
            ErrorCode::UnauthorizedClient,
            "this client may not use the authorization code grant",
        ));
    }
    // RFC 9700 §2.1.1: public clients must use PKCE; we do not leave it optional as MAS does.
    if wants_code && client.is_public() && request.pkce.is_none() {
        return Err(refuse(
            ErrorCode::InvalidRequest,
            "code_challenge is required for public clients",
        ));
    }
    // Only the shape of the scope now; what this user may have is decided at consent, once we
    // know who they are.
    let structure = ScopeContext {
        grant: GrantKind::AuthorizationCode,
        user_can_request_admin: true,
        client_is_admin_client: false,
    };
    if let Err(violation) = check_requested_scope(&request.scope, &structure) {
        return Err(Refusal::Shown(Box::new(
            callback.error(state, violation.to_client_error()),
        )));
    }

    let prompt = Prompts(request.prompt.clone());
    let signed_in = session::current(jar, &mut repository).await?;
    let now = state.now();

    if prompt.contains(PromptValue::None) {
        // OIDC Core §3.1.2.1: no page may be shown; succeed silently or say why not.
        let Some(signed_in) = signed_in else {
            return Err(refuse(
                ErrorCode::LoginRequired,
                "the user is not signed in",
            ));
        };
        let remembered = repository
            .oauth_consents()
            .granted_scope(&signed_in.user, &client)
            .await?;
        let covered = request
            .scope
            .iter()
            .all(|token| remembered.iter().any(|r| r == token.as_str()));
        if client.is_public() || !covered {
            return Err(refuse(
                ErrorCode::ConsentRequired,
                "the user has not consented to this scope",
            ));
        }
        let grant = repository
            .oauth_authorization_grants()
            .add(&new_grant(&client, &request, &callback, &prompt), None, now)
            .await?;
        return consent::fulfill(
            state, repository, grant, &client, &signed_in, &callback, None,
        )
        .await
        .map_err(Refusal::Internal);
    }

    let grant = repository
        .oauth_authorization_grants()
        .add(&new_grant(&client, &request, &callback, &prompt), None, now)
        .await?;
    repository.commit().await?;

    let continuation = PostAuthAction::ContinueAuthorizationGrant { id: grant.id };
    // OpenID Connect Prompt Create: the user wants a new account, signed in or not (as in
    // MAS). Without registration it is a sign-in like any other.
    let wants_registration =
        prompt.contains(PromptValue::Create) && state.site_config().password_registration_enabled;
    let needs_login = signed_in.is_none()
        || prompt.contains(PromptValue::Login)
        || prompt.contains(PromptValue::Create);
    let destination = if wants_registration {
        register_url(
            state.urls(),
            Some(continuation),
            request.login_hint.as_deref(),
        )
    } else if needs_login {
        login_url(
            state.urls(),
            Some(continuation),
            request.login_hint.as_deref(),
        )
    } else {
        continuation.destination(state.urls())
    };
    Ok(Redirect::to(destination.as_str()).into_response())
}

/// The redirect URI to answer to: the one requested if the client registered it, or the
/// client's only one when none was requested (RFC 6749 §3.1.2.3).
fn trusted_redirect_uri(
    state: &AppState,
    client: &OAuthClient,
    requested: Option<&str>,
) -> Result<Url, Refusal> {
    let registered = &client.redirect_uris;
    let native = client.is_native();
    match requested {
        Some(requested) => {
            let Ok(url) = requested.parse::<Url>() else {
                return Err(shown(state, tr("authorize.error.invalid_redirect", &[])));
            };
            if matches_registered(&url, &registered, native) {
                Ok(url)
            } else {
                Err(shown(
                    state,
                    tr("authorize.error.unregistered_redirect", &[]),
                ))
            }
        }
        None => match registered.as_slice() {
            [only] => Ok(only.clone()),
            _ => Err(shown(state, tr("authorize.error.no_redirect", &[]))),
        },
    }
}

fn new_grant(
    client: &OAuthClient,
    request: &AuthorizationRequest,
    callback: &Callback,
    prompt: &Prompts,
) -> NewAuthorizationGrant {
    // `prompt=login` asks for a password typed after this request: the same as a `max_age`
    // of zero, which the consent step enforces against the time of the request.
    let max_age = if prompt.contains(PromptValue::Login) {
        Some(0)
    } else {
        request
            .max_age
            .map(|age| u32::try_from(age).unwrap_or(u32::MAX))
    };
    NewAuthorizationGrant {
        client_id: client.id,
        redirect_uri: callback.redirect_uri.to_string(),
        scope: request.scope.clone(),
        state: request.state.clone(),
        nonce: request.nonce.clone(),
        response_mode: callback.mode,
        response_type_code: request.response_type.contains(ResponseType::Code),
        response_type_id_token: request.response_type.contains(ResponseType::IdToken),
        code_challenge: request
            .pkce
            .as_ref()
            .map(|pkce| portcullis_model::CodeChallenge {
                challenge: pkce.challenge.as_str().to_owned(),
                method: pkce.method,
            }),
        max_age,
        login_hint: request.login_hint.clone(),
        locale: request.ui_locales.first().cloned(),
        requires_consent: prompt.contains(PromptValue::Consent),
    }
}

/// The `prompt` values of a request, none when absent.
struct Prompts(Option<portcullis_oauth::requests::Prompt>);

impl Prompts {
    fn contains(&self, value: PromptValue) -> bool {
        self.0.as_ref().is_some_and(|prompt| prompt.contains(value))
    }
}

/// What the person is told about a request error that cannot go back to the client (the
/// client or its redirect URI is in question).
fn unsendable_error_message(error: &AuthorizationRequestError) -> String {
    match error {
        AuthorizationRequestError::MissingParameter("client_id") => {
            tr("authorize.error.no_client_id", &[])
        }
        AuthorizationRequestError::MissingParameter("redirect_uri") => {
            tr("authorize.error.no_redirect", &[])
        }
        _ => tr("authorize.error.invalid_redirect", &[]),
    }
}

fn shown(state: &AppState, message: impl Into<String>) -> Refusal {
    Refusal::Shown(Box::new(state.error_page(
        StatusCode::BAD_REQUEST,
        tr("authorize.error.title", &[]),
        message,
    )))
}
