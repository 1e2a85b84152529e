//! `captcha`: CAPTCHA protection of password registration.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::{
    problem::Problem,
    secret::{self, Secret},
};

/// CAPTCHA services.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum CaptchaService {
    /// Google reCAPTCHA v2.
    RecaptchaV2,
    /// Cloudflare Turnstile.
    CloudflareTurnstile,
    /// hCaptcha.
    #[serde(rename = "hcaptcha")]
    HCaptcha,
}

/// Which CAPTCHA service to use, and its keys. Off when `service` is absent.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
pub struct CaptchaConfig {
    /// The service; no CAPTCHA when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service: Option<CaptchaService>,

    /// The public site key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub site_key: Option<String>,

    /// The secret key used to verify answers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_key: Option<Secret>,
}

impl CaptchaConfig {
    /// Every problem in this section.
    #[must_use]
    pub fn validate(&self) -> Vec<Problem> {
        let mut problems = Vec::new();
        if self.service.is_some() {
            if self.site_key.is_none() {
                problems.push(Problem::error(
                    "captcha.site_key",
                    "missing: the CAPTCHA service needs its site key",
                ));
            }
            if self.secret_key.is_none() {
                problems.push(Problem::error(
                    "captcha.secret_key",
                    "missing: the CAPTCHA service needs its secret key",
                ));
            }
        } else if self.site_key.is_some() || self.secret_key.is_some() {
            problems.push(
                Problem::warning(
                    "captcha.service",
                    "keys are set but no service is chosen, CAPTCHA is off",
                )
                .with_hint("set `service` to recaptcha_v2, cloudflare_turnstile or hcaptcha"),
            );
        }
        problems
    }

    pub(crate) fn redact_secrets(&mut self) {
        secret::redact(&mut self.secret_key);
    }
}
