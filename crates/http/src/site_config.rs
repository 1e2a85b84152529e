//! The settings handlers act on, flattened out of the configuration once at start-up.

use std::time::Duration;

use portcullis_services::captcha::CaptchaSettings;

use portcullis_config::{
    Config, SecondFactorsConfig,
    sections::rate_limiting::{
        AccountRecoveryRateLimits, EmailAuthenticationRateLimits, LoginRateLimits,
        RateLimiterConfig,
    },
};

/// What the service offers and how, as far as request handling is concerned.
#[derive(Debug, Clone)]
pub struct SiteConfig {
    /// The Matrix server name (`matrix.homeserver`): user IDs are `@localpart:server_name`.
    pub server_name: String,
    /// Whether passwords are in use at all (`passwords.enabled`).
    pub password_login_enabled: bool,
    /// Whether people may register with a password (`account.password_registration_enabled`).
    pub password_registration_enabled: bool,
    /// Whether registering with a password needs an email address
    /// (`account.password_registration_email_required`, true by default as in MAS). The
    /// address is verified with a code sent to it before the account is made.
    pub password_registration_email_required: bool,
    /// Whether registering with a password needs a registration token
    /// (`account.password_registration_token_required`, or its deprecated name
    /// `account.registration_token_required`).
    pub registration_token_required: bool,
    /// Whether signing in with an email address is allowed (`account.login_with_email_allowed`).
    pub login_with_email_allowed: bool,
    /// Whether users may add and remove email addresses (`account.email_change_allowed`).
    pub email_change_allowed: bool,
    /// How fast verification codes may be sent and tried
    /// (`rate_limiting.email_authentication`).
    pub email_rate_limits: EmailAuthenticationRateLimits,
    /// Whether a forgotten password can be reset through a link sent by email
    /// (`account.password_recovery_enabled`, with passwords in use).
    pub password_recovery_enabled: bool,
    /// The limits of recovery requests (`rate_limiting.account_recovery`).
    pub recovery_rate_limits: AccountRecoveryRateLimits,
    /// Whether users may change their display name (`account.displayname_change_allowed`).
    pub displayname_change_allowed: bool,
    /// Whether users may change their password: `account.password_change_allowed`, and
    /// passwords in use at all (`passwords.enabled`).
    pub password_change_allowed: bool,
    /// Whether users may deactivate their own account (`account.account_deactivation_allowed`).
    pub account_deactivation_allowed: bool,
    /// Whether the device authorization grant is offered (`oauth.device_code_grant_enabled`).
    pub device_code_grant_enabled: bool,
    /// Whether `/link?code=` pre-fills the code (`oauth.device_code_user_code_auto_fill_enabled`).
    pub device_code_user_code_auto_fill_enabled: bool,
    /// How long access tokens live (`experimental.access_token_ttl`).
    pub access_token_ttl: Duration,
    /// How long compatibility access tokens live when the client asked for a refresh token
    /// (`experimental.compat_token_ttl`); without one they never expire.
    pub compat_token_ttl: Duration,
    /// How fast passwords may be tried, per address and per account
    /// (`rate_limiting.login`).
    pub login_rate_limits: LoginRateLimits,
    /// How fast accounts may be registered from one address (`rate_limiting.registration`).
    pub registration_rate_limit: RateLimiterConfig,
    /// `branding.service_name`, shown on pages.
    pub service_name: Option<String>,
    /// `branding.policy_uri`.
    pub policy_uri: Option<url::Url>,
    /// `branding.tos_uri`.
    pub tos_uri: Option<url::Url>,
    /// The CAPTCHA of password registration (`captcha`), when a service is chosen.
    pub captcha: Option<CaptchaSettings>,
    /// `experimental.session_limit`: how sessions are counted for the policy.
    pub session_limit: Option<portcullis_config::sections::experimental::SessionLimitConfig>,
    /// `account.second_factors`: which second factors users may have, and who must.
    pub second_factors: SecondFactorsConfig,
    /// How fast second-factor codes may be tried per account (`rate_limiting.second_factor`).
    pub second_factor_rate_limit: RateLimiterConfig,
}

impl SiteConfig {
    /// Reads the settings out of a checked configuration.
    #[must_use]
    pub fn from_config(config: &Config) -> Self {
        Self {
            server_name: config.matrix.homeserver.clone(),
            password_login_enabled: config.passwords.enabled,
            password_registration_enabled: config.passwords.enabled
                && config.account.password_registration_enabled,
            password_registration_email_required: config
                .account
                .password_registration_email_required,
            registration_token_required: config.account.registration_token_required(),
            login_with_email_allowed: config.account.login_with_email_allowed,
            email_change_allowed: config.account.email_change_allowed,
            email_rate_limits: config.rate_limiting.email_authentication.clone(),
            password_recovery_enabled: config.passwords.enabled
                && config.account.password_recovery_enabled,
            recovery_rate_limits: config.rate_limiting.account_recovery.clone(),
            displayname_change_allowed: config.account.displayname_change_allowed,
            password_change_allowed: config.passwords.enabled
                && config.account.password_change_allowed,
            account_deactivation_allowed: config.account.account_deactivation_allowed,
            device_code_grant_enabled: config.oauth.device_code_grant_enabled,
            device_code_user_code_auto_fill_enabled: config
                .oauth
                .device_code_user_code_auto_fill_enabled,
            access_token_ttl: config.experimental.access_token_ttl(),
            compat_token_ttl: config.experimental.compat_token_ttl(),
            login_rate_limits: config.rate_limiting.login.clone(),
            registration_rate_limit: config.rate_limiting.registration,
            service_name: config.branding.service_name.clone(),
            policy_uri: config.branding.policy_uri.clone(),
            tos_uri: config.branding.tos_uri.clone(),
            captcha: CaptchaSettings::from_config(&config.captcha),
            session_limit: config.experimental.session_limit.clone(),
            second_factors: config.account.second_factors.clone(),
            second_factor_rate_limit: config.rate_limiting.second_factor,
        }
    }
}
