//! OAuth 2.0 clients.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use portcullis_oauth::{
    registration::{ApplicationType, ClientAuthMethod},
    requests::{GrantType, ResponseTypes},
};
use serde::Serialize;
use ulid::Ulid;
use url::Url;

/// An OAuth 2.0 client, either declared in the configuration file (static) or registered
/// dynamically (RFC 7591).
///
/// The metadata that only dynamic registration provides is empty (`None`, or an empty list or
/// map) for static clients. `Default` gives such an empty client, for building one field by
/// field.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct OAuthClient {
    /// Internal identifier.
    pub id: Ulid,
    /// The public `client_id` the client presents.
    pub client_id: String,
    /// Whether the client comes from the configuration file; `config sync` only ever touches
    /// these.
    pub is_static: bool,
    /// How the client authenticates at the token endpoint (`token_endpoint_auth_method`).
    pub client_auth_method: ClientAuthMethod,
    /// The client secret, encrypted by the caller with the configured key; opaque here.
    pub encrypted_client_secret: Option<String>,
    /// The allowed redirect URIs, in their configured order.
    pub redirect_uris: Vec<Url>,
    /// A name to show to users.
    pub client_name: Option<String>,
    /// The client's home page.
    pub client_uri: Option<String>,
    /// The client's public keys, inline (for `private_key_jwt`).
    pub jwks: Option<serde_json::Value>,
    /// Where to fetch the client's public keys (for `private_key_jwt`).
    pub jwks_uri: Option<Url>,
    /// The grant types the client may use.
    pub grant_types: Vec<GrantType>,
    /// When the client was first stored.
    pub created_at: DateTime<Utc>,
    /// For a dynamically registered client without a secret: the SHA-256 of its canonical
    /// metadata. Such a client proves nothing when it registers, so registering the same
    /// metadata again returns the existing client instead of piling up copies.
    pub metadata_digest: Option<String>,
    /// `web` or `native` (OpenID Connect Dynamic Client Registration §2); `None` means `web`.
    pub application_type: Option<ApplicationType>,
    /// The response types the client may use; empty when it did not say, which RFC 7591 §2
    /// reads as `code`.
    pub response_types: Vec<ResponseTypes>,
    /// The client's logo, shown on the consent page.
    pub logo_uri: Option<String>,
    /// The client's privacy policy.
    pub policy_uri: Option<String>,
    /// The client's terms of service.
    pub tos_uri: Option<String>,
    /// Ways to reach the people responsible for the client, usually email addresses.
    pub contacts: Vec<String>,
    /// The JWS algorithm of the client's assertions with `client_secret_jwt` or
    /// `private_key_jwt`, when the client fixed one.
    pub token_endpoint_auth_signing_alg: Option<String>,
    /// The JWS algorithm of the ID tokens issued to the client; `None` means RS256.
    pub id_token_signed_response_alg: Option<String>,
    /// The JWS algorithm of signed userinfo responses; `None` means plain JSON.
    pub userinfo_signed_response_alg: Option<String>,
    /// Where the client may ask to be sent back after signing out.
    pub post_logout_redirect_uris: Vec<Url>,
    /// The localised variants of the human-readable metadata, keyed `field#language-tag` as in
    /// the registration request (`client_name#fr` → `Mon application`).
    pub localized: BTreeMap<String, String>,
}

impl OAuthClient {
    /// Whether the client is public (`token_endpoint_auth_method: none`): it holds no secret
    /// and no key, so it proves nothing about who is asking.
    #[must_use]
    pub fn is_public(&self) -> bool {
        self.client_auth_method == ClientAuthMethod::None
    }

    /// Whether the client registered the grant type `grant_type`.
    #[must_use]
    pub fn has_grant(&self, grant_type: GrantType) -> bool {
        self.grant_types.contains(&grant_type)
    }

    /// Whether the client is a native application (OpenID Connect Registration §2).
    #[must_use]
    pub fn is_native(&self) -> bool {
        self.application_type == Some(ApplicationType::Native)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_client_without_authentication_is_public_and_has_only_its_grants() {
        let client = OAuthClient {
            client_auth_method: ClientAuthMethod::None,
            grant_types: vec![GrantType::AuthorizationCode],
            ..OAuthClient::default()
        };
        assert!(client.is_public());
        assert!(client.has_grant(GrantType::AuthorizationCode));
        assert!(!client.has_grant(GrantType::RefreshToken));
        let confidential = OAuthClient {
            client_auth_method: ClientAuthMethod::ClientSecretBasic,
            ..client
        };
        assert!(!confidential.is_public());
    }
}
