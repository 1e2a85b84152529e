//! Every absolute URL the service hands out, built in one place from `http.public_base`.
//!
//! The issuer is separate on purpose: it names the service (and may be the bare Matrix
//! domain), while the endpoints live wherever the service is actually reachable.

use url::Url;

/// Builds the service's public URLs.
#[derive(Debug, Clone)]
pub struct UrlBuilder {
    base: Url,
    issuer: Url,
}

impl UrlBuilder {
    /// `public_base` is where the service is reachable; a missing trailing slash is added so
    /// relative joins keep its path (`https://example.com/auth` + `oauth2/token`).
    #[must_use]
    pub fn new(mut public_base: Url, issuer: Url) -> Self {
        if !public_base.path().ends_with('/') {
            let path = format!("{}/", public_base.path());
            public_base.set_path(&path);
        }
        Self {
            base: public_base,
            issuer,
        }
    }

    /// The issuer identifier, exactly as configured (OIDC Discovery §3 compares it as a string).
    #[must_use]
    pub fn issuer(&self) -> &Url {
        &self.issuer
    }

    /// The public base, ending with `/`.
    #[must_use]
    pub fn base(&self) -> &Url {
        &self.base
    }

    fn join(&self, path: &str) -> Url {
        self.base
            .join(path)
            .expect("joining a fixed relative path onto an http(s) URL cannot fail")
    }

    #[must_use]
    pub fn authorization_endpoint(&self) -> Url {
        self.join("authorize")
    }

    #[must_use]
    pub fn token_endpoint(&self) -> Url {
        self.join("oauth2/token")
    }

    #[must_use]
    pub fn jwks_uri(&self) -> Url {
        self.join("oauth2/keys.json")
    }

    #[must_use]
    pub fn registration_endpoint(&self) -> Url {
        self.join("oauth2/registration")
    }

    #[must_use]
    pub fn introspection_endpoint(&self) -> Url {
        self.join("oauth2/introspect")
    }

    #[must_use]
    pub fn revocation_endpoint(&self) -> Url {
        self.join("oauth2/revoke")
    }

    #[must_use]
    pub fn userinfo_endpoint(&self) -> Url {
        self.join("oauth2/userinfo")
    }

    #[must_use]
    pub fn device_authorization_endpoint(&self) -> Url {
        self.join("oauth2/device")
    }

    #[must_use]
    pub fn end_session_endpoint(&self) -> Url {
        self.join("oauth2/logout")
    }

    /// Where people manage their account (MSC2965's `account_management_uri`).
    #[must_use]
    pub fn account_management_uri(&self) -> Url {
        self.join("account/")
    }

    /// Where a passkey confirms who the user is, on the account pages.
    #[must_use]
    pub fn account_reauthenticate(&self) -> Url {
        self.join("account/reauthenticate")
    }

    /// The account's sessions and devices.
    #[must_use]
    pub fn account_sessions(&self) -> Url {
        self.join("account/sessions")
    }

    /// The page of one of the account's devices; the ID is a path segment, escaped.
    #[must_use]
    pub fn account_device(&self, device_id: &str) -> Url {
        let mut url = self.join("account/devices/");
        if let Ok(mut segments) = url.path_segments_mut() {
            segments.pop_if_empty().push(device_id);
        }
        url
    }

    /// Where one session of the account is ended.
    #[must_use]
    pub fn account_end_session(&self, session_id: ulid::Ulid) -> Url {
        self.join(&format!("account/sessions/{session_id}/end"))
    }

    /// The display name form's target.
    #[must_use]
    pub fn account_profile(&self) -> Url {
        self.join("account/profile")
    }

    /// The password change page.
    #[must_use]
    pub fn account_password(&self) -> Url {
        self.join("account/password")
    }

    /// Where a user gives up their password for their passkeys (ours).
    #[must_use]
    pub fn account_password_remove(&self) -> Url {
        self.join("account/password/remove")
    }

    /// The account page of the personal access tokens.
    #[must_use]
    pub fn account_tokens(&self) -> Url {
        self.join("account/tokens")
    }

    /// Where the revoke form of one personal access token posts.
    #[must_use]
    pub fn account_token_revoke(&self, session_id: ulid::Ulid) -> Url {
        self.join(&format!("account/tokens/{session_id}/revoke"))
    }

    /// Where a sign-in through an upstream provider starts.
    #[must_use]
    pub fn upstream_authorize(&self, provider_id: &str) -> Url {
        self.join(&format!("upstream/authorize/{provider_id}"))
    }

    /// Where an upstream provider sends the browser back (the redirect URI to register at
    /// the provider).
    #[must_use]
    pub fn upstream_callback(&self, provider_id: &str) -> Url {
        self.join(&format!("upstream/callback/{provider_id}"))
    }

    /// Where a completed upstream sign-in continues.
    #[must_use]
    pub fn upstream_link(&self, attempt_id: ulid::Ulid) -> Url {
        self.join(&format!("upstream/link/{attempt_id}"))
    }

    /// The page that allows resetting the cross-signing keys.
    #[must_use]
    pub fn account_cross_signing_reset(&self) -> Url {
        self.join("account/cross-signing-reset")
    }

    /// The page of the user's second factors (authenticator app, recovery codes).
    #[must_use]
    pub fn account_second_factors(&self) -> Url {
        self.join("account/second-factors")
    }

    /// The second step of a sign-in: a code of the user's authenticator app, or a recovery
    /// code (or adding an authenticator app, when one is required).
    #[must_use]
    pub fn login_second_factor(&self) -> Url {
        self.join("login/second-factor")
    }

    /// The options of a passkey added at the second step, when one is required (ours).
    #[must_use]
    pub fn login_second_factor_passkey_options(&self) -> Url {
        self.join("login/second-factor/passkey/options")
    }

    /// Where a passkey's answer signs in.
    #[must_use]
    pub fn login_passkey(&self) -> Url {
        self.join("login/passkey")
    }

    /// Where the options of a passkey sign-in are fetched.
    #[must_use]
    pub fn login_passkey_options(&self) -> Url {
        self.join("login/passkey/options")
    }

    /// The account deactivation page.
    #[must_use]
    pub fn account_deactivate(&self) -> Url {
        self.join("account/deactivate")
    }

    /// The page confirming that the account is deactivated.
    #[must_use]
    pub fn account_deactivated(&self) -> Url {
        self.join("account/deactivated")
    }

    /// The device-flow page where a user types the code shown on the device.
    #[must_use]
    pub fn device_link(&self) -> Url {
        self.join("link")
    }

    #[must_use]
    pub fn login(&self) -> Url {
        self.join("login")
    }

    /// Where people create an account.
    #[must_use]
    pub fn register(&self) -> Url {
        self.join("register")
    }

    /// The password registration form.
    #[must_use]
    pub fn register_password(&self) -> Url {
        self.join("register/password")
    }

    /// Where a pending registration's email code is entered.
    #[must_use]
    pub fn register_verify_email(&self, registration_id: ulid::Ulid) -> Url {
        self.join(&format!("register/steps/{registration_id}/verify-email"))
    }

    /// Where a pending registration asks for a new email code.
    #[must_use]
    pub fn register_resend_code(&self, registration_id: ulid::Ulid) -> Url {
        self.join(&format!("register/steps/{registration_id}/resend"))
    }

    /// Where a forgotten password is recovered: the address form.
    #[must_use]
    pub fn recover(&self) -> Url {
        self.join("recover")
    }

    /// The link of a recovery email, carrying its `ticket`.
    #[must_use]
    pub fn recover_complete(&self, ticket: &str) -> Url {
        let mut url = self.join("recover/complete");
        url.query_pairs_mut().append_pair("ticket", ticket);
        url
    }

    /// Where a signed-in user adds an email address.
    #[must_use]
    pub fn account_add_email(&self) -> Url {
        self.join("account/emails")
    }

    /// Where the code for an address being added is entered.
    #[must_use]
    pub fn account_verify_email(&self, authentication_id: ulid::Ulid) -> Url {
        self.join(&format!("account/emails/verify/{authentication_id}"))
    }

    /// Where an address being added gets a new code.
    #[must_use]
    pub fn account_resend_email_code(&self, authentication_id: ulid::Ulid) -> Url {
        self.join(&format!("account/emails/verify/{authentication_id}/resend"))
    }

    /// Where an address is removed.
    #[must_use]
    pub fn account_remove_email(&self, email_id: ulid::Ulid) -> Url {
        self.join(&format!("account/emails/{email_id}/remove"))
    }

    /// Where the profile page's form unlinks an account at an upstream provider.
    #[must_use]
    pub fn account_remove_upstream_link(&self, link_id: ulid::Ulid) -> Url {
        self.join(&format!("account/upstream-links/{link_id}/remove"))
    }

    #[must_use]
    pub fn logout(&self) -> Url {
        self.join("logout")
    }

    /// The consent page of an authorization grant.
    #[must_use]
    pub fn consent(&self, grant_id: ulid::Ulid) -> Url {
        self.join(&format!("consent/{grant_id}"))
    }

    /// The consent page of a device code grant.
    #[must_use]
    pub fn device_consent(&self, grant_id: ulid::Ulid) -> Url {
        self.join(&format!("device/{grant_id}"))
    }

    /// The consent page of a single sign-on login of the Matrix login API.
    #[must_use]
    pub fn compat_sso_complete(&self, login_id: ulid::Ulid) -> Url {
        self.join(&format!("complete-compat-sso/{login_id}"))
    }

    /// The home page.
    #[must_use]
    pub fn index(&self) -> Url {
        self.base.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(s: &str) -> Url {
        s.parse().expect("valid test URL")
    }

    #[test]
    fn endpoints_keep_the_path_of_the_public_base() {
        let urls = UrlBuilder::new(url("https://example.com/auth"), url("https://example.com/"));
        assert_eq!(
            urls.token_endpoint().as_str(),
            "https://example.com/auth/oauth2/token"
        );
        assert_eq!(
            urls.account_management_uri().as_str(),
            "https://example.com/auth/account/"
        );
    }

    #[test]
    fn a_device_id_is_one_escaped_path_segment() {
        let urls = UrlBuilder::new(
            url("https://example.com/auth/"),
            url("https://example.com/"),
        );
        assert_eq!(
            urls.account_device("ABCDEFGHIJ").as_str(),
            "https://example.com/auth/account/devices/ABCDEFGHIJ"
        );
        assert_eq!(
            urls.account_device("a/b?c#d").as_str(),
            "https://example.com/auth/account/devices/a%2Fb%3Fc%23d"
        );
    }

    #[test]
    fn the_issuer_is_kept_exactly_as_configured() {
        let urls = UrlBuilder::new(url("https://auth.example.com/"), url("https://example.com"));
        assert_eq!(urls.issuer().as_str(), "https://example.com/");
        assert_eq!(
            urls.authorization_endpoint().as_str(),
            "https://auth.example.com/authorize"
        );
    }
}
