//! `GET /account/`: the profile page, and where MSC4191 deep links land; `POST
//! /account/profile`: the display name form. The email address forms of the page are handled
//! in [`super::emails`].
//!
//! The display name lives on the homeserver only. A new one goes there through a
//! `provision-user` job, so that a homeserver down at that moment still gets it; removing it
//! is asked of the homeserver at once, since the job cannot say "remove".

use axum::{
    extract::{Query, State},
    http::StatusCode,
    response::{IntoResponse, Redirect, Response},
};

use crate::page_form::Form;
use portcullis_homeserver::HomeserverError;
use portcullis_services::{account, registration};
use portcullis_storage::StorageError;
use portcullis_templates::pages::{AccountProfilePage, AccountSection, EmailView};
use serde::Deserialize;

use super::{
    Destination, ReauthPolicy, csrf_refusal, csrf_token, destination, nav_with_display_name,
    needs_password, require_user, with_done,
};
use crate::{
    AppState,
    client_ip::ClientIp,
    cookies::CookieJar,
    human::{messages, post_auth::PostAuthAction},
    pages::tr,
    session::SignedIn,
};

/// The query of `/account/`: an MSC4191 deep link, and what was just done.
#[derive(Debug, Default, Deserialize)]
pub struct AccountQuery {
    action: Option<String>,
    device_id: Option<String>,
    done: Option<String>,
}

#[derive(Deserialize)]
pub struct DisplayNameForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    display_name: String,
}

/// `GET /account/`.
pub async fn get(
    State(state): State<AppState>,
    jar: CookieJar,
    ClientIp(ip): ClientIp,
    Query(query): Query<AccountQuery>,
) -> Response {
    let action =
        PostAuthAction::manage_account(query.action.as_deref(), query.device_id.as_deref());
    let (jar, signed_in) = crate::or_respond!(require_user(&state, jar, ip, action).await);
    let urls = state.urls();
    let url = match destination(query.action.as_deref(), query.device_id.as_deref()) {
        Destination::Profile => {
            let notice = match query.done.as_deref() {
                Some("display_name") => Some(tr("profile.notice.display_name", &[])),
                Some("display_name_removed") => {
                    Some(tr("profile.notice.display_name_removed", &[]))
                }
                Some("email_added") => Some(tr("profile.notice.email_added", &[])),
                Some("email_removed") => Some(tr("profile.notice.email_removed", &[])),
                Some("link_removed") => Some(tr("profile.notice.link_removed", &[])),
                _ => None,
            };
            return page(
                &state,
                jar,
                &signed_in,
                StatusCode::OK,
                Feedback {
                    notice,
                    ..Feedback::default()
                },
            )
            .await;
        }
        Destination::Sessions => urls.account_sessions(),
        Destination::Device { device_id, end } => {
            let mut url = urls.account_device(&device_id);
            if end {
                url.query_pairs_mut().append_pair("action", "end");
            }
            url
        }
        Destination::CrossSigningReset => urls.account_cross_signing_reset(),
        Destination::Password => urls.account_password(),
        Destination::Tokens => urls.account_tokens(),
        Destination::SecondFactors => urls.account_second_factors(),
        Destination::Deactivate => urls.account_deactivate(),
    };
    (jar, Redirect::to(url.as_str())).into_response()
}

/// `POST /account/profile`: sets or removes the display name.
pub async fn post(
    State(state): State<AppState>,
    jar: CookieJar,
    ClientIp(ip): ClientIp,
    Form(form): Form<DisplayNameForm>,
) -> Response {
    let (jar, signed_in) = crate::or_respond!(
        require_user(&state, jar, ip, PostAuthAction::manage_account(None, None)).await
    );
    if let Some(response) = csrf_refusal(&state, &jar, &form.csrf) {
        return response;
    }
    if !state.site_config().displayname_change_allowed {
        return super::disabled(
            &state,
            tr("profile.error.display_name_disabled_title", &[]),
            tr("profile.error.display_name_disabled", &[]),
        );
    }
    let display_name = form.display_name.trim();
    if let Err(problem) = check_display_name(display_name) {
        return page(
            &state,
            jar,
            &signed_in,
            StatusCode::UNPROCESSABLE_ENTITY,
            Feedback {
                display_name_input: Some(form.display_name.clone()),
                display_name_error: Some(problem.to_owned()),
                ..Feedback::default()
            },
        )
        .await;
    }

    let user = &signed_in.user;
    let done = if display_name.is_empty() {
        match state.homeserver().unset_displayname(&user.username).await {
            // A user the homeserver does not know yet has no display name to remove.
            Ok(()) | Err(HomeserverError::NotFound { .. }) => {}
            Err(error) => {
                tracing::warn!(%error, user.id = %user.id, "cannot remove a display name on the homeserver");
                return if error.is_retryable() {
                    state.error_page(
                        StatusCode::SERVICE_UNAVAILABLE,
                        tr("homeserver.error.unreachable_title", &[]),
                        tr("profile.error.remove_unreachable", &[]),
                    )
                } else {
                    state.error_page(
                        StatusCode::BAD_GATEWAY,
                        tr("homeserver.error.refused_title", &[]),
                        tr("profile.error.remove_refused", &[]),
                    )
                };
            }
        }
        "display_name_removed"
    } else {
        let now = state.now();
        let queued = async {
            let mut repository = state.database().transaction().await?;
            account::set_display_name(&mut *repository, user, display_name, now).await?;
            repository.commit().await
        }
        .await;
        if let Err(error) = queued {
            return state.internal_error_page(&error);
        }
        "display_name"
    };
    tracing::info!(user.id = %user.id, "display name changed on the account page");
    let url = with_done(state.urls().account_management_uri(), done);
    (jar, Redirect::to(url.as_str())).into_response()
}

/// Why a display name cannot be used, if it cannot: the registration rules. Empty is fine: it
/// removes the display name.
fn check_display_name(name: &str) -> Result<(), String> {
    registration::check_display_name(name).map_err(messages::display_name_problem)
}

/// What the profile page says about the last form sent, beyond the stored state.
#[derive(Debug, Default)]
pub(crate) struct Feedback {
    pub display_name_input: Option<String>,
    pub display_name_error: Option<String>,
    pub email_input: Option<String>,
    pub email_error: Option<String>,
    pub link_error: Option<String>,
    pub notice: Option<String>,
}

/// The profile page; the display name is read from the homeserver.
pub(crate) async fn page(
    state: &AppState,
    jar: CookieJar,
    signed_in: &SignedIn,
    status: StatusCode,
    feedback: Feedback,
) -> Response {
    let user = &signed_in.user;
    let emails = async {
        let mut repository = state.database().read_transaction().await?;
        let emails = repository.user_emails().list_for_user(user).await?;
        repository.rollback().await?;
        Ok::<_, StorageError>(emails)
    }
    .await;
    let urls = state.urls();
    let emails = match emails {
        Ok(emails) => emails
            .into_iter()
            .map(|email| EmailView {
                remove_url: urls.account_remove_email(email.id).to_string(),
                email: email.email,
            })
            .collect(),
        Err(error) => return state.internal_error_page(&error),
    };
    let email_change_allowed = state.site_config().email_change_allowed;
    // The address and linked-account removal forms ask for the same proof.
    let email_password_required =
        match needs_password(state, signed_in, ReauthPolicy::PasswordOrRecentSignIn).await {
            Ok(required) => required,
            Err(error) => return state.internal_error_page(&error),
        };
    let (display_name, display_name_unavailable) = match super::display_name(state, user).await {
        Ok(found) => (found, false),
        Err(()) => (None, true),
    };
    let links = match super::links::links(state, signed_in).await {
        Ok(links) => links,
        Err(error) => return state.internal_error_page(&error),
    };
    let mut nav = nav_with_display_name(
        state,
        signed_in,
        AccountSection::Profile,
        display_name.clone(),
    );
    if email_password_required {
        nav.reauth = super::links::reauth_buttons(state, signed_in, AccountSection::Profile).await;
    }
    let (jar, csrf) = csrf_token(state, jar);
    let page = AccountProfilePage {
        nav,
        csrf,
        mxid: state.homeserver().mxid(&user.username),
        display_name,
        display_name_unavailable,
        displayname_change_allowed: state.site_config().displayname_change_allowed,
        display_name_url: state.urls().account_profile().to_string(),
        display_name_input: feedback.display_name_input,
        display_name_error: feedback.display_name_error,
        emails,
        email_change_allowed,
        add_email_url: urls.account_add_email().to_string(),
        email_input: feedback.email_input,
        email_error: feedback.email_error,
        email_password_required,
        linked_accounts: links.linked,
        link_error: feedback.link_error,
        link_providers: links.to_link,
        notice: feedback.notice,
    };
    (jar, state.render(status, &page)).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_names_follow_the_registration_rules() {
        assert_eq!(check_display_name(""), Ok(()));
        assert_eq!(check_display_name("Alice 🌻"), Ok(()));
        assert!(check_display_name("a\nb").is_err());
        assert!(check_display_name(&"x".repeat(257)).is_err());
        assert_eq!(check_display_name(&"é".repeat(256)), Ok(()));
    }
}
