//! The email addresses of the profile page (`account.email_change_allowed`):
//!
//! - `POST /account/emails` checks the address, refuses one that anyone already has, and sends
//!   a 6-digit code to it ([`email_code`]);
//! - `GET`/`POST /account/emails/verify/{id}` takes the code; the right one adds the address
//!   (verified) and queues a `provision-user` job that pushes the new list to the homeserver;
//!   `POST …/resend` sends a new code, within the email rate limits;
//! - `POST /account/emails/{id}/remove` removes an address after the re-authentication of the
//!   account pages (`portcullis_services::reauth`), and queues `provision-user` too.
//!
//! When the switch is off, every one of them answers 403 and the profile shows no form.

use std::net::IpAddr;

use axum::{
    extract::{Path, State},
    http::StatusCode,
    response::{IntoResponse, Redirect, Response},
};

use crate::page_form::Form;
use portcullis_model::UserEmailAuthentication;
use portcullis_services::{
    account::{self, AddedEmail},
    email_codes,
};
use portcullis_storage::StorageError;
use serde::Deserialize;
use ulid::Ulid;
use zeroize::Zeroizing;

use super::{
    ReauthPolicy, csrf_refusal, profile, reauthenticate, require_user, retry_after, with_done,
};
use crate::{
    AppState,
    client_ip::ClientIp,
    cookies::CookieJar,
    csrf::CsrfOnly,
    emails::QueueEmailError,
    human::{
        email_code::{self, CodeForm, CodePage},
        post_auth::PostAuthAction,
    },
    pages::{describe_wait, tr},
    requester::PolicyRequester,
    session::SignedIn,
};

/// The message when an address is already someone's (this user's included); it does not say
/// whose.
fn address_in_use() -> String {
    tr("emails.error.in_use", &[])
}

#[derive(Deserialize)]
pub struct AddForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    email: String,
}

#[derive(Deserialize)]
pub struct RemoveForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    password: Zeroizing<String>,
}

fn unavailable(state: &AppState) -> Option<Response> {
    (!state.site_config().email_change_allowed).then(|| {
        super::disabled(
            state,
            tr("emails.error.disabled_title", &[]),
            tr("emails.error.disabled", &[]),
        )
    })
}

/// The signed-in user, or the response to send instead.
async fn user(
    state: &AppState,
    jar: CookieJar,
    ip: Option<IpAddr>,
) -> Result<(CookieJar, SignedIn), Response> {
    require_user(state, jar, ip, PostAuthAction::manage_account(None, None)).await
}

/// What every form of these pages checks first: a signed-in user, the form's CSRF token, and
/// that address changes are allowed.
async fn posted(
    state: &AppState,
    jar: CookieJar,
    ip: Option<IpAddr>,
    csrf: &str,
) -> Result<(CookieJar, SignedIn), Response> {
    let (jar, signed_in) = user(state, jar, ip).await?;
    if let Some(response) = csrf_refusal(state, &jar, csrf) {
        return Err(response);
    }
    if let Some(refusal) = unavailable(state) {
        return Err(refusal);
    }
    Ok((jar, signed_in))
}

/// The profile page again, with a problem about the addresses.
async fn refuse(
    state: &AppState,
    jar: CookieJar,
    signed_in: &SignedIn,
    status: StatusCode,
    input: Option<String>,
    message: impl Into<String>,
) -> Response {
    profile::page(
        state,
        jar,
        signed_in,
        status,
        profile::Feedback {
            email_input: input,
            email_error: Some(message.into()),
            ..profile::Feedback::default()
        },
    )
    .await
}

fn too_many_emails(wait: std::time::Duration) -> String {
    tr("emails.error.too_many", &[("wait", &describe_wait(wait))])
}

/// `POST /account/emails`: sends a code to a new address.
pub async fn add(
    State(state): State<AppState>,
    jar: CookieJar,
    ClientIp(ip): ClientIp,
    PolicyRequester(requester): PolicyRequester,
    Form(form): Form<AddForm>,
) -> Response {
    let (jar, signed_in) = crate::or_respond!(posted(&state, jar, ip, &form.csrf).await);
    let invalid = StatusCode::UNPROCESSABLE_ENTITY;
    let input = Some(form.email.clone());
    let address = match portcullis_email::parse_address(&form.email) {
        Ok(address) => address.to_string(),
        Err(error) => {
            return refuse(
                &state,
                jar,
                &signed_in,
                invalid,
                input,
                tr(
                    "form.error.email_invalid",
                    &[("reason", &crate::human::messages::address_problem(&error))],
                ),
            )
            .await;
        }
    };
    // The email policy (`email/violation`): allowed and banned domains and addresses.
    {
        use portcullis_services::policy::Decision;
        let refusal =
            match portcullis_services::policy::email(&state.policy(), &address, &requester) {
                Decision::Allowed => None,
                Decision::Refused(verdict) => {
                    Some((invalid, crate::pages::policy_reasons(&verdict)))
                }
                Decision::Failed(_) => Some((
                    StatusCode::SERVICE_UNAVAILABLE,
                    tr("policy.error.failed", &[]),
                )),
            };
        if let Some((status, message)) = refusal {
            return refuse(&state, jar, &signed_in, status, input, message).await;
        }
    }
    let taken = async {
        let mut repository = state.database().read_transaction().await?;
        let found = repository.user_emails().find_by_email(&address).await?;
        repository.rollback().await?;
        Ok::<_, StorageError>(found.is_some())
    }
    .await;
    match taken {
        Ok(false) => {}
        Ok(true) => {
            return refuse(&state, jar, &signed_in, invalid, input, address_in_use()).await;
        }
        Err(error) => return state.internal_error_page(&error),
    }
    if let Err(wait) = state
        .limiters()
        .email_send(ip, &address, signed_in.session.id)
        .await
    {
        let response = refuse(
            &state,
            jar,
            &signed_in,
            StatusCode::TOO_MANY_REQUESTS,
            input,
            too_many_emails(wait),
        )
        .await;
        return retry_after(response, Some(wait));
    }
    let user_id = signed_in.user.id;
    let sent = async {
        let mut repository = state.database().transaction().await?;
        let authentication =
            email_code::send(&state, &mut *repository, &address, Some(user_id)).await?;
        repository.commit().await?;
        Ok::<_, QueueEmailError>(authentication)
    }
    .await;
    match sent {
        Ok(authentication) => {
            tracing::info!(user.id = %user_id, "email code sent for a new address");
            let url = state.urls().account_verify_email(authentication.id);
            (jar, Redirect::to(url.as_str())).into_response()
        }
        Err(error) => state.internal_error_page(&error),
    }
}

/// The user's pending authentication `id`, or the page saying there is none (any more).
async fn pending(
    state: &AppState,
    signed_in: &SignedIn,
    id: &str,
) -> Result<UserEmailAuthentication, Response> {
    let user_id = signed_in.user.id;
    let found = email_codes::pending_for_user(state.database(), id, user_id).await;
    state.found_or_not_found(found, "emails.error.code_not_found")
}

fn code_page(state: &AppState, authentication: &UserEmailAuthentication) -> CodePage {
    let urls = state.urls();
    CodePage {
        email: authentication.email.clone(),
        action: urls.account_verify_email(authentication.id).to_string(),
        resend_url: urls
            .account_resend_email_code(authentication.id)
            .to_string(),
        restart_url: urls.account_management_uri().to_string(),
    }
}

/// `GET /account/emails/verify/{id}`: the form for the code.
pub async fn verify_get(
    State(state): State<AppState>,
    jar: CookieJar,
    ClientIp(ip): ClientIp,
    Path(id): Path<String>,
) -> Response {
    let (jar, signed_in) = crate::or_respond!(user(&state, jar, ip).await);
    if let Some(refusal) = unavailable(&state) {
        return refusal;
    }
    match pending(&state, &signed_in, &id).await {
        Ok(authentication) => email_code::page(
            &state,
            jar,
            code_page(&state, &authentication),
            StatusCode::OK,
            None,
            None,
        ),
        Err(response) => response,
    }
}

/// What became of a submitted code.
enum Outcome {
    Added,
    Refused(email_code::Refused),
    InUse,
}

/// `POST /account/emails/verify/{id}`: checks the code and, when right, adds the address.
pub async fn verify_post(
    State(state): State<AppState>,
    jar: CookieJar,
    ClientIp(ip): ClientIp,
    Path(id): Path<String>,
    Form(form): Form<CodeForm>,
) -> Response {
    let (jar, signed_in) = crate::or_respond!(posted(&state, jar, ip, &form.csrf).await);
    let authentication = crate::or_respond!(pending(&state, &signed_in, &id).await);
    let user = &signed_in.user;
    let now = state.now();
    let outcome = async {
        let mut repository = state.database().transaction().await?;
        let checked =
            email_code::check(&state, &mut *repository, authentication.id, &form.code).await?;
        let outcome = match checked {
            Err(refused) => Outcome::Refused(refused),
            Ok(completed) => {
                match account::add_email(&mut *repository, user, &completed.email, now).await? {
                    AddedEmail::Added(_) | AddedEmail::AlreadyTheirs(_) => Outcome::Added,
                    // Someone added it since the code was sent: nothing is kept.
                    AddedEmail::InUse { .. } => {
                        repository.rollback().await?;
                        return Ok(Outcome::InUse);
                    }
                }
            }
        };
        repository.commit().await?;
        Ok::<_, StorageError>(outcome)
    }
    .await;
    match outcome {
        Ok(Outcome::Added) => {
            tracing::info!(user.id = %user.id, "email address added on the account page");
            let url = with_done(state.urls().account_management_uri(), "email_added");
            (jar, Redirect::to(url.as_str())).into_response()
        }
        Ok(Outcome::Refused(refused)) => email_code::page(
            &state,
            jar,
            code_page(&state, &authentication),
            email_code::status(refused),
            Some(email_code::message(refused)),
            None,
        ),
        Ok(Outcome::InUse) => {
            refuse(
                &state,
                jar,
                &signed_in,
                StatusCode::CONFLICT,
                None,
                address_in_use(),
            )
            .await
        }
        Err(error) => state.internal_error_page(&error),
    }
}

/// `POST /account/emails/verify/{id}/resend`: a new code, within the rate limits; the form
/// of the new code follows.
pub async fn resend(
    State(state): State<AppState>,
    jar: CookieJar,
    ClientIp(ip): ClientIp,
    Path(id): Path<String>,
    Form(form): Form<CsrfOnly>,
) -> Response {
    let (jar, signed_in) = crate::or_respond!(posted(&state, jar, ip, &form.csrf).await);
    let authentication = crate::or_respond!(pending(&state, &signed_in, &id).await);
    if let Err(wait) = state
        .limiters()
        .email_send(ip, &authentication.email, signed_in.session.id)
        .await
    {
        let response = email_code::page(
            &state,
            jar,
            code_page(&state, &authentication),
            StatusCode::TOO_MANY_REQUESTS,
            Some(too_many_emails(wait)),
            None,
        );
        return retry_after(response, Some(wait));
    }
    let user_id = signed_in.user.id;
    let sent = async {
        let mut repository = state.database().transaction().await?;
        let fresh = email_code::send(
            &state,
            &mut *repository,
            &authentication.email,
            Some(user_id),
        )
        .await?;
        repository.commit().await?;
        Ok::<_, QueueEmailError>(fresh)
    }
    .await;
    match sent {
        Ok(fresh) => {
            let url = state.urls().account_verify_email(fresh.id);
            (jar, Redirect::to(url.as_str())).into_response()
        }
        Err(error) => state.internal_error_page(&error),
    }
}

/// `POST /account/emails/{id}/remove`: removes one of the user's addresses, after the
/// re-authentication.
pub async fn remove(
    State(state): State<AppState>,
    jar: CookieJar,
    ClientIp(ip): ClientIp,
    Path(id): Path<String>,
    Form(form): Form<RemoveForm>,
) -> Response {
    let (jar, signed_in) = crate::or_respond!(posted(&state, jar, ip, &form.csrf).await);
    let user = &signed_in.user;
    let not_found = || state.not_found_page("emails.error.not_found");
    let Ok(id) = id.parse::<Ulid>() else {
        return not_found();
    };
    let mine = async {
        let mut repository = state.database().read_transaction().await?;
        let emails = repository.user_emails().list_for_user(user).await?;
        repository.rollback().await?;
        Ok::<_, StorageError>(emails.iter().any(|email| email.id == id))
    }
    .await;
    match mine {
        Ok(true) => {}
        Ok(false) => return not_found(),
        Err(error) => return state.internal_error_page(&error),
    }

    let policy = ReauthPolicy::PasswordOrRecentSignIn;
    let confirmed = reauthenticate(&state, ip, &signed_in, policy, form.password).await;
    if let Err(failure) = confirmed {
        return failure
            .respond(async |status, message| {
                refuse(&state, jar, &signed_in, status, None, message).await
            })
            .await;
    }

    let now = state.now();
    let removed = async {
        let mut repository = state.database().transaction().await?;
        let removed = account::remove_email(&mut *repository, user, id, now).await?;
        repository.commit().await?;
        Ok::<_, StorageError>(removed)
    }
    .await;
    match removed {
        Ok(true) => {
            tracing::info!(user.id = %user.id, "email address removed on the account page");
            let url = with_done(state.urls().account_management_uri(), "email_removed");
            (jar, Redirect::to(url.as_str())).into_response()
        }
        Ok(false) => not_found(),
        Err(error) => state.internal_error_page(&error),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_are_said_in_seconds_then_whole_minutes() {
        assert!(too_many_emails(std::time::Duration::from_secs(5)).ends_with("in 5 seconds."));
        assert!(too_many_emails(std::time::Duration::from_secs(61)).ends_with("in 2 minutes."));
    }
}
