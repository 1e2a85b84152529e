//! The `discovery` resource: OpenID Provider metadata (OIDC Discovery 1.0, RFC 8414) and
//! WebFinger issuer discovery.
//!
//! Matrix clients find the service through the homeserver's `/.well-known/matrix/client`,
//! which names the issuer; they then read this document. Synapse reads it too, and needs
//! `issuer` and `account_management_uri` in it (MSC2965).

use axum::{
    Json, Router,
    extract::{Query, State},
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
    routing::get,
};
use serde::Deserialize;
use serde_json::{Value, json};

use portcullis_urls::UrlBuilder;

use crate::{AppState, site_config::SiteConfig};

/// Client authentication methods, the same at every endpoint that authenticates clients.
const CLIENT_AUTH_METHODS: &[&str] = &[
    "client_secret_basic",
    "client_secret_post",
    "client_secret_jwt",
    "private_key_jwt",
    "none",
];

/// Algorithms for client assertions: HMAC ones for `client_secret_jwt`, the asymmetric ones
/// for `private_key_jwt`.
const CLIENT_ASSERTION_ALGS: &[&str] = &[
    "HS256", "HS384", "HS512", "RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256",
    "ES384", "ES256K", "EdDSA",
];

/// MSC4191 account management actions, stable names then the unstable ones MAS also lists.
const ACCOUNT_MANAGEMENT_ACTIONS: &[&str] = &[
    "org.matrix.profile",
    "org.matrix.devices_list",
    "org.matrix.device_view",
    "org.matrix.device_delete",
    "org.matrix.cross_signing_reset",
    "org.matrix.sessions_list",
    "org.matrix.session_view",
    "org.matrix.session_end",
];

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/.well-known/openid-configuration", get(get_metadata))
        .route("/.well-known/oauth-authorization-server", get(get_metadata))
        .route("/.well-known/webfinger", get(get_webfinger))
        .layer(crate::cors::api())
}

/// The provider metadata document. A pure function of the configuration and the signing
/// algorithms of the keystore, so it is built once per request without any I/O.
#[must_use]
pub fn provider_metadata(urls: &UrlBuilder, site: &SiteConfig, signing_algs: &[&str]) -> Value {
    let mut grant_types = vec!["authorization_code", "refresh_token", "client_credentials"];
    if site.device_code_grant_enabled {
        grant_types.push("urn:ietf:params:oauth:grant-type:device_code");
    }
    let mut prompt_values = vec!["none", "login", "consent"];
    if site.password_registration_enabled {
        prompt_values.push("create");
    }

    let mut metadata = json!({
        "issuer": urls.issuer(),
        "authorization_endpoint": urls.authorization_endpoint(),
        "token_endpoint": urls.token_endpoint(),
        "jwks_uri": urls.jwks_uri(),
        "registration_endpoint": urls.registration_endpoint(),
        "scopes_supported": ["openid", "email"],
        "response_types_supported": ["code", "id_token", "code id_token"],
        "response_modes_supported": ["form_post", "query", "fragment"],
        "grant_types_supported": grant_types,
        "token_endpoint_auth_methods_supported": CLIENT_AUTH_METHODS,
        "token_endpoint_auth_signing_alg_values_supported": CLIENT_ASSERTION_ALGS,
        "revocation_endpoint": urls.revocation_endpoint(),
        "revocation_endpoint_auth_methods_supported": CLIENT_AUTH_METHODS,
        "revocation_endpoint_auth_signing_alg_values_supported": CLIENT_ASSERTION_ALGS,
        "introspection_endpoint": urls.introspection_endpoint(),
        "introspection_endpoint_auth_methods_supported": CLIENT_AUTH_METHODS,
        "introspection_endpoint_auth_signing_alg_values_supported": CLIENT_ASSERTION_ALGS,
        "code_challenge_methods_supported": ["plain", "S256"],
        "userinfo_endpoint": urls.userinfo_endpoint(),
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": signing_algs,
        "userinfo_signing_alg_values_supported": signing_algs,
        "display_values_supported": ["page"],
        "claim_types_supported": ["normal"],
        "claims_supported": [
            "iss", "sub", "aud", "iat", "exp", "nonce", "auth_time", "at_hash", "c_hash", "email",
            "email_verified",
        ],
        "claims_parameter_supported": false,
        "request_parameter_supported": false,
        "request_uri_parameter_supported": false,
        "prompt_values_supported": prompt_values,
        "end_session_endpoint": urls.end_session_endpoint(),
        // RFC 9207: every authorization response carries `iss`.
        "authorization_response_iss_parameter_supported": true,
        "account_management_uri": urls.account_management_uri(),
        "account_management_actions_supported": ACCOUNT_MANAGEMENT_ACTIONS,
    });
    if let Some(object) = metadata.as_object_mut() {
        if site.device_code_grant_enabled {
            object.insert(
                "device_authorization_endpoint".to_owned(),
                json!(urls.device_authorization_endpoint()),
            );
        }
        // The branding section's documents, when set (OIDC Discovery §3).
        if let Some(policy) = &site.policy_uri {
            object.insert("op_policy_uri".to_owned(), json!(policy));
        }
        if let Some(tos) = &site.tos_uri {
            object.insert("op_tos_uri".to_owned(), json!(tos));
        }
    }
    metadata
}

async fn get_metadata(State(state): State<AppState>) -> Response {
    // Built once at start-up (it depends only on the configuration): this is fetched by every
    // client and homeserver on start-up, and by load balancers' checks.
    let headers = [
        (
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        ),
        // Clients and Synapse fetch this on start-up; it changes only with the configuration.
        (
            header::CACHE_CONTROL,
            HeaderValue::from_static("public, max-age=3600"),
        ),
    ];
    (headers, state.discovery_document()).into_response()
}

#[derive(Debug, Deserialize)]
struct WebFingerQuery {
    resource: Option<String>,
    rel: Option<String>,
}

/// The only relation we answer for (OIDC Discovery §2).
const ISSUER_REL: &str = "http://openid.net/specs/connect/1.0/issuer";

/// WebFinger (RFC 7033) for issuer discovery: whatever the resource, the issuer is ours.
async fn get_webfinger(
    State(state): State<AppState>,
    Query(query): Query<WebFingerQuery>,
) -> Response {
    let Some(resource) = query.resource.filter(|r| !r.is_empty()) else {
        // RFC 7033 §4.2: a request without `resource` is a 400.
        return (
            StatusCode::BAD_REQUEST,
            "the `resource` parameter is required\n",
        )
            .into_response();
    };
    let links = if query.rel.as_deref().is_none_or(|rel| rel == ISSUER_REL) {
        json!([{ "rel": ISSUER_REL, "href": state.urls().issuer() }])
    } else {
        json!([])
    };
    let mut response = Json(json!({ "subject": resource, "links": links })).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/jrd+json"),
    );
    response
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn site(registration: bool, device: bool) -> SiteConfig {
        SiteConfig {
            server_name: "example.com".to_owned(),
            password_login_enabled: true,
            password_registration_enabled: registration,
            password_registration_email_required: false,
            registration_token_required: false,
            login_with_email_allowed: false,
            email_change_allowed: true,
            email_rate_limits: Default::default(),
            password_recovery_enabled: false,
            recovery_rate_limits: Default::default(),
            displayname_change_allowed: true,
            password_change_allowed: true,
            account_deactivation_allowed: true,
            device_code_grant_enabled: device,
            device_code_user_code_auto_fill_enabled: false,
            access_token_ttl: Duration::from_secs(300),
            compat_token_ttl: Duration::from_secs(300),
            login_rate_limits: Default::default(),
            registration_rate_limit:
                portcullis_config::sections::rate_limiting::RateLimitingConfig::default()
                    .registration,
            service_name: None,
            policy_uri: None,
            tos_uri: None,
            captcha: None,
            session_limit: None,
            second_factors: Default::default(),
            second_factor_rate_limit:
                portcullis_config::sections::rate_limiting::RateLimitingConfig::default()
                    .second_factor,
        }
    }

    fn urls() -> UrlBuilder {
        UrlBuilder::new(
            "https://auth.example.com/".parse().expect("valid"),
            "https://example.com/".parse().expect("valid"),
        )
    }

    #[test]
    fn create_is_a_prompt_value_only_when_registration_is_open() {
        let closed = provider_metadata(&urls(), &site(false, true), &["RS256"]);
        assert_eq!(
            closed["prompt_values_supported"],
            json!(["none", "login", "consent"])
        );
        let open = provider_metadata(&urls(), &site(true, true), &["RS256"]);
        assert_eq!(
            open["prompt_values_supported"],
            json!(["none", "login", "consent", "create"])
        );
    }

    #[test]
    fn the_device_grant_is_advertised_only_when_enabled() {
        let off = provider_metadata(&urls(), &site(false, false), &["RS256"]);
        assert!(off.get("device_authorization_endpoint").is_none());
        assert!(
            !off["grant_types_supported"]
                .to_string()
                .contains("device_code")
        );
        let on = provider_metadata(&urls(), &site(false, true), &["RS256"]);
        assert_eq!(
            on["device_authorization_endpoint"],
            "https://auth.example.com/oauth2/device"
        );
    }

    #[test]
    fn the_branding_documents_are_advertised_when_set() {
        let without = provider_metadata(&urls(), &site(false, true), &["RS256"]);
        assert!(without.get("op_policy_uri").is_none());
        assert!(without.get("op_tos_uri").is_none());
        let mut branded = site(false, true);
        branded.policy_uri = Some("https://example.com/privacy".parse().expect("valid"));
        branded.tos_uri = Some("https://example.com/terms".parse().expect("valid"));
        let with = provider_metadata(&urls(), &branded, &["RS256"]);
        assert_eq!(with["op_policy_uri"], "https://example.com/privacy");
        assert_eq!(with["op_tos_uri"], "https://example.com/terms");
    }

    #[test]
    fn the_issuer_and_the_endpoints_come_from_different_settings() {
        let metadata = provider_metadata(&urls(), &site(false, true), &["RS256", "ES256"]);
        assert_eq!(metadata["issuer"], "https://example.com/");
        assert_eq!(
            metadata["token_endpoint"],
            "https://auth.example.com/oauth2/token"
        );
        assert_eq!(
            metadata["account_management_uri"],
            "https://auth.example.com/account/"
        );
        assert_eq!(
            metadata["id_token_signing_alg_values_supported"],
            json!(["RS256", "ES256"])
        );
        assert_eq!(
            metadata["authorization_response_iss_parameter_supported"],
            true
        );
    }
}
