//! Signing in through an upstream provider, at MAS's paths: `/upstream/authorize/{provider}`
//! sends the browser to the provider, `/upstream/callback/{provider}` takes its answer (GET,
//! or POST for `response_mode: form_post`), `/upstream/link/{id}` signs in the linked user,
//! or registers the visitor, or links the account to the user signed in;
//! `/upstream/backchannel-logout/{provider}` takes the provider's logout tokens.
//!
//! The attempts a browser started are listed in an encrypted cookie, so that an answer, or
//! a link page, only works in the browser that began the sign-in.

mod authorize;
mod backchannel_logout;
mod callback;
mod link;
mod register;

use axum::{Router, routing::get};
use ulid::Ulid;

use crate::{AppState, cookies::CookieJar};

/// The cookie listing the attempts this browser started.
const COOKIE_NAME: &str = "upstream-oauth2-sessions";

/// How many attempts the cookie keeps (the newest).
const KEPT: usize = 10;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/upstream/authorize/{provider_id}", get(authorize::get))
        .route(
            "/upstream/callback/{provider_id}",
            get(callback::get).post(callback::post),
        )
        .route("/upstream/link/{id}", get(link::get).post(link::post))
        .route(
            "/upstream/backchannel-logout/{provider_id}",
            axum::routing::post(backchannel_logout::post),
        )
}

/// The attempts the browser's cookie lists.
fn attempts(jar: &CookieJar) -> Vec<Ulid> {
    jar.get(COOKIE_NAME)
        .map(|cookie| {
            cookie
                .value()
                .split(',')
                .filter_map(|id| id.parse().ok())
                .collect()
        })
        .unwrap_or_default()
}

/// The jar with `id` added to the browser's attempts.
fn remember(state: &AppState, jar: CookieJar, id: Ulid) -> CookieJar {
    let mut ids = attempts(&jar);
    ids.push(id);
    let start = ids.len().saturating_sub(KEPT);
    let value = ids[start..]
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(",");
    jar.add(state.cookie_settings().cookie(COOKIE_NAME, value))
}

/// The "Continue with …" button of `config`, leading to `url`.
pub(crate) fn provider_button(
    config: &portcullis_config::sections::upstream_oauth2::ProviderConfig,
    url: &url::Url,
) -> portcullis_templates::pages::ProviderButton {
    portcullis_templates::pages::ProviderButton {
        name: provider_name(config),
        logo: config
            .brand_name
            .as_deref()
            .and_then(crate::assets::brand_logo_path),
        brand: config.brand_name.clone(),
        url: url.to_string(),
    }
}

/// The name a page shows for the provider.
fn provider_name(config: &portcullis_config::sections::upstream_oauth2::ProviderConfig) -> String {
    config
        .human_name
        .clone()
        .unwrap_or_else(|| config.id.clone())
}
