//! The HTTP side of Portcullis: one axum router per listener resource.
//!
//! A listener in the configuration lists the resources it serves (`discovery`, `human`,
//! `oauth`, `compat`, `health`...). [`router`] assembles the routers of those resources, in one module
//! each, under the listener's optional prefix. Handlers are thin: they extract, call one
//! service function, and answer in the caller's protocol.

// A handler's early answer is a whole `Response`, returned once per request: boxing it would
// buy nothing.
#![allow(clippy::result_large_err)]

/// The value in `result`, or, from the handler, the response it holds instead (for the steps
/// of a handler that answer early: the sign-in page, a refused form).
macro_rules! or_respond {
    ($result:expr) => {
        match $result {
            Ok(value) => value,
            Err(response) => return response,
        }
    };
}
pub(crate) use or_respond;

pub mod account_api;
pub mod assets;
pub mod client_ip;
pub mod compat;
pub mod connection_info;
pub mod cookies;
pub mod cors;
pub mod csrf;
pub mod discovery;
pub mod emails;
pub mod graphql;
pub mod hashing_room;
pub mod health;
pub mod human;
pub mod oauth;
pub mod page_form;
pub mod pages;
pub mod requester;
pub mod session;
pub mod site_config;
pub mod telemetry;
mod unavailable;
pub mod upstream;

use std::sync::Arc;

use axum::{Router, http::StatusCode, response::IntoResponse};
use axum_extra::extract::cookie::Key;
use ipnet::IpNet;
use portcullis_config::sections::http::{Resource, ResourceName};
use portcullis_homeserver::HomeserverConnection;
use portcullis_keys::{Encrypter, JwsAlgorithm, Keystore};
use portcullis_model::Clock;
use portcullis_passwords::PasswordManager;
use portcullis_storage_sql::Database;
use portcullis_templates::Templates;
use zeroize::Zeroizing;

use portcullis_urls::UrlBuilder;

use crate::{cookies::CookieSettings, site_config::SiteConfig};

/// What every handler may need, shared by all listeners.
#[derive(Clone)]
pub struct AppState {
    inner: Arc<Inner>,
}

struct Inner {
    database: Database,
    trusted_proxies: Vec<IpNet>,
    urls: UrlBuilder,
    /// Replaced, branding only, when the operator reloads it (`SIGHUP`).
    site: std::sync::RwLock<Arc<SiteConfig>>,
    keystore: Keystore,
    signing_algorithms: Vec<JwsAlgorithm>,
    encrypter: Encrypter,
    cookie_key: Key,
    cookie_settings: CookieSettings,
    clock: Arc<dyn Clock>,
    passwords: PasswordManager,
    /// Replaced when the operator reloads them (`SIGHUP`).
    templates: std::sync::RwLock<Arc<Templates>>,
    policy: portcullis_policy::SharedPolicy,
    homeserver_secret: Option<Zeroizing<String>>,
    homeserver: Arc<dyn HomeserverConnection>,
    limiters: portcullis_services::rate_limit::Limiters,
    activity: Arc<portcullis_services::activity::ActivityTracker>,
    /// What introspection read about access tokens lately.
    access_tokens: portcullis_services::introspection::AccessTokenCache,
    jwks_cache: portcullis_services::jwks_cache::JwksCache,
    /// The upstream providers' discovery documents and key sets.
    upstream: portcullis_services::upstream_sign_in::UpstreamClient,
    /// Checks CAPTCHA answers on registration, when `captcha` is configured.
    captcha: Option<portcullis_services::captcha::CaptchaVerifier>,
    app_services: Vec<portcullis_services::app_services::AppService>,
    /// The discovery document, serialised once: it depends only on the configuration.
    discovery_document: std::sync::RwLock<axum::body::Bytes>,
    /// `matrix.homeserver`, which no reload changes.
    server_name: String,
    /// The page refused sign-ins get while hashing is saturated, in each language.
    busy_pages: hashing_room::BusyPages,
}

/// Everything an [`AppState`] is made of.
pub struct AppParts {
    pub database: Database,
    /// The `http.trusted_proxies` ranges: only peers inside them may tell us the client's
    /// address in `X-Forwarded-For`.
    pub trusted_proxies: Vec<IpNet>,
    pub urls: UrlBuilder,
    pub site: SiteConfig,
    pub keystore: Keystore,
    /// Encrypts secrets at rest; cookies use a key derived from it.
    pub encrypter: Encrypter,
    /// The time source; tests pass a mock clock.
    pub clock: Arc<dyn Clock>,
    pub passwords: PasswordManager,
    pub templates: Templates,
    /// The policy, replaced in place when new dynamic data arrives.
    pub policy: portcullis_policy::SharedPolicy,
    /// `matrix.secret`: the homeserver presents it to introspect tokens.
    pub homeserver_secret: Option<Zeroizing<String>>,
    /// The homeserver's provisioning API: devices are created there before their tokens are
    /// handed out.
    pub homeserver: Arc<dyn HomeserverConnection>,
    /// The appservices (bridges) that may sign users in with `m.login.application_service`.
    pub app_services: Vec<portcullis_services::app_services::AppService>,
}

impl AppState {
    #[must_use]
    pub fn new(parts: AppParts) -> Self {
        let signing_algorithms = parts.keystore.signing_algorithms();
        let cookie_key = Key::derive_from(
            parts
                .encrypter
                .derive_key(cookies::COOKIE_KEY_PURPOSE)
                .as_slice(),
        );
        let cookie_settings = CookieSettings::from_public_base(parts.urls.base());
        let limiters = portcullis_services::rate_limit::Limiters::new(
            &parts.site.login_rate_limits,
            &parts.site.registration_rate_limit,
        )
        .with_email(&parts.site.email_rate_limits)
        .with_recovery(&parts.site.recovery_rate_limits)
        .with_second_factor(&parts.site.second_factor_rate_limit);
        // Processes sharing a PostgreSQL database share their limits; a SQLite database has
        // one process, which keeps them in memory.
        let limiters = match parts.database.backend() {
            portcullis_storage_sql::Backend::Postgres => {
                limiters.shared(Arc::new(parts.database.clone()), parts.clock.clone())
            }
            portcullis_storage_sql::Backend::Sqlite => limiters,
        };
        let algs: Vec<&str> = signing_algorithms.iter().map(|alg| alg.as_str()).collect();
        let discovery_document = axum::body::Bytes::from(
            discovery::provider_metadata(&parts.urls, &parts.site, &algs).to_string(),
        );
        let captcha = parts
            .site
            .captcha
            .clone()
            .map(portcullis_services::captcha::CaptchaVerifier::new);
        let server_name = parts.site.server_name.clone();
        let state = Self {
            inner: Arc::new(Inner {
                database: parts.database,
                trusted_proxies: parts.trusted_proxies,
                urls: parts.urls,
                site: std::sync::RwLock::new(Arc::new(parts.site)),
                keystore: parts.keystore,
                signing_algorithms,
                encrypter: parts.encrypter,
                cookie_key,
                cookie_settings,
                clock: parts.clock,
                passwords: parts.passwords,
                templates: std::sync::RwLock::new(Arc::new(parts.templates)),
                policy: parts.policy,
                homeserver_secret: parts.homeserver_secret,
                homeserver: parts.homeserver,
                limiters,
                activity: Arc::default(),
                access_tokens: portcullis_services::introspection::AccessTokenCache::default(),
                jwks_cache: portcullis_services::jwks_cache::JwksCache::default(),
                upstream: portcullis_services::upstream_sign_in::UpstreamClient::default(),
                captcha,
                app_services: parts.app_services,
                discovery_document: std::sync::RwLock::new(discovery_document),
                server_name,
                busy_pages: hashing_room::BusyPages::default(),
            }),
        };
        // Rendered now, so that refusing a sign-in never renders a template.
        state.busy_pages();
        state
    }

    /// The busy page of each language ([`hashing_room`]).
    pub(crate) fn busy_pages(&self) -> &hashing_room::BusyPages {
        &self.inner.busy_pages
    }

    #[must_use]
    pub fn urls(&self) -> &UrlBuilder {
        &self.inner.urls
    }

    /// Who passkeys are for: the host of `http.public_base`; `None` when it is an IP address
    /// (browsers refuse WebAuthn there), or passkeys are not allowed.
    #[must_use]
    pub fn relying_party(&self) -> Option<portcullis_services::passkey::RelyingParty> {
        if !self.site_config().second_factors.passkeys_allowed {
            return None;
        }
        portcullis_services::passkey::RelyingParty::of(self.urls().base())
    }

    /// Which ways in count here, for what a user removes of their own
    /// (`portcullis_services::ways_in`).
    #[must_use]
    pub fn ways_in_counted(&self) -> portcullis_services::ways_in::Counted {
        let site = self.site_config();
        portcullis_services::ways_in::Counted {
            passwords: site.password_login_enabled,
            passkey_sign_in: site.second_factors.passkey_sign_in_allowed
                && self.relying_party().is_some(),
        }
    }

    /// `matrix.homeserver`.
    #[must_use]
    pub fn server_name(&self) -> &str {
        &self.inner.server_name
    }

    /// The settings pages and rules read; cheap to call (the branding in it changes on
    /// `SIGHUP`).
    #[must_use]
    pub fn site_config(&self) -> Arc<SiteConfig> {
        Arc::clone(
            &self
                .inner
                .site
                .read()
                .unwrap_or_else(std::sync::PoisonError::into_inner),
        )
    }

    /// Shows the branding of `site` (service name, policy and terms pages) from now on, in
    /// pages, emails and the discovery document; the rest of the settings stay as they are.
    pub fn replace_branding(&self, site: &SiteConfig) {
        let mut current = self
            .inner
            .site
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let mut updated = SiteConfig::clone(&current);
        updated.service_name.clone_from(&site.service_name);
        updated.policy_uri.clone_from(&site.policy_uri);
        updated.tos_uri.clone_from(&site.tos_uri);
        let algs: Vec<&str> = self
            .inner
            .signing_algorithms
            .iter()
            .map(|alg| alg.as_str())
            .collect();
        let document = discovery::provider_metadata(&self.inner.urls, &updated, &algs).to_string();
        *current = Arc::new(updated);
        *self
            .inner
            .discovery_document
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = axum::body::Bytes::from(document);
    }

    #[must_use]
    pub fn keystore(&self) -> &Keystore {
        &self.inner.keystore
    }

    /// The current instant, from the configured clock.
    #[must_use]
    pub fn now(&self) -> chrono::DateTime<chrono::Utc> {
        self.inner.clock.now()
    }

    #[must_use]
    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.inner.clock
    }

    /// The appservices whose bridges may sign users in.
    #[must_use]
    pub fn app_services(&self) -> &[portcullis_services::app_services::AppService] {
        &self.inner.app_services
    }

    /// The homeserver this service authenticates for.
    #[must_use]
    pub fn homeserver(&self) -> &Arc<dyn HomeserverConnection> {
        &self.inner.homeserver
    }

    #[must_use]
    pub fn passwords(&self) -> &PasswordManager {
        &self.inner.passwords
    }

    #[must_use]
    pub fn templates(&self) -> Arc<Templates> {
        Arc::clone(
            &self
                .inner
                .templates
                .read()
                .unwrap_or_else(std::sync::PoisonError::into_inner),
        )
    }

    /// Renders pages and emails with `templates` from now on (the operator reloaded them).
    pub fn replace_templates(&self, templates: Templates) {
        *self
            .inner
            .templates
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Arc::new(templates);
    }

    /// The policy to decide with now (it changes when new dynamic data arrives).
    #[must_use]
    pub fn policy(&self) -> Arc<portcullis_policy::Policy> {
        self.inner.policy.current()
    }

    /// The policy in use, to replace its data.
    #[must_use]
    pub fn shared_policy(&self) -> &portcullis_policy::SharedPolicy {
        &self.inner.policy
    }

    /// Who is making this request, for the policy.
    #[must_use]
    pub fn requester(
        ip: Option<std::net::IpAddr>,
        user_agent: Option<&str>,
    ) -> portcullis_policy::Requester {
        portcullis_policy::Requester {
            ip_address: ip.map(|ip| ip.to_canonical().to_string()),
            user_agent: user_agent.map(str::to_owned),
        }
    }

    /// What introspection read about access tokens lately.
    #[must_use]
    pub fn access_token_cache(&self) -> &portcullis_services::introspection::AccessTokenCache {
        &self.inner.access_tokens
    }

    /// The sessions' last activity, gathered in memory until the server flushes it.
    #[must_use]
    pub fn activity(&self) -> &Arc<portcullis_services::activity::ActivityTracker> {
        &self.inner.activity
    }

    /// The rate limiters: in this process's memory, or in the PostgreSQL database the
    /// processes share.
    #[must_use]
    pub fn limiters(&self) -> &portcullis_services::rate_limit::Limiters {
        &self.inner.limiters
    }

    /// Password sign-in (the service), with this process's storage, hashers, limits and
    /// settings.
    #[must_use]
    pub fn password_sign_in(&self) -> portcullis_services::sign_in::PasswordSignIn<'_> {
        portcullis_services::sign_in::PasswordSignIn {
            repositories: &self.inner.database,
            passwords: &self.inner.passwords,
            limiters: &self.inner.limiters,
            server_name: &self.inner.server_name,
            login_with_email_allowed: self.site_config().login_with_email_allowed,
        }
    }

    /// The OpenID Provider metadata, as served.
    #[must_use]
    pub fn discovery_document(&self) -> axum::body::Bytes {
        self.inner
            .discovery_document
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    /// The caches of upstream sign-in: providers' discovery documents and key sets.
    #[must_use]
    pub fn upstream(&self) -> &portcullis_services::upstream_sign_in::UpstreamClient {
        &self.inner.upstream
    }

    /// Client key sets fetched from their `jwks_uri`.
    #[must_use]
    pub fn jwks_cache(&self) -> &portcullis_services::jwks_cache::JwksCache {
        &self.inner.jwks_cache
    }

    /// The CAPTCHA verifier of registration, when one is configured.
    #[must_use]
    pub fn captcha(&self) -> Option<&portcullis_services::captcha::CaptchaVerifier> {
        self.inner.captcha.as_ref()
    }

    /// The homeserver's shared secret, if configured.
    #[must_use]
    pub fn homeserver_secret(&self) -> Option<&str> {
        self.inner.homeserver_secret.as_deref().map(String::as_str)
    }

    #[must_use]
    pub fn encrypter(&self) -> &Encrypter {
        &self.inner.encrypter
    }

    #[must_use]
    pub fn cookie_key(&self) -> &Key {
        &self.inner.cookie_key
    }

    #[must_use]
    pub fn cookie_settings(&self) -> &CookieSettings {
        &self.inner.cookie_settings
    }

    /// Every algorithm our keys can sign with, computed once.
    #[must_use]
    pub fn signing_algorithms(&self) -> &[JwsAlgorithm] {
        &self.inner.signing_algorithms
    }

    #[must_use]
    pub fn trusted_proxies(&self) -> &[IpNet] {
        &self.inner.trusted_proxies
    }

    #[must_use]
    pub fn database(&self) -> &Database {
        &self.inner.database
    }

    /// Where randomness comes from: the operating system's generator.
    #[must_use]
    pub fn rng(&self) -> rand::rngs::OsRng {
        rand::rngs::OsRng
    }

    /// What the token grants read, for one request: its instant, and fresh randomness from the
    /// operating system for the tokens.
    #[must_use]
    pub fn token_issuer(&self) -> portcullis_services::tokens::TokenIssuer<'_> {
        portcullis_services::tokens::TokenIssuer {
            repositories: &self.inner.database,
            homeserver: self.inner.homeserver.as_ref(),
            keystore: &self.inner.keystore,
            issuer: self.inner.urls.issuer(),
            access_token_ttl: self.site_config().access_token_ttl,
            policy: self.inner.policy.current(),
            activity: &self.inner.activity,
            now: self.now(),
            rng: Box::new(self.rng()),
        }
    }
}

/// A listener asked for a resource this version cannot serve yet.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "the `{name}` resource is not available in this version of Portcullis yet; remove it from the listener (available: {available})"
)]
pub struct UnavailableResource {
    /// The resource's name as written in the configuration.
    pub name: String,
    /// The resources this version serves, comma-separated.
    pub available: String,
}

/// The resources this version can serve.
pub const AVAILABLE_RESOURCES: &[ResourceName] = &[
    ResourceName::Discovery,
    ResourceName::Human,
    ResourceName::OAuth,
    ResourceName::Compat,
    ResourceName::GraphQl,
    ResourceName::Assets,
    ResourceName::AdminApi,
    ResourceName::Health,
    ResourceName::ConnectionInfo,
    ResourceName::Prometheus,
];

/// The routers of resources that other crates serve, handed in by the binary: the Admin API
/// lives in `portcullis-admin`, which builds on this crate.
#[derive(Clone, Default)]
pub struct Mounted {
    /// The `adminapi` resource: `/api/admin/v1`, `/api/spec.json`, `/api/doc/`.
    pub admin_api: Option<Router<AppState>>,
    /// The `prometheus` resource: `/metrics`, from the telemetry set up by the binary.
    pub prometheus: Option<Router<AppState>>,
}

/// Checks that every resource of a listener can be served, before anything is bound: a
/// configuration asking for a feature that does not exist yet must fail loudly at start-up,
/// not serve 404s that look like a broken deployment.
///
/// # Errors
/// The first resource that is not available.
pub fn check_resources(resources: &[Resource]) -> Result<(), UnavailableResource> {
    for resource in resources {
        if !AVAILABLE_RESOURCES.contains(&resource.name) {
            return Err(UnavailableResource {
                name: resource_name(resource.name),
                available: AVAILABLE_RESOURCES
                    .iter()
                    .map(|name| resource_name(*name))
                    .collect::<Vec<_>>()
                    .join(", "),
            });
        }
    }
    Ok(())
}

fn resource_name(name: ResourceName) -> String {
    // The serde name is the one operators write; reuse it rather than keeping a second list.
    serde_json::to_value(name)
        .ok()
        .and_then(|value| value.as_str().map(str::to_owned))
        .unwrap_or_else(|| format!("{name:?}"))
}

/// The router of one listener: its resources, under its prefix.
///
/// # Errors
/// When a resource is not available (see [`check_resources`]).
pub fn router(
    resources: &[Resource],
    prefix: Option<&str>,
    state: AppState,
    mounted: &Mounted,
) -> Result<Router, UnavailableResource> {
    check_resources(resources)?;
    let has_human = resources.iter().any(|r| r.name == ResourceName::Human);

    let mut router = Router::new();
    for resource in resources {
        router = match resource.name {
            ResourceName::Discovery => router.merge(discovery::router()),
            ResourceName::Human => router
                .merge(human::router())
                .merge(account_api::router())
                .merge(upstream::router())
                .merge(oauth::pages())
                .merge(compat::pages()),
            ResourceName::OAuth => router.merge(oauth::router()),
            ResourceName::Compat => router.merge(compat::router()),
            ResourceName::GraphQl => router.merge(graphql::router()),
            // The pages serve the stylesheet themselves; only add it where they are not.
            ResourceName::Assets if has_human => router,
            ResourceName::Assets => router.merge(assets::router()),
            ResourceName::AdminApi => match &mounted.admin_api {
                Some(admin_api) => router.merge(admin_api.clone()),
                None => {
                    return Err(UnavailableResource {
                        name: resource_name(ResourceName::AdminApi),
                        available: "(the Admin API was not built into this program)".to_owned(),
                    });
                }
            },
            ResourceName::Prometheus => match &mounted.prometheus {
                Some(prometheus) => router.merge(prometheus.clone()),
                None => {
                    return Err(UnavailableResource {
                        name: resource_name(ResourceName::Prometheus),
                        available: "(metrics were not set up in this program)".to_owned(),
                    });
                }
            },
            ResourceName::Health => router.merge(health::router()),
            ResourceName::ConnectionInfo => router.merge(connection_info::router()),
        };
    }
    let router = router.fallback(not_found).with_state(state);

    let router = match prefix.map(|p| p.trim_end_matches('/')) {
        Some(prefix) if !prefix.is_empty() => {
            let prefix = if prefix.starts_with('/') {
                prefix.to_owned()
            } else {
                format!("/{prefix}")
            };
            Router::new().nest(&prefix, router).fallback(not_found)
        }
        _ => router,
    };

    Ok(router
        .layer(axum::middleware::from_fn(pages::negotiate_language))
        .layer(axum::middleware::from_fn(telemetry::instrument)))
}

async fn not_found() -> impl IntoResponse {
    (StatusCode::NOT_FOUND, "Not found\n")
}
