//! The provider's endpoints and capabilities: from OpenID Connect Discovery 1.0, or from the
//! configuration when discovery is disabled.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use portcullis_config::sections::upstream_oauth2::{DiscoveryMode, ProviderConfig};
use serde_json::{Map, Value};
use url::Url;

use crate::fetch::{self, FetchError};

/// How long a discovered document is used before it is fetched again.
const FRESH_FOR: Duration = Duration::from_secs(3600);

/// What the sign-in flow needs to know of a provider.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Metadata {
    /// The issuer ID tokens must name; `None` for a plain OAuth 2.0 provider configured by
    /// hand (no ID token then).
    pub issuer: Option<String>,
    pub authorization_endpoint: Url,
    pub token_endpoint: Url,
    pub jwks_uri: Option<Url>,
    pub userinfo_endpoint: Option<Url>,
    /// The PKCE methods it announced (empty when it said nothing, or when not discovered).
    pub code_challenge_methods_supported: Vec<String>,
}

/// Why a provider's metadata cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum MetadataError {
    #[error(transparent)]
    Fetch(#[from] FetchError),
    #[error("the provider has no `issuer` in the configuration, which discovery needs")]
    NoIssuer,
    #[error("the issuer `{0}` is not a URL")]
    IssuerNotUrl(String),
    #[error("the discovery document names the issuer `{found}`, not `{expected}`")]
    IssuerMismatch { expected: String, found: String },
    #[error("`{0}` is missing, in the discovery document and in the configuration")]
    Missing(&'static str),
    #[error("`{field}` is not an https URL: `{value}`")]
    NotHttps { field: &'static str, value: String },
    #[error("`{field}` is not a URL: `{value}`")]
    NotUrl { field: &'static str, value: String },
    #[error("the provider does not support the `code` response type")]
    NoCodeFlow,
    #[error(
        "the provider does not sign ID tokens with {0}, the configured `id_token_signed_response_alg`"
    )]
    AlgorithmNotSupported(String),
}

impl Metadata {
    /// The metadata of `provider` as its `discovery_mode` says: discovered (checked strictly
    /// for `oidc`), or taken from its configuration (`disabled`). Endpoints set in the
    /// configuration replace discovered ones.
    ///
    /// # Errors
    /// See [`MetadataError`].
    pub async fn load(provider: &ProviderConfig) -> Result<Self, MetadataError> {
        let discovered = match provider.discovery_mode {
            DiscoveryMode::Disabled => Map::new(),
            DiscoveryMode::Oidc | DiscoveryMode::Insecure => {
                let issuer = provider.issuer.as_deref().ok_or(MetadataError::NoIssuer)?;
                fetch::json_object(fetch::client().get(discovery_url(issuer)?)).await?
            }
        };
        Self::from_parts(provider, &discovered)
    }

    /// The metadata from a discovery document (empty when discovery is disabled) and the
    /// configuration.
    ///
    /// # Errors
    /// See [`MetadataError`].
    pub fn from_parts(
        provider: &ProviderConfig,
        discovered: &Map<String, Value>,
    ) -> Result<Self, MetadataError> {
        let strict = provider.discovery_mode == DiscoveryMode::Oidc;
        let issuer = match provider.discovery_mode {
            DiscoveryMode::Disabled => provider.issuer.clone(),
            DiscoveryMode::Oidc | DiscoveryMode::Insecure => {
                let expected = provider.issuer.clone().ok_or(MetadataError::NoIssuer)?;
                let found = discovered.get("issuer").and_then(Value::as_str);
                if strict && found != Some(expected.as_str()) {
                    return Err(MetadataError::IssuerMismatch {
                        expected,
                        found: found.unwrap_or_default().to_owned(),
                    });
                }
                Some(expected)
            }
        };
        let endpoint = |field: &'static str, configured: Option<&Url>| {
            endpoint(field, configured, discovered, strict)
        };
        let metadata = Self {
            authorization_endpoint: endpoint(
                "authorization_endpoint",
                provider.authorization_endpoint.as_ref(),
            )?
            .ok_or(MetadataError::Missing("authorization_endpoint"))?,
            token_endpoint: endpoint("token_endpoint", provider.token_endpoint.as_ref())?
                .ok_or(MetadataError::Missing("token_endpoint"))?,
            jwks_uri: endpoint("jwks_uri", provider.jwks_uri.as_ref())?,
            userinfo_endpoint: endpoint("userinfo_endpoint", provider.userinfo_endpoint.as_ref())?,
            code_challenge_methods_supported: strings(
                discovered,
                "code_challenge_methods_supported",
            )
            .unwrap_or_default(),
            issuer,
        };
        if strict {
            if metadata.jwks_uri.is_none() {
                return Err(MetadataError::Missing("jwks_uri"));
            }
            if strings(discovered, "response_types_supported")
                .is_some_and(|types| !types.iter().any(|t| t == "code"))
            {
                return Err(MetadataError::NoCodeFlow);
            }
            let alg = serde_json::to_value(provider.id_token_signed_response_alg)
                .ok()
                .and_then(|alg| alg.as_str().map(str::to_owned))
                .unwrap_or_default();
            if strings(discovered, "id_token_signing_alg_values_supported")
                .is_some_and(|algs| !algs.contains(&alg))
            {
                return Err(MetadataError::AlgorithmNotSupported(alg));
            }
        }
        Ok(metadata)
    }

    /// Whether the provider said it supports PKCE with S256.
    #[must_use]
    pub fn supports_pkce(&self) -> bool {
        self.code_challenge_methods_supported
            .iter()
            .any(|method| method == "S256")
    }
}

/// `{issuer}/.well-known/openid-configuration` (OpenID Connect Discovery §4.1: appended to the
/// issuer's path).
fn discovery_url(issuer: &str) -> Result<Url, MetadataError> {
    let trimmed = issuer.trim_end_matches('/');
    Url::parse(&format!("{trimmed}/.well-known/openid-configuration"))
        .map_err(|_| MetadataError::IssuerNotUrl(issuer.to_owned()))
}

/// The endpoint `field`: configured, else discovered; in strict mode an https URL (or plain
/// http on a loopback address, as for native apps in RFC 8252, so a provider on the same
/// machine works).
fn endpoint(
    field: &'static str,
    configured: Option<&Url>,
    discovered: &Map<String, Value>,
    strict: bool,
) -> Result<Option<Url>, MetadataError> {
    if let Some(url) = configured {
        return Ok(Some(url.clone()));
    }
    let Some(value) = discovered.get(field).and_then(Value::as_str) else {
        return Ok(None);
    };
    let url = Url::parse(value).map_err(|_| MetadataError::NotUrl {
        field,
        value: value.to_owned(),
    })?;
    if strict && !is_secure(&url) {
        return Err(MetadataError::NotHttps {
            field,
            value: value.to_owned(),
        });
    }
    Ok(Some(url))
}

/// https, or http to a loopback host.
#[must_use]
pub fn is_secure(url: &Url) -> bool {
    match url.scheme() {
        "https" => true,
        "http" => match url.host() {
            Some(url::Host::Domain(domain)) => domain == "localhost",
            Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
            Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
            None => false,
        },
        _ => false,
    }
}

fn strings(document: &Map<String, Value>, field: &str) -> Option<Vec<String>> {
    document.get(field)?.as_array().map(|values| {
        values
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_owned)
            .collect()
    })
}

/// Discovered metadata by provider id, fetched again after an hour.
#[derive(Debug, Clone, Default)]
pub struct MetadataCache {
    entries: Arc<Mutex<HashMap<String, (Instant, Metadata)>>>,
}

impl MetadataCache {
    /// The metadata of `provider`, from the cache while fresh.
    ///
    /// # Errors
    /// See [`MetadataError`].
    pub async fn get(&self, provider: &ProviderConfig) -> Result<Metadata, MetadataError> {
        if let Some((fetched_at, metadata)) = self
            .entries
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(&provider.id)
            && fetched_at.elapsed() < FRESH_FOR
        {
            return Ok(metadata.clone());
        }
        let metadata = Metadata::load(provider).await?;
        self.entries
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .insert(provider.id.clone(), (Instant::now(), metadata.clone()));
        Ok(metadata)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn provider(yaml: &str) -> ProviderConfig {
        serde_yaml_ng::from_str(&format!("token_endpoint_auth_method: none\n{yaml}"))
            .expect("a provider")
    }

    fn document(issuer: &str) -> Map<String, Value> {
        let Value::Object(map) = json!({
            "issuer": issuer,
            "authorization_endpoint": format!("{issuer}/auth"),
            "token_endpoint": format!("{issuer}/token"),
            "jwks_uri": format!("{issuer}/jwks"),
            "userinfo_endpoint": format!("{issuer}/me"),
            "response_types_supported": ["code"],
            "id_token_signing_alg_values_supported": ["RS256", "ES256"],
            "code_challenge_methods_supported": ["S256"],
        }) else {
            unreachable!()
        };
        map
    }

    const OIDC: &str = "id: pocketid\nissuer: https://id.example.com\nclient_id: portcullis\n";

    #[test]
    fn a_discovered_document_gives_the_endpoints() {
        let metadata = Metadata::from_parts(&provider(OIDC), &document("https://id.example.com"))
            .expect("usable");
        assert_eq!(metadata.issuer.as_deref(), Some("https://id.example.com"));
        assert_eq!(
            metadata.token_endpoint.as_str(),
            "https://id.example.com/token"
        );
        assert!(metadata.supports_pkce());
    }

    #[test]
    fn strict_discovery_refuses_another_issuer_plain_http_and_a_missing_algorithm() {
        let wrong = Metadata::from_parts(&provider(OIDC), &document("https://evil.example.com"));
        assert!(
            matches!(wrong, Err(MetadataError::IssuerMismatch { .. })),
            "{wrong:?}"
        );

        let mut http = document("https://id.example.com");
        http.insert(
            "token_endpoint".into(),
            json!("http://id.example.com/token"),
        );
        let refused = Metadata::from_parts(&provider(OIDC), &http);
        assert!(matches!(
            refused,
            Err(MetadataError::NotHttps {
                field: "token_endpoint",
                ..
            })
        ));
        // Insecure mode takes it as it is.
        let insecure = provider(&format!("{OIDC}discovery_mode: insecure\n"));
        assert!(Metadata::from_parts(&insecure, &http).is_ok());

        let eddsa = provider(&format!("{OIDC}id_token_signed_response_alg: EdDSA\n"));
        let refused = Metadata::from_parts(&eddsa, &document("https://id.example.com"));
        assert!(
            matches!(refused, Err(MetadataError::AlgorithmNotSupported(_))),
            "{refused:?}"
        );
    }

    #[test]
    fn loopback_providers_may_use_plain_http() {
        let local = provider("id: local\nissuer: http://127.0.0.1:9000\nclient_id: c\n");
        assert!(Metadata::from_parts(&local, &document("http://127.0.0.1:9000")).is_ok());
    }

    #[test]
    fn without_discovery_the_configured_endpoints_are_used() {
        let github = provider(
            "id: github\nclient_id: c\ndiscovery_mode: disabled\nfetch_userinfo: true\n\
             authorization_endpoint: https://github.com/login/oauth/authorize\n\
             token_endpoint: https://github.com/login/oauth/access_token\n\
             userinfo_endpoint: https://api.github.com/user\n",
        );
        let metadata = Metadata::from_parts(&github, &Map::new()).expect("usable");
        assert_eq!(metadata.issuer, None);
        assert_eq!(metadata.jwks_uri, None);
        assert!(!metadata.supports_pkce());
        let incomplete = provider("id: x\nclient_id: c\ndiscovery_mode: disabled\n");
        assert!(matches!(
            Metadata::from_parts(&incomplete, &Map::new()),
            Err(MetadataError::Missing("authorization_endpoint"))
        ));
    }

    #[test]
    fn the_discovery_url_is_appended_to_the_issuer_path() {
        assert_eq!(
            discovery_url("https://sso.example.com/realms/matrix/")
                .expect("test data")
                .as_str(),
            "https://sso.example.com/realms/matrix/.well-known/openid-configuration"
        );
    }
}
