//! Single sign-on logins of the Matrix login API (`m.login.sso`): the client sends the browser
//! with a `redirectUrl`, the signed-in user allows the login on our page, and the browser takes
//! a login token back to the application, which exchanges it at `/login` (`m.login.token`).
//!
//! The token made when the login starts is never shown: the one the application gets is made
//! when the user allows the login, so no usable token exists before that.

use chrono::{DateTime, TimeDelta, Utc};
use portcullis_model::{BrowserSession, CompatSsoLogin, CompatSsoLoginState, User};
use portcullis_oauth::token::generate_code;
use portcullis_storage::{Repository, StorageError};
use rand::RngCore;
use ulid::Ulid;
use url::Url;

/// Length of a login token.
pub const LOGIN_TOKEN_LENGTH: usize = 32;

/// How long a started login waits for the user.
pub const SSO_LOGIN_TTL: TimeDelta = TimeDelta::minutes(30);

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

/// Starts a login whose token will go to `redirect_url` (checked by [`validate_redirect_url`]).
///
/// # Errors
/// When storage fails.
pub async fn start(
    repo: &mut dyn Repository,
    redirect_url: &Url,
    rng: &mut (dyn RngCore + Send),
    now: DateTime<Utc>,
) -> Result<CompatSsoLogin, StorageError> {
    // Never shown: it only fills the column until the user allows the login.
    let placeholder = generate_code(rng, LOGIN_TOKEN_LENGTH);
    repo.compat_sso_logins()
        .add(&placeholder, redirect_url, now)
        .await
}

/// Why a login cannot be answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotPending {
    /// There is no such login.
    Unknown,
    /// It was answered already.
    Answered,
    /// It waited longer than [`SSO_LOGIN_TTL`].
    Expired,
}

/// The login `id`, if it still waits for the user at `now`.
///
/// # Errors
/// When storage fails.
pub async fn pending(
    repo: &mut dyn Repository,
    id: Ulid,
    now: DateTime<Utc>,
) -> Result<Result<CompatSsoLogin, NotPending>, StorageError> {
    let Some(login) = repo.compat_sso_logins().find(id).await? else {
        return Ok(Err(NotPending::Unknown));
    };
    Ok(if login.state != CompatSsoLoginState::Pending {
        Err(NotPending::Answered)
    } else if now - login.created_at > SSO_LOGIN_TTL {
        Err(NotPending::Expired)
    } else {
        Ok(login)
    })
}

/// The user of `browser_session` allows the login `id`: it gets a fresh login token, returned
/// with the address to send the browser to; `None` if it was answered meanwhile (one
/// conditional update: a login is allowed once).
///
/// # Errors
/// When storage fails.
pub async fn allow(
    repo: &mut dyn Repository,
    login: &CompatSsoLogin,
    browser_session: &BrowserSession,
    rng: &mut (dyn RngCore + Send),
    now: DateTime<Utc>,
) -> Result<Option<Url>, StorageError> {
    let token = generate_code(rng, LOGIN_TOKEN_LENGTH);
    let fulfilled = repo
        .compat_sso_logins()
        .fulfill(login.id, browser_session.id, &token, now)
        .await?;
    Ok(fulfilled.map(|_| with_login_token(&login.redirect_uri, &token)))
}

/// `redirect_url` with `loginToken=<token>` added to its query.
#[must_use]
pub fn with_login_token(redirect_url: &Url, token: &str) -> Url {
    let mut url = redirect_url.clone();
    url.query_pairs_mut().append_pair("loginToken", token);
    url
}

/// How long a login token is accepted after the user allowed the sign-in.
pub const LOGIN_TOKEN_TTL: TimeDelta = TimeDelta::seconds(30);

/// A single sign-on login whose token waits to be exchanged.
#[derive(Debug)]
pub struct WaitingSsoLogin {
    /// The login.
    pub id: Ulid,
    /// When the user allowed the sign-in.
    pub fulfilled_at: DateTime<Utc>,
    /// The browser session they allowed it in.
    pub browser_session: BrowserSession,
    /// Who signed in.
    pub user: User,
}

/// The single sign-on login of `token`, if it waits to be exchanged.
///
/// # Errors
/// When storage fails.
pub async fn waiting(
    repo: &mut dyn Repository,
    token: &str,
) -> Result<Option<WaitingSsoLogin>, StorageError> {
    let Some(login) = repo.compat_sso_logins().find_by_token(token).await? else {
        return Ok(None);
    };
    let CompatSsoLoginState::Fulfilled {
        fulfilled_at,
        user_session_id,
    } = login.state
    else {
        return Ok(None);
    };
    let Some(browser_session) = repo.browser_sessions().find(user_session_id).await? else {
        return Ok(None);
    };
    let Some(user) = repo.users().find_by_id(browser_session.user_id).await? else {
        return Ok(None);
    };
    Ok(Some(WaitingSsoLogin {
        id: login.id,
        fulfilled_at,
        browser_session,
        user,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(s: &str) -> Url {
        Url::parse(s).expect("valid")
    }

    /// Moved from `http/src/compat/sso_complete.rs`.
    #[test]
    fn the_login_token_is_added_to_the_query() {
        assert_eq!(
            with_login_token(&url("https://app.example.com/cb?state=1"), "abc").as_str(),
            "https://app.example.com/cb?state=1&loginToken=abc"
        );
        assert_eq!(
            with_login_token(&url("element:/callback"), "abc").as_str(),
            "element:/callback?loginToken=abc"
        );
    }

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
