//! `GET /register` and `GET`/`POST /register/password`: creating an account with a password.
//!
//! As in MAS, the query string carries the flow to continue once the account exists (`kind`,
//! `id`, and the device grant's `code`) and a `login_hint`; the new user is signed in and sent
//! on to that flow, exactly as after `/login`.
//!
//! The form is checked in this order, and the first problem is shown next to its field: the
//! username's rules, the password twice the same, the display name, the password's strength,
//! the terms of service, the email address's form, the CAPTCHA, the registration token, then
//! whether the username is free, here and on the homeserver, and the address nobody's. The
//! checks that need nothing but the form come first and cost no rate-limit budget; from the
//! CAPTCHA on, every attempt counts against `rate_limiting.registration`, which also bounds
//! how often one address makes us call the CAPTCHA provider.
//!
//! CAPTCHA: when the `captcha` section chooses a service, the form carries the provider's
//! widget (and the page's content security policy allows the provider's hosts, on this page
//! only), and its answer is checked with the provider before anything is looked up or created
//! (see [`super::captcha`]). Anything but a clear "yes" refuses the attempt.
//!
//! Email addresses: the field is required while `account.password_registration_email_required`
//! is set, optional otherwise. With an address, the form's values (the password hashed) are
//! kept as a pending registration, a 6-digit code is sent to the address, and the browser goes
//! to `/register/steps/{id}/verify-email`; the account is made when the right code is given
//! there, within 5 minutes and 5 attempts (see [`super::email_code`]). A new code can be asked
//! for, within `rate_limiting.email_authentication`.
//!
//! The password is hashed outside any transaction; the user, their password, their verified
//! address, the use of the registration token, the homeserver provisioning job and the browser
//! session are then written in one transaction, so a failure leaves no half-made account
//! behind.

use std::{fmt, time::Duration};

use axum::{
    extract::{Path, Query, State},
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Redirect, Response},
};

use crate::{hashing_room::HashingRoom, page_form::Form, site_config::SiteConfig};
use portcullis_config::SecondFactorRequirement;
use portcullis_model::{AuthenticationKind, BrowserSession, User, UserRegistration};
use portcullis_passwords::PasswordError;
use portcullis_services::{
    account::HashedPassword,
    captcha::{CaptchaAnswers, CaptchaError, CaptchaWidget},
    registration::{
        self, Application, Checked, Circumstances, Conflict, Finished, Problem, Requirements,
        Unavailable,
    },
    sign_in::localpart_of,
};
use portcullis_storage::StorageError;
use portcullis_templates::pages::{Page, RegisterErrors, RegisterPage};
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use super::{
    email_code::{self, CodeForm, CodePage},
    messages,
};
use crate::{
    AppState,
    client_ip::ClientIp,
    cookies::CookieJar,
    csrf::{self, CsrfOnly},
    emails::QueueEmailError,
    pages,
    pages::{describe_wait, tr},
    session,
};

/// The query string of the registration pages: the flow to continue, and a hint.
pub type RegisterQuery = super::post_auth::FlowQuery;

/// The registration form's fields; every one may be missing, so that a broken or forged post
/// gets the form back with an explanation rather than a bare 422.
#[derive(Deserialize)]
pub struct RegisterForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: Zeroizing<String>,
    #[serde(default)]
    password_confirm: Zeroizing<String>,
    #[serde(default)]
    display_name: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    token: String,
    #[serde(default)]
    accept_terms: Option<String>,
    /// The answer of the CAPTCHA widget, in the field its provider names.
    #[serde(flatten)]
    captcha: CaptchaAnswers,
}

/// What the form shows again after a refusal: everything typed except the passwords.
#[derive(Debug, Default)]
struct Kept {
    username: Option<String>,
    display_name: Option<String>,
    email: Option<String>,
    token: Option<String>,
    terms_accepted: bool,
}

impl Kept {
    fn from_form(form: &RegisterForm) -> Self {
        let non_empty = |text: &str| (!text.trim().is_empty()).then(|| text.to_owned());
        Self {
            username: non_empty(&form.username),
            display_name: non_empty(&form.display_name),
            email: non_empty(&form.email),
            token: non_empty(&form.token),
            terms_accepted: form.accept_terms.is_some(),
        }
    }
}

/// The field a problem is shown next to, or the whole form.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Field {
    Form,
    Username,
    Password,
    PasswordConfirm,
    DisplayName,
    Email,
    Token,
    Terms,
}

/// A refused attempt: the status, what to say where, and how long to wait if it is worth
/// waiting.
#[derive(Debug)]
pub(crate) struct Refusal {
    pub(crate) status: StatusCode,
    pub(crate) field: Field,
    pub(crate) message: String,
    pub(crate) retry_after: Option<Duration>,
}

impl Refusal {
    pub(crate) fn new(status: StatusCode, field: Field, message: impl Into<String>) -> Self {
        Self {
            status,
            field,
            message: message.into(),
            retry_after: None,
        }
    }

    pub(crate) fn retry_after(mut self, wait: Duration) -> Self {
        self.retry_after = Some(wait);
        self
    }

    /// The message, in the place of its field.
    pub(crate) fn errors(self) -> RegisterErrors {
        let mut errors = RegisterErrors::default();
        let place = match self.field {
            Field::Form => &mut errors.form,
            Field::Username => &mut errors.username,
            Field::Password => &mut errors.password,
            Field::PasswordConfirm => &mut errors.password_confirm,
            Field::DisplayName => &mut errors.display_name,
            Field::Email => &mut errors.email,
            Field::Token => &mut errors.token,
            Field::Terms => &mut errors.terms,
        };
        *place = Some(self.message);
        errors
    }
}

/// `GET /register`: on to the password form, keeping the query; a readable refusal when
/// registration is closed.
pub async fn get(
    State(state): State<AppState>,
    jar: CookieJar,
    Query(query): Query<RegisterQuery>,
) -> Response {
    if !state.site_config().password_registration_enabled {
        // Registration through the upstream providers only, when there are some.
        let providers = match super::login::provider_buttons(&state, &query).await {
            Ok(providers) => providers,
            Err(error) => return state.internal_error_page(&error),
        };
        if providers.is_empty() {
            return registration_closed(&state);
        }
        return form(
            &state,
            jar,
            &query,
            StatusCode::OK,
            Kept::default(),
            RegisterErrors::default(),
            providers,
        );
    }
    let url = query.carry(state.urls().register_password());
    Redirect::to(url.as_str()).into_response()
}

/// `GET /register/password`: the empty form, the username filled in from a
/// `login_hint=mxid:@bob:server`.
pub async fn password_get(
    State(state): State<AppState>,
    jar: CookieJar,
    Query(query): Query<RegisterQuery>,
) -> Response {
    if let Some(refusal) = unavailable(&state) {
        return refusal;
    }
    let username = query
        .login_hint
        .as_deref()
        .and_then(|hint| hint.strip_prefix("mxid:"))
        .and_then(|mxid| localpart_of(mxid, &state.site_config().server_name));
    let kept = Kept {
        username,
        ..Kept::default()
    };
    let providers = match super::login::provider_buttons(&state, &query).await {
        Ok(providers) => providers,
        Err(error) => return state.internal_error_page(&error),
    };
    form(
        &state,
        jar,
        &query,
        StatusCode::OK,
        kept,
        RegisterErrors::default(),
        providers,
    )
}

/// `POST /register/password`: checks the form, creates the account, signs the user in and
/// continues the flow.
pub async fn password_post(
    _room: HashingRoom,
    State(state): State<AppState>,
    jar: CookieJar,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    Query(query): Query<RegisterQuery>,
    Form(form_data): Form<RegisterForm>,
) -> Response {
    if let Some(refusal) = unavailable(&state) {
        return refusal;
    }
    let kept = Kept::from_form(&form_data);
    let now = state.now();
    if let Err(error) = csrf::verify(&jar, &form_data.csrf, now) {
        let refusal = Refusal::new(StatusCode::FORBIDDEN, Field::Form, error.message());
        return refused(&state, jar, &query, kept, refusal);
    }

    let checked = match check_form(&state, &form_data) {
        Ok(checked) => checked,
        Err(refusal) => return refused(&state, jar, &query, kept, refusal),
    };
    let requester = AppState::requester(ip, crate::requester::user_agent(&headers));
    if let Err(refusal) = ask_policy(
        &state,
        portcullis_policy::RegistrationMethod::Password,
        checked.localpart.as_str(),
        checked.email.as_deref(),
        &requester,
    ) {
        return refused(&state, jar, &query, kept, refusal);
    }

    // From here on, attempts look things up and may create an account: they count.
    if let Err(wait) = state.limiters().registration_attempt(ip).await {
        tracing::info!(client.ip = ?ip, "registration rate limit reached");
        let refusal = Refusal::new(
            StatusCode::TOO_MANY_REQUESTS,
            Field::Form,
            tr(
                "register.error.too_many_attempts",
                &[("wait", &describe_wait(wait))],
            ),
        )
        .retry_after(wait);
        return refused(&state, jar, &query, kept, refusal);
    }

    if let Some(verifier) = state.captcha() {
        let expected_hostname = state.urls().base().host_str().unwrap_or_default();
        if let Err(error) = verifier
            .verify(&form_data.captcha, ip, expected_hostname)
            .await
        {
            return refused(&state, jar, &query, kept, captcha_refusal(&error));
        }
    }

    match check_availability(&state, &checked).await {
        Ok(Ok(())) => {}
        Ok(Err(refusal)) => return refused(&state, jar, &query, kept, refusal),
        Err(error) => return state.internal_error_page(&error),
    }

    // Hashing takes a while, and on SQLite an open transaction holds the write lock: it
    // happens before the transaction.
    let hashed = match state.passwords().hash(form_data.password).await {
        Ok(hashed) => hashed,
        Err(PasswordError::Busy) => {
            let refusal = Refusal::new(
                StatusCode::SERVICE_UNAVAILABLE,
                Field::Form,
                tr("register.error.busy", &[]),
            )
            .retry_after(state.passwords().retry_after());
            return refused(&state, jar, &query, kept, refusal);
        }
        Err(error) => return state.internal_error_page(&error),
    };

    if let Some(email) = &checked.email {
        return match start_verification(&state, ip, &query, &checked, email, hashed).await {
            Ok(Ok(url)) => Redirect::to(url.as_str()).into_response(),
            Ok(Err(refusal)) => refused(&state, jar, &query, kept, refusal),
            Err(error) => state.internal_error_page(&error),
        };
    }

    let user_agent = crate::requester::user_agent(&headers);
    let created = match create(&state, &checked, hashed, user_agent).await {
        Ok(Ok(created)) => created,
        Ok(Err(refusal)) => return refused(&state, jar, &query, kept, refusal),
        Err(error) => return state.internal_error_page(&error),
    };
    let (user, browser_session) = created;

    tracing::info!(user.id = %user.id, user.username = %user.username, "registered with a password");
    crate::telemetry::password_registration();
    signed_in_or_second_factor(&state, jar, &user, browser_session, &query)
}

/// Remembers the session of a user just registered and sends them on; when a second factor
/// comes first (no session), to the second step, where they add one.
fn signed_in_or_second_factor(
    state: &AppState,
    jar: CookieJar,
    user: &User,
    browser_session: Option<BrowserSession>,
    query: &RegisterQuery,
) -> Response {
    let Some(browser_session) = browser_session else {
        return super::second_factor::ask_second_factor(
            state,
            jar,
            user,
            (AuthenticationKind::Password, None),
            query,
        );
    };
    let jar = session::remember(state, jar, &browser_session);
    let destination = query.destination(state.urls());
    (jar, Redirect::to(destination.as_str())).into_response()
}

/// The checks that need nothing but the form, in the order of the module documentation.
fn check_form(state: &AppState, form: &RegisterForm) -> Result<Checked, Refusal> {
    let site = state.site_config();
    let requirements = Requirements {
        server_name: &site.server_name,
        terms: site.tos_uri.is_some(),
        email: site.password_registration_email_required,
        token: site.registration_token_required,
    };
    let application = Application {
        username: &form.username,
        password: &form.password,
        password_confirm: &form.password_confirm,
        display_name: &form.display_name,
        email: &form.email,
        token: &form.token,
        terms_accepted: form
            .accept_terms
            .as_deref()
            .is_some_and(|value| !value.is_empty()),
    };
    registration::check(&requirements, state.passwords(), &application).map_err(problem_refusal)
}

/// Refuses what the registration policy (`register/violation`) refuses, next to the field it
/// names; a policy that cannot be evaluated refuses too.
pub(crate) fn ask_policy(
    state: &AppState,
    method: portcullis_policy::RegistrationMethod,
    username: &str,
    email: Option<&str>,
    requester: &portcullis_policy::Requester,
) -> Result<(), Refusal> {
    use portcullis_services::policy::Decision;
    match portcullis_services::policy::register(&state.policy(), method, username, email, requester)
    {
        Decision::Allowed => Ok(()),
        Decision::Refused(verdict) => {
            tracing::info!(user.username = %username, reasons = %verdict.messages(), "registration refused by the policy");
            let field = match verdict.violations.iter().find_map(|v| v.field.as_deref()) {
                Some("username") => Field::Username,
                Some("email") => Field::Email,
                _ => Field::Form,
            };
            let status = if verdict.has("requester-banned") {
                StatusCode::FORBIDDEN
            } else {
                StatusCode::UNPROCESSABLE_ENTITY
            };
            Err(Refusal::new(status, field, pages::policy_reasons(&verdict)))
        }
        Decision::Failed(_) => Err(Refusal::new(
            StatusCode::SERVICE_UNAVAILABLE,
            Field::Form,
            tr("policy.error.failed", &[]),
        )),
    }
}

/// A problem of a form, next to its field.
pub(crate) fn problem_refusal(problem: Problem) -> Refusal {
    let (field, message) = match problem {
        Problem::Username(error) => (Field::Username, messages::username_error(&error)),
        Problem::PasswordNeeded => (Field::Password, tr("register.error.password_needed", &[])),
        Problem::PasswordMismatch => (
            Field::PasswordConfirm,
            tr("register.error.password_mismatch", &[]),
        ),
        Problem::DisplayName(problem) => {
            (Field::DisplayName, messages::display_name_problem(problem))
        }
        Problem::WeakPassword(weak) => (Field::Password, messages::weak_password(&weak)),
        Problem::TermsNotAccepted => (Field::Terms, tr("register.error.terms", &[])),
        Problem::EmailNeeded => (Field::Email, tr("register.error.email_needed", &[])),
        Problem::EmailInvalid(error) => (
            Field::Email,
            tr(
                "form.error.email_invalid",
                &[("reason", &messages::address_problem(&error))],
            ),
        ),
        Problem::TokenNeeded => (Field::Token, tr("register.error.token_needed", &[])),
    };
    Refusal::new(StatusCode::UNPROCESSABLE_ENTITY, field, message)
}

/// The registration token is valid, and the username free here and on the homeserver.
pub(crate) async fn check_availability(
    state: &AppState,
    checked: &Checked,
) -> Result<Result<(), Refusal>, StorageError> {
    let availability = registration::check_availability(
        state.database(),
        state.homeserver().as_ref(),
        checked,
        state.now(),
    )
    .await?;
    Ok(availability.map_err(|unavailable| match unavailable {
        Unavailable::TokenNotValid => token_not_valid(),
        Unavailable::UsernameTaken => taken(),
        Unavailable::EmailInUse => email_in_use(),
        Unavailable::Rejected(reason) => Refusal::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            Field::Username,
            tr("register.error.rejected", &[("reason", &sentence(reason))]),
        ),
        Unavailable::Reserved(reason) => Refusal::new(
            StatusCode::CONFLICT,
            Field::Username,
            tr("register.error.reserved", &[("reason", &sentence(reason))]),
        ),
        Unavailable::HomeserverUnreachable { retryable } => {
            let status = if retryable {
                StatusCode::SERVICE_UNAVAILABLE
            } else {
                StatusCode::BAD_GATEWAY
            };
            let refusal = Refusal::new(
                status,
                Field::Form,
                tr("register.error.homeserver_unreachable", &[]),
            );
            if retryable {
                refusal.retry_after(Duration::from_secs(10))
            } else {
                refusal
            }
        }
    }))
}

/// Creates the account in one transaction; a username taken or a token used up meanwhile
/// rolls everything back.
async fn create(
    state: &AppState,
    checked: &Checked,
    (version, hash): (u16, String),
    user_agent: Option<&str>,
) -> Result<Result<(User, Option<BrowserSession>), Refusal>, StorageError> {
    let mut repository = state.database().transaction().await?;
    let hashed = HashedPassword { version, hash };
    let site = state.site_config();
    let circumstances = circumstances(state, &site, user_agent);
    match registration::register(&mut *repository, checked, hashed, circumstances).await? {
        Ok(created) => {
            repository.commit().await?;
            Ok(Ok(created))
        }
        Err(conflict) => {
            repository.rollback().await?;
            Ok(Err(match conflict {
                Conflict::TokenNotValid => token_not_valid(),
                _ => taken(),
            }))
        }
    }
}

/// The terms the form made the user accept, the browser, and the instant.
pub(crate) fn circumstances<'a>(
    state: &AppState,
    site: &'a SiteConfig,
    user_agent: Option<&'a str>,
) -> Circumstances<'a> {
    Circumstances {
        terms_uri: site.tos_uri.as_ref().map(url::Url::as_str),
        user_agent,
        now: state.now(),
        // A new user is no admin yet: only `everyone` applies to them.
        second_factor_first: site.second_factors.required == SecondFactorRequirement::Everyone,
    }
}

/// Keeps the form's values as a pending registration, sends the code, and returns where to
/// enter it.
async fn start_verification(
    state: &AppState,
    ip: Option<std::net::IpAddr>,
    query: &RegisterQuery,
    checked: &Checked,
    email: &str,
    (version, hashed): (u16, String),
) -> Result<Result<url::Url, Refusal>, QueueEmailError> {
    let now = state.now();
    let mut repository = state.database().transaction().await?;
    let authentication = email_code::send(state, &mut *repository, email, None).await?;
    let carried = query.carry(state.urls().register_password());
    let hashed = (version, hashed.as_str());
    let continuation = carried.query();
    let Some(registration) = registration::start(
        &mut *repository,
        checked,
        email,
        hashed,
        authentication.id,
        continuation,
        now,
    )
    .await?
    else {
        repository.rollback().await?;
        return Ok(Err(token_not_valid()));
    };
    // The first code counts against the registration's own limit as its resends do, so the
    // limit is checked once the registration has its id; refused, nothing is kept or sent.
    if let Err(wait) = state
        .limiters()
        .email_send(ip, email, registration.id)
        .await
    {
        repository.rollback().await?;
        return Ok(Err(too_many_emails(wait, Field::Email)));
    }
    repository.commit().await?;
    tracing::info!(registration.id = %registration.id, "registration waiting for its email code");
    Ok(Ok(state.urls().register_verify_email(registration.id)))
}

fn too_many_emails(wait: Duration, field: Field) -> Refusal {
    Refusal::new(
        StatusCode::TOO_MANY_REQUESTS,
        field,
        tr(
            "register.error.too_many_emails",
            &[("wait", &describe_wait(wait))],
        ),
    )
    .retry_after(wait)
}

/// The pending registration `id`, or the page saying there is none (any more).
async fn pending_registration(state: &AppState, id: &str) -> Result<UserRegistration, Response> {
    let found = registration::pending(state.database(), id).await;
    state.found_or_not_found(found, "register.error.not_found")
}

fn code_page(state: &AppState, registration: &UserRegistration) -> CodePage {
    let urls = state.urls();
    CodePage {
        email: registration.email.clone(),
        action: urls.register_verify_email(registration.id).to_string(),
        resend_url: urls.register_resend_code(registration.id).to_string(),
        restart_url: restart_url(state, registration).to_string(),
    }
}

/// The registration's continuation, as a query.
fn stored_query(registration: &UserRegistration) -> RegisterQuery {
    registration
        .continuation
        .as_deref()
        .and_then(|query| format!("/?{query}").parse::<http::Uri>().ok())
        .and_then(|uri| Query::<RegisterQuery>::try_from_uri(&uri).ok())
        .map(|Query(query)| query)
        .unwrap_or_default()
}

fn restart_url(state: &AppState, registration: &UserRegistration) -> url::Url {
    stored_query(registration).carry(state.urls().register_password())
}

/// `GET /register/steps/{id}/verify-email`: the form for the code.
pub async fn verify_get(
    State(state): State<AppState>,
    jar: CookieJar,
    Path(id): Path<String>,
) -> Response {
    if let Some(refusal) = unavailable(&state) {
        return refusal;
    }
    match pending_registration(&state, &id).await {
        Ok(registration) => email_code::page(
            &state,
            jar,
            code_page(&state, &registration),
            StatusCode::OK,
            None,
            None,
        ),
        Err(response) => response,
    }
}

/// The pending registration a code form posts to, its token checked, or the page instead.
async fn posted_registration(
    state: &AppState,
    jar: CookieJar,
    id: &str,
    csrf_token: &str,
) -> Result<(CookieJar, UserRegistration), Response> {
    if let Some(refusal) = unavailable(state) {
        return Err(refusal);
    }
    let registration = pending_registration(state, id).await?;
    if let Err(error) = csrf::verify(&jar, csrf_token, state.now()) {
        return Err(email_code::page(
            state,
            jar,
            code_page(state, &registration),
            StatusCode::FORBIDDEN,
            Some(error.message()),
            None,
        ));
    }
    Ok((jar, registration))
}

/// `POST /register/steps/{id}/verify-email`: checks the code and, when right, makes the
/// account, signs the user in and continues the flow.
pub async fn verify_post(
    State(state): State<AppState>,
    jar: CookieJar,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(form_data): Form<CodeForm>,
) -> Response {
    let (jar, registration) =
        crate::or_respond!(posted_registration(&state, jar, &id, &form_data.csrf).await);
    let user_agent = crate::requester::user_agent(&headers);
    match finish(&state, &registration, &form_data.code, user_agent).await {
        Ok(Finished::Created(user, browser_session)) => {
            tracing::info!(user.id = %user.id, user.username = %user.username, "registered with a password and a verified email");
            crate::telemetry::password_registration();
            let query = stored_query(&registration);
            signed_in_or_second_factor(&state, jar, &user, browser_session, &query)
        }
        Ok(Finished::Refused(refused)) => email_code::page(
            &state,
            jar,
            code_page(&state, &registration),
            email_code::status(refused),
            Some(email_code::message(refused)),
            None,
        ),
        Ok(Finished::Conflict(conflict)) => state.error_page(
            StatusCode::CONFLICT,
            tr("register.error.cannot_create_title", &[]),
            conflict_message(conflict),
        ),
        Err(error) => state.internal_error_page(&error),
    }
}

/// Checks the code and makes the account, in one transaction.
async fn finish(
    state: &AppState,
    registration: &UserRegistration,
    code: &str,
    user_agent: Option<&str>,
) -> Result<Finished, StorageError> {
    let mut repository = state.database().transaction().await?;
    let site = state.site_config();
    let circumstances = circumstances(state, &site, user_agent);
    let finished =
        registration::finish(&mut *repository, registration, code, circumstances).await?;
    match finished {
        // A refused code keeps its attempt counted.
        Finished::Created(..) | Finished::Refused(_) => repository.commit().await?,
        Finished::Conflict(_) => repository.rollback().await?,
    }
    Ok(finished)
}

/// The sentence for a registration that could not end with an account.
fn conflict_message(conflict: Conflict) -> String {
    let key = match conflict {
        Conflict::AlreadyFinished => "register.error.finished_sign_in",
        Conflict::UsernameTaken => "register.error.username_taken_meanwhile",
        Conflict::EmailTaken => "register.error.email_taken_meanwhile",
        Conflict::TokenNotValid => "register.error.token_used_meanwhile",
    };
    tr(key, &[])
}

/// `POST /register/steps/{id}/resend`: a new code, within the rate limits.
pub async fn resend_post(
    State(state): State<AppState>,
    jar: CookieJar,
    ClientIp(ip): ClientIp,
    Path(id): Path<String>,
    Form(form_data): Form<CsrfOnly>,
) -> Response {
    let (jar, registration) =
        crate::or_respond!(posted_registration(&state, jar, &id, &form_data.csrf).await);
    if let Err(wait) = state
        .limiters()
        .email_send(ip, &registration.email, registration.id)
        .await
    {
        let refusal = too_many_emails(wait, Field::Form);
        let mut response = email_code::page(
            &state,
            jar,
            code_page(&state, &registration),
            refusal.status,
            Some(refusal.message),
            None,
        );
        if let Ok(value) = HeaderValue::from_str(&wait.as_secs().max(1).to_string()) {
            response.headers_mut().insert(header::RETRY_AFTER, value);
        }
        return response;
    }
    let resent = async {
        let mut repository = state.database().transaction().await?;
        let authentication =
            email_code::send(&state, &mut *repository, &registration.email, None).await?;
        let updated = repository
            .user_registrations()
            .set_email_authentication(registration.id, authentication.id)
            .await?;
        repository.commit().await?;
        Ok::<_, QueueEmailError>(updated)
    }
    .await;
    match resent {
        Ok(Some(updated)) => email_code::page(
            &state,
            jar,
            code_page(&state, &updated),
            StatusCode::OK,
            None,
            Some(tr(
                "register.notice.code_resent",
                &[("email", &updated.email)],
            )),
        ),
        Ok(None) => state.error_page(
            StatusCode::NOT_FOUND,
            tr("register.error.not_found_title", &[]),
            tr("register.error.finished", &[]),
        ),
        Err(error) => state.internal_error_page(&error),
    }
}

/// The refusal of an attempt whose CAPTCHA did not pass, logged with its cause.
fn captcha_refusal(error: &CaptchaError) -> Refusal {
    match error {
        CaptchaError::Missing => Refusal::new(
            StatusCode::BAD_REQUEST,
            Field::Form,
            tr("register.error.captcha_missing", &[]),
        ),
        CaptchaError::Rejected(_) | CaptchaError::WrongHostname { .. } => {
            tracing::info!(%error, "registration refused: the CAPTCHA did not pass");
            Refusal::new(
                StatusCode::BAD_REQUEST,
                Field::Form,
                tr("register.error.captcha_failed", &[]),
            )
        }
        CaptchaError::Unavailable(_) => {
            tracing::warn!(%error, "registration refused: the CAPTCHA could not be checked");
            Refusal::new(
                StatusCode::SERVICE_UNAVAILABLE,
                Field::Form,
                tr("register.error.captcha_unavailable", &[]),
            )
        }
    }
}

fn email_in_use() -> Refusal {
    Refusal::new(
        StatusCode::CONFLICT,
        Field::Email,
        tr("register.error.email_in_use", &[]),
    )
}

pub(crate) fn taken() -> Refusal {
    Refusal::new(
        StatusCode::CONFLICT,
        Field::Username,
        tr("register.error.username_taken", &[]),
    )
}

pub(crate) fn token_not_valid() -> Refusal {
    Refusal::new(
        StatusCode::UNPROCESSABLE_ENTITY,
        Field::Token,
        tr("register.error.token_invalid", &[]),
    )
}

/// The form again, with what was typed and what was wrong.
fn refused(
    state: &AppState,
    jar: CookieJar,
    query: &RegisterQuery,
    kept: Kept,
    refusal: Refusal,
) -> Response {
    let (status, retry_after) = (refusal.status, refusal.retry_after);
    let mut response = form(
        state,
        jar,
        query,
        status,
        kept,
        refusal.errors(),
        Vec::new(),
    );
    if let Some(wait) = retry_after
        && let Ok(value) = HeaderValue::from_str(&wait.as_secs().max(1).to_string())
    {
        response.headers_mut().insert(header::RETRY_AFTER, value);
    }
    response
}

fn form(
    state: &AppState,
    jar: CookieJar,
    query: &RegisterQuery,
    status: StatusCode,
    kept: Kept,
    errors: RegisterErrors,
    providers: Vec<portcullis_templates::pages::ProviderButton>,
) -> Response {
    let site = state.site_config();
    let (jar, csrf) = csrf::page_token(state, jar);
    let password_form = site.password_registration_enabled;
    let login_url = site
        .password_login_enabled
        .then(|| query.carry(state.urls().login()).to_string());
    let page = RegisterPage {
        csrf,
        server_name: site.server_name.clone(),
        username: kept.username,
        display_name: kept.display_name,
        email: kept.email,
        token: kept.token.filter(|_| site.registration_token_required),
        terms_accepted: kept.terms_accepted,
        email_required: site.password_registration_email_required,
        token_required: site.registration_token_required,
        login_url,
        errors,
        password_form,
        providers,
    };
    let Some(captcha) = site.captcha.as_ref().filter(|_| password_form) else {
        return (jar, state.render(status, &page)).into_response();
    };
    let page = RegisterPageWithCaptcha {
        page,
        captcha: captcha.widget(),
    };
    let mut response = state.render(status, &page);
    // The widget is the provider's script and frames: this page, and no other, lets them in.
    pages::allow_third_party(&mut response, &captcha.provider().sources);
    (jar, response).into_response()
}

/// The register page with a CAPTCHA widget. The template crate's [`RegisterPage`] knows
/// nothing of CAPTCHAs; the widget is added to its context here, as `captcha`.
#[derive(Serialize)]
struct RegisterPageWithCaptcha {
    #[serde(flatten)]
    page: RegisterPage,
    captcha: CaptchaWidget,
}

impl Page for RegisterPageWithCaptcha {
    const TEMPLATE: &'static str = RegisterPage::TEMPLATE;
}

/// The refusal page when no account can be registered at all, if so.
fn unavailable(state: &AppState) -> Option<Response> {
    let site = state.site_config();
    if !site.password_registration_enabled {
        return Some(registration_closed(state));
    }
    None
}

fn registration_closed(state: &AppState) -> Response {
    state.error_page(
        StatusCode::NOT_FOUND,
        tr("register.error.closed_title", &[]),
        tr("register.error.closed", &[]),
    )
}

/// `text` as a sentence: a capital first letter and a full stop.
fn sentence(text: impl fmt::Display) -> String {
    let text = text.to_string();
    let mut chars = text.trim().chars();
    let Some(first) = chars.next() else {
        return String::new();
    };
    let mut sentence: String = first.to_uppercase().chain(chars).collect();
    if !sentence.ends_with(['.', '!', '?']) {
        sentence.push('.');
    }
    sentence
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_become_sentences() {
        assert_eq!(sentence("the username is empty"), "The username is empty.");
        assert_eq!(sentence("Already one."), "Already one.");
        assert_eq!(sentence(""), "");
    }
}
