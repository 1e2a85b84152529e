//! `GET /_matrix/client/{v3,r0}/login/sso/redirect[/][{idp}]`: starts a single sign-on login.
//!
//! The client opens this in a browser with `redirectUrl`, where it waits for the login token.
//! A pending login is stored and the browser sent on to our consent page
//! ([`sso_complete`](super::sso_complete)), where the user signs in and allows it. The identity
//! provider in the path is ignored: we are the only one, as in MAS.
//!
//! The login token stored here is never shown to anybody: the token the client gets is made
//! when the user allows the sign-in (see [`sso_complete`](super::sso_complete)), so no usable
//! token exists before that.

use axum::{
    extract::{Query, State},
    response::{IntoResponse, Redirect, Response},
};
use portcullis_oauth::token::generate_code;
use serde::Deserialize;
use url::Url;

use super::error::MatrixError;
use crate::AppState;

/// Length of a login token.
pub const LOGIN_TOKEN_LENGTH: usize = 32;

#[derive(Debug, Deserialize)]
pub struct RedirectQuery {
    #[serde(rename = "redirectUrl")]
    redirect_url: Option<String>,
}

/// Schemes a browser must never be sent to with a login token.
const REFUSED_SCHEMES: &[&str] = &["javascript", "data", "vbscript", "file", "blob", "about"];

/// Why a `redirectUrl` is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum RedirectUrlError {
    #[error("`redirectUrl` is not a URL")]
    NotAUrl,
    #[error("`redirectUrl` must not contain a user name or password")]
    UserInfo,
    #[error("an http(s) `redirectUrl` must have a host")]
    NoHost,
    #[error("`redirectUrl` has a scheme that cannot receive a login token")]
    RefusedScheme,
}

/// Checks where a client asks the login token to be sent: an absolute URL without user name or
/// password, with a host if it is `http(s)`; other schemes are the apps' own (`im.example://`),
/// except those a browser would run or read locally.
///
/// # Errors
/// Which rule the URL breaks.
pub fn validate_redirect_url(input: &str) -> Result<Url, RedirectUrlError> {
    let url = Url::parse(input).map_err(|_| RedirectUrlError::NotAUrl)?;
    if !url.username().is_empty() || url.password().is_some() {
        return Err(RedirectUrlError::UserInfo);
    }
    match url.scheme() {
        "http" | "https" if url.host_str().is_none_or(str::is_empty) => {
            Err(RedirectUrlError::NoHost)
        }
        scheme if REFUSED_SCHEMES.contains(&scheme) => Err(RedirectUrlError::RefusedScheme),
        _ => Ok(url),
    }
}

pub async fn get(State(state): State<AppState>, Query(query): Query<RedirectQuery>) -> Response {
    match start(&state, &query).await {
        Ok(url) => Redirect::to(url.as_str()).into_response(),
        Err(error) => error.into_response(),
    }
}

async fn start(state: &AppState, query: &RedirectQuery) -> Result<Url, MatrixError> {
    let redirect_url = query
        .redirect_url
        .as_deref()
        .ok_or_else(|| MatrixError::missing_param("`redirectUrl` is required"))?;
    let redirect_url = validate_redirect_url(redirect_url)
        .map_err(|error| MatrixError::invalid_param(error.to_string()))?;
    let placeholder = generate_code(&mut state.rng(), LOGIN_TOKEN_LENGTH);
    let now = state.now();
    let mut repo = state.database().transaction().await?;
    let login = repo
        .compat_sso_logins()
        .add(&placeholder, redirect_url.as_str(), now)
        .await?;
    repo.commit().await?;
    tracing::info!(sso_login.id = %login.id, "single sign-on login started");
    Ok(state.urls().compat_sso_complete(login.id))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn web_and_app_urls_are_accepted() {
        for url in [
            "https://app.example.com/callback?x=1",
            "http://localhost:8080/",
            "im.fluffychat://login",
            "element:/callback",
        ] {
            assert!(validate_redirect_url(url).is_ok(), "{url}");
        }
    }

    #[test]
    fn urls_with_credentials_are_refused() {
        assert_eq!(
            validate_redirect_url("https://user:pass@app.example.com/"),
            Err(RedirectUrlError::UserInfo)
        );
        assert_eq!(
            validate_redirect_url("https://user@app.example.com/"),
            Err(RedirectUrlError::UserInfo)
        );
    }

    #[test]
    fn web_urls_need_a_host_and_relative_urls_are_refused() {
        assert!(validate_redirect_url("https://").is_err());
        assert_eq!(
            validate_redirect_url("not a url"),
            Err(RedirectUrlError::NotAUrl)
        );
        assert_eq!(
            validate_redirect_url("/relative"),
            Err(RedirectUrlError::NotAUrl)
        );
    }

    #[test]
    fn scripts_and_local_schemes_are_refused() {
        for url in [
            "javascript:alert(1)",
            "data:text/html,hi",
            "file:///etc/passwd",
        ] {
            assert_eq!(
                validate_redirect_url(url),
                Err(RedirectUrlError::RefusedScheme),
                "{url}"
            );
        }
    }
}
