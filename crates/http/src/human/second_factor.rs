//! `GET`/`POST /login/second-factor`: the second step of a sign-in.
//!
//! Once a user proved their password (or signed in at an upstream provider), and their account
//! has a second factor, no session is started yet: the browser gets a short-lived encrypted
//! cookie naming the user and how they proved it, and this page asks for a code of their
//! authenticator app, a passkey or a recovery code (`portcullis_services::second_factor`). When
//! the operator requires a second factor the user does not have, the page adds one first (an
//! authenticator app, or a passkey through `POST /login/second-factor/passkey/options`), and
//! shows the recovery codes once. Only then is the browser session started, recording both
//! proofs.

use axum::{
    extract::{Query, State},
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Redirect, Response},
};
use base64ct::Encoding as _;
use chrono::TimeDelta;
use portcullis_model::{AuthenticationKind, User};
use portcullis_services::second_factor::{self, Enrolment, NextStep, SecondStepError};
use portcullis_storage::{SessionRef, StorageError};
use portcullis_templates::pages::{PasskeyForm, SecondFactorPage, TotpEnrolmentView};
use serde::Deserialize;
use ulid::Ulid;

use super::post_auth::FlowQuery;
use crate::{
    AppState,
    client_ip::ClientIp,
    cookies::CookieJar,
    csrf,
    page_form::Form,
    pages::{describe_wait, tr},
    session,
};

/// The cookie of a sign-in waiting for its second factor.
const PENDING_COOKIE: &str = "second-factor";

/// How long a sign-in waits for its second factor.
const PENDING_FOR: TimeDelta = TimeDelta::minutes(10);

/// A sign-in whose first factor is proved: who, how, when, and for a sign-in at an upstream
/// provider, its attempt (consumed by the session once the second step is done).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Pending {
    user_id: Ulid,
    first: AuthenticationKind,
    at: i64,
    attempt: Option<Ulid>,
}

impl Pending {
    fn encode(self) -> String {
        let attempt = self.attempt.map_or_else(String::new, |id| id.to_string());
        format!(
            "{}.{}.{}.{attempt}",
            self.user_id,
            self.first.as_str(),
            self.at
        )
    }

    fn decode(value: &str) -> Option<Self> {
        let mut parts = value.split('.');
        let pending = Self {
            user_id: parts.next()?.parse().ok()?,
            first: parts.next()?.parse().ok()?,
            at: parts.next()?.parse().ok()?,
            attempt: match parts.next()? {
                "" => None,
                id => Some(id.parse().ok()?),
            },
        };
        parts.next().is_none().then_some(pending)
    }
}

/// What a page needs to show an authenticator app being added: the QR code as a `data:` URL
/// of an SVG image (no script, no request), and the secret in groups of four.
#[must_use]
pub(crate) fn enrolment_view(enrolment: &Enrolment) -> TotpEnrolmentView {
    let qr_code = qrcode::QrCode::with_error_correction_level(&enrolment.uri, qrcode::EcLevel::M)
        .map(|code| {
            let svg = code
                .render::<qrcode::render::svg::Color<'_>>()
                .min_dimensions(200, 200)
                .quiet_zone(true)
                .build();
            format!(
                "data:image/svg+xml;base64,{}",
                base64ct::Base64::encode_string(svg.as_bytes())
            )
        })
        // An otpauth URI is far below a QR code's capacity; without the image, the key and the
        // link are still on the page.
        .unwrap_or_default();
    let secret = enrolment
        .secret
        .as_bytes()
        .chunks(4)
        .map(|chunk| String::from_utf8_lossy(chunk).into_owned())
        .collect::<Vec<_>>()
        .join(" ");
    TotpEnrolmentView {
        qr_code,
        secret,
        uri: enrolment.uri.clone(),
    }
}

/// How an authenticator app names this account: the service's name, and the Matrix ID.
pub(crate) fn labels(state: &AppState, user: &User) -> (String, String) {
    let site = state.site_config();
    let issuer = site
        .service_name
        .clone()
        .unwrap_or_else(|| site.server_name.clone());
    (issuer, state.homeserver().mxid(&user.username))
}

/// Where a user goes once their first factor is proved `first`: signed in at once when their
/// account has no second factor (and none is required), otherwise to the second step. The
/// response carries the session cookie, or the cookie of the pending sign-in.
pub(crate) async fn after_first_factor(
    state: &AppState,
    jar: CookieJar,
    (ip, headers): (Option<std::net::IpAddr>, &HeaderMap),
    user: &User,
    first: AuthenticationKind,
    query: &FlowQuery,
) -> Response {
    match next_step(state, user).await {
        Ok(NextStep::SignedIn) => {
            let pending = pending_now(state, user, first, None);
            finish(state, jar, (ip, headers), user, (pending, None), query).await
        }
        Ok(NextStep::SecondFactor(_) | NextStep::Enrol) => {
            ask_second_factor(state, jar, user, (first, None), query)
        }
        Err(error) => state.internal_error_page(&error),
    }
}

/// Signs in `user`, who answered with a passkey verified by its authenticator: two factors in
/// one, so no second step.
pub(crate) async fn signed_in_with_passkey(
    state: &AppState,
    jar: CookieJar,
    client: (Option<std::net::IpAddr>, &HeaderMap),
    user: &User,
    query: &FlowQuery,
) -> Response {
    let pending = pending_now(state, user, AuthenticationKind::Passkey, None);
    finish(state, jar, client, user, (pending, None), query).await
}

/// What `user`'s sign-in needs after its first factor, under this server's requirement.
async fn next_step(state: &AppState, user: &User) -> Result<NextStep, StorageError> {
    let requirement = state.site_config().second_factors.required;
    second_factor::after_first_factor(state.database(), user, requirement).await
}

fn pending_now(
    state: &AppState,
    user: &User,
    first: AuthenticationKind,
    attempt: Option<Ulid>,
) -> Pending {
    Pending {
        user_id: user.id,
        first,
        at: state.now().timestamp(),
        attempt,
    }
}

/// Sends `user`, who proved who they are `first` (at an upstream provider: in its `attempt`),
/// to the second step, remembering the sign-in in a cookie for [`PENDING_FOR`].
pub(crate) fn ask_second_factor(
    state: &AppState,
    jar: CookieJar,
    user: &User,
    (first, attempt): (AuthenticationKind, Option<Ulid>),
    query: &FlowQuery,
) -> Response {
    let pending = pending_now(state, user, first, attempt);
    let jar = jar.add(
        state
            .cookie_settings()
            .cookie(PENDING_COOKIE, pending.encode()),
    );
    let url = query.carry(state.urls().login_second_factor());
    tracing::info!(user.id = %user.id, first = first.as_str(), "first factor proved, asking for the second");
    (jar, Redirect::to(url.as_str())).into_response()
}

/// Signs `user` in ([`sign_in`]) and sends them on; back to the sign-in page when the upstream
/// attempt was used meanwhile.
async fn finish(
    state: &AppState,
    jar: CookieJar,
    client: (Option<std::net::IpAddr>, &HeaderMap),
    user: &User,
    (pending, second): (Pending, Option<AuthenticationKind>),
    query: &FlowQuery,
) -> Response {
    match sign_in(state, jar, client, user, (pending, second), query).await {
        Ok(Ok((jar, destination))) => (jar, Redirect::to(destination.as_str())).into_response(),
        Ok(Err(jar)) => back_to_login(state, jar, query),
        Err(error) => state.internal_error_page(&error),
    }
}

/// Starts the browser session of `user`, proved `pending.first` and then `second` (if any),
/// consuming the upstream attempt it began with, if any; the jar remembers the session, and
/// the destination is where the flow goes on. `Err(jar)` when that attempt was used meanwhile:
/// nothing is kept.
async fn sign_in(
    state: &AppState,
    jar: CookieJar,
    (ip, headers): (Option<std::net::IpAddr>, &HeaderMap),
    user: &User,
    (pending, second): (Pending, Option<AuthenticationKind>),
    query: &FlowQuery,
) -> Result<Result<(CookieJar, url::Url), CookieJar>, StorageError> {
    let first = pending.first;
    let now = state.now();
    let user_agent = crate::requester::user_agent(headers);
    let mut repository = state.database().transaction().await?;
    let browser_session = match second {
        Some(second) => {
            second_factor::start_browser_session(
                &mut *repository,
                user,
                (first, second),
                user_agent,
                now,
            )
            .await?
        }
        None => {
            portcullis_services::sessions::start_browser_session(
                &mut *repository,
                user,
                first,
                user_agent,
                now,
            )
            .await?
        }
    };
    if let Some(attempt) = pending.attempt
        && !portcullis_services::upstream_sign_in::consume_after_second_factor(
            &mut *repository,
            attempt,
            &browser_session,
            now,
        )
        .await?
    {
        repository.rollback().await?;
        return Ok(Err(jar));
    }
    repository.commit().await?;
    state
        .activity()
        .record(SessionRef::Browser(browser_session.id), now, ip);
    tracing::info!(
        user.id = %user.id,
        user.username = %user.username,
        first = first.as_str(),
        second = second.map(AuthenticationKind::as_str),
        "signed in"
    );
    let jar = jar.remove(state.cookie_settings().removal(PENDING_COOKIE));
    let jar = session::remember(state, jar, &browser_session);
    Ok(Ok((jar, query.destination(state.urls()))))
}

/// The pending sign-in of this browser and its user, if it is recent and the user still active.
async fn pending(
    state: &AppState,
    jar: &CookieJar,
) -> Result<Option<(Pending, User)>, StorageError> {
    let Some(pending) = jar
        .get(PENDING_COOKIE)
        .and_then(|cookie| Pending::decode(cookie.value()))
    else {
        return Ok(None);
    };
    let age = state.now().timestamp() - pending.at;
    if !(0..PENDING_FOR.num_seconds()).contains(&age) {
        return Ok(None);
    }
    let mut repository = state.database().read_transaction().await?;
    let user = repository.users().find_by_id(pending.user_id).await?;
    repository.rollback().await?;
    Ok(user.filter(User::is_active).map(|user| (pending, user)))
}

/// Back to the sign-in page (the pending sign-in expired, or never was).
fn back_to_login(state: &AppState, jar: CookieJar, query: &FlowQuery) -> Response {
    let jar = jar.remove(state.cookie_settings().removal(PENDING_COOKIE));
    let url = query.carry(state.urls().login());
    (jar, Redirect::to(url.as_str())).into_response()
}

#[derive(Deserialize)]
pub struct CodeForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    code: String,
    /// A passkey's answer instead of a code.
    #[serde(default)]
    answer: String,
    /// The name of a passkey being added.
    #[serde(default)]
    name: String,
}

/// `GET /login/second-factor`.
pub async fn get(
    State(state): State<AppState>,
    jar: CookieJar,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    Query(query): Query<FlowQuery>,
) -> Response {
    let (pending, user) = match pending(&state, &jar).await {
        Ok(Some(found)) => found,
        Ok(None) => return back_to_login(&state, jar, &query),
        Err(error) => return state.internal_error_page(&error),
    };
    step_page(
        &state,
        jar,
        (ip, &headers),
        &query,
        (pending, &user),
        StatusCode::OK,
        None,
    )
    .await
}

/// The page of the step `user` is at: the code to type, or the authenticator app to add.
async fn step_page(
    state: &AppState,
    jar: CookieJar,
    client: (Option<std::net::IpAddr>, &HeaderMap),
    query: &FlowQuery,
    (pending, user): (Pending, &User),
    status: StatusCode,
    error: Option<String>,
) -> Response {
    let next = match next_step(state, user).await {
        Ok(next) => next,
        Err(error) => return state.internal_error_page(&error),
    };
    let mut passkey = None;
    let mut add_passkey = None;
    let mut totp = false;
    let enrolment = match next {
        // The factor was removed meanwhile (by an operator): nothing more to ask.
        NextStep::SignedIn => {
            return finish(state, jar, client, user, (pending, None), query).await;
        }
        NextStep::SecondFactor(factors) => {
            totp = factors.totp;
            if factors.passkeys > 0 && state.relying_party().is_some() {
                passkey = Some(PasskeyForm {
                    action: query.carry(state.urls().login_second_factor()).to_string(),
                    options_url: state.urls().login_passkey_options().to_string(),
                });
            }
            None
        }
        NextStep::Enrol => {
            if state.relying_party().is_some() {
                add_passkey = Some(PasskeyForm {
                    action: query.carry(state.urls().login_second_factor()).to_string(),
                    options_url: state
                        .urls()
                        .login_second_factor_passkey_options()
                        .to_string(),
                });
            }
            match enrolment_of(state, user).await {
                Ok(enrolment) => Some(enrolment_view(&enrolment)),
                Err(error) => return state.internal_error_page(&error),
            }
        }
    };
    let (jar, csrf) = csrf::page_token(state, jar);
    let page = SecondFactorPage {
        csrf,
        error,
        enrolment,
        recovery_codes: Vec::new(),
        continue_url: None,
        cancel_url: query.carry(state.urls().login()).to_string(),
        passkey,
        totp,
        add_passkey,
    };
    (jar, state.render(status, &page)).into_response()
}

/// The authenticator app `user` is adding: the one waiting for its first code, or a new one.
async fn enrolment_of(state: &AppState, user: &User) -> Result<Enrolment, StorageError> {
    let (issuer, account) = labels(state, user);
    let mut repository = state.database().transaction().await?;
    let labels = (issuer.as_str(), account.as_str());
    let enrolment =
        match second_factor::pending_enrolment(&mut *repository, state.encrypter(), user, labels)
            .await?
        {
            Some(enrolment) => Some(enrolment),
            None => {
                second_factor::start_enrolment(
                    &mut *repository,
                    state.encrypter(),
                    user,
                    labels,
                    &mut state.rng(),
                    state.now(),
                )
                .await?
            }
        };
    repository.commit().await?;
    enrolment.ok_or_else(|| {
        StorageError::InvalidData("an authenticator app both confirmed and not".to_owned())
    })
}

/// `POST /login/second-factor`.
pub async fn post(
    State(state): State<AppState>,
    jar: CookieJar,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    Query(query): Query<FlowQuery>,
    Form(form): Form<CodeForm>,
) -> Response {
    let (pending, user) = match pending(&state, &jar).await {
        Ok(Some(found)) => found,
        Ok(None) => return back_to_login(&state, jar, &query),
        Err(error) => return state.internal_error_page(&error),
    };
    let client = (ip, &headers);
    let now = state.now();
    if let Err(error) = csrf::verify(&jar, &form.csrf, now) {
        let status = StatusCode::FORBIDDEN;
        let message = Some(error.message());
        return step_page(
            &state,
            jar,
            client,
            &query,
            (pending, &user),
            status,
            message,
        )
        .await;
    }
    let next = match next_step(&state, &user).await {
        Ok(next) => next,
        Err(error) => return state.internal_error_page(&error),
    };
    let checked = match next {
        NextStep::SignedIn => {
            return step_page(
                &state,
                jar,
                client,
                &query,
                (pending, &user),
                StatusCode::OK,
                None,
            )
            .await;
        }
        NextStep::SecondFactor(_) if !form.answer.is_empty() => match state.relying_party() {
            Some(party) => {
                second_factor::check_passkey(state.database(), &party, &user, &form.answer, now)
                    .await
                    .map(|kind| (kind, Vec::new()))
            }
            None => Err(SecondStepError::Wrong),
        },
        NextStep::SecondFactor(_) => second_factor::check_code(
            state.database(),
            state.limiters(),
            state.encrypter(),
            &user,
            &form.code,
            now,
        )
        .await
        .map(|kind| (kind, Vec::new())),
        NextStep::Enrol if !form.answer.is_empty() => {
            enrol_passkey(&state, &user, (&form.name, &form.answer)).await
        }
        NextStep::Enrol => confirm(&state, &user, &form.code).await,
    };
    let (second, recovery_codes) = match checked {
        Ok(checked) => checked,
        Err(SecondStepError::Wrong) => {
            tracing::info!(user.id = %user.id, "wrong second-factor code");
            let message = Some(tr("second_factor.error.wrong", &[]));
            let status = StatusCode::UNAUTHORIZED;
            return step_page(
                &state,
                jar,
                client,
                &query,
                (pending, &user),
                status,
                message,
            )
            .await;
        }
        Err(SecondStepError::RateLimited { wait }) => {
            tracing::info!(user.id = %user.id, "second-factor rate limit reached");
            let message = tr(
                "second_factor.error.too_many",
                &[("wait", &describe_wait(wait))],
            );
            let status = StatusCode::TOO_MANY_REQUESTS;
            let response = step_page(
                &state,
                jar,
                client,
                &query,
                (pending, &user),
                status,
                Some(message),
            )
            .await;
            return super::account::retry_after(response, Some(wait));
        }
        Err(SecondStepError::Storage(error)) => return state.internal_error_page(&error),
    };
    if recovery_codes.is_empty() {
        return finish(&state, jar, client, &user, (pending, Some(second)), &query).await;
    }
    let signed_in = sign_in(&state, jar, client, &user, (pending, Some(second)), &query).await;
    let (jar, destination) = match signed_in {
        Ok(Ok(signed_in)) => signed_in,
        Ok(Err(jar)) => return back_to_login(&state, jar, &query),
        Err(error) => return state.internal_error_page(&error),
    };
    // The authenticator app or the passkey was just added: its recovery codes, this once, then
    // on.
    let (jar, csrf) = csrf::page_token(&state, jar);
    let page = SecondFactorPage {
        csrf,
        error: None,
        enrolment: None,
        recovery_codes,
        continue_url: Some(destination.to_string()),
        cancel_url: state.urls().login().to_string(),
        passkey: None,
        totp: second == AuthenticationKind::Totp,
        add_passkey: None,
    };
    (jar, state.render(StatusCode::OK, &page)).into_response()
}

/// Confirms the authenticator app `user` is adding with its first `code` (counted against the
/// account's second-factor limit); its recovery codes.
async fn confirm(
    state: &AppState,
    user: &User,
    code: &str,
) -> Result<(AuthenticationKind, Vec<String>), SecondStepError> {
    state
        .limiters()
        .second_factor_attempt(user.id)
        .await
        .map_err(|wait| SecondStepError::RateLimited { wait })?;
    let mut repository = state.database().transaction().await?;
    let confirmed = second_factor::confirm_enrolment(
        &mut *repository,
        state.encrypter(),
        user,
        code,
        &mut state.rng(),
        state.now(),
    )
    .await?;
    repository.commit().await?;
    match confirmed {
        Ok(codes) => {
            tracing::info!(user.id = %user.id, "authenticator app added");
            Ok((AuthenticationKind::Totp, codes))
        }
        Err(_) => Err(SecondStepError::Wrong),
    }
}

/// `POST /login/second-factor/passkey/options`: while the pending sign-in adds its required
/// second factor, the options of a passkey registration (JSON, for
/// `navigator.credentials.create()`), or `{"error": "…"}`.
pub async fn passkey_options(
    State(state): State<AppState>,
    jar: CookieJar,
    Form(form): Form<CodeForm>,
) -> Response {
    use super::passkey::options_refusal;
    let (_, user) = match pending(&state, &jar).await {
        Ok(Some(found)) => found,
        Ok(None) => {
            let message = tr("passkey.error.expired", &[]);
            return options_refusal(StatusCode::FORBIDDEN, message);
        }
        Err(error) => return state.internal_error_page(&error),
    };
    if let Err(error) = csrf::verify(&jar, &form.csrf, state.now()) {
        return options_refusal(StatusCode::FORBIDDEN, error.message());
    }
    let Some(party) = state.relying_party() else {
        return options_refusal(StatusCode::NOT_FOUND, tr("passkey.error.unavailable", &[]));
    };
    match next_step(&state, &user).await {
        Ok(NextStep::Enrol) => {}
        Ok(_) => {
            return options_refusal(StatusCode::CONFLICT, tr("passkey.error.unavailable", &[]));
        }
        Err(error) => return state.internal_error_page(&error),
    }
    super::passkey::registration_options(&state, &party, &user).await
}

/// Adds the passkey `user` created (`answer`, named `name`) as their required second factor
/// (counted against the account's second-factor limit); their recovery codes.
async fn enrol_passkey(
    state: &AppState,
    user: &User,
    (name, answer): (&str, &str),
) -> Result<(AuthenticationKind, Vec<String>), SecondStepError> {
    let Some(party) = state.relying_party() else {
        return Err(SecondStepError::Wrong);
    };
    state
        .limiters()
        .second_factor_attempt(user.id)
        .await
        .map_err(|wait| SecondStepError::RateLimited { wait })?;
    let name = if name.trim().is_empty() {
        tr("passkeys.default_name", &[])
    } else {
        name.to_owned()
    };
    let mut repository = state.database().transaction().await?;
    let added = second_factor::enrol_passkey(
        &mut *repository,
        &party,
        user,
        (&name, answer),
        (&mut state.rng(), state.now()),
    )
    .await?;
    repository.commit().await?;
    match added {
        Ok((added, codes)) => {
            tracing::info!(user.id = %user.id, passkey.id = %added.id, "passkey added at the second step");
            Ok((AuthenticationKind::Passkey, codes))
        }
        Err(refused) => {
            tracing::info!(user.id = %user.id, %refused, "passkey not added at the second step");
            Err(SecondStepError::Wrong)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pending_sign_in_survives_its_cookie_and_nothing_else_does() {
        let pending = Pending {
            user_id: Ulid::from_parts(1, 2),
            first: AuthenticationKind::Upstream,
            at: 1_700_000_000,
            attempt: Some(Ulid::from_parts(3, 4)),
        };
        assert_eq!(Pending::decode(&pending.encode()), Some(pending));
        let password = Pending {
            first: AuthenticationKind::Password,
            attempt: None,
            ..pending
        };
        assert_eq!(Pending::decode(&password.encode()), Some(password));
        for broken in [
            "",
            "x.password.1.",
            "01H.password",
            "01ARZ3NDEKTSV4RRFFQ69G5FAV.nope.1.",
            "01ARZ3NDEKTSV4RRFFQ69G5FAV.password.1",
            "01ARZ3NDEKTSV4RRFFQ69G5FAV.password.1.x",
        ] {
            assert_eq!(Pending::decode(broken), None, "{broken:?}");
        }
        let extra = format!("{}.9", pending.encode());
        assert_eq!(Pending::decode(&extra), None);
    }

    #[test]
    fn the_secret_is_shown_in_groups_of_four_beside_its_qr_code() {
        let view = enrolment_view(&Enrolment {
            secret: "JBSWY3DPEHPK3PXPJBSW".to_owned(),
            uri: "otpauth://totp/Example:@alice:example.com?secret=JBSWY3DPEHPK3PXPJBSW".to_owned(),
        });
        assert_eq!(view.secret, "JBSW Y3DP EHPK 3PXP JBSW");
        assert!(view.qr_code.starts_with("data:image/svg+xml;base64,"));
        let svg = base64ct::Base64::decode_vec(&view.qr_code["data:image/svg+xml;base64,".len()..])
            .expect("base64");
        assert!(String::from_utf8(svg).expect("utf-8").contains("<svg"));
    }
}
