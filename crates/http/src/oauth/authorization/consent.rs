//! `GET` and `POST /consent/{grant_id}`: the user allows or refuses an application.
//!
//! Consent is remembered per user, client and scope for confidential clients, so a second
//! request asking for nothing new goes straight back to the client. Public clients (whose
//! identity anybody can claim) are asked every time.

use axum::{
    extract::{Path, Query, State},
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Redirect, Response},
};

use crate::page_form::Form;
use portcullis_model::{AuthorizationGrant, OAuthClient};
use portcullis_oauth::{
    errors::{ClientError, ErrorCode},
    scope::ScopeToken,
};
use portcullis_services::authorization::{
    self, Answer, Approval, Consent, FulfillError, Fulfilled,
};
use portcullis_storage::{BoxRepository, StorageError};
use portcullis_templates::{describe_scopes, pages::ConsentPage};
use serde::Deserialize;
use ulid::Ulid;

use super::callback::Callback;
use crate::{
    AppState,
    cookies::CookieJar,
    csrf,
    human::post_auth::{PostAuthAction, login_url},
    oauth::reply::Internal,
    pages::ChoiceForm,
    pages::tr,
    requester::PolicyRequester,
    session::{self, SignedIn},
};

#[derive(Deserialize)]
pub struct NoQuery {}

pub async fn get(
    State(state): State<AppState>,
    jar: CookieJar,
    headers: HeaderMap,
    PolicyRequester(requester): PolicyRequester,
    Path(grant_id): Path<Ulid>,
    Query(_): Query<NoQuery>,
) -> Response {
    match step(&state, &jar, &headers, &requester, grant_id, None).await {
        Ok(Step::Show { page }) => {
            let (jar, token) = csrf::page_token(&state, jar);
            let page = ConsentPage {
                csrf: token,
                ..*page
            };
            (jar, state.render(StatusCode::OK, &page)).into_response()
        }
        Ok(Step::Done(response)) => response,
        Err(error) => state.internal_error_page(&error),
    }
}

pub async fn post(
    State(state): State<AppState>,
    jar: CookieJar,
    headers: HeaderMap,
    PolicyRequester(requester): PolicyRequester,
    Path(grant_id): Path<Ulid>,
    Form(form): Form<ChoiceForm>,
) -> Response {
    if let Some(refused) = csrf::refusal(&state, &jar, &form.csrf, "form.error.expired_title") {
        return refused;
    }
    let decision = match crate::pages::allow_or_deny(&state, &form.action) {
        Ok(true) => Decision::Allow,
        Ok(false) => Decision::Deny,
        Err(page) => return page,
    };
    match step(&state, &jar, &headers, &requester, grant_id, Some(decision)).await {
        // A POST never shows the form again: without a decision it would not get here.
        Ok(Step::Show { .. }) => state.error_page(
            StatusCode::BAD_REQUEST,
            tr("form.error.unknown_choice_title", &[]),
            tr("form.error.unknown_choice", &[]),
        ),
        Ok(Step::Done(response)) => response,
        Err(error) => state.internal_error_page(&error),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Decision {
    Allow,
    Deny,
}

enum Step {
    Show { page: Box<ConsentPage> },
    Done(Response),
}

/// Everything the consent page does, for both the GET (no decision yet) and the POST.
async fn step(
    state: &AppState,
    jar: &CookieJar,
    headers: &HeaderMap,
    requester: &portcullis_policy::Requester,
    grant_id: Ulid,
    decision: Option<Decision>,
) -> Result<Step, StorageError> {
    let now = state.now();
    let mut repository = state.database().transaction().await?;
    let continuation = PostAuthAction::ContinueAuthorizationGrant { id: grant_id };

    let Some(signed_in) = session::current(jar, &mut repository).await? else {
        repository.rollback().await?;
        return Ok(Step::Done(
            Redirect::to(login_url(state.urls(), Some(continuation), None).as_str())
                .into_response(),
        ));
    };
    let policy = state.policy();
    let site = state.site_config();
    let answer = Answer {
        user: &signed_in.user,
        browser_session: &signed_in.session,
        policy: &policy,
        requester,
        session_limit: site.session_limit.as_ref(),
        decision: decision.map(|decision| decision == Decision::Allow),
    };
    let consent = authorization::consent(&mut *repository, grant_id, answer, now).await?;
    let error_page = |key: &str| {
        state.error_page(
            StatusCode::BAD_REQUEST,
            tr(&format!("{key}_title"), &[]),
            tr(key, &[]),
        )
    };
    // A cancelled grant stays cancelled; anything else that is not allowed changed nothing.
    let response = match consent {
        Consent::Allowed(grant, client) => {
            let user_agent = crate::requester::user_agent(headers).map(str::to_owned);
            let callback = callback_of(&grant);
            return fulfill(
                state, repository, grant, &client, &signed_in, &callback, user_agent,
            )
            .await
            .map(Step::Done);
        }
        Consent::ScopeNotAllowed(grant, error) => {
            repository.commit().await?;
            callback_of(&grant).error(state, error)
        }
        Consent::Denied(grant) => {
            repository.commit().await?;
            let error =
                ClientError::new(ErrorCode::AccessDenied).with_description("the user refused");
            callback_of(&grant).error(state, error)
        }
        Consent::Ask(grant, client) => {
            repository.rollback().await?;
            return Ok(Step::Show {
                page: Box::new(page(&client, &grant, &signed_in)),
            });
        }
        Consent::Stale => {
            repository.rollback().await?;
            error_page("consent.error.stale")
        }
        Consent::ClientGone => {
            repository.rollback().await?;
            error_page("consent.error.client_gone")
        }
        Consent::SignInAgain => {
            repository.rollback().await?;
            let hint = format!(
                "mxid:@{}:{}",
                signed_in.user.username,
                state.site_config().server_name
            );
            let url = login_url(state.urls(), Some(continuation), Some(&hint));
            Redirect::to(url.as_str()).into_response()
        }
    };
    Ok(Step::Done(response))
}

/// Allows the grant (`portcullis_services::authorization::fulfill`) and sends the code back.
pub(super) async fn fulfill(
    state: &AppState,
    mut repository: BoxRepository,
    grant: AuthorizationGrant,
    client: &OAuthClient,
    signed_in: &SignedIn,
    callback: &Callback,
    user_agent: Option<String>,
) -> Result<Response, StorageError> {
    let approval = Approval {
        user: &signed_in.user,
        browser_session: &signed_in.session,
        user_agent,
        keystore: state.keystore(),
        issuer: state.urls().issuer(),
    };
    let fulfilled = authorization::fulfill(
        &mut *repository,
        &grant,
        client,
        &approval,
        &mut state.rng(),
        state.now(),
    )
    .await;
    match fulfilled {
        Ok(Fulfilled { code, id_token }) => {
            repository.commit().await?;
            Ok(callback.success(state, code, id_token))
        }
        Err(FulfillError::AlreadyAnswered) => {
            repository.rollback().await?;
            Ok(state.error_page(
                StatusCode::CONFLICT,
                tr("consent.error.answered_title", &[]),
                tr("consent.error.answered", &[]),
            ))
        }
        Err(FulfillError::Signing(message)) => {
            repository.rollback().await?;
            Ok(Internal::from(message).response("authorization"))
        }
        Err(FulfillError::Storage(error)) => Err(error),
    }
}

fn callback_of(grant: &AuthorizationGrant) -> Callback {
    Callback {
        redirect_uri: grant.redirect_uri.clone(),
        mode: grant.response_mode,
        state: grant.state.clone(),
    }
}

fn page(client: &OAuthClient, grant: &AuthorizationGrant, signed_in: &SignedIn) -> ConsentPage {
    ConsentPage {
        csrf: String::new(),
        client: crate::pages::client_view(client),
        scopes: describe_scopes(grant.scope.iter().map(ScopeToken::as_str)),
        username: signed_in.user.username.clone(),
    }
}
