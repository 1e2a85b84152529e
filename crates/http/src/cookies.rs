//! Cookies for people's browsers: encrypted and authenticated, HttpOnly, `SameSite=Lax`,
//! `Secure` when the service is served over https, scoped to the public base path.
//!
//! The encryption key is derived from `secrets.encryption` under its own purpose label, so
//! cookies never share a key with the secrets stored in the database.

use axum::extract::FromRef;
use axum_extra::extract::cookie::{Cookie, Key, PrivateCookieJar, SameSite};

use crate::AppState;

/// The cookie jar handlers use: every cookie in it is encrypted with the service's key.
pub type CookieJar = PrivateCookieJar<Key>;

/// The purpose label of the cookie key; changing it would sign everybody out.
pub const COOKIE_KEY_PURPOSE: &str = "cookies";

impl FromRef<AppState> for Key {
    fn from_ref(state: &AppState) -> Self {
        state.cookie_key().clone()
    }
}

/// How cookies are set, from `http.public_base`.
#[derive(Debug, Clone)]
pub struct CookieSettings {
    /// `Secure` when the public base is https (a browser would drop it on plain http).
    pub secure: bool,
    /// The path of the public base, so a service under `/auth/` keeps its cookies there.
    pub path: String,
}

impl CookieSettings {
    #[must_use]
    pub fn from_public_base(public_base: &url::Url) -> Self {
        Self {
            secure: public_base.scheme() == "https",
            path: public_base.path().to_owned(),
        }
    }

    /// A cookie named `name` holding `value`, with every protective attribute set.
    #[must_use]
    pub fn cookie(&self, name: &'static str, value: String) -> Cookie<'static> {
        let mut cookie = Cookie::new(name, value);
        cookie.set_http_only(true);
        // Lax: sent on top-level navigations back from a client's redirect (the OAuth flow needs
        // that), never on cross-site sub-requests or form posts.
        cookie.set_same_site(SameSite::Lax);
        cookie.set_secure(self.secure);
        cookie.set_path(self.path.clone());
        cookie
    }

    /// The removal of a cookie set by [`cookie`](Self::cookie) (same name and path).
    #[must_use]
    pub fn removal(&self, name: &'static str) -> Cookie<'static> {
        let mut cookie = Cookie::from(name);
        cookie.set_path(self.path.clone());
        cookie
    }
}
