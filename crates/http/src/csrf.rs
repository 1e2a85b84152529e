//! CSRF protection for every form: the double-submit pattern with an encrypted cookie.
//!
//! A page with a form gets a random token, stored in the encrypted `csrf` cookie with an expiry
//! and echoed in a hidden `csrf` field. A POST is accepted only when the field matches the
//! cookie, which another site can neither read nor forge (it is encrypted, HttpOnly and
//! `SameSite=Lax`).

use base64ct::{Base64UrlUnpadded, Encoding as _};
use chrono::{DateTime, TimeDelta, Utc};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use subtle::ConstantTimeEq as _;

use crate::cookies::{CookieJar, CookieSettings};

const COOKIE_NAME: &str = "csrf";

/// How long a form stays valid without being reloaded.
pub const CSRF_TTL: TimeDelta = TimeDelta::hours(1);

#[derive(Debug, Serialize, Deserialize)]
struct CsrfCookie {
    token: String,
    expires_at: DateTime<Utc>,
}

/// Why a form submission was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum CsrfError {
    #[error(
        "the form has no CSRF cookie to compare with (cookies disabled, or a different browser)"
    )]
    MissingCookie,
    #[error("the form expired; reload the page and try again")]
    Expired,
    #[error("the form's CSRF token does not match")]
    Mismatch,
}

impl CsrfError {
    /// The refusal in words for the visitor, in the language of the request.
    #[must_use]
    pub fn message(self) -> String {
        crate::pages::tr(
            match self {
                Self::MissingCookie => "form.error.csrf_missing_cookie",
                Self::Expired => "form.error.csrf_expired",
                Self::Mismatch => "form.error.csrf_mismatch",
            },
            &[],
        )
    }
}

/// The fields of a form that carries nothing but its token (a button).
#[derive(Debug, Deserialize)]
pub struct CsrfOnly {
    #[serde(default)]
    pub csrf: String,
}

/// The token to put in the page's forms: the current one, its life extended, or a new one.
pub fn token(
    jar: CookieJar,
    settings: &CookieSettings,
    now: DateTime<Utc>,
    rng: &mut impl RngCore,
) -> (CookieJar, String) {
    let current = read(&jar)
        .filter(|cookie| cookie.expires_at > now)
        .map(|cookie| cookie.token);
    let token = current.unwrap_or_else(|| {
        let mut bytes = [0_u8; 32];
        rng.fill_bytes(&mut bytes);
        Base64UrlUnpadded::encode_string(&bytes)
    });
    let cookie = CsrfCookie {
        token: token.clone(),
        expires_at: now + CSRF_TTL,
    };
    let value = serde_json::to_string(&cookie).expect("a struct of two strings serialises");
    (jar.add(settings.cookie(COOKIE_NAME, value)), token)
}

/// A token for the forms of a page, with the jar that carries it.
pub fn page_token(state: &crate::AppState, jar: CookieJar) -> (CookieJar, String) {
    token(jar, state.cookie_settings(), state.now(), &mut state.rng())
}

/// The page that refuses a form whose token is missing, expired or not this browser's, titled
/// with the translation `title`; `None` when the token is good.
pub fn refusal(
    state: &crate::AppState,
    jar: &CookieJar,
    submitted: &str,
    title: &str,
) -> Option<axum::response::Response> {
    verify(jar, submitted, state.now()).err().map(|error| {
        state.error_page(
            axum::http::StatusCode::FORBIDDEN,
            crate::pages::tr(title, &[]),
            error.message(),
        )
    })
}

/// Checks a submitted form's `csrf` field against the cookie.
///
/// # Errors
/// When the cookie is missing or expired, or the tokens differ.
pub fn verify(jar: &CookieJar, submitted: &str, now: DateTime<Utc>) -> Result<(), CsrfError> {
    let cookie = read(jar).ok_or(CsrfError::MissingCookie)?;
    if cookie.expires_at <= now {
        return Err(CsrfError::Expired);
    }
    // Constant time, so response timing tells nothing about how much of a guess was right.
    if bool::from(cookie.token.as_bytes().ct_eq(submitted.as_bytes())) {
        Ok(())
    } else {
        Err(CsrfError::Mismatch)
    }
}

fn read(jar: &CookieJar) -> Option<CsrfCookie> {
    jar.get(COOKIE_NAME)
        .and_then(|cookie| serde_json::from_str(cookie.value()).ok())
}

#[cfg(test)]
mod tests {
    use axum_extra::extract::cookie::Key;
    use rand::SeedableRng as _;

    use super::*;

    fn setup() -> (CookieJar, CookieSettings, DateTime<Utc>, rand::rngs::StdRng) {
        let jar = CookieJar::new(Key::generate());
        let settings = CookieSettings {
            secure: true,
            path: "/".to_owned(),
        };
        let now = DateTime::from_timestamp(1_800_000_000, 0).expect("valid instant");
        (jar, settings, now, rand::rngs::StdRng::seed_from_u64(7))
    }

    #[test]
    fn a_form_with_the_cookies_token_is_accepted() {
        let (jar, settings, now, mut rng) = setup();
        let (jar, token) = token(jar, &settings, now, &mut rng);
        assert_eq!(verify(&jar, &token, now + TimeDelta::minutes(5)), Ok(()));
    }

    #[test]
    fn a_form_with_another_token_is_refused() {
        let (jar, settings, now, mut rng) = setup();
        let (jar, _) = token(jar, &settings, now, &mut rng);
        assert_eq!(verify(&jar, "forged", now), Err(CsrfError::Mismatch));
    }

    #[test]
    fn a_form_without_the_cookie_is_refused() {
        let (jar, _, now, _) = setup();
        assert_eq!(verify(&jar, "anything", now), Err(CsrfError::MissingCookie));
    }

    #[test]
    fn an_expired_form_is_refused() {
        let (jar, settings, now, mut rng) = setup();
        let (jar, token) = token(jar, &settings, now, &mut rng);
        assert_eq!(
            verify(&jar, &token, now + CSRF_TTL + TimeDelta::seconds(1)),
            Err(CsrfError::Expired)
        );
    }

    #[test]
    fn reloading_a_page_keeps_the_token_and_extends_it() {
        let (jar, settings, now, mut rng) = setup();
        let (jar, first) = token(jar, &settings, now, &mut rng);
        let later = now + TimeDelta::minutes(50);
        let (jar, second) = token(jar, &settings, later, &mut rng);
        assert_eq!(first, second, "open tabs keep working");
        assert_eq!(
            verify(&jar, &second, later + TimeDelta::minutes(30)),
            Ok(())
        );
    }

    #[test]
    fn the_cookie_is_encrypted_and_protected() {
        let (jar, settings, now, mut rng) = setup();
        let (jar, token) = token(jar, &settings, now, &mut rng);
        let response = axum::response::IntoResponse::into_response(jar);
        let header = response
            .headers()
            .get(axum::http::header::SET_COOKIE)
            .and_then(|value| value.to_str().ok())
            .expect("a Set-Cookie header");
        assert!(
            !header.contains(&token),
            "the token is not readable from the raw cookie: {header}"
        );
        for attribute in ["HttpOnly", "Secure", "SameSite=Lax", "Path=/"] {
            assert!(header.contains(attribute), "{attribute} missing: {header}");
        }
    }
}
