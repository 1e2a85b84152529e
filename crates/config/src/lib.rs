//! The configuration of Portcullis: the typed model of the MAS configuration file (same
//! sections, keys and defaults as MAS 1.22), loading and merging of several files, `${VAR}`
//! interpolation, and validation that reports every problem with the path of its option.
//!
//! This crate does no key parsing and no network or database access: it checks the structure
//! of the file. Key material is checked by the keys crate, from the CLI.

mod files;
mod interpolate;
mod load;
mod merge;
mod path;
mod problem;
mod secret;
pub mod sections;
mod suggest;
mod types;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

pub use crate::{
    load::{Loaded, load, load_documents, load_with_process_env},
    problem::{Problem, Problems, Severity},
    secret::{REDACTED, Secret, SecretSource},
    sections::{
        account::{AccountConfig, SecondFactorRequirement, SecondFactorsConfig},
        branding::BrandingConfig,
        captcha::CaptchaConfig,
        clients::ClientConfig,
        database::{Backend, DatabaseConfig},
        email::EmailConfig,
        experimental::ExperimentalConfig,
        http::HttpConfig,
        matrix::MatrixConfig,
        oauth::OAuthConfig,
        passwords::PasswordsConfig,
        policy::PolicyConfig,
        rate_limiting::RateLimitingConfig,
        secrets::{KeyConfig, SecretsConfig},
        telemetry::TelemetryConfig,
        templates::TemplatesConfig,
        upstream_oauth2::UpstreamOAuth2Config,
    },
    types::{FileMode, InvalidIpNetwork, IpNetwork, Port},
};

/// Names of the top-level sections, in the order of [`Config`].
pub const SECTIONS: &[&str] = &[
    "http",
    "database",
    "email",
    "secrets",
    "passwords",
    "matrix",
    "clients",
    "templates",
    "account",
    "captcha",
    "policy",
    "rate_limiting",
    "telemetry",
    "upstream_oauth2",
    "branding",
    "oauth",
    "experimental",
];

/// The whole configuration file. `secrets` and `matrix` are required; every other section
/// takes MAS's defaults when absent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Config {
    /// Web server: public URL, listeners, trusted proxies.
    #[serde(default)]
    pub http: HttpConfig,

    /// Database. `None` when the section is absent: the CLI then uses SQLite in `mas.db` next
    /// to the first configuration file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub database: Option<DatabaseConfig>,

    /// Sending emails.
    #[serde(default)]
    pub email: EmailConfig,

    /// Encryption key and signing keys.
    pub secrets: SecretsConfig,

    /// Local passwords.
    #[serde(default)]
    pub passwords: PasswordsConfig,

    /// The homeserver.
    pub matrix: MatrixConfig,

    /// Static OAuth 2.0 clients.
    #[serde(default)]
    pub clients: Vec<ClientConfig>,

    /// Template overrides.
    #[serde(default)]
    pub templates: TemplatesConfig,

    /// Account self-service.
    #[serde(default)]
    pub account: AccountConfig,

    /// CAPTCHA protection.
    #[serde(default)]
    pub captcha: CaptchaConfig,

    /// Policy.
    #[serde(default)]
    pub policy: PolicyConfig,

    /// Rate limits.
    #[serde(default)]
    pub rate_limiting: RateLimitingConfig,

    /// Traces, metrics, error reporting.
    #[serde(default)]
    pub telemetry: TelemetryConfig,

    /// Upstream identity providers.
    #[serde(default)]
    pub upstream_oauth2: UpstreamOAuth2Config,

    /// Names and links shown to users.
    #[serde(default)]
    pub branding: BrandingConfig,

    /// OAuth 2.0 feature switches.
    #[serde(default)]
    pub oauth: OAuthConfig,

    /// Experimental options.
    #[serde(default)]
    pub experimental: ExperimentalConfig,
}

impl Config {
    /// The configuration `config generate` writes: the given secrets and database, every
    /// other option at its default (listeners as MAS's).
    ///
    /// `keys` are `(kid, PEM)` pairs; an empty kid leaves the key id to be derived from the key.
    #[must_use]
    pub fn generated(
        encryption_hex: String,
        keys: Vec<(String, String)>,
        database_uri: String,
        matrix_secret: String,
    ) -> Self {
        let keys = keys
            .into_iter()
            .map(|(kid, pem)| KeyConfig {
                kid: (!kid.is_empty()).then_some(kid),
                key: Some(Secret::new(pem)),
                ..KeyConfig::default()
            })
            .collect();
        let secrets = SecretsConfig {
            encryption: Some(Secret::new(encryption_hex)),
            keys,
            ..SecretsConfig::default()
        };
        let matrix = MatrixConfig {
            secret: Some(Secret::new(matrix_secret)),
            ..MatrixConfig::default()
        };
        Self {
            database: Some(DatabaseConfig::with_uri(database_uri)),
            ..Self::with_defaults(secrets, matrix)
        }
    }

    /// The required sections as given, every other section at its default and no `database`
    /// section.
    #[must_use]
    pub fn with_defaults(secrets: SecretsConfig, matrix: MatrixConfig) -> Self {
        Self {
            http: HttpConfig::default(),
            database: None,
            email: EmailConfig::default(),
            secrets,
            passwords: PasswordsConfig::default(),
            matrix,
            clients: Vec::new(),
            templates: TemplatesConfig::default(),
            account: AccountConfig::default(),
            captcha: CaptchaConfig::default(),
            policy: PolicyConfig::default(),
            rate_limiting: RateLimitingConfig::default(),
            telemetry: TelemetryConfig::default(),
            upstream_oauth2: UpstreamOAuth2Config::default(),
            branding: BrandingConfig::default(),
            oauth: OAuthConfig::default(),
            experimental: ExperimentalConfig::default(),
        }
    }

    /// The database engine: the `database` section's, or SQLite in `mas.db` under `base_dir`
    /// when the section is absent.
    #[must_use]
    pub fn database_backend(&self, base_dir: &std::path::Path) -> Backend {
        match &self.database {
            Some(database) => database.backend(base_dir),
            None => Backend::Sqlite {
                path: base_dir.join("mas.db"),
            },
        }
    }

    /// Every problem found by the sections' own checks and by the checks across sections.
    #[must_use]
    pub fn validate(&self) -> Vec<Problem> {
        let mut problems = Vec::new();
        problems.extend(self.http.validate());
        if let Some(database) = &self.database {
            problems.extend(database.validate());
        }
        problems.extend(self.email.validate());
        problems.extend(self.secrets.validate());
        problems.extend(self.passwords.validate());
        problems.extend(self.matrix.validate());
        problems.extend(sections::clients::validate(&self.clients));
        problems.extend(self.account.validate());
        problems.extend(self.captcha.validate());
        problems.extend(self.policy.validate());
        problems.extend(self.rate_limiting.validate());
        problems.extend(self.telemetry.validate());
        problems.extend(self.upstream_oauth2.validate());
        problems.extend(self.branding.validate());
        problems.extend(self.experimental.validate());
        self.validate_across(&mut problems);
        problems
    }

    /// Checks that involve several sections.
    pub(crate) fn validate_across(&self, problems: &mut Vec<Problem>) {
        use sections::{http::ResourceName, telemetry::MetricsExporterKind};

        if self.account.password_registration_enabled && !self.passwords.enabled {
            problems.push(
                Problem::warning(
                    "account.password_registration_enabled",
                    "has no effect while passwords.enabled is false",
                )
                .with_hint("enable passwords, or turn password registration off"),
            );
        }
        let serves = |name: ResourceName| {
            self.http
                .listeners
                .iter()
                .flat_map(|listener| &listener.resources)
                .any(|resource| resource.name == name)
        };
        if self.telemetry.metrics.exporter == MetricsExporterKind::Prometheus
            && !serves(ResourceName::Prometheus)
        {
            problems.push(
                Problem::warning(
                    "telemetry.metrics.exporter",
                    "metrics go to Prometheus, but no listener serves the `prometheus` resource",
                )
                .with_hint("add `- name: prometheus` to an internal listener's resources"),
            );
        }
    }

    /// The configuration as YAML with every default filled in, as `config dump` prints it.
    /// Inline secrets are replaced by `<redacted>` unless `show_secrets` (paths of secret files
    /// are always shown).
    #[must_use]
    pub fn to_yaml(&self, show_secrets: bool) -> String {
        render_yaml(&self.yaml_tree(show_secrets))
    }

    /// The configuration as YAML without the optional sections that are at their defaults, as
    /// MAS's `config generate` writes it. Secrets as in [`Config::to_yaml`].
    #[must_use]
    pub fn to_yaml_compact(&self, show_secrets: bool) -> String {
        /// Sections MAS leaves out of its generated file when they hold nothing but defaults.
        const OMITTED_AT_DEFAULT: &[&str] = &[
            "clients",
            "templates",
            "account",
            "captcha",
            "policy",
            "rate_limiting",
            "telemetry",
            "upstream_oauth2",
            "branding",
            "oauth",
            "experimental",
        ];
        let mut tree = self.yaml_tree(show_secrets);
        let defaults =
            Self::with_defaults(self.secrets.clone(), self.matrix.clone()).yaml_tree(true);
        if let (serde_yaml_ng::Value::Mapping(sections), serde_yaml_ng::Value::Mapping(defaults)) =
            (&mut tree, &defaults)
        {
            for name in OMITTED_AT_DEFAULT {
                if sections.get(*name).is_some() && sections.get(*name) == defaults.get(*name) {
                    sections.remove(*name);
                }
            }
        }
        render_yaml(&tree)
    }

    /// The configuration as a YAML tree, keys in the order of the types.
    fn yaml_tree(&self, show_secrets: bool) -> serde_yaml_ng::Value {
        let mut config = self.clone();
        if !show_secrets {
            config.redact_secrets();
        }
        serde_yaml_ng::to_value(&config)
            .expect("a configuration always converts to YAML: its maps have string keys")
    }

    fn redact_secrets(&mut self) {
        self.http.redact_secrets();
        if let Some(database) = &mut self.database {
            database.redact_secrets();
        }
        self.email.redact_secrets();
        self.secrets.redact_secrets();
        self.passwords.redact_secrets();
        self.matrix.redact_secrets();
        sections::clients::redact_secrets(&mut self.clients);
        self.captcha.redact_secrets();
        self.upstream_oauth2.redact_secrets();
    }
}

fn render_yaml(tree: &serde_yaml_ng::Value) -> String {
    serde_yaml_ng::to_string(tree).expect("a YAML tree always renders as text")
}

/// The JSON schema of the configuration file, for `config schema` and editors.
#[must_use]
pub fn json_schema() -> serde_json::Value {
    schemars::schema_for!(Config).to_value()
}
