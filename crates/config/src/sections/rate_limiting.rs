//! `rate_limiting`: how fast users may retry sensitive actions.
//!
//! Each limiter is a token bucket: `burst` actions at once, refilled at `per_second`.

use std::num::NonZeroU32;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::problem::Problem;

/// One token bucket.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct RateLimiterConfig {
    /// Actions allowed at once before waiting.
    pub burst: NonZeroU32,
    /// Actions regained per second; fractional for slower refills.
    pub per_second: f64,
}

impl RateLimiterConfig {
    fn new(burst: u32, per_second: f64) -> Self {
        Self {
            burst: NonZeroU32::new(burst).expect("default bursts are not zero"),
            per_second,
        }
    }

    fn validate(&self, path: &str, problems: &mut Vec<Problem>) {
        if !(self.per_second.is_finite() && self.per_second > 0.0) {
            problems.push(Problem::error(
                format!("{path}.per_second"),
                format!("{} is not a positive rate", self.per_second),
            ));
        }
    }
}

const MINUTE: f64 = 60.0;
const HOUR: f64 = 3600.0;

/// Login attempts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct LoginRateLimits {
    /// Per client IP address (also applies to password checks when changing one's password).
    #[serde(default = "default_login_per_ip")]
    pub per_ip: RateLimiterConfig,
    /// Per account, against distributed guessing.
    #[serde(default = "default_login_per_account")]
    pub per_account: RateLimiterConfig,
}

fn default_login_per_ip() -> RateLimiterConfig {
    RateLimiterConfig::new(3, 3.0 / MINUTE)
}

fn default_login_per_account() -> RateLimiterConfig {
    RateLimiterConfig::new(1800, 0.5)
}

impl Default for LoginRateLimits {
    fn default() -> Self {
        Self {
            per_ip: default_login_per_ip(),
            per_account: default_login_per_account(),
        }
    }
}

/// Account recovery requests.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct AccountRecoveryRateLimits {
    /// Per client IP address.
    #[serde(default = "default_recovery_per_ip")]
    pub per_ip: RateLimiterConfig,
    /// Per email address entered.
    #[serde(default = "default_recovery_per_address")]
    pub per_address: RateLimiterConfig,
}

fn default_recovery_per_ip() -> RateLimiterConfig {
    RateLimiterConfig::new(3, 3.0 / HOUR)
}

fn default_recovery_per_address() -> RateLimiterConfig {
    RateLimiterConfig::new(3, 1.0 / HOUR)
}

impl Default for AccountRecoveryRateLimits {
    fn default() -> Self {
        Self {
            per_ip: default_recovery_per_ip(),
            per_address: default_recovery_per_address(),
        }
    }
}

/// Email verification codes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct EmailAuthenticationRateLimits {
    /// Per client IP address.
    #[serde(default = "default_email_per_ip")]
    pub per_ip: RateLimiterConfig,
    /// Per email address.
    #[serde(default = "default_email_per_address")]
    pub per_address: RateLimiterConfig,
    /// Emails sent per verification session.
    #[serde(default = "default_emails_per_session")]
    pub emails_per_session: RateLimiterConfig,
    /// Code attempts per verification session.
    #[serde(default = "default_attempt_per_session")]
    pub attempt_per_session: RateLimiterConfig,
}

fn default_email_per_ip() -> RateLimiterConfig {
    RateLimiterConfig::new(5, 1.0 / MINUTE)
}

fn default_email_per_address() -> RateLimiterConfig {
    RateLimiterConfig::new(3, 1.0 / HOUR)
}

fn default_emails_per_session() -> RateLimiterConfig {
    RateLimiterConfig::new(2, 1.0 / (5.0 * MINUTE))
}

fn default_attempt_per_session() -> RateLimiterConfig {
    RateLimiterConfig::new(10, 1.0 / MINUTE)
}

impl Default for EmailAuthenticationRateLimits {
    fn default() -> Self {
        Self {
            per_ip: default_email_per_ip(),
            per_address: default_email_per_address(),
            emails_per_session: default_emails_per_session(),
            attempt_per_session: default_attempt_per_session(),
        }
    }
}

/// All rate limits.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct RateLimitingConfig {
    /// Login attempts.
    #[serde(default)]
    pub login: LoginRateLimits,
    /// Registrations, per client IP address.
    #[serde(default = "default_registration")]
    pub registration: RateLimiterConfig,
    /// Account recovery.
    #[serde(default)]
    pub account_recovery: AccountRecoveryRateLimits,
    /// Email verification.
    #[serde(default)]
    pub email_authentication: EmailAuthenticationRateLimits,
    /// Second-factor codes (authenticator app or recovery code) per account, right or wrong
    /// (ours: MAS has no second factors).
    #[serde(default = "default_second_factor")]
    pub second_factor: RateLimiterConfig,
}

/// Five codes at once (a mistyped code or two, an authenticator a step out), then one a
/// minute: three codes of a million are right at any time, so guessing at that pace takes
/// about eight months on average, and only someone who has the password gets to guess.
fn default_second_factor() -> RateLimiterConfig {
    RateLimiterConfig::new(5, 1.0 / MINUTE)
}

fn default_registration() -> RateLimiterConfig {
    RateLimiterConfig::new(3, 3.0 / HOUR)
}

impl Default for RateLimitingConfig {
    fn default() -> Self {
        Self {
            login: LoginRateLimits::default(),
            registration: default_registration(),
            account_recovery: AccountRecoveryRateLimits::default(),
            email_authentication: EmailAuthenticationRateLimits::default(),
            second_factor: default_second_factor(),
        }
    }
}

impl RateLimitingConfig {
    /// Every problem in this section.
    #[must_use]
    pub fn validate(&self) -> Vec<Problem> {
        let mut problems = Vec::new();
        let limiters = [
            ("rate_limiting.login.per_ip", &self.login.per_ip),
            ("rate_limiting.login.per_account", &self.login.per_account),
            ("rate_limiting.registration", &self.registration),
            (
                "rate_limiting.account_recovery.per_ip",
                &self.account_recovery.per_ip,
            ),
            (
                "rate_limiting.account_recovery.per_address",
                &self.account_recovery.per_address,
            ),
            (
                "rate_limiting.email_authentication.per_ip",
                &self.email_authentication.per_ip,
            ),
            (
                "rate_limiting.email_authentication.per_address",
                &self.email_authentication.per_address,
            ),
            (
                "rate_limiting.email_authentication.emails_per_session",
                &self.email_authentication.emails_per_session,
            ),
            (
                "rate_limiting.email_authentication.attempt_per_session",
                &self.email_authentication.attempt_per_session,
            ),
            ("rate_limiting.second_factor", &self.second_factor),
        ];
        for (path, limiter) in limiters {
            limiter.validate(path, &mut problems);
        }
        problems
    }
}
