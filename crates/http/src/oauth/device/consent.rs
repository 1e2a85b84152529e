//! `GET` and `POST /device/{id}`: the signed-in user approves or refuses a device.
//!
//! The approval binds the device code to this browser session and its user in one conditional
//! update, so of several approvals racing (two tabs, two server processes) exactly one counts.

use axum::{
    extract::{Path, Query, State},
    http::StatusCode,
    response::{IntoResponse, Redirect, Response},
};

use crate::page_form::Form;
use portcullis_model::{DeviceCodeGrant, OAuthClient};
use portcullis_oauth::{scope::ScopeToken, token::UserCode};
use portcullis_services::device_grant::{self, AnswerError, Pending};
use portcullis_storage::StorageError;
use portcullis_templates::{
    describe_scopes,
    pages::{DeviceConsentPage, DeviceDonePage},
};
use serde::Deserialize;
use ulid::Ulid;

use crate::{
    AppState,
    cookies::CookieJar,
    csrf,
    human::post_auth::{PostAuthAction, login_url},
    pages::ChoiceForm,
    pages::tr,
    requester::PolicyRequester,
    session::{self, SignedIn},
};

#[derive(Debug, Deserialize)]
pub struct DeviceQuery {
    code: Option<String>,
}

pub async fn get(
    State(state): State<AppState>,
    jar: CookieJar,
    Path(id): Path<Ulid>,
    Query(query): Query<DeviceQuery>,
) -> Response {
    let loaded = match load(&state, &jar, id, query.code.as_deref()).await {
        Ok(Ok(loaded)) => loaded,
        Ok(Err(response)) => return response,
        Err(error) => return state.internal_error_page(&error),
    };
    let (jar, token) = csrf::page_token(&state, jar);
    let page = DeviceConsentPage {
        csrf: token,
        client: crate::pages::client_view(&loaded.client),
        user_code: loaded.user_code.to_string(),
        scopes: describe_scopes(loaded.grant.scope.iter().map(ScopeToken::as_str)),
        username: loaded.signed_in.user.username.clone(),
        requester_ip: loaded.grant.ip.map(|ip| ip.to_string()),
    };
    (jar, state.render(StatusCode::OK, &page)).into_response()
}

pub async fn post(
    State(state): State<AppState>,
    jar: CookieJar,
    Path(id): Path<Ulid>,
    Query(query): Query<DeviceQuery>,
    PolicyRequester(requester): PolicyRequester,
    Form(form): Form<ChoiceForm>,
) -> Response {
    let now = state.now();
    if let Some(refused) = csrf::refusal(&state, &jar, &form.csrf, "form.error.expired_title") {
        return refused;
    }
    let approve = match crate::pages::allow_or_deny(&state, &form.action) {
        Ok(approve) => approve,
        Err(page) => return page,
    };
    let loaded = match load(&state, &jar, id, query.code.as_deref()).await {
        Ok(Ok(loaded)) => loaded,
        Ok(Err(response)) => return response,
        Err(error) => return state.internal_error_page(&error),
    };

    let user = &loaded.signed_in.user;
    let policy = state.policy();
    let site = state.site_config();
    let approver = device_grant::Approver {
        user,
        browser_session: &loaded.signed_in.session,
        policy: &policy,
        requester: &requester,
        session_limit: site.session_limit.as_ref(),
    };
    let answered = device_grant::answer(
        state.database(),
        &loaded.grant,
        &loaded.client,
        approver,
        approve,
        now,
    )
    .await;
    match answered {
        Ok(()) => {
            let page = DeviceDonePage {
                approved: approve,
                client_name: loaded
                    .client
                    .client_name
                    .clone()
                    .unwrap_or_else(|| loaded.client.client_id.clone()),
                username: user.username.clone(),
            };
            state.render(StatusCode::OK, &page)
        }
        Err(AnswerError::Refused(decision)) => state.error_page(
            StatusCode::FORBIDDEN,
            tr("device.error.too_much_title", &[]),
            match decision {
                portcullis_services::policy::Decision::Refused(verdict) => {
                    crate::pages::policy_reasons(&verdict)
                }
                _ => tr("policy.error.failed", &[]),
            },
        ),
        Err(AnswerError::AlreadyAnswered) => state.error_page(
            StatusCode::CONFLICT,
            tr("consent.error.answered_title", &[]),
            tr("device.error.answered", &[]),
        ),
        Err(AnswerError::Storage(error)) => state.internal_error_page(&error),
    }
}

struct Loaded {
    signed_in: SignedIn,
    grant: DeviceCodeGrant,
    client: OAuthClient,
    user_code: UserCode,
}

/// The grant, its client and the signed-in user, or the page to show instead.
async fn load(
    state: &AppState,
    jar: &CookieJar,
    id: Ulid,
    code: Option<&str>,
) -> Result<Result<Loaded, Response>, StorageError> {
    let now = state.now();
    let mut repository = state.database().transaction().await?;
    let Some(signed_in) = session::current(jar, &mut repository).await? else {
        repository.rollback().await?;
        let mut login = login_url(
            state.urls(),
            Some(PostAuthAction::ContinueDeviceCodeGrant { id }),
            None,
        );
        if let Some(code) = code {
            // Keep the code through the sign-in: the login page continues to /device/{id}, and
            // the code rides along as a login-page parameter it ignores.
            login.query_pairs_mut().append_pair("code", code);
        }
        return Ok(Err(Redirect::to(login.as_str()).into_response()));
    };
    let pending = device_grant::find_pending(&mut *repository, id, code, now).await?;
    repository.rollback().await?;
    let (grant, client, user_code) = match pending {
        Pending::Waiting {
            grant,
            client,
            user_code,
        } => (grant, client, user_code),
        // The page must show the code the user typed, and that code must be this grant's.
        Pending::WrongCode => {
            return Ok(Err(
                Redirect::to(state.urls().device_link().as_str()).into_response()
            ));
        }
        Pending::Gone => {
            return Ok(Err(state.error_page(
                StatusCode::NOT_FOUND,
                tr("device.error.gone_title", &[]),
                tr("device.error.gone", &[]),
            )));
        }
    };
    Ok(Ok(Loaded {
        signed_in,
        grant,
        client,
        user_code,
    }))
}
