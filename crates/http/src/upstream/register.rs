//! Registration through an upstream provider, on `/upstream/link/{id}` when nobody is signed
//! in and the provider's account is linked to nobody.
//!
//! The provider's claims propose the account (`claims_imports`); the page shows what will be
//! imported, asks for a username when the provider gives none, lets the visitor leave out
//! what is only suggested, and asks for a registration token when the provider requires one
//! and for the terms of service when there are some. With `skip_confirmation` (and nothing to
//! ask), the account is made at once. When the provider's username is a user's already,
//! `on_conflict` decides: refused (`fail`, the default), or the page offers to link the
//! account to that user (`add`, `replace`, `set`).
//!
//! As for password registration, the username must be free here and on the homeserver, each
//! attempt counts against `rate_limiting.registration`, and the account, its link, the use of
//! the attempt and the browser session are written in one transaction.

use std::net::IpAddr;

use axum::{
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Redirect, Response},
};
use portcullis_model::{UpstreamAuthorizationSession, User};
use portcullis_services::{
    registration::{Conflict, Requirements},
    upstream_registration::{self, Choices, Existing, Proposal},
    upstream_sign_in::Provider,
};
use portcullis_storage::StorageError;
use portcullis_templates::pages::{ImportedValue, RegisterErrors, UpstreamRegisterPage};

use super::link::{LinkForm, destination, expired, flow_query};
use crate::{
    AppState,
    cookies::CookieJar,
    csrf,
    human::register::{
        Field, Refusal, ask_policy, check_availability, circumstances, problem_refusal, taken,
        token_not_valid,
    },
    pages::{describe_wait, tr},
    session,
};

/// What the page proposes: the claims' proposal, the existing user it would link to, and the
/// provider's account name.
struct Plan {
    proposal: Proposal,
    existing: Option<User>,
    account_name: Option<String>,
}

/// What the visitor chose, shown again after a refusal.
struct Kept {
    username: Option<String>,
    display_name: bool,
    email: bool,
    token: Option<String>,
    terms_accepted: bool,
}

impl Kept {
    fn from_form(form: &LinkForm) -> Self {
        let non_empty = |text: &str| (!text.trim().is_empty()).then(|| text.to_owned());
        Self {
            username: non_empty(&form.username),
            display_name: form.import_display_name.is_some(),
            email: form.import_email.is_some(),
            token: non_empty(&form.token),
            terms_accepted: form.accept_terms.is_some(),
        }
    }

    fn choices(&self) -> Choices<'_> {
        Choices {
            username: self.username.as_deref().unwrap_or_default(),
            display_name: self.display_name,
            email: self.email,
            token: self.token.as_deref().unwrap_or_default(),
            terms_accepted: self.terms_accepted,
        }
    }
}

/// The confirmation page, or the account made at once with `skip_confirmation`.
pub(super) async fn page(
    state: &AppState,
    jar: CookieJar,
    attempt: &UpstreamAuthorizationSession,
    link: &portcullis_model::UpstreamLink,
    user_agent: Option<&str>,
    ip: Option<IpAddr>,
) -> Response {
    let provider = crate::or_respond!(super::authorize::load(state, &attempt.provider_id).await);
    let plan = match plan(state, &provider, attempt, Some(link)).await {
        Ok(Ok(plan)) => plan,
        Ok(Err(response)) => return response,
        Err(error) => return state.internal_error_page(&error),
    };
    let kept = Kept {
        username: plan.proposal.suggested_username.clone(),
        display_name: true,
        email: true,
        token: None,
        terms_accepted: false,
    };
    if plan
        .proposal
        .needs_no_confirmation(&requirements(state, &provider))
    {
        return finish(state, jar, &provider, attempt, &plan, &kept, user_agent, ip).await;
    }
    render(
        state,
        jar,
        &provider,
        &plan,
        &kept,
        StatusCode::OK,
        RegisterErrors::default(),
    )
}

/// The confirmation, posted.
pub(super) async fn post(
    state: &AppState,
    jar: CookieJar,
    attempt: &UpstreamAuthorizationSession,
    form: &LinkForm,
    user_agent: Option<&str>,
    ip: Option<IpAddr>,
) -> Response {
    let provider = crate::or_respond!(super::authorize::load(state, &attempt.provider_id).await);
    let plan = match plan(state, &provider, attempt, None).await {
        Ok(Ok(plan)) => plan,
        Ok(Err(response)) => return response,
        Err(error) => return state.internal_error_page(&error),
    };
    let kept = Kept::from_form(form);
    finish(state, jar, &provider, attempt, &plan, &kept, user_agent, ip).await
}

fn requirements<'a>(state: &'a AppState, provider: &Provider) -> Requirements<'a> {
    let site = state.site_config();
    Requirements {
        server_name: state.server_name(),
        terms: site.tos_uri.is_some(),
        email: false,
        token: provider.config.registration_token_required,
    }
}

/// What the claims propose, and whether the provider's username is someone's already; a
/// page explaining why not when the account cannot be made.
async fn plan(
    state: &AppState,
    provider: &Provider,
    attempt: &UpstreamAuthorizationSession,
    link: Option<&portcullis_model::UpstreamLink>,
) -> Result<Result<Plan, Response>, StorageError> {
    let name = super::provider_name(&provider.config);
    let proposal = match upstream_registration::propose(
        &provider.config,
        attempt,
        &state.site_config().server_name,
    ) {
        Ok(proposal) => proposal,
        Err(error) => {
            tracing::warn!(provider = %provider.config.id, %error, "an upstream account cannot be registered");
            return Ok(Err(state.error_page(
                StatusCode::FORBIDDEN,
                tr("upstream.error.import_title", &[]),
                tr(
                    "upstream.error.import",
                    &[("provider", &name), ("reason", &error.to_string())],
                ),
            )));
        }
    };
    let mut repo = state.database().read_transaction().await?;
    let account_name = match (link, attempt.link_id) {
        (Some(link), _) => link.human_account_name.clone(),
        (None, Some(id)) => repo
            .upstream_links()
            .find(id)
            .await?
            .and_then(|link| link.human_account_name),
        (None, None) => None,
    };
    let existing = match &proposal.localpart {
        Some(localpart) => Some(
            upstream_registration::existing_user(
                &mut *repo,
                &provider.config.id,
                localpart,
                proposal.on_conflict,
            )
            .await?,
        ),
        None => None,
    };
    repo.rollback().await?;
    let username = proposal
        .localpart
        .as_ref()
        .map(|localpart| localpart.as_str().to_owned())
        .unwrap_or_default();
    let existing = match existing {
        None | Some(Existing::Nobody) => None,
        Some(Existing::Linkable(user)) => Some(user),
        Some(problem) => return Ok(Err(existing_refused(state, &problem, &username, &name))),
    };
    Ok(Ok(Plan {
        proposal,
        existing,
        account_name,
    }))
}

/// The page saying why the provider's username cannot be used.
fn existing_refused(
    state: &AppState,
    problem: &Existing,
    username: &str,
    provider: &str,
) -> Response {
    let key = match problem {
        Existing::LinkedAlready => "upstream.error.linked_already",
        Existing::Unusable => "upstream.error.existing_unusable",
        _ => "upstream.error.username_taken",
    };
    state.error_page(
        StatusCode::CONFLICT,
        tr("upstream.error.username_unavailable_title", &[]),
        tr(key, &[("username", username), ("provider", provider)]),
    )
}

/// Makes the account (or links the existing user) and signs the visitor in; the page again
/// with the reason when refused.
#[allow(clippy::too_many_arguments)]
async fn finish(
    state: &AppState,
    jar: CookieJar,
    provider: &Provider,
    attempt: &UpstreamAuthorizationSession,
    plan: &Plan,
    kept: &Kept,
    user_agent: Option<&str>,
    ip: Option<IpAddr>,
) -> Response {
    let refused = |jar, refusal: Refusal| {
        let (status, retry_after) = (refusal.status, refusal.retry_after);
        let mut response = render(state, jar, provider, plan, kept, status, refusal.errors());
        if let Some(wait) = retry_after
            && let Ok(value) = HeaderValue::from_str(&wait.as_secs().max(1).to_string())
        {
            response.headers_mut().insert(header::RETRY_AFTER, value);
        }
        response
    };
    let now = state.now();
    let created = if let Some(existing) = &plan.existing {
        let linked = async {
            let mut repo = state.database().transaction().await?;
            let linked = upstream_registration::link_existing(
                &mut *repo,
                attempt,
                existing,
                (
                    plan.proposal.on_conflict,
                    state.site_config().second_factors.required,
                ),
                user_agent,
                now,
            )
            .await?;
            match &linked {
                Ok(_) => repo.commit().await?,
                Err(_) => repo.rollback().await?,
            }
            Ok::<_, StorageError>(linked)
        }
        .await;
        match linked {
            Ok(Ok(signed_in)) => signed_in,
            Ok(Err(Existing::Nobody)) => return expired(state),
            Ok(Err(problem)) => {
                return existing_refused(
                    state,
                    &problem,
                    &existing.username,
                    &super::provider_name(&provider.config),
                );
            }
            Err(error) => return state.internal_error_page(&error),
        }
    } else {
        let checked = match plan
            .proposal
            .decide(&requirements(state, provider), &kept.choices())
        {
            Ok(checked) => checked,
            Err(problem) => return refused(jar, problem_refusal(problem)),
        };
        let requester = AppState::requester(ip, user_agent);
        if let Err(refusal) = ask_policy(
            state,
            portcullis_policy::RegistrationMethod::UpstreamOAuth2,
            checked.localpart.as_str(),
            checked.email.as_deref(),
            &requester,
        ) {
            return refused(jar, refusal);
        }
        if let Err(wait) = state.limiters().registration_attempt(ip).await {
            let refusal = Refusal::new(
                StatusCode::TOO_MANY_REQUESTS,
                Field::Form,
                tr(
                    "register.error.too_many_attempts",
                    &[("wait", &describe_wait(wait))],
                ),
            );
            return refused(jar, refusal.retry_after(wait));
        }
        match check_availability(state, &checked).await {
            Ok(Ok(())) => {}
            Ok(Err(refusal)) => return refused(jar, refusal),
            Err(error) => return state.internal_error_page(&error),
        }
        let site = state.site_config();
        let registered = async {
            let mut repo = state.database().transaction().await?;
            let circumstances = circumstances(state, &site, user_agent);
            // A provider that vouches for several factors meets the requirement.
            let circumstances = portcullis_services::registration::Circumstances {
                second_factor_first: circumstances.second_factor_first
                    && !portcullis_services::upstream_sign_in::vouches_for_second_factor(attempt),
                ..circumstances
            };
            let registered =
                upstream_registration::register(&mut *repo, attempt, &checked, circumstances)
                    .await?;
            match &registered {
                Ok(_) => repo.commit().await?,
                Err(_) => repo.rollback().await?,
            }
            Ok::<_, StorageError>(registered)
        }
        .await;
        match registered {
            Ok(Ok(created)) => created,
            Ok(Err(Conflict::AlreadyFinished)) => return expired(state),
            Ok(Err(Conflict::TokenNotValid)) => return refused(jar, token_not_valid()),
            Ok(Err(Conflict::UsernameTaken)) => return refused(jar, taken()),
            Ok(Err(Conflict::EmailTaken)) => {
                let refusal = Refusal::new(
                    StatusCode::CONFLICT,
                    Field::Email,
                    tr("register.error.email_in_use", &[]),
                );
                return refused(jar, refusal);
            }
            Err(error) => return state.internal_error_page(&error),
        }
    };
    let (user, browser_session) = created;
    tracing::info!(user.id = %user.id, user.username = %user.username, provider = %provider.config.id, "registered through an upstream provider");
    crate::telemetry::upstream_registration(&provider.config.id);
    let Some(browser_session) = browser_session else {
        // A second factor first: the attempt is consumed by the session started after it.
        return crate::human::second_factor::ask_second_factor(
            state,
            jar,
            &user,
            (
                portcullis_model::AuthenticationKind::Upstream,
                Some(attempt.id),
            ),
            &flow_query(attempt),
        );
    };
    state.activity().record(
        portcullis_storage::SessionRef::Browser(browser_session.id),
        now,
        ip,
    );
    let jar = session::remember(state, jar, &browser_session);
    (jar, Redirect::to(destination(state, attempt).as_str())).into_response()
}

fn render(
    state: &AppState,
    jar: CookieJar,
    provider: &Provider,
    plan: &Plan,
    kept: &Kept,
    status: StatusCode,
    errors: RegisterErrors,
) -> Response {
    let (jar, csrf) = csrf::page_token(state, jar);
    let proposal = &plan.proposal;
    let imported = |value: &Option<upstream_registration::Imported>, chosen: bool| {
        value.as_ref().map(|value| ImportedValue {
            value: value.value.clone(),
            optional: value.optional,
            chosen,
        })
    };
    let page = UpstreamRegisterPage {
        csrf,
        server_name: state.site_config().server_name.clone(),
        provider: super::provider_name(&provider.config),
        account_name: plan.account_name.clone(),
        localpart: proposal
            .localpart
            .as_ref()
            .map(|localpart| localpart.as_str().to_owned()),
        existing_user: plan.existing.is_some(),
        username: kept.username.clone(),
        display_name: imported(&proposal.display_name, kept.display_name),
        email: imported(&proposal.email, kept.email),
        unvouched_email: proposal.unvouched_email.clone(),
        token_required: provider.config.registration_token_required,
        token: kept.token.clone(),
        terms_accepted: kept.terms_accepted,
        errors,
    };
    (jar, state.render(status, &page)).into_response()
}
