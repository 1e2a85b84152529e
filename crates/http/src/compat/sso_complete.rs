//! `GET` and `POST /complete-compat-sso/{id}`: the signed-in user allows (or not) a single
//! sign-on login of the Matrix login API, on a page of the `human` resource.
//!
//! A browser that is not signed in goes to the login page first, which sends it back here
//! (`continue_compat_sso_login`). The page names where the login token will go, since that is
//! all we know of the application. On Allow, the pending login is fulfilled with a fresh login
//! token (one conditional update: a login is allowed once), which is sent to the application
//! with the browser (`loginToken` added to `redirectUrl`). The token thus exists only from the
//! moment it was allowed (the one made when the login started is never shown and stops
//! matching), and the application has 30 seconds to exchange it at `/login`.
//!
//! A login is offered for 30 minutes; after that, or once answered, an error page is shown.

use axum::{
    extract::{Path, State},
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Redirect, Response},
};

use crate::page_form::Form;
use portcullis_model::CompatSsoLogin;
use portcullis_services::sso_login::{self, NotPending};
use portcullis_storage::StorageError;
use portcullis_templates::pages::CompatSsoPage;
use ulid::Ulid;
use url::Url;

use crate::{
    AppState,
    cookies::CookieJar,
    csrf,
    human::post_auth::{PostAuthAction, login_url},
    pages::CONTENT_SECURITY_POLICY,
    pages::ChoiceForm,
    pages::tr,
    session::{self, SignedIn},
};

/// What the page names the application by: the host of a web address, else the scheme of an
/// app's own (`im.example`), which says more than whatever follows it.
#[must_use]
pub fn redirect_host(redirect_url: &Url) -> String {
    match (redirect_url.scheme(), redirect_url.host_str()) {
        ("http" | "https", Some(host)) => host.to_owned(),
        (scheme, _) => scheme.to_owned(),
    }
}

pub async fn get(State(state): State<AppState>, jar: CookieJar, Path(id): Path<Ulid>) -> Response {
    let loaded = match load(&state, &jar, id).await {
        Ok(Ok(loaded)) => loaded,
        Ok(Err(response)) => return response,
        Err(error) => return state.internal_error_page(&error),
    };
    let (jar, token) = csrf::page_token(&state, jar);
    let page = CompatSsoPage {
        csrf: token,
        redirect_host: redirect_host(&loaded.login.redirect_uri),
        username: loaded.signed_in.user.username.clone(),
    };
    let mut response = state.render(StatusCode::OK, &page);
    allow_form_redirect_to(&mut response, &loaded.login.redirect_uri);
    (jar, response).into_response()
}

pub async fn post(
    State(state): State<AppState>,
    jar: CookieJar,
    Path(id): Path<Ulid>,
    crate::requester::PolicyRequester(requester): crate::requester::PolicyRequester,
    Form(form): Form<ChoiceForm>,
) -> Response {
    let now = state.now();
    if let Some(refused) = csrf::refusal(&state, &jar, &form.csrf, "form.error.expired_title") {
        return refused;
    }
    let allow = match crate::pages::allow_or_deny(&state, &form.action) {
        Ok(allow) => allow,
        Err(page) => return page,
    };
    let loaded = match load(&state, &jar, id).await {
        Ok(Ok(loaded)) => loaded,
        Ok(Err(response)) => return response,
        Err(error) => return state.internal_error_page(&error),
    };
    let host = redirect_host(&loaded.login.redirect_uri);
    if !allow {
        tracing::info!(sso_login.id = %id, user.id = %loaded.signed_in.user.id, "single sign-on login cancelled");
        return state.error_page(
            StatusCode::OK,
            tr("compat_sso.error.cancelled_title", &[]),
            tr("compat_sso.error.cancelled", &[("host", &host)]),
        );
    }

    // The web step of single sign-on, where the user can end sessions: the policy holds it to
    // the soft session limit (`compat_login/violation`, `m.login.sso`).
    let decision = async {
        let mut repo = state.database().transaction().await?;
        let decision = portcullis_services::policy::compat_login(
            &mut *repo,
            &state.policy(),
            &loaded.signed_in.user,
            None,
            portcullis_policy::CompatLogin::Sso {
                redirect_uri: loaded.login.redirect_uri.as_str(),
            },
            &requester,
            state.site_config().session_limit.as_ref(),
            now,
        )
        .await?;
        repo.rollback().await?;
        Ok::<_, StorageError>(decision)
    }
    .await;
    match decision {
        Ok(portcullis_services::policy::Decision::Allowed) => {}
        Ok(portcullis_services::policy::Decision::Refused(verdict)) => {
            tracing::info!(sso_login.id = %id, user.id = %loaded.signed_in.user.id, reasons = %verdict.messages(), "single sign-on login refused by the policy");
            return state.error_page(
                StatusCode::FORBIDDEN,
                tr("policy.error.title", &[]),
                crate::pages::policy_reasons(&verdict),
            );
        }
        Ok(portcullis_services::policy::Decision::Failed(_)) => {
            return state.error_page(
                StatusCode::SERVICE_UNAVAILABLE,
                tr("policy.error.title", &[]),
                tr("policy.error.failed", &[]),
            );
        }
        Err(error) => return state.internal_error_page(&error),
    }

    let browser_session = &loaded.signed_in.session;
    let result = async {
        let mut repo = state.database().transaction().await?;
        let destination = sso_login::allow(
            &mut *repo,
            &loaded.login,
            browser_session,
            &mut state.rng(),
            now,
        )
        .await?;
        repo.commit().await?;
        Ok::<_, StorageError>(destination)
    }
    .await;
    match result {
        Ok(Some(destination)) => {
            tracing::info!(sso_login.id = %id, user.id = %loaded.signed_in.user.id, "single sign-on login allowed");
            Redirect::to(destination.as_str()).into_response()
        }
        // Another tab answered first.
        Ok(None) => already_answered(&state),
        Err(error) => state.internal_error_page(&error),
    }
}

struct Loaded {
    signed_in: SignedIn,
    login: CompatSsoLogin,
}

/// The pending login and the signed-in user, or the page to show instead.
async fn load(
    state: &AppState,
    jar: &CookieJar,
    id: Ulid,
) -> Result<Result<Loaded, Response>, StorageError> {
    let mut repo = state.database().read_transaction().await?;
    let login = sso_login::pending(&mut *repo, id, state.now()).await?;
    let signed_in = session::current(jar, &mut repo).await?;
    repo.rollback().await?;
    let login = match login {
        Ok(login) => login,
        Err(NotPending::Unknown) => {
            return Ok(Err(state.error_page(
                StatusCode::NOT_FOUND,
                tr("compat_sso.error.unknown_title", &[]),
                tr("compat_sso.error.unknown", &[]),
            )));
        }
        Err(NotPending::Answered) => return Ok(Err(already_answered(state))),
        Err(NotPending::Expired) => {
            return Ok(Err(state.error_page(
                StatusCode::GONE,
                tr("compat_sso.error.expired_title", &[]),
                tr("compat_sso.error.expired", &[]),
            )));
        }
    };
    let Some(signed_in) = signed_in else {
        let login = login_url(
            state.urls(),
            Some(PostAuthAction::ContinueCompatSsoLogin { id }),
            None,
        );
        return Ok(Err(Redirect::to(login.as_str()).into_response()));
    };
    Ok(Ok(Loaded { signed_in, login }))
}

fn already_answered(state: &AppState) -> Response {
    state.error_page(
        StatusCode::GONE,
        tr("compat_sso.error.answered_title", &[]),
        tr("compat_sso.error.answered", &[]),
    )
}

/// Lets the page's form send the browser on to an app's own scheme: `form-action` of the
/// page's policy covers the redirect after the form is posted, and allows only web addresses.
fn allow_form_redirect_to(response: &mut Response, redirect_url: &Url) {
    let scheme = redirect_url.scheme();
    if matches!(scheme, "http" | "https") {
        return;
    }
    let policy = CONTENT_SECURITY_POLICY.replace(
        "form-action 'self' https: http:",
        &format!("form-action 'self' https: http: {scheme}:"),
    );
    // A URL scheme is letters, digits, `+`, `-` and `.`: always a valid header value.
    if let Ok(value) = HeaderValue::from_str(&policy) {
        response
            .headers_mut()
            .insert(header::CONTENT_SECURITY_POLICY, value);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(s: &str) -> Url {
        Url::parse(s).expect("valid")
    }

    #[test]
    fn the_application_is_named_by_host_or_scheme() {
        assert_eq!(
            redirect_host(&url("https://app.example.com/cb")),
            "app.example.com"
        );
        assert_eq!(
            redirect_host(&url("im.fluffychat://login")),
            "im.fluffychat"
        );
        assert_eq!(redirect_host(&url("element:/callback")), "element");
    }

    #[test]
    fn an_app_scheme_is_allowed_as_form_target() {
        let mut response = Response::new(axum::body::Body::empty());
        allow_form_redirect_to(&mut response, &url("im.example:/cb"));
        let policy = response
            .headers()
            .get(header::CONTENT_SECURITY_POLICY)
            .and_then(|value| value.to_str().ok())
            .expect("a policy");
        assert!(policy.contains("form-action 'self' https: http: im.example:"));
    }
}
