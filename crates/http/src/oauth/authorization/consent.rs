//! `GET` and `POST /consent/{grant_id}`: the user allows or refuses an application.
//!
//! Consent is remembered per user, client and scope for confidential clients, so a second
//! request asking for nothing new goes straight back to the client. Public clients (whose
//! identity anybody can claim) are asked every time.

use axum::{
    Form,
    extract::{Path, Query, State},
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Redirect, Response},
};
use portcullis_model::{AuthorizationGrant, AuthorizationGrantStage, OAuthClient};
use portcullis_oauth::{
    errors::{ClientError, ErrorCode, ToClientError as _},
    scope::{GrantKind, ScopeContext, ScopeToken, check_requested_scope},
};
use portcullis_services::authorization::{self, Approval, FulfillError, Fulfilled};
use portcullis_storage::{BoxRepository, StorageError};
use portcullis_templates::{describe_scopes, pages::ConsentPage};
use serde::Deserialize;
use ulid::Ulid;

use super::{GRANT_LIFETIME, callback::Callback};
use crate::{
    AppState,
    cookies::CookieJar,
    csrf,
    human::post_auth::{PostAuthAction, login_url},
    oauth::reply::Internal,
    pages::tr,
    session::{self, SignedIn},
};

#[derive(Deserialize)]
pub struct ConsentForm {
    csrf: String,
    action: String,
}

#[derive(Deserialize)]
pub struct NoQuery {}

pub async fn get(
    State(state): State<AppState>,
    jar: CookieJar,
    headers: HeaderMap,
    Path(grant_id): Path<Ulid>,
    Query(_): Query<NoQuery>,
) -> Response {
    match step(&state, &jar, &headers, grant_id, None).await {
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
    Path(grant_id): Path<Ulid>,
    Form(form): Form<ConsentForm>,
) -> Response {
    if let Some(refused) = csrf::refusal(&state, &jar, &form.csrf, "form.error.expired_title") {
        return refused;
    }
    let decision = match crate::pages::allow_or_deny(&state, &form.action) {
        Ok(true) => Decision::Allow,
        Ok(false) => Decision::Deny,
        Err(page) => return page,
    };
    match step(&state, &jar, &headers, grant_id, Some(decision)).await {
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

/// Everything the consent page decides, for both the GET (no decision yet) and the POST.
async fn step(
    state: &AppState,
    jar: &CookieJar,
    headers: &HeaderMap,
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
    let grant = repository
        .oauth_authorization_grants()
        .find(grant_id)
        .await?;
    let Some(grant) = grant.filter(|g| {
        g.stage == AuthorizationGrantStage::Pending && now - g.created_at < GRANT_LIFETIME
    }) else {
        repository.rollback().await?;
        return Ok(Step::Done(state.error_page(
            StatusCode::BAD_REQUEST,
            tr("consent.error.stale_title", &[]),
            tr("consent.error.stale", &[]),
        )));
    };
    let Some(client) = repository.oauth_clients().find(grant.client_id).await? else {
        repository.rollback().await?;
        return Ok(Step::Done(state.error_page(
            StatusCode::BAD_REQUEST,
            tr("consent.error.client_gone_title", &[]),
            tr("consent.error.client_gone", &[]),
        )));
    };
    let callback = callback_of(&grant);

    // max_age, and prompt=login stored as max_age 0: a password typed after the request always
    // counts as fresh; otherwise the last one must be recent enough.
    if let Some(max_age) = grant.max_age {
        let last = repository
            .browser_sessions()
            .last_authentication(&signed_in.session)
            .await?;
        let fresh = last.is_some_and(|at| {
            at >= grant.created_at || now - at <= chrono::TimeDelta::seconds(i64::from(max_age))
        });
        if !fresh {
            repository.rollback().await?;
            let hint = format!(
                "mxid:@{}:{}",
                signed_in.user.username,
                state.site_config().server_name
            );
            return Ok(Step::Done(
                Redirect::to(login_url(state.urls(), Some(continuation), Some(&hint)).as_str())
                    .into_response(),
            ));
        }
    }

    // What this user may be given is decided now that we know who they are.
    let admin = state.policy().user_may_request_admin(&signed_in.user);
    let context = ScopeContext {
        grant: GrantKind::AuthorizationCode,
        user_can_request_admin: admin,
        client_is_admin_client: false,
    };
    if let Err(violation) = check_requested_scope(&grant.scope, &context) {
        repository
            .oauth_authorization_grants()
            .cancel(grant.id, now)
            .await?;
        repository.commit().await?;
        return Ok(Step::Done(
            callback.error(state, violation.to_client_error()),
        ));
    }

    let remembered = decision.is_none()
        && !grant.requires_consent
        && authorization::consented_before(
            &mut *repository,
            &signed_in.user,
            &client,
            &grant.scope,
        )
        .await?;
    let decision = match decision {
        Some(decision) => decision,
        None if remembered => Decision::Allow,
        None => {
            repository.rollback().await?;
            return Ok(Step::Show {
                page: Box::new(page(&client, &grant, &signed_in)),
            });
        }
    };

    match decision {
        Decision::Deny => {
            repository
                .oauth_authorization_grants()
                .cancel(grant.id, now)
                .await?;
            repository.commit().await?;
            let error =
                ClientError::new(ErrorCode::AccessDenied).with_description("the user refused");
            Ok(Step::Done(callback.error(state, error)))
        }
        Decision::Allow => {
            let user_agent = crate::requester::user_agent(&headers).map(str::to_owned);
            fulfill(
                state, repository, grant, &client, &signed_in, &callback, user_agent,
            )
            .await
            .map(Step::Done)
        }
    }
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
        // Stored from a parsed URL, so it parses back.
        redirect_uri: grant
            .redirect_uri
            .parse()
            .expect("the stored redirect URI was a valid URL"),
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
