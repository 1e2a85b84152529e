//! `/account/`: the pages where signed-in people manage their account, rendered on the
//! server and usable without JavaScript.
//!
//! - `/account/` shows the profile (username, Matrix ID, display name as the homeserver has
//!   it, email addresses) and takes the MSC4191 deep links of Matrix clients
//!   (`?action=org.matrix.devices_list`, `…device_view&device_id=…`), see [`destination`];
//! - `/account/sessions` lists the browser, OAuth 2.0 and compatibility sessions, and
//!   `/account/devices/{device_id}` one device's, each with a form to end it;
//! - `/account/emails…` add an email address (verified with a code) and remove one, see
//!   [`emails`];
//! - `/account/password`, `/account/cross-signing-reset`, `/account/deactivate` and the
//!   removal of an email address need the user to prove again who they are (see
//!   `portcullis_services::reauth`).
//!
//! Every page needs a browser session: without one it sends the browser to sign in, and back
//! to the same page (the deep link included) afterwards. A locked or deactivated user is
//! signed out of this browser and told why. Every form carries the CSRF token, and every
//! successful POST answers 303.

pub mod cross_signing;
pub mod deactivate;
pub mod emails;
pub mod links;
pub mod password;
pub mod profile;
pub mod reauthenticate;
pub mod second_factors;
pub mod sessions;
pub mod tokens;

use std::net::IpAddr;

use axum::{
    extract::{RawQuery, State},
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Redirect, Response},
};
use chrono::{DateTime, SecondsFormat, Utc};
pub use portcullis_services::reauth::ReauthPolicy;
use portcullis_services::{
    reauth::{self, ReauthError},
    sign_in::SignInError,
};
use portcullis_storage::{SessionRef, StorageError};
use portcullis_templates::pages::{
    AccountDeactivatedPage, AccountLockedPage, AccountNav, AccountSection, Timestamp,
};
use zeroize::Zeroizing;

use super::post_auth::{PostAuthAction, login_url};
use crate::{
    AppState,
    cookies::CookieJar,
    csrf,
    pages::tr,
    session::{self, Lookup, SignedIn},
};

/// Where an MSC4191 deep link (`/account/?action=…&device_id=…`) leads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Destination {
    /// The profile page, `/account/` itself.
    Profile,
    /// The list of sessions.
    Sessions,
    /// One device's page; with `end`, asking to confirm the end of its session.
    Device { device_id: String, end: bool },
    /// The page that allows resetting the cross-signing keys.
    CrossSigningReset,
    /// The password page (`action=password`, ours: where a re-authentication at a provider
    /// comes back to).
    Password,
    /// The personal access tokens page (`action=tokens`, ours, likewise).
    Tokens,
    /// The second factors page (`action=second_factors`, ours, likewise).
    SecondFactors,
    /// The deactivation page.
    Deactivate,
}

/// The page an MSC4191 `action` (stable or unstable name) with its `device_id` leads to.
/// Unknown actions, and device actions without a device, lead to the profile and the sessions
/// list respectively.
#[must_use]
pub fn destination(action: Option<&str>, device_id: Option<&str>) -> Destination {
    let device_id = device_id.filter(|id| !id.is_empty());
    match action {
        Some("org.matrix.devices_list" | "org.matrix.sessions_list") => Destination::Sessions,
        Some(
            action @ ("org.matrix.device_view"
            | "org.matrix.session_view"
            | "org.matrix.device_delete"
            | "org.matrix.session_end"),
        ) => match device_id {
            Some(device_id) => Destination::Device {
                device_id: device_id.to_owned(),
                end: matches!(
                    action,
                    "org.matrix.device_delete" | "org.matrix.session_end"
                ),
            },
            None => Destination::Sessions,
        },
        Some("org.matrix.cross_signing_reset") => Destination::CrossSigningReset,
        Some("org.matrix.account_deactivate") => Destination::Deactivate,
        Some("password") => Destination::Password,
        Some("tokens") => Destination::Tokens,
        Some("second_factors") => Destination::SecondFactors,
        _ => Destination::Profile,
    }
}

/// Why a re-authentication did not go through.
pub(crate) enum ReauthFailure {
    /// Say it on the form, with this status.
    Form {
        status: StatusCode,
        message: String,
        retry_after: Option<std::time::Duration>,
    },
    /// A page of its own (storage failed, hashing is saturated).
    Page(Response),
}

impl ReauthFailure {
    /// The answer: its own page, or the action's form shown again by `form` with the status
    /// and the message (and `Retry-After` when waiting helps).
    pub(crate) async fn respond(
        self,
        form: impl AsyncFnOnce(StatusCode, String) -> Response,
    ) -> Response {
        match self {
            Self::Page(response) => response,
            Self::Form {
                status,
                message,
                retry_after: wait,
            } => retry_after(form(status, message).await, wait),
        }
    }

    fn form(status: StatusCode, message: impl Into<String>) -> Self {
        Self::Form {
            status,
            message: message.into(),
            retry_after: None,
        }
    }
}

/// Applies the re-authentication rule (`portcullis_services::reauth`) for `signed_in`: checks a typed `password` (counting the attempt
/// against the password rate limits, per address and per account), or the age of the last
/// authentication. A right password is recorded as a new authentication of the session (and
/// its hash upgraded if its scheme is old), as a sign-in would.
pub(crate) async fn reauthenticate(
    state: &AppState,
    ip: Option<IpAddr>,
    signed_in: &SignedIn,
    policy: ReauthPolicy,
    password: Zeroizing<String>,
) -> Result<(), ReauthFailure> {
    let user = &signed_in.user;
    let confirmed = reauth::reauthenticate(
        &state.password_sign_in(),
        state.database(),
        ip,
        user,
        &signed_in.session,
        policy,
        password,
        state.now(),
    )
    .await;
    let error = match confirmed {
        Ok(()) => return Ok(()),
        Err(ReauthError::PasswordNeeded) => {
            let message = match policy {
                ReauthPolicy::PasswordOrRecentSignIn => "reauth.error.password_needed",
                ReauthPolicy::PasswordEveryTime => "reauth.error.password_every_time",
            };
            return Err(ReauthFailure::form(
                StatusCode::UNAUTHORIZED,
                tr(message, &[]),
            ));
        }
        Err(ReauthError::ConfirmationNeeded) => {
            return Err(ReauthFailure::form(
                StatusCode::UNAUTHORIZED,
                tr("reauth.error.confirm_needed", &[]),
            ));
        }
        Err(ReauthError::Storage(error)) => {
            return Err(ReauthFailure::Page(state.internal_error_page(&error)));
        }
        Err(ReauthError::SignIn(error)) => error,
    };
    Err(match error {
        SignInError::RateLimited { wait } => {
            tracing::info!(user.id = %user.id, client.ip = ?ip, "password rate limit reached on an account page");
            ReauthFailure::Form {
                status: StatusCode::TOO_MANY_REQUESTS,
                message: tr("reauth.error.too_many", &[]),
                retry_after: Some(wait),
            }
        }
        SignInError::PasswordsDisabled => {
            ReauthFailure::form(StatusCode::FORBIDDEN, tr("reauth.error.no_passwords", &[]))
        }
        SignInError::NoPassword => ReauthFailure::form(
            StatusCode::UNAUTHORIZED,
            tr("reauth.error.no_password", &[]),
        ),
        SignInError::InvalidCredentials | SignInError::Locked | SignInError::Deactivated => {
            tracing::info!(user.id = %user.id, "wrong password on an account page");
            ReauthFailure::form(
                StatusCode::UNAUTHORIZED,
                tr("reauth.error.wrong_password", &[]),
            )
        }
        SignInError::Busy => ReauthFailure::Page(busy(state)),
        SignInError::Storage(error) => ReauthFailure::Page(state.internal_error_page(&error)),
        SignInError::Hashing(error) => ReauthFailure::Page(state.internal_error_page(&error)),
    })
}

/// Whether a sensitive page must ask `signed_in` for the password: always under
/// [`ReauthPolicy::PasswordEveryTime`], otherwise when their last authentication is not recent.
///
/// # Errors
/// When storage fails.
pub(crate) async fn needs_password(
    state: &AppState,
    signed_in: &SignedIn,
    policy: ReauthPolicy,
) -> Result<bool, StorageError> {
    reauth::needs_password(
        state.database(),
        &signed_in.user,
        &signed_in.session,
        policy,
        state.now(),
    )
    .await
}

/// What the form of a page asking for re-authentication needs: the jar with a fresh form token,
/// the token, and whether to ask for the password; or the error page.
pub(crate) async fn reauth_form(
    state: &AppState,
    jar: CookieJar,
    signed_in: &SignedIn,
    policy: ReauthPolicy,
) -> Result<(CookieJar, String, bool), Response> {
    let required = needs_password(state, signed_in, policy)
        .await
        .map_err(|error| state.internal_error_page(&error))?;
    let (jar, csrf) = csrf_token(state, jar);
    Ok((jar, csrf, required))
}

/// The browser's signed-in user, or the response to send instead: to the login page (coming
/// back to `action` afterwards) when nobody is signed in; signed out, with the reason, when
/// the user is locked or deactivated.
pub(crate) async fn require_user(
    state: &AppState,
    jar: CookieJar,
    ip: Option<IpAddr>,
    action: PostAuthAction,
) -> Result<(CookieJar, SignedIn), Response> {
    let lookup = async {
        let mut repository = state.database().read_transaction().await?;
        let lookup = session::lookup(&jar, &mut repository).await?;
        repository.rollback().await?;
        Ok::<_, StorageError>(lookup)
    }
    .await;
    match lookup {
        Ok(Lookup::SignedIn(signed_in)) => {
            state
                .activity()
                .record(SessionRef::Browser(signed_in.session.id), state.now(), ip);
            Ok((jar, signed_in))
        }
        Ok(Lookup::Nobody) => {
            let url = login_url(state.urls(), Some(action), None);
            Err(Redirect::to(url.as_str()).into_response())
        }
        Ok(Lookup::Locked(user)) => {
            tracing::info!(user.id = %user.id, "a locked user was signed out of the account pages");
            let jar = session::forget(state, jar);
            Err((
                jar,
                state.render(StatusCode::FORBIDDEN, &AccountLockedPage {}),
            )
                .into_response())
        }
        Ok(Lookup::Deactivated(user)) => {
            tracing::info!(user.id = %user.id, "a deactivated user was signed out of the account pages");
            let jar = session::forget(state, jar);
            Err((
                jar,
                state.render(StatusCode::FORBIDDEN, &AccountDeactivatedPage {}),
            )
                .into_response())
        }
        Err(error) => Err(state.internal_error_page(&error)),
    }
}

/// The signed-in user of an account page (see [`require_user`]), or the response instead:
/// with `csrf`, the form's token must be good; `closed` is the page's refusal when the
/// operator switched it off.
pub(crate) async fn account_user(
    state: &AppState,
    jar: CookieJar,
    ip: Option<IpAddr>,
    csrf: Option<&str>,
    closed: Option<Response>,
) -> Result<(CookieJar, SignedIn), Response> {
    let (jar, signed_in) =
        require_user(state, jar, ip, PostAuthAction::manage_account(None, None)).await?;
    if let Some(refused) = csrf.and_then(|csrf| csrf_refusal(state, &jar, csrf)) {
        return Err(refused);
    }
    if let Some(closed) = closed {
        return Err(closed);
    }
    Ok((jar, signed_in))
}

/// The refusal page when a form's CSRF token is missing or wrong.
pub(crate) fn csrf_refusal(state: &AppState, jar: &CookieJar, submitted: &str) -> Option<Response> {
    csrf::refusal(state, jar, submitted, "form.error.refused_title")
}

/// A CSRF token for the page's forms.
pub(crate) fn csrf_token(state: &AppState, jar: CookieJar) -> (CookieJar, String) {
    csrf::page_token(state, jar)
}

/// The navigation of the account pages, `current` marked.
pub(crate) async fn nav(
    state: &AppState,
    signed_in: &SignedIn,
    current: AccountSection,
) -> AccountNav {
    let display_name = display_name(state, &signed_in.user).await.ok().flatten();
    let mut nav = nav_with_display_name(state, signed_in, current, display_name);
    nav.reauth = links::reauth_buttons(state, signed_in, current).await;
    nav.passkey_reauth = reauthenticate::passkey_form(state, signed_in, current).await;
    nav.has_password = has_password(state, signed_in).await;
    nav
}

/// Whether the user has a password (a failure to read it counts as yes: the forms then ask
/// for one, as before passkey-only accounts).
async fn has_password(state: &AppState, signed_in: &SignedIn) -> bool {
    let read = async {
        let mut repository = state.database().read_transaction().await?;
        let password = repository.user_passwords().active(&signed_in.user).await?;
        repository.rollback().await?;
        Ok::<_, StorageError>(password.is_some())
    }
    .await;
    read.unwrap_or_else(|error| {
        tracing::warn!(%error, "cannot read whether the user has a password");
        true
    })
}

/// [`nav`], with the display name already read.
pub(crate) fn nav_with_display_name(
    state: &AppState,
    signed_in: &SignedIn,
    current: AccountSection,
    display_name: Option<String>,
) -> AccountNav {
    let site = state.site_config();
    AccountNav {
        current,
        username: signed_in.user.username.clone(),
        mxid: state.homeserver().mxid(&signed_in.user.username),
        display_name,
        password_change_allowed: site.password_change_allowed,
        deactivation_allowed: site.account_deactivation_allowed,
        reauth: Vec::new(),
        passkey_reauth: None,
        has_password: true,
    }
}

/// How long an account page waits for the homeserver to tell the display name: past it, the
/// page names the account by its Matrix ID alone rather than hang.
const DISPLAY_NAME_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(3);

/// The display name of `user`, which the homeserver keeps (MAS keeps none either).
///
/// # Errors
/// When the homeserver cannot be asked, or does not answer in [`DISPLAY_NAME_TIMEOUT`]; the
/// cause is logged.
pub(crate) async fn display_name(
    state: &AppState,
    user: &portcullis_model::User,
) -> Result<Option<String>, ()> {
    match tokio::time::timeout(
        DISPLAY_NAME_TIMEOUT,
        state.homeserver().query_user(&user.username),
    )
    .await
    {
        Ok(Ok(found)) => Ok(found.and_then(|found| found.display_name)),
        Ok(Err(error)) => {
            tracing::warn!(%error, user.id = %user.id, "cannot read the display name from the homeserver");
            Err(())
        }
        Err(_) => {
            tracing::warn!(user.id = %user.id, "the homeserver did not tell the display name in time");
            Err(())
        }
    }
}

/// An instant for a page, written in the language of the request.
pub(crate) fn timestamp(at: DateTime<Utc>) -> Timestamp {
    Timestamp {
        iso: at.to_rfc3339_opts(SecondsFormat::Secs, true),
        text: portcullis_templates::format_date(crate::pages::current_locale(), at),
    }
}

/// `url` with `?done=what`, for the page a POST redirects to.
pub(crate) fn with_done(mut url: url::Url, what: &str) -> url::Url {
    url.query_pairs_mut().append_pair("done", what);
    url
}

/// A refusal when the operator switched a feature off.
pub(crate) fn disabled(state: &AppState, title: String, message: String) -> Response {
    state.error_page(StatusCode::FORBIDDEN, title, message)
}

/// Hashing is saturated: refuse at once with a hint to retry.
pub(crate) fn busy(state: &AppState) -> Response {
    let mut response = state.error_page(
        StatusCode::SERVICE_UNAVAILABLE,
        tr("form.error.busy_title", &[]),
        tr("account.error.busy", &[]),
    );
    response.headers_mut().insert(
        header::RETRY_AFTER,
        HeaderValue::from(state.passwords().retry_after().as_secs()),
    );
    response
}

/// Adds `Retry-After` to a response when there is a wait to tell, in whole seconds rounded up
/// (as the messages round it).
pub(crate) fn retry_after(mut response: Response, wait: Option<std::time::Duration>) -> Response {
    let seconds = wait.map(|wait| (wait.as_secs() + u64::from(wait.subsec_nanos() > 0)).max(1));
    if let Some(seconds) = seconds
        && let Ok(value) = HeaderValue::from_str(&seconds.to_string())
    {
        response.headers_mut().insert(header::RETRY_AFTER, value);
    }
    response
}

/// `GET /account`: to `/account/`, keeping the query (clients build deep links on either).
pub async fn without_slash(State(state): State<AppState>, RawQuery(query): RawQuery) -> Response {
    let mut url = state.urls().account_management_uri();
    url.set_query(query.as_deref().filter(|query| !query.is_empty()));
    Redirect::to(url.as_str()).into_response()
}

/// `GET /.well-known/change-password` (the W3C "well-known URL for changing passwords"): to
/// the password page.
pub async fn well_known_change_password(State(state): State<AppState>) -> Response {
    Redirect::to(state.urls().account_password().as_str()).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000, 0).expect("valid instant")
    }

    #[test]
    fn each_msc4191_action_leads_to_its_page() {
        assert_eq!(
            destination(Some("org.matrix.profile"), None),
            Destination::Profile
        );
        assert_eq!(
            destination(Some("org.matrix.devices_list"), None),
            Destination::Sessions
        );
        assert_eq!(
            destination(Some("org.matrix.sessions_list"), None),
            Destination::Sessions
        );
        assert_eq!(
            destination(Some("org.matrix.cross_signing_reset"), None),
            Destination::CrossSigningReset
        );
        for action in ["org.matrix.device_view", "org.matrix.session_view"] {
            assert_eq!(
                destination(Some(action), Some("ABCDEF")),
                Destination::Device {
                    device_id: "ABCDEF".to_owned(),
                    end: false
                },
                "{action}"
            );
        }
        for action in ["org.matrix.device_delete", "org.matrix.session_end"] {
            assert_eq!(
                destination(Some(action), Some("ABCDEF")),
                Destination::Device {
                    device_id: "ABCDEF".to_owned(),
                    end: true
                },
                "{action}"
            );
        }
    }

    #[test]
    fn unknown_or_missing_actions_lead_to_the_profile() {
        assert_eq!(destination(None, None), Destination::Profile);
        assert_eq!(destination(None, Some("ABCDEF")), Destination::Profile);
        assert_eq!(
            destination(Some("org.matrix.plan_management"), None),
            Destination::Profile
        );
        assert_eq!(
            destination(Some("ORG.MATRIX.DEVICES_LIST"), None),
            Destination::Profile
        );
    }

    #[test]
    fn a_device_action_without_a_device_leads_to_the_sessions() {
        assert_eq!(
            destination(Some("org.matrix.device_view"), None),
            Destination::Sessions
        );
        assert_eq!(
            destination(Some("org.matrix.device_delete"), Some("")),
            Destination::Sessions
        );
    }

    #[test]
    fn timestamps_read_for_machines_and_people() {
        let stamp = timestamp(now());
        assert_eq!(stamp.iso, "2027-01-15T08:00:00Z");
        assert_eq!(stamp.text, "January 15, 2027, 08:00 UTC");
    }
}
