//! The 6-digit codes that verify email addresses, shared by registration and the account
//! pages: made, stored (as a hash) and queued for sending in the caller's transaction.

use axum::{
    http::StatusCode,
    response::{IntoResponse as _, Response},
};
use portcullis_model::UserEmailAuthentication;
use portcullis_services::email_codes;
pub use portcullis_services::email_codes::Refused;
use portcullis_storage::{Repository, StorageError};
use portcullis_templates::{emails::VerificationEmail, pages::VerifyEmailPage};
use ulid::Ulid;

use crate::{AppState, cookies::CookieJar, csrf, emails::QueueEmailError, pages::tr};

/// Stores a new code for `email` (for `user_id` when a user adds an address) and queues the
/// email that carries it, in the language of the request, in `repo`'s transaction.
pub async fn send(
    state: &AppState,
    repo: &mut dyn Repository,
    email: &str,
    user_id: Option<Ulid>,
) -> Result<UserEmailAuthentication, QueueEmailError> {
    let (authentication, code) =
        email_codes::issue(repo, email, user_id, &mut state.rng(), state.now()).await?;
    let message = VerificationEmail {
        email: email.to_owned(),
        code,
    };
    state.queue_email(repo, email, &message).await?;
    Ok(authentication)
}

/// The fields of the form that submits a code.
#[derive(Debug, serde::Deserialize)]
pub struct CodeForm {
    #[serde(default)]
    pub csrf: String,
    #[serde(default)]
    pub code: String,
}

/// Where a code form sends its parts: the code, a request for a new code, and a fresh start.
pub struct CodePage {
    pub email: String,
    pub action: String,
    pub resend_url: String,
    pub restart_url: String,
}

/// The page that asks for the code sent to `form.email`, with an `error` or a `notice`.
pub fn page(
    state: &AppState,
    jar: CookieJar,
    form: CodePage,
    status: StatusCode,
    error: Option<String>,
    notice: Option<String>,
) -> Response {
    let (jar, csrf) = csrf::page_token(state, jar);
    let page = VerifyEmailPage {
        csrf,
        email: form.email,
        action: form.action,
        resend_url: form.resend_url,
        restart_url: Some(form.restart_url),
        error,
        notice,
    };
    (jar, state.render(status, &page)).into_response()
}

/// The sentence shown above the form, in the language of the request.
#[must_use]
pub fn message(refused: Refused) -> String {
    tr(
        match refused {
            Refused::Expired => "email_code.error.expired",
            Refused::TooManyAttempts => "email_code.error.too_many",
            Refused::Wrong => "email_code.error.wrong",
        },
        &[],
    )
}

/// The status of the form shown again.
#[must_use]
pub fn status(refused: Refused) -> StatusCode {
    match refused {
        Refused::Expired => StatusCode::GONE,
        Refused::TooManyAttempts => StatusCode::TOO_MANY_REQUESTS,
        Refused::Wrong => StatusCode::UNPROCESSABLE_ENTITY,
    }
}

/// Checks `code` against the authentication `id` in `repo`'s transaction (see
/// `portcullis_services::email_codes::check`).
pub async fn check(
    state: &AppState,
    repo: &mut dyn Repository,
    id: Ulid,
    code: &str,
) -> Result<Result<UserEmailAuthentication, Refused>, StorageError> {
    email_codes::check(repo, id, code, state.now()).await
}
