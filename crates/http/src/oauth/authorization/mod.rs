//! `GET /authorize`: the authorization endpoint (RFC 6749 §4.1.1, OIDC Core §3.1.2).
//!
//! Until the client and its redirect URI are known to be genuine, errors are shown as a page
//! and never redirected (RFC 6749 §4.1.2.1: an open redirector is an attack tool). After that,
//! every error goes back to the client with `state` and `iss`.

pub mod callback;
pub mod consent;

use axum::{
    extract::{Query, RawQuery, State},
    http::StatusCode,
    response::{IntoResponse, Redirect, Response},
};
use portcullis_oauth::{
    errors::{ClientError, ErrorCode, ToClientError as _},
    requests::{AuthorizationParams, AuthorizationRequest, AuthorizationRequestError, PromptValue},
};
use portcullis_services::authorization::{self, RedirectProblem};
use portcullis_storage::StorageError;

use self::callback::Callback;
use crate::{
    AppState,
    cookies::CookieJar,
    human::post_auth::{PostAuthAction, login_url, register_url},
    pages::tr,
    session,
};

pub use portcullis_services::authorization::GRANT_LIFETIME;

pub async fn get(
    State(state): State<AppState>,
    jar: CookieJar,
    RawQuery(raw): RawQuery,
    Query(params): Query<AuthorizationParams>,
) -> Response {
    match authorize(&state, &jar, params, raw.as_deref()).await {
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
    raw_query: Option<&str>,
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
    let redirect_uri = authorization::redirect_uri(&client, params.redirect_uri.as_deref())
        .map_err(|problem| {
            shown(
                state,
                tr(
                    match problem {
                        RedirectProblem::Invalid => "authorize.error.invalid_redirect",
                        RedirectProblem::Unregistered => "authorize.error.unregistered_redirect",
                        RedirectProblem::Missing => "authorize.error.no_redirect",
                    },
                    &[],
                ),
            )
        })?;
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
    let refuse = |error: ClientError| Refusal::Shown(Box::new(callback.error(state, error)));
    authorization::check_request(&client, &request).map_err(refuse)?;

    let prompt = Prompts(request.prompt.clone());
    let signed_in = session::current(jar, &mut repository).await?;
    let now = state.now();
    let mut new_grant = authorization::new_grant(&client, &request, &callback.redirect_uri);
    // Kept as sent, for an upstream provider's `additional_authorization_parameters` (`params`).
    new_grant.raw_parameters = raw_query.map(|query| {
        serde_json::Value::Object(
            url::form_urlencoded::parse(query.as_bytes())
                .map(|(name, value)| {
                    (
                        name.into_owned(),
                        serde_json::Value::String(value.into_owned()),
                    )
                })
                .collect(),
        )
    });

    if prompt.contains(PromptValue::None) {
        // OIDC Core §3.1.2.1: no page may be shown; succeed silently or say why not.
        let Some(signed_in) = signed_in else {
            return Err(refuse(
                ClientError::new(ErrorCode::LoginRequired)
                    .with_description("the user is not signed in"),
            ));
        };
        let user = &signed_in.user;
        if !authorization::consented_before(&mut *repository, user, &client, &request.scope).await?
        {
            return Err(refuse(
                ClientError::new(ErrorCode::ConsentRequired)
                    .with_description("the user has not consented to this scope"),
            ));
        }
        let grant = repository
            .oauth_authorization_grants()
            .add(&new_grant, None, now)
            .await?;
        return consent::fulfill(
            state, repository, grant, &client, &signed_in, &callback, None,
        )
        .await
        .map_err(Refusal::Internal);
    }

    let grant = repository
        .oauth_authorization_grants()
        .add(&new_grant, None, now)
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
