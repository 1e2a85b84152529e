//! Password recovery by email (`account.password_recovery_enabled`, with passwords in use):
//!
//! - `GET`/`POST /recover` takes an email address and always answers the same page, whether
//!   an account has it or not. Requests are rate-limited per client address and per email
//!   address (`rate_limiting.account_recovery`). When an active user has the address, a ticket
//!   (32 random letters and digits, stored hashed, valid [`TICKET_TTL`], usable once) is made
//!   and the link `/recover/complete?ticket=…` is queued for sending, in one transaction.
//! - `GET /recover/complete?ticket=…` shows the new password form; `POST` checks the new
//!   password (twice, strength), hashes it outside any transaction, then in one transaction
//!   uses the ticket (a single conditional update), stores the password and starts a browser
//!   session, and sends the browser to `/account/`.
//!
//! When disabled, every one of them answers 404.

use axum::{
    extract::{Query, State},
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Redirect, Response},
};

use crate::page_form::Form;
use portcullis_model::{User, UserRecoveryTicket};
use portcullis_passwords::PasswordError;
use portcullis_services::{
    account::HashedPassword,
    recovery::{self, Lookup},
};
use portcullis_storage::Repository;
use portcullis_templates::{
    emails::RecoveryEmail,
    pages::{PasswordChangeErrors, RecoverCompletePage, RecoverPage, RecoverSentPage},
};
use serde::Deserialize;
use zeroize::Zeroizing;

use super::account::{csrf_refusal, csrf_token, retry_after};
use crate::{
    AppState, client_ip::ClientIp, cookies::CookieJar, emails::QueueEmailError, pages::tr, session,
};

pub use portcullis_services::recovery::TICKET_TTL;

#[derive(Deserialize)]
pub struct RecoverForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    email: String,
}

#[derive(Debug, Default, Deserialize)]
pub struct TicketQuery {
    #[serde(default)]
    ticket: String,
}

#[derive(Deserialize)]
pub struct CompleteForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    ticket: String,
    #[serde(default)]
    new_password: Zeroizing<String>,
    #[serde(default)]
    new_password_confirm: Zeroizing<String>,
}

fn unavailable(state: &AppState) -> Option<Response> {
    (!state.site_config().password_recovery_enabled).then(|| {
        state.error_page(
            StatusCode::NOT_FOUND,
            tr("recover.error.unavailable_title", &[]),
            tr("recover.error.unavailable", &[]),
        )
    })
}

fn form(
    state: &AppState,
    jar: CookieJar,
    status: StatusCode,
    email: Option<String>,
    error: Option<String>,
) -> Response {
    let (jar, csrf) = csrf_token(state, jar);
    let page = RecoverPage {
        csrf,
        email,
        error,
        login_url: state.urls().login().to_string(),
    };
    (jar, state.render(status, &page)).into_response()
}

/// `GET /recover`.
pub async fn get(State(state): State<AppState>, jar: CookieJar) -> Response {
    if let Some(refusal) = unavailable(&state) {
        return refusal;
    }
    form(&state, jar, StatusCode::OK, None, None)
}

/// `POST /recover`: the same answer for every address; a link for an active user who has it.
pub async fn post(
    State(state): State<AppState>,
    jar: CookieJar,
    ClientIp(ip): ClientIp,
    Form(form_data): Form<RecoverForm>,
) -> Response {
    if let Some(refusal) = unavailable(&state) {
        return refusal;
    }
    if let Some(response) = csrf_refusal(&state, &jar, &form_data.csrf) {
        return response;
    }
    let address = match portcullis_email::parse_address(&form_data.email) {
        Ok(address) => address.to_string(),
        Err(error) => {
            return form(
                &state,
                jar,
                StatusCode::UNPROCESSABLE_ENTITY,
                Some(form_data.email),
                Some(tr(
                    "form.error.email_invalid",
                    &[("reason", &crate::human::messages::address_problem(&error))],
                )),
            );
        }
    };
    if let Err(wait) = state.limiters().recovery_request(ip, &address).await {
        tracing::info!(client.ip = ?ip, "password recovery rate limit reached");
        let response = form(
            &state,
            jar,
            StatusCode::TOO_MANY_REQUESTS,
            Some(address),
            Some(tr("recover.error.too_many", &[])),
        );
        return retry_after(response, Some(wait));
    }

    let sent = async {
        let mut repository = state.database().transaction().await?;
        let sent = send_link(&state, &mut *repository, &address).await?;
        repository.commit().await?;
        Ok::<_, QueueEmailError>(sent)
    }
    .await;
    match sent {
        Ok(Some(user)) => {
            tracing::info!(user.id = %user.id, "password recovery link queued");
        }
        Ok(None) => {
            tracing::info!("password recovery asked for an address of no active user");
        }
        Err(error) => return state.internal_error_page(&error),
    }
    let page = RecoverSentPage {
        email: address,
        recover_url: state.urls().recover().to_string(),
        login_url: state.urls().login().to_string(),
    };
    (jar, state.render(StatusCode::OK, &page)).into_response()
}

/// Makes a ticket for the active user who has `address`, if any, and queues the email with
/// the link, in the language of the request, in `repo`'s transaction.
async fn send_link(
    state: &AppState,
    repo: &mut dyn Repository,
    address: &str,
) -> Result<Option<User>, QueueEmailError> {
    let Some(made) = recovery::start(repo, address, &mut state.rng(), state.now()).await? else {
        return Ok(None);
    };
    let message = RecoveryEmail {
        email: made.email.email.clone(),
        username: made.user.username.clone(),
        recovery_link: state.urls().recover_complete(&made.ticket).to_string(),
    };
    state.queue_email(repo, &made.email.email, &message).await?;
    Ok(Some(made.user))
}

/// The page of a link that cannot be used.
fn link_refused(state: &AppState, expired: bool) -> Response {
    if expired {
        state.error_page(
            StatusCode::GONE,
            tr("recover.error.expired_title", &[]),
            tr("recover.error.expired", &[]),
        )
    } else {
        state.error_page(
            StatusCode::NOT_FOUND,
            tr("recover.error.invalid_title", &[]),
            tr("recover.error.invalid", &[]),
        )
    }
}

/// The usable ticket and its active user, or the page saying why not.
async fn usable_ticket(
    state: &AppState,
    ticket: &str,
) -> Result<(UserRecoveryTicket, User), Response> {
    match recovery::find(state.database(), ticket, state.now()).await {
        Ok(Lookup::Usable(found, user)) => Ok((found, user)),
        Ok(Lookup::Expired) => Err(link_refused(state, true)),
        Ok(Lookup::Unknown) => Err(link_refused(state, false)),
        Err(error) => Err(state.internal_error_page(&error)),
    }
}

fn complete_form(
    state: &AppState,
    jar: CookieJar,
    status: StatusCode,
    ticket: &str,
    user: &User,
    errors: PasswordChangeErrors,
) -> Response {
    let (jar, csrf) = csrf_token(state, jar);
    let page = RecoverCompletePage {
        csrf,
        ticket: ticket.to_owned(),
        action: state.urls().recover_complete(ticket).to_string(),
        username: user.username.clone(),
        errors,
    };
    (jar, state.render(status, &page)).into_response()
}

/// `GET /recover/complete?ticket=…`: the new password form.
pub async fn complete_get(
    State(state): State<AppState>,
    jar: CookieJar,
    Query(query): Query<TicketQuery>,
) -> Response {
    if let Some(refusal) = unavailable(&state) {
        return refusal;
    }
    match usable_ticket(&state, &query.ticket).await {
        Ok((_, user)) => complete_form(
            &state,
            jar,
            StatusCode::OK,
            &query.ticket,
            &user,
            PasswordChangeErrors::default(),
        ),
        Err(response) => response,
    }
}

/// `POST /recover/complete`: uses the ticket, sets the new password and signs the user in.
pub async fn complete_post(
    State(state): State<AppState>,
    jar: CookieJar,
    crate::client_ip::ClientIp(ip): crate::client_ip::ClientIp,
    headers: HeaderMap,
    Form(form_data): Form<CompleteForm>,
) -> Response {
    if let Some(refusal) = unavailable(&state) {
        return refusal;
    }
    if let Some(response) = csrf_refusal(&state, &jar, &form_data.csrf) {
        return response;
    }
    let ticket = form_data.ticket.as_str();
    let (_, user) = crate::or_respond!(usable_ticket(&state, ticket).await);
    let invalid = StatusCode::UNPROCESSABLE_ENTITY;
    let refuse = |errors| complete_form(&state, jar.clone(), invalid, ticket, &user, errors);
    if form_data.new_password.is_empty() {
        return refuse(PasswordChangeErrors {
            new_password: Some(tr("password.error.new_needed", &[])),
            ..PasswordChangeErrors::default()
        });
    }
    if *form_data.new_password != *form_data.new_password_confirm {
        return refuse(PasswordChangeErrors {
            new_password_confirm: Some(tr("register.error.password_mismatch", &[])),
            ..PasswordChangeErrors::default()
        });
    }
    if let Err(weak) = state
        .passwords()
        .check_complexity(&form_data.new_password, &[user.username.as_str()])
    {
        return refuse(PasswordChangeErrors {
            new_password: Some(crate::human::messages::weak_password(&weak)),
            ..PasswordChangeErrors::default()
        });
    }

    // Hashing takes a while, and on SQLite an open transaction holds the write lock.
    let hashed = match state.passwords().hash(form_data.new_password).await {
        Ok((version, hash)) => HashedPassword { version, hash },
        Err(PasswordError::Busy) => return super::account::busy(&state),
        Err(error) => return state.internal_error_page(&error),
    };
    let user_agent = crate::requester::user_agent(&headers);
    let requirement = state.site_config().second_factors.required;
    let done = recovery::complete(
        state.database(),
        ticket,
        &hashed,
        user_agent,
        requirement,
        state.now(),
    )
    .await;
    match done {
        Ok(Some((user, Some(browser_session)))) => {
            tracing::info!(user.id = %user.id, user.username = %user.username, "password reset through a recovery link");
            let jar = session::remember(&state, jar, &browser_session);
            let url = state.urls().account_management_uri();
            (jar, Redirect::to(url.as_str())).into_response()
        }
        // The link proved the address, not the second factor: the sign-in goes on with it.
        Ok(Some((user, None))) => {
            tracing::info!(user.id = %user.id, user.username = %user.username, "password reset through a recovery link; second factor next");
            let query = super::post_auth::FlowQuery::default();
            super::second_factor::after_first_factor(
                &state,
                jar,
                (ip, &headers),
                &user,
                portcullis_model::AuthenticationKind::Password,
                &query,
            )
            .await
        }
        Ok(None) => link_refused(&state, true),
        Err(error) => state.internal_error_page(&error),
    }
}
