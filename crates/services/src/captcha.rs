//! CAPTCHA on password registration (the `captcha` configuration section): the widget the
//! register page shows, and the check of its answer with the provider, on the server.
//!
//! The browser solves the challenge with the provider, which puts a one-time answer in a form
//! field of its own naming; that answer proves nothing until the provider's `siteverify`
//! endpoint, given our secret key, says it is right. A client that skips the widget can post
//! anything, so the check happens here and fails closed: a missing answer, a "no", an answer
//! solved on another site (`hostname`), and a verifier that cannot be reached, is too slow or
//! answers nonsense all refuse the registration.

use std::{net::IpAddr, time::Duration};

use portcullis_config::{
    Secret,
    sections::captcha::{CaptchaConfig, CaptchaService},
};
use serde::{Deserialize, Serialize};

/// Hosts one page may load from besides its own, by directive: the single exception to the
/// pages' strict content security policy, for a third-party widget (the CAPTCHA of the register
/// page).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ThirdPartySources {
    /// `script-src`.
    pub script: &'static [&'static str],
    /// `frame-src`.
    pub frame: &'static [&'static str],
    /// `connect-src`.
    pub connect: &'static [&'static str],
    /// `style-src`.
    pub style: &'static [&'static str],
}

/// How long the provider has to answer before the registration is refused as unchecked.
pub const VERIFY_TIMEOUT: Duration = Duration::from_secs(10);

/// The largest verdict read: the providers answer with a few hundred bytes of JSON.
const MAX_VERDICT_SIZE: usize = 64 * 1024;

/// What the page and the check need to know about one provider, from its documentation.
#[derive(Debug)]
pub struct Provider {
    /// The class of the element the provider's script turns into a widget.
    pub widget_class: &'static str,
    /// The form field the widget posts its answer in.
    pub answer_field: &'static str,
    /// The provider's script, which draws the widget.
    pub script_url: &'static str,
    /// The provider's `siteverify` endpoint.
    pub verify_url: &'static str,
    /// The hosts the register page must allow in its content security policy for the widget to
    /// load, as the provider documents them.
    pub sources: ThirdPartySources,
}

/// Google reCAPTCHA v2, through `www.recaptcha.net` as MAS does: it answers where
/// `www.google.com` is blocked. Its script loads the widget's code from `www.gstatic.com`, and
/// the challenge lives in frames (Google's reCAPTCHA FAQ, "Content-Security-Policy").
const RECAPTCHA_V2: Provider = Provider {
    widget_class: "g-recaptcha",
    answer_field: "g-recaptcha-response",
    script_url: "https://www.recaptcha.net/recaptcha/api.js",
    verify_url: "https://www.recaptcha.net/recaptcha/api/siteverify",
    sources: ThirdPartySources {
        script: &[
            "https://www.recaptcha.net/recaptcha/",
            "https://www.gstatic.com/recaptcha/",
        ],
        frame: &[
            "https://www.recaptcha.net/recaptcha/",
            "https://recaptcha.google.com/recaptcha/",
        ],
        connect: &[],
        style: &[],
    },
};

/// Cloudflare Turnstile: script and frame from `challenges.cloudflare.com` (Turnstile
/// reference, "Content Security Policy").
const CLOUDFLARE_TURNSTILE: Provider = Provider {
    widget_class: "cf-turnstile",
    answer_field: "cf-turnstile-response",
    script_url: "https://challenges.cloudflare.com/turnstile/v0/api.js",
    verify_url: "https://challenges.cloudflare.com/turnstile/v0/siteverify",
    sources: ThirdPartySources {
        script: &["https://challenges.cloudflare.com"],
        frame: &["https://challenges.cloudflare.com"],
        connect: &[],
        style: &[],
    },
};

/// hCaptcha: its documentation asks for `hcaptcha.com` and its subdomains in `script-src`,
/// `frame-src`, `style-src` and `connect-src`.
const HCAPTCHA: Provider = Provider {
    widget_class: "h-captcha",
    answer_field: "h-captcha-response",
    script_url: "https://js.hcaptcha.com/1/api.js",
    verify_url: "https://api.hcaptcha.com/siteverify",
    sources: ThirdPartySources {
        script: &["https://hcaptcha.com", "https://*.hcaptcha.com"],
        frame: &["https://hcaptcha.com", "https://*.hcaptcha.com"],
        connect: &["https://hcaptcha.com", "https://*.hcaptcha.com"],
        style: &["https://hcaptcha.com", "https://*.hcaptcha.com"],
    },
};

/// The provider of `service`.
#[must_use]
pub const fn provider(service: CaptchaService) -> &'static Provider {
    match service {
        CaptchaService::RecaptchaV2 => &RECAPTCHA_V2,
        CaptchaService::CloudflareTurnstile => &CLOUDFLARE_TURNSTILE,
        CaptchaService::HCaptcha => &HCAPTCHA,
    }
}

/// The CAPTCHA of a site: its provider and keys, and where and how long to ask for verdicts.
#[derive(Debug, Clone)]
pub struct CaptchaSettings {
    service: CaptchaService,
    site_key: String,
    secret_key: Secret,
    verify_url: String,
    timeout: Duration,
}

impl CaptchaSettings {
    /// The settings of `config`; `None` when no service is chosen. The configuration checks
    /// refuse a service without its keys, so one here is a caller's mistake; it still fails
    /// closed: with an empty key the provider refuses every answer, so nobody registers.
    #[must_use]
    pub fn from_config(config: &CaptchaConfig) -> Option<Self> {
        let service = config.service?;
        if config.site_key.is_none() || config.secret_key.is_none() {
            tracing::error!(
                "captcha.service is set without both keys: every registration will be refused"
            );
        }
        Some(Self {
            service,
            site_key: config.site_key.clone().unwrap_or_default(),
            secret_key: config.secret_key.clone().unwrap_or_else(|| Secret::new("")),
            verify_url: provider(service).verify_url.to_owned(),
            timeout: VERIFY_TIMEOUT,
        })
    }

    /// Asks for verdicts at `url` instead of the provider's endpoint. For tests, which have no
    /// internet and play the provider themselves; not a configuration option.
    #[must_use]
    pub fn with_verify_url(mut self, url: impl Into<String>) -> Self {
        self.verify_url = url.into();
        self
    }

    /// Gives the verifier `timeout` to answer instead of [`VERIFY_TIMEOUT`]. For tests.
    #[must_use]
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    #[must_use]
    pub fn service(&self) -> CaptchaService {
        self.service
    }

    #[must_use]
    pub fn provider(&self) -> &'static Provider {
        provider(self.service)
    }

    /// What the register page needs to draw the widget.
    #[must_use]
    pub fn widget(&self) -> CaptchaWidget {
        let provider = self.provider();
        CaptchaWidget {
            widget_class: provider.widget_class,
            site_key: self.site_key.clone(),
            script_url: provider.script_url,
        }
    }
}

/// The widget as the register page draws it: an element of the provider's class carrying the
/// site key, and the provider's script.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CaptchaWidget {
    pub widget_class: &'static str,
    pub site_key: String,
    pub script_url: &'static str,
}

/// The answer fields a widget may post, to be flattened into a form that carries one.
///
/// The names must be those of [`Provider::answer_field`]; a test holds them together.
#[derive(Debug, Default, Deserialize)]
pub struct CaptchaAnswers {
    #[serde(default, rename = "g-recaptcha-response")]
    recaptcha_v2: Option<String>,
    #[serde(default, rename = "cf-turnstile-response")]
    cloudflare_turnstile: Option<String>,
    #[serde(default, rename = "h-captcha-response")]
    hcaptcha: Option<String>,
}

impl CaptchaAnswers {
    /// The answer to `service`'s widget, if one was posted and is not blank. Another
    /// provider's field does not count.
    #[must_use]
    pub fn for_service(&self, service: CaptchaService) -> Option<&str> {
        let answer = match service {
            CaptchaService::RecaptchaV2 => &self.recaptcha_v2,
            CaptchaService::CloudflareTurnstile => &self.cloudflare_turnstile,
            CaptchaService::HCaptcha => &self.hcaptcha,
        };
        answer.as_deref().filter(|answer| !answer.trim().is_empty())
    }
}

/// Why an answer did not pass.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CaptchaError {
    /// The form carried no answer: the widget was not solved, or not shown at all.
    #[error("no CAPTCHA answer was posted")]
    Missing,
    /// The provider said no: a wrong, expired or reused answer, or a wrong secret key.
    #[error("the CAPTCHA provider refused the answer (error codes: {})", .0.join(", "))]
    Rejected(Vec<String>),
    /// The answer is right, but for a widget on another site: it was solved elsewhere and
    /// replayed here.
    #[error("the CAPTCHA was solved on {found}, not on {expected}")]
    WrongHostname { found: String, expected: String },
    /// The provider could not be asked, or its answer could not be understood: nothing is
    /// known, so nothing is let through.
    #[error("the CAPTCHA provider could not be asked: {0}")]
    Unavailable(String),
}

/// What we send to `siteverify` (the same three fields for every provider).
#[derive(Serialize)]
struct VerifyRequest<'a> {
    secret: &'a str,
    response: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    remoteip: Option<String>,
}

/// What `siteverify` answers, as far as we read it.
#[derive(Debug, Deserialize)]
pub struct Verdict {
    pub success: bool,
    /// The site the widget was solved on.
    #[serde(default)]
    pub hostname: Option<String>,
    #[serde(default, rename = "error-codes")]
    pub error_codes: Vec<String>,
}

impl Verdict {
    /// Whether the verdict lets the registration through on `expected_hostname` (the host of
    /// `http.public_base`). As in MAS, a "yes" must name the site the widget was solved on, and
    /// a "yes" for another site, or for none, is a no.
    ///
    /// # Errors
    /// When the provider said no, or the answer was solved on another host.
    pub fn judge(self, expected_hostname: &str) -> Result<(), CaptchaError> {
        if !self.success {
            return Err(CaptchaError::Rejected(self.error_codes));
        }
        match self.hostname {
            Some(found) if found.eq_ignore_ascii_case(expected_hostname) => Ok(()),
            found => Err(CaptchaError::WrongHostname {
                found: found.unwrap_or_else(|| "no site".to_owned()),
                expected: expected_hostname.to_owned(),
            }),
        }
    }
}

/// Checks answers with the provider: the settings and an HTTP client, kept for the process.
#[derive(Debug, Clone)]
pub struct CaptchaVerifier {
    settings: CaptchaSettings,
    client: reqwest::Client,
}

impl CaptchaVerifier {
    #[must_use]
    pub fn new(settings: CaptchaSettings) -> Self {
        // As for fetched key sets: no redirects (the verifier has one address), and a timeout
        // so that a provider that hangs cannot hold registrations forever.
        let client = reqwest::Client::builder()
            .timeout(settings.timeout)
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("portcullis/", env!("CARGO_PKG_VERSION")))
            .build()
            .unwrap_or_default();
        Self { settings, client }
    }

    #[must_use]
    pub fn settings(&self) -> &CaptchaSettings {
        &self.settings
    }

    /// Asks the provider whether `answers` hold a right answer to our widget, solved by
    /// `remote_ip` (when known) on `expected_hostname`.
    ///
    /// # Errors
    /// Every case but a clear "yes" (see [`CaptchaError`]).
    pub async fn verify(
        &self,
        answers: &CaptchaAnswers,
        remote_ip: Option<IpAddr>,
        expected_hostname: &str,
    ) -> Result<(), CaptchaError> {
        let answer = answers
            .for_service(self.settings.service)
            .ok_or(CaptchaError::Missing)?;
        let request = VerifyRequest {
            secret: self.settings.secret_key.expose(),
            response: answer,
            remoteip: remote_ip.map(|ip| ip.to_string()),
        };
        let unavailable = |error: reqwest::Error| CaptchaError::Unavailable(error.to_string());
        let mut response = self
            .client
            .post(&self.settings.verify_url)
            // Again on the request: the fallback client, should building ours fail, has none.
            .timeout(self.settings.timeout)
            .form(&request)
            .send()
            .await
            .map_err(unavailable)?;
        if !response.status().is_success() {
            return Err(CaptchaError::Unavailable(format!(
                "the verifier answered HTTP {}",
                response.status().as_u16()
            )));
        }
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(unavailable)? {
            body.extend_from_slice(&chunk);
            if body.len() > MAX_VERDICT_SIZE {
                return Err(CaptchaError::Unavailable(
                    "the verifier's answer is too large".to_owned(),
                ));
            }
        }
        let verdict: Verdict = serde_json::from_slice(&body).map_err(|error| {
            CaptchaError::Unavailable(format!("the verifier's answer is not a verdict: {error}"))
        })?;
        verdict.judge(expected_hostname)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SERVICES: [CaptchaService; 3] = [
        CaptchaService::RecaptchaV2,
        CaptchaService::CloudflareTurnstile,
        CaptchaService::HCaptcha,
    ];

    fn verdict(json: &str) -> Verdict {
        serde_json::from_str(json).expect("a verdict")
    }

    #[test]
    fn each_service_reads_the_answer_from_the_field_its_widget_posts() {
        for service in SERVICES {
            let field = provider(service).answer_field;
            let form = format!("{field}=the-answer&username=bob");
            let answers: CaptchaAnswers = decode_form(&form);
            assert_eq!(answers.for_service(service), Some("the-answer"), "{field}");
            for other in SERVICES.into_iter().filter(|other| *other != service) {
                assert_eq!(
                    answers.for_service(other),
                    None,
                    "{field} is not {other:?}'s"
                );
            }
        }
    }

    /// A form body decoded by the same deserializer as `axum::Form`'s.
    fn decode_form(form: &str) -> CaptchaAnswers {
        let uri: axum::http::Uri = format!("/?{form}").parse().expect("a URI");
        axum::extract::Query::<CaptchaAnswers>::try_from_uri(&uri)
            .expect("answers")
            .0
    }

    #[test]
    fn a_blank_answer_is_no_answer() {
        let answers = decode_form("cf-turnstile-response=%20%20");
        assert_eq!(
            answers.for_service(CaptchaService::CloudflareTurnstile),
            None
        );
    }

    #[test]
    fn a_yes_for_our_host_passes() {
        let yes = verdict(r#"{"success": true, "hostname": "Auth.Example.com"}"#);
        assert_eq!(yes.judge("auth.example.com"), Ok(()));
    }

    #[test]
    fn a_yes_without_a_hostname_is_refused() {
        assert_eq!(
            verdict(r#"{"success": true}"#).judge("auth.example.com"),
            Err(CaptchaError::WrongHostname {
                found: "no site".to_owned(),
                expected: "auth.example.com".to_owned()
            })
        );
    }

    #[test]
    fn a_no_is_refused_with_its_error_codes() {
        let no = verdict(r#"{"success": false, "error-codes": ["invalid-input-response"]}"#);
        assert_eq!(
            no.judge("auth.example.com"),
            Err(CaptchaError::Rejected(vec![
                "invalid-input-response".to_owned()
            ]))
        );
    }

    #[test]
    fn a_yes_for_another_host_is_refused() {
        let elsewhere = verdict(r#"{"success": true, "hostname": "evil.example.net"}"#);
        assert_eq!(
            elsewhere.judge("auth.example.com"),
            Err(CaptchaError::WrongHostname {
                found: "evil.example.net".to_owned(),
                expected: "auth.example.com".to_owned(),
            })
        );
    }

    #[test]
    fn no_service_means_no_captcha() {
        assert!(CaptchaSettings::from_config(&CaptchaConfig::default()).is_none());
    }

    #[test]
    fn a_service_without_its_keys_stays_on() {
        let config = CaptchaConfig {
            service: Some(CaptchaService::RecaptchaV2),
            site_key: None,
            secret_key: None,
        };
        let settings = CaptchaSettings::from_config(&config).expect("not switched off");
        assert_eq!(settings.secret_key.expose(), "");
    }

    #[test]
    fn a_configured_service_verifies_at_its_provider_unless_a_test_says_otherwise() {
        let config = CaptchaConfig {
            service: Some(CaptchaService::HCaptcha),
            site_key: Some("site".to_owned()),
            secret_key: Some(Secret::new("s3cr3t-value")),
        };
        let settings = CaptchaSettings::from_config(&config).expect("configured");
        assert_eq!(settings.verify_url, "https://api.hcaptcha.com/siteverify");
        assert_eq!(
            settings.widget(),
            CaptchaWidget {
                widget_class: "h-captcha",
                site_key: "site".to_owned(),
                script_url: "https://js.hcaptcha.com/1/api.js",
            }
        );
        let settings = settings.with_verify_url("http://127.0.0.1:9/siteverify");
        assert_eq!(settings.verify_url, "http://127.0.0.1:9/siteverify");
        assert!(
            !format!("{settings:?}").contains("s3cr3t-value"),
            "the secret is not printed"
        );
    }
}
