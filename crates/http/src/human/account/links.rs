//! The accounts at upstream providers on the account pages: listed on the profile page with an
//! unlink form (`POST /account/upstream-links/{id}/remove`), buttons that link one more, and,
//! beside every password field, buttons that prove who the user is by signing in at one of
//! their providers again (see `portcullis_services::reauth`).

use axum::{
    extract::{Path, State},
    http::StatusCode,
    response::{IntoResponse, Redirect, Response},
};

use crate::page_form::Form;
use portcullis_config::sections::upstream_oauth2::ProviderConfig;
use portcullis_services::{
    upstream_links::{self, Unlinked},
    upstream_sign_in,
};
use portcullis_storage::StorageError;
use portcullis_templates::pages::{AccountSection, LinkedAccountView, ProviderButton};
use serde::Deserialize;
use ulid::Ulid;
use zeroize::Zeroizing;

use super::{ReauthPolicy, reauthenticate, with_done};
use crate::{
    AppState, client_ip::ClientIp, cookies::CookieJar, human::post_auth::PostAuthAction, pages::tr,
    session::SignedIn,
};

#[derive(Deserialize)]
pub struct UnlinkForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    password: Zeroizing<String>,
}

/// What the profile page shows of the user's accounts at providers.
pub(crate) struct Links {
    pub linked: Vec<LinkedAccountView>,
    /// Enabled providers the user has no account linked at.
    pub to_link: Vec<ProviderButton>,
}

/// The MSC4191 `action` (or our own page name) that brings the user back to `section`.
fn action_of(section: AccountSection) -> Option<&'static str> {
    match section {
        AccountSection::Profile | AccountSection::Sessions => None,
        AccountSection::Password => Some("password"),
        AccountSection::CrossSigningReset => Some("org.matrix.cross_signing_reset"),
        AccountSection::Tokens => Some("tokens"),
        AccountSection::SecondFactors => Some("second_factors"),
        AccountSection::Deactivate => Some("org.matrix.account_deactivate"),
    }
}

/// A button starting a sign-in at `provider` that comes back to `section`.
fn button(state: &AppState, provider: &ProviderConfig, section: AccountSection) -> ProviderButton {
    let mut url = state.urls().upstream_authorize(&provider.id);
    url.query_pairs_mut()
        .extend_pairs(PostAuthAction::manage_account(action_of(section), None).query_pairs());
    crate::upstream::provider_button(provider, &url)
}

/// The user's linked accounts and the providers they could link.
pub(crate) async fn links(state: &AppState, signed_in: &SignedIn) -> Result<Links, StorageError> {
    let mut repo = state.database().read_transaction().await?;
    let linked = upstream_links::linked_accounts(&mut *repo, &signed_in.user).await?;
    let stored = repo.upstream_providers().list().await?;
    let enabled = upstream_sign_in::enabled_providers(&mut *repo).await?;
    repo.rollback().await?;
    let name_of = |id: &str| {
        stored
            .iter()
            .find(|provider| provider.id == id)
            .and_then(|provider| provider.human_name.clone())
            .unwrap_or_else(|| id.to_owned())
    };
    let to_link = enabled
        .iter()
        .filter(|provider| !linked.iter().any(|link| link.provider_id == provider.id))
        .map(|provider| button(state, provider, AccountSection::Profile))
        .collect();
    let linked = linked
        .into_iter()
        .map(|link| LinkedAccountView {
            provider: name_of(&link.provider_id),
            remove_url: state
                .urls()
                .account_remove_upstream_link(link.id)
                .to_string(),
            account: link.human_account_name.unwrap_or(link.subject),
        })
        .collect();
    Ok(Links { linked, to_link })
}

/// The buttons that re-authenticate the user at their enabled providers, coming back to
/// `section`; none when they cannot be read (the password still works).
pub(crate) async fn reauth_buttons(
    state: &AppState,
    signed_in: &SignedIn,
    section: AccountSection,
) -> Vec<ProviderButton> {
    // The sessions pages ask for no password: nothing to read for them.
    if section == AccountSection::Sessions {
        return Vec::new();
    }
    let read = async {
        let mut repo = state.database().read_transaction().await?;
        let linked = upstream_links::linked_accounts(&mut *repo, &signed_in.user).await?;
        let enabled = if linked.is_empty() {
            Vec::new()
        } else {
            upstream_sign_in::enabled_providers(&mut *repo).await?
        };
        repo.rollback().await?;
        Ok::<_, StorageError>((linked, enabled))
    }
    .await;
    match read {
        Ok((linked, enabled)) => enabled
            .iter()
            .filter(|provider| linked.iter().any(|link| link.provider_id == provider.id))
            .map(|provider| button(state, provider, section))
            .collect(),
        Err(error) => {
            tracing::warn!(%error, "cannot read the providers to re-authenticate at");
            Vec::new()
        }
    }
}

/// `POST /account/upstream-links/{id}/remove`: unlinks an account, after the same proof as
/// removing an address, when the user keeps another way in.
pub async fn remove(
    State(state): State<AppState>,
    jar: CookieJar,
    ClientIp(ip): ClientIp,
    Path(id): Path<String>,
    Form(form): Form<UnlinkForm>,
) -> Response {
    let (jar, signed_in) =
        crate::or_respond!(super::account_user(&state, jar, ip, Some(&form.csrf), None).await);
    let Ok(id) = id.parse::<Ulid>() else {
        return refused(
            &state,
            jar,
            &signed_in,
            StatusCode::NOT_FOUND,
            "profile.error.link_not_found",
        )
        .await;
    };
    let policy = ReauthPolicy::PasswordOrRecentSignIn;
    if let Err(failure) = reauthenticate(&state, ip, &signed_in, policy, form.password).await {
        return failure
            .respond(async |status, message| {
                super::profile::page(
                    &state,
                    jar,
                    &signed_in,
                    status,
                    super::profile::Feedback {
                        link_error: Some(message),
                        ..super::profile::Feedback::default()
                    },
                )
                .await
            })
            .await;
    }
    let counted = state.ways_in_counted();
    let unlinked = async {
        let mut repo = state.database().transaction().await?;
        let unlinked = upstream_links::unlink(&mut *repo, &signed_in.user, id, counted).await?;
        repo.commit().await?;
        Ok::<_, StorageError>(unlinked)
    }
    .await;
    match unlinked {
        Ok(Unlinked::Removed) => {
            tracing::info!(user.id = %signed_in.user.id, link.id = %id, "upstream account unlinked on the account page");
            let url = with_done(state.urls().account_management_uri(), "link_removed");
            (jar, Redirect::to(url.as_str())).into_response()
        }
        Ok(Unlinked::NotFound) => {
            refused(
                &state,
                jar,
                &signed_in,
                StatusCode::NOT_FOUND,
                "profile.error.link_not_found",
            )
            .await
        }
        Ok(Unlinked::LastWayIn) => {
            refused(
                &state,
                jar,
                &signed_in,
                StatusCode::CONFLICT,
                "profile.error.last_way_in",
            )
            .await
        }
        Err(error) => state.internal_error_page(&error),
    }
}

async fn refused(
    state: &AppState,
    jar: CookieJar,
    signed_in: &SignedIn,
    status: StatusCode,
    key: &str,
) -> Response {
    super::profile::page(
        state,
        jar,
        signed_in,
        status,
        super::profile::Feedback {
            link_error: Some(tr(key, &[])),
            ..super::profile::Feedback::default()
        },
    )
    .await
}
