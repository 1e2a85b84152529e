//! Dynamic client registration metadata: RFC 7591 §2 and OpenID Connect Dynamic Client
//! Registration §2.
//!
//! [`ClientMetadata`] is the JSON a client posts, every value still as sent; [`validate`] turns
//! it into [`VerifiedClientMetadata`] or names the first field at fault, e.g.
//! `redirect_uris[1]: must not contain a fragment`.
//!
//! This is what the protocol requires of any client: known values, consistent grant and response
//! types, keys where an authentication method needs them, URIs that are URLs without userinfo,
//! redirect URIs without fragment (RFC 6749 §3.1.2), and redirect URIs for the grants that use
//! them. Which sites and schemes a client may use (MSC2966: https on the site of `client_uri`,
//! native apps' loopback and private-use redirects) is the policy's decision
//! (`client_registration/violation`), which operators can relax for development.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use url::{Host, Url};

use crate::{
    errors::{ErrorCode, ToClientError},
    requests::{GrantType, ResponseType, ResponseTypes},
    scope::Scope,
};

/// Client metadata as posted to the registration endpoint; unknown fields (and the localized
/// `field#lang` variants) are kept in [`ClientMetadata::other`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClientMetadata {
    /// `redirect_uris`
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub redirect_uris: Option<Vec<String>>,
    /// `response_types`
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response_types: Option<Vec<String>>,
    /// `grant_types`
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grant_types: Option<Vec<String>>,
    /// `application_type` (`web` or `native`)
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub application_type: Option<String>,
    /// `contacts`
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contacts: Option<Vec<String>>,
    /// `client_name`
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_name: Option<String>,
    /// `logo_uri`
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub logo_uri: Option<String>,
    /// `client_uri`
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_uri: Option<String>,
    /// `policy_uri`
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy_uri: Option<String>,
    /// `tos_uri`
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tos_uri: Option<String>,
    /// `jwks_uri`
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jwks_uri: Option<String>,
    /// `jwks`
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jwks: Option<Value>,
    /// `software_id`
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub software_id: Option<String>,
    /// `software_version`
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub software_version: Option<String>,
    /// `software_statement`: accepted but not trusted: its claims are not applied.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub software_statement: Option<String>,
    /// `scope`
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    /// `token_endpoint_auth_method`
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_endpoint_auth_method: Option<String>,
    /// `token_endpoint_auth_signing_alg`
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_endpoint_auth_signing_alg: Option<String>,
    /// `id_token_signed_response_alg`
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id_token_signed_response_alg: Option<String>,
    /// `userinfo_signed_response_alg`
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub userinfo_signed_response_alg: Option<String>,
    /// `post_logout_redirect_uris`
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub post_logout_redirect_uris: Option<Vec<String>>,
    /// Everything else, including `client_name#fr` and the like.
    #[serde(flatten)]
    pub other: BTreeMap<String, Value>,
}

impl ClientMetadata {
    /// See [`validate`].
    ///
    /// # Errors
    /// See [`validate`].
    pub fn validate(&self) -> Result<VerifiedClientMetadata, RegistrationError> {
        validate(self)
    }
}

/// `application_type` (OpenID Connect Registration §2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ApplicationType {
    /// A web application; the default.
    #[default]
    Web,
    /// A native (mobile or desktop) application.
    Native,
}

impl ApplicationType {
    /// The value as on the wire.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Web => "web",
            Self::Native => "native",
        }
    }
}

/// How a client authenticates at the token endpoint (RFC 7591 §2, OpenID Connect Core §9).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClientAuthMethod {
    /// A public client: no authentication.
    None,
    /// HTTP Basic with the client secret; the default (RFC 7591 §2).
    #[default]
    ClientSecretBasic,
    /// The client secret in the request body.
    ClientSecretPost,
    /// A JWT signed with the client secret (HMAC).
    ClientSecretJwt,
    /// A JWT signed with the client's private key.
    PrivateKeyJwt,
}

impl ClientAuthMethod {
    const ALL: [Self; 5] = [
        Self::None,
        Self::ClientSecretBasic,
        Self::ClientSecretPost,
        Self::ClientSecretJwt,
        Self::PrivateKeyJwt,
    ];

    /// The value as on the wire.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::None => "none",
            Self::ClientSecretBasic => "client_secret_basic",
            Self::ClientSecretPost => "client_secret_post",
            Self::ClientSecretJwt => "client_secret_jwt",
            Self::PrivateKeyJwt => "private_key_jwt",
        }
    }

    /// Whether the server must generate a client secret for this method.
    #[must_use]
    pub const fn uses_client_secret(self) -> bool {
        matches!(
            self,
            Self::ClientSecretBasic | Self::ClientSecretPost | Self::ClientSecretJwt
        )
    }
}

/// A value that is not one of an enumeration's names.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{value:?} is not a known {what}")]
pub struct UnknownName {
    /// What was expected.
    pub what: &'static str,
    /// What was given.
    pub value: String,
}

impl std::str::FromStr for ClientAuthMethod {
    type Err = UnknownName;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|method| method.as_str() == s)
            .ok_or_else(|| UnknownName {
                what: "client authentication method",
                value: s.to_owned(),
            })
    }
}

impl std::str::FromStr for ApplicationType {
    type Err = UnknownName;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        [Self::Web, Self::Native]
            .into_iter()
            .find(|kind| kind.as_str() == s)
            .ok_or_else(|| UnknownName {
                what: "application type",
                value: s.to_owned(),
            })
    }
}

/// A human-readable value and its per-language variants (OpenID Connect Registration §2.1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Localized<T> {
    /// The value without language tag.
    pub default: Option<T>,
    /// The values by BCP 47 language tag.
    pub by_language: BTreeMap<String, T>,
}

impl<T> Default for Localized<T> {
    fn default() -> Self {
        Self {
            default: None,
            by_language: BTreeMap::new(),
        }
    }
}

/// Client metadata that passed [`validate`], with RFC 7591's defaults applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedClientMetadata {
    /// Redirect URIs.
    pub redirect_uris: Vec<Url>,
    /// Response types (default: `code` when the client uses a grant of the authorization
    /// endpoint, otherwise none).
    pub response_types: Vec<ResponseTypes>,
    /// Grant types (default: `authorization_code`).
    pub grant_types: Vec<GrantType>,
    /// Application type (default: `web`).
    pub application_type: ApplicationType,
    /// Contacts.
    pub contacts: Vec<String>,
    /// Name of the client.
    pub client_name: Localized<String>,
    /// Home page of the client (the policy requires it, unless told otherwise).
    pub client_uri: Option<Url>,
    /// Localized home pages.
    pub client_uri_localized: BTreeMap<String, Url>,
    /// Logo.
    pub logo_uri: Localized<Url>,
    /// Privacy policy.
    pub policy_uri: Localized<Url>,
    /// Terms of service.
    pub tos_uri: Localized<Url>,
    /// Where the client publishes its keys.
    pub jwks_uri: Option<Url>,
    /// The client's keys, inline (a JWK Set object).
    pub jwks: Option<Value>,
    /// Token endpoint authentication method (default: `client_secret_basic`).
    pub token_endpoint_auth_method: ClientAuthMethod,
    /// Algorithm of the authentication JWTs.
    pub token_endpoint_auth_signing_alg: Option<String>,
    /// Algorithm the client wants ID tokens signed with.
    pub id_token_signed_response_alg: Option<String>,
    /// Algorithm the client wants userinfo responses signed with.
    pub userinfo_signed_response_alg: Option<String>,
    /// Where the client may be sent after logout.
    pub post_logout_redirect_uris: Vec<Url>,
    /// The scope the client intends to use.
    pub scope: Option<Scope>,
    /// `software_id`
    pub software_id: Option<String>,
    /// `software_version`
    pub software_version: Option<String>,
}

impl VerifiedClientMetadata {
    /// Whether the client has `grant`.
    #[must_use]
    pub fn has_grant(&self, grant: GrantType) -> bool {
        self.grant_types.contains(&grant)
    }

    /// The metadata as returned by the registration endpoint (RFC 7591 §3.2.1: all registered
    /// metadata, defaults included).
    #[must_use]
    pub fn to_metadata(&self) -> ClientMetadata {
        let strings = |urls: &[Url]| urls.iter().map(|u| u.to_string()).collect::<Vec<_>>();
        let non_empty = |v: Vec<String>| (!v.is_empty()).then_some(v);
        let mut other = BTreeMap::new();
        for (lang, name) in &self.client_name.by_language {
            other.insert(format!("client_name#{lang}"), Value::from(name.as_str()));
        }
        for (lang, url) in &self.client_uri_localized {
            other.insert(format!("client_uri#{lang}"), Value::from(url.as_str()));
        }
        for (field, localized) in [
            ("logo_uri", &self.logo_uri),
            ("policy_uri", &self.policy_uri),
            ("tos_uri", &self.tos_uri),
        ] {
            for (lang, url) in &localized.by_language {
                other.insert(format!("{field}#{lang}"), Value::from(url.as_str()));
            }
        }
        ClientMetadata {
            redirect_uris: non_empty(strings(&self.redirect_uris)),
            response_types: Some(
                self.response_types
                    .iter()
                    .map(ToString::to_string)
                    .collect(),
            ),
            grant_types: Some(
                self.grant_types
                    .iter()
                    .map(|g| g.as_str().to_owned())
                    .collect(),
            ),
            application_type: Some(self.application_type.as_str().to_owned()),
            contacts: non_empty(self.contacts.clone()),
            client_name: self.client_name.default.clone(),
            logo_uri: self.logo_uri.default.as_ref().map(ToString::to_string),
            client_uri: self.client_uri.as_ref().map(ToString::to_string),
            policy_uri: self.policy_uri.default.as_ref().map(ToString::to_string),
            tos_uri: self.tos_uri.default.as_ref().map(ToString::to_string),
            jwks_uri: self.jwks_uri.as_ref().map(ToString::to_string),
            jwks: self.jwks.clone(),
            software_id: self.software_id.clone(),
            software_version: self.software_version.clone(),
            software_statement: None,
            scope: self.scope.as_ref().map(ToString::to_string),
            token_endpoint_auth_method: Some(self.token_endpoint_auth_method.as_str().to_owned()),
            token_endpoint_auth_signing_alg: self.token_endpoint_auth_signing_alg.clone(),
            id_token_signed_response_alg: self.id_token_signed_response_alg.clone(),
            userinfo_signed_response_alg: self.userinfo_signed_response_alg.clone(),
            post_logout_redirect_uris: non_empty(strings(&self.post_logout_redirect_uris)),
            other,
        }
    }
}

/// A metadata field at fault, and how.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {problem}")]
pub struct RegistrationError {
    /// The field, with an index for list elements (`redirect_uris[1]`) and the language tag for
    /// localized variants (`logo_uri#fr`).
    pub field: String,
    /// What is wrong with it.
    pub problem: MetadataProblem,
}

impl RegistrationError {
    fn new(field: impl Into<String>, problem: MetadataProblem) -> Self {
        Self {
            field: field.into(),
            problem,
        }
    }
}

/// `invalid_redirect_uri` for anything wrong with `redirect_uris`, `invalid_client_metadata`
/// otherwise (RFC 7591 §3.2.2).
impl ToClientError for RegistrationError {
    fn error_code(&self) -> ErrorCode {
        if self.field == "redirect_uris" || self.field.starts_with("redirect_uris[") {
            ErrorCode::InvalidRedirectUri
        } else {
            ErrorCode::InvalidClientMetadata
        }
    }
}

/// What is wrong with a metadata field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum MetadataProblem {
    /// A required field is absent or empty.
    #[error("is required")]
    Missing,
    /// A value outside the supported ones.
    #[error("is not a supported value")]
    Unsupported,
    /// A value of the wrong JSON type.
    #[error("has the wrong type")]
    WrongType,
    /// Not a URL.
    #[error("is not a valid URL")]
    NotAUrl,
    /// Not https.
    #[error("must use https")]
    NotHttps,
    /// On localhost.
    #[error("must not be on localhost")]
    Localhost,
    /// Has a fragment.
    #[error("must not contain a fragment")]
    Fragment,
    /// Has a username or password.
    #[error("must not contain a username or password")]
    Userinfo,
    /// An invalid language tag in a localized field name.
    #[error("has an invalid language tag")]
    LanguageTag,
    /// A response type that needs a grant type the client does not list.
    #[error("code requires the authorization_code grant type")]
    CodeWithoutGrant,
    /// A response type that needs the implicit grant type.
    #[error("id_token requires the implicit grant type")]
    IdTokenWithoutImplicit,
    /// A grant type no response type uses.
    #[error("no response type uses this grant type")]
    GrantWithoutResponseType,
    /// `client_credentials` for a client that cannot authenticate.
    #[error("client_credentials requires an authenticated client")]
    ClientCredentialsWithoutAuthentication,
    /// `private_key_jwt` without keys.
    #[error("private_key_jwt requires jwks or jwks_uri")]
    KeysRequired,
    /// Both `jwks` and `jwks_uri`.
    #[error("jwks and jwks_uri cannot both be present")]
    BothJwksAndJwksUri,
    /// `jwks` that is not a JWK Set.
    #[error("must be a JWK Set: an object with a keys array of objects with kty")]
    NotAJwkSet,
    /// A signing algorithm that does not fit the use.
    #[error("this algorithm cannot be used here")]
    AlgorithmMismatch,
    /// An encryption parameter: this server does not encrypt tokens.
    #[error("encryption is not supported")]
    EncryptionNotSupported,
}

/// JWS algorithms this server can verify and sign with, with or without a shared secret. Whether
/// the configured keys include one for a given algorithm is for the caller to check.
const HMAC_ALGS: [&str; 3] = ["HS256", "HS384", "HS512"];
const ASYMMETRIC_ALGS: [&str; 10] = [
    "RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES256K", "EdDSA",
];

/// The human-readable and URI fields that may have `#lang` variants.
const LOCALIZABLE: [&str; 5] = [
    "client_name",
    "client_uri",
    "logo_uri",
    "policy_uri",
    "tos_uri",
];

/// Check client metadata and apply the defaults of RFC 7591 §2.
///
/// # Errors
/// The first [`RegistrationError`] found.
pub fn validate(metadata: &ClientMetadata) -> Result<VerifiedClientMetadata, RegistrationError> {
    let application_type = application_type(metadata)?;
    let token_endpoint_auth_method = token_endpoint_auth_method(metadata)?;
    let (grant_types, response_types) = grant_and_response_types(metadata)?;
    if token_endpoint_auth_method == ClientAuthMethod::None
        && let Some(index) = grant_types
            .iter()
            .position(|g| *g == GrantType::ClientCredentials)
    {
        return Err(RegistrationError::new(
            format!("grant_types[{index}]"),
            MetadataProblem::ClientCredentialsWithoutAuthentication,
        ));
    }

    let client_uri = metadata
        .client_uri
        .as_deref()
        .map(|raw| plain_uri(raw, "client_uri"))
        .transpose()?;
    let localized = localized_fields(metadata)?;

    let uses_authorization_endpoint = grant_types.contains(&GrantType::AuthorizationCode)
        || grant_types.contains(&GrantType::Implicit);
    let redirect_uris = redirect_uri_list(metadata.redirect_uris.as_deref(), "redirect_uris")?;
    if uses_authorization_endpoint && redirect_uris.is_empty() {
        return Err(RegistrationError::new(
            "redirect_uris",
            MetadataProblem::Missing,
        ));
    }
    let post_logout_redirect_uris = redirect_uri_list(
        metadata.post_logout_redirect_uris.as_deref(),
        "post_logout_redirect_uris",
    )?;

    let jwks_uri = keys(metadata, token_endpoint_auth_method)?;
    check_algorithms(metadata, token_endpoint_auth_method)?;

    let contacts = metadata.contacts.clone().unwrap_or_default();
    if let Some(index) = contacts.iter().position(|c| c.trim().is_empty()) {
        return Err(RegistrationError::new(
            format!("contacts[{index}]"),
            MetadataProblem::Missing,
        ));
    }
    let scope = metadata
        .scope
        .as_deref()
        .map(str::parse::<Scope>)
        .transpose()
        .map_err(|_| RegistrationError::new("scope", MetadataProblem::Unsupported))?;

    Ok(VerifiedClientMetadata {
        redirect_uris,
        response_types,
        grant_types,
        application_type,
        contacts,
        client_name: localized.client_name,
        client_uri,
        client_uri_localized: localized.client_uri,
        logo_uri: localized.logo_uri,
        policy_uri: localized.policy_uri,
        tos_uri: localized.tos_uri,
        jwks_uri,
        jwks: metadata.jwks.clone(),
        token_endpoint_auth_method,
        token_endpoint_auth_signing_alg: metadata.token_endpoint_auth_signing_alg.clone(),
        id_token_signed_response_alg: metadata.id_token_signed_response_alg.clone(),
        userinfo_signed_response_alg: metadata.userinfo_signed_response_alg.clone(),
        post_logout_redirect_uris,
        scope,
        software_id: metadata.software_id.clone(),
        software_version: metadata.software_version.clone(),
    })
}

fn application_type(metadata: &ClientMetadata) -> Result<ApplicationType, RegistrationError> {
    metadata
        .application_type
        .as_deref()
        .map_or(Ok(ApplicationType::default()), |raw| {
            raw.parse().map_err(|_| {
                RegistrationError::new("application_type", MetadataProblem::Unsupported)
            })
        })
}

fn token_endpoint_auth_method(
    metadata: &ClientMetadata,
) -> Result<ClientAuthMethod, RegistrationError> {
    let Some(raw) = metadata.token_endpoint_auth_method.as_deref() else {
        return Ok(ClientAuthMethod::default());
    };
    raw.parse().map_err(|_| {
        RegistrationError::new("token_endpoint_auth_method", MetadataProblem::Unsupported)
    })
}

/// The grant and response types with RFC 7591 §2's defaults, duplicates removed, consistent.
fn grant_and_response_types(
    metadata: &ClientMetadata,
) -> Result<(Vec<GrantType>, Vec<ResponseTypes>), RegistrationError> {
    let grant_types = match &metadata.grant_types {
        None => vec![GrantType::AuthorizationCode],
        Some(raw) if raw.is_empty() => {
            return Err(RegistrationError::new(
                "grant_types",
                MetadataProblem::Missing,
            ));
        }
        Some(raw) => {
            let mut grants = Vec::with_capacity(raw.len());
            for (index, value) in raw.iter().enumerate() {
                let grant: GrantType = value.parse().map_err(|_| {
                    RegistrationError::new(
                        format!("grant_types[{index}]"),
                        MetadataProblem::Unsupported,
                    )
                })?;
                if !grants.contains(&grant) {
                    grants.push(grant);
                }
            }
            grants
        }
    };
    let uses_authorization_endpoint = grant_types.contains(&GrantType::AuthorizationCode)
        || grant_types.contains(&GrantType::Implicit);
    let response_types = match &metadata.response_types {
        // A client that never visits the authorization endpoint has no response type, rather
        // than a default `code` that would contradict its grant types.
        None if uses_authorization_endpoint => {
            vec![parse_response_types("code", "response_types")?]
        }
        None => Vec::new(),
        Some(raw) => {
            let mut types = Vec::with_capacity(raw.len());
            for (index, value) in raw.iter().enumerate() {
                let parsed = parse_response_types(value, &format!("response_types[{index}]"))?;
                if !types.contains(&parsed) {
                    types.push(parsed);
                }
            }
            types
        }
    };
    check_grant_consistency(&grant_types, &response_types)?;
    Ok((grant_types, response_types))
}

/// The human-readable fields with their `#lang` variants.
struct LocalizedFields {
    client_name: Localized<String>,
    client_uri: BTreeMap<String, Url>,
    logo_uri: Localized<Url>,
    policy_uri: Localized<Url>,
    tos_uri: Localized<Url>,
}

fn localized_fields(metadata: &ClientMetadata) -> Result<LocalizedFields, RegistrationError> {
    let site_uri = |raw: Option<&str>, field: &str| -> Result<Localized<Url>, RegistrationError> {
        Ok(Localized {
            default: raw.map(|raw| plain_uri(raw, field)).transpose()?,
            by_language: BTreeMap::new(),
        })
    };
    let mut fields = LocalizedFields {
        client_name: Localized {
            default: metadata.client_name.clone(),
            by_language: BTreeMap::new(),
        },
        client_uri: BTreeMap::new(),
        logo_uri: site_uri(metadata.logo_uri.as_deref(), "logo_uri")?,
        policy_uri: site_uri(metadata.policy_uri.as_deref(), "policy_uri")?,
        tos_uri: site_uri(metadata.tos_uri.as_deref(), "tos_uri")?,
    };

    for (key, value) in &metadata.other {
        if is_encryption_parameter(key) && !value.is_null() {
            return Err(RegistrationError::new(
                key,
                MetadataProblem::EncryptionNotSupported,
            ));
        }
        let Some((base, lang)) = key.split_once('#') else {
            continue;
        };
        if !LOCALIZABLE.contains(&base) {
            continue;
        }
        if !is_language_tag(lang) {
            return Err(RegistrationError::new(key, MetadataProblem::LanguageTag));
        }
        let Some(value) = value.as_str() else {
            return Err(RegistrationError::new(key, MetadataProblem::WrongType));
        };
        let lang = lang.to_owned();
        match base {
            "client_name" => {
                fields
                    .client_name
                    .by_language
                    .insert(lang, value.to_owned());
            }
            "client_uri" => {
                fields.client_uri.insert(lang, plain_uri(value, key)?);
            }
            "logo_uri" => {
                fields
                    .logo_uri
                    .by_language
                    .insert(lang, plain_uri(value, key)?);
            }
            "policy_uri" => {
                fields
                    .policy_uri
                    .by_language
                    .insert(lang, plain_uri(value, key)?);
            }
            _ => {
                fields
                    .tos_uri
                    .by_language
                    .insert(lang, plain_uri(value, key)?);
            }
        }
    }
    Ok(fields)
}

fn redirect_uri_list(raw: Option<&[String]>, field: &str) -> Result<Vec<Url>, RegistrationError> {
    raw.unwrap_or_default()
        .iter()
        .enumerate()
        .map(|(index, raw)| redirect_uri(raw, &format!("{field}[{index}]")))
        .collect()
}

/// The client's keys: RFC 7591 §2 forbids `jwks` together with `jwks_uri`, and
/// `private_key_jwt` needs one of them. Returns the parsed `jwks_uri`.
fn keys(
    metadata: &ClientMetadata,
    auth_method: ClientAuthMethod,
) -> Result<Option<Url>, RegistrationError> {
    if metadata.jwks.is_some() && metadata.jwks_uri.is_some() {
        return Err(RegistrationError::new(
            "jwks",
            MetadataProblem::BothJwksAndJwksUri,
        ));
    }
    let jwks_uri = metadata
        .jwks_uri
        .as_deref()
        .map(|raw| public_https_uri(raw, "jwks_uri"))
        .transpose()?;
    if metadata.jwks.as_ref().is_some_and(|jwks| !is_jwk_set(jwks)) {
        return Err(RegistrationError::new("jwks", MetadataProblem::NotAJwkSet));
    }
    if auth_method == ClientAuthMethod::PrivateKeyJwt
        && metadata.jwks.is_none()
        && jwks_uri.is_none()
    {
        return Err(RegistrationError::new(
            "token_endpoint_auth_method",
            MetadataProblem::KeysRequired,
        ));
    }
    Ok(jwks_uri)
}

/// `none` is never accepted: this server signs everything it issues, and an unsigned client
/// assertion authenticates nothing. ID tokens and userinfo responses are signed with the
/// server's keys, never with a client secret.
fn check_algorithms(
    metadata: &ClientMetadata,
    auth_method: ClientAuthMethod,
) -> Result<(), RegistrationError> {
    if let Some(alg) = metadata.token_endpoint_auth_signing_alg.as_deref() {
        let fits = match auth_method {
            ClientAuthMethod::ClientSecretJwt => HMAC_ALGS.contains(&alg),
            ClientAuthMethod::PrivateKeyJwt => ASYMMETRIC_ALGS.contains(&alg),
            _ => HMAC_ALGS.contains(&alg) || ASYMMETRIC_ALGS.contains(&alg),
        };
        if !fits {
            return Err(RegistrationError::new(
                "token_endpoint_auth_signing_alg",
                MetadataProblem::AlgorithmMismatch,
            ));
        }
    }
    for (field, value) in [
        (
            "id_token_signed_response_alg",
            &metadata.id_token_signed_response_alg,
        ),
        (
            "userinfo_signed_response_alg",
            &metadata.userinfo_signed_response_alg,
        ),
    ] {
        if value
            .as_deref()
            .is_some_and(|alg| !ASYMMETRIC_ALGS.contains(&alg))
        {
            return Err(RegistrationError::new(
                field,
                MetadataProblem::AlgorithmMismatch,
            ));
        }
    }
    Ok(())
}

fn parse_response_types(raw: &str, field: &str) -> Result<ResponseTypes, RegistrationError> {
    let parsed: ResponseTypes = raw
        .parse()
        .map_err(|_| RegistrationError::new(field, MetadataProblem::Unsupported))?;
    // Access tokens are never issued from the authorization endpoint (RFC 9700 §2.1.2).
    if parsed.contains(ResponseType::Token) {
        return Err(RegistrationError::new(field, MetadataProblem::Unsupported));
    }
    Ok(parsed)
}

/// RFC 7591 §2.1: `code` goes with `authorization_code`, `id_token` with `implicit` (OpenID
/// Connect Registration §2), and each of those grants needs a response type that uses it.
fn check_grant_consistency(
    grant_types: &[GrantType],
    response_types: &[ResponseTypes],
) -> Result<(), RegistrationError> {
    use MetadataProblem as P;
    let has_code_grant = grant_types.contains(&GrantType::AuthorizationCode);
    let has_implicit_grant = grant_types.contains(&GrantType::Implicit);
    for (index, response_type) in response_types.iter().enumerate() {
        let field = || format!("response_types[{index}]");
        if response_type.contains(ResponseType::Code) && !has_code_grant {
            return Err(RegistrationError::new(field(), P::CodeWithoutGrant));
        }
        if response_type.contains(ResponseType::IdToken) && !has_implicit_grant {
            return Err(RegistrationError::new(field(), P::IdTokenWithoutImplicit));
        }
    }
    for (index, grant) in grant_types.iter().enumerate() {
        let used = match grant {
            GrantType::AuthorizationCode => response_types
                .iter()
                .any(|r| r.contains(ResponseType::Code)),
            GrantType::Implicit => response_types
                .iter()
                .any(|r| r.contains(ResponseType::IdToken)),
            _ => true,
        };
        if !used {
            return Err(RegistrationError::new(
                format!("grant_types[{index}]"),
                P::GrantWithoutResponseType,
            ));
        }
    }
    Ok(())
}

fn parse_url(raw: &str, field: &str) -> Result<Url, RegistrationError> {
    Url::parse(raw).map_err(|_| RegistrationError::new(field, MetadataProblem::NotAUrl))
}

/// https, no userinfo, not on localhost.
fn public_https_uri(raw: &str, field: &str) -> Result<Url, RegistrationError> {
    let url = parse_url(raw, field)?;
    if url.scheme() != "https" {
        return Err(RegistrationError::new(field, MetadataProblem::NotHttps));
    }
    if has_userinfo(&url) {
        return Err(RegistrationError::new(field, MetadataProblem::Userinfo));
    }
    if is_local(&url) {
        return Err(RegistrationError::new(field, MetadataProblem::Localhost));
    }
    Ok(url)
}

/// A URL without userinfo.
fn plain_uri(raw: &str, field: &str) -> Result<Url, RegistrationError> {
    let url = parse_url(raw, field)?;
    if has_userinfo(&url) {
        return Err(RegistrationError::new(field, MetadataProblem::Userinfo));
    }
    Ok(url)
}

/// A redirect URI (or post-logout redirect URI): a URL without userinfo nor fragment.
fn redirect_uri(raw: &str, field: &str) -> Result<Url, RegistrationError> {
    let url = plain_uri(raw, field)?;
    // RFC 6749 §3.1.2: "The endpoint URI MUST NOT include a fragment component."
    if url.fragment().is_some() {
        return Err(RegistrationError::new(field, MetadataProblem::Fragment));
    }
    Ok(url)
}

fn has_userinfo(url: &Url) -> bool {
    !url.username().is_empty() || url.password().is_some()
}

/// `localhost` and its subdomains (RFC 6761 §6.3), loopback and unspecified addresses.
fn is_local(url: &Url) -> bool {
    match url.host() {
        Some(Host::Domain(domain)) => domain == "localhost" || domain.ends_with(".localhost"),
        Some(Host::Ipv4(ip)) => ip.is_loopback() || ip.is_unspecified(),
        Some(Host::Ipv6(ip)) => ip.is_loopback() || ip.is_unspecified(),
        None => false,
    }
}

/// A BCP 47 tag, loosely: letters, then dash-separated alphanumeric subtags of 1 to 8 characters.
fn is_language_tag(tag: &str) -> bool {
    let mut subtags = tag.split('-');
    let primary_ok = subtags
        .next()
        .is_some_and(|p| (1..=8).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_alphabetic()));
    primary_ok
        && subtags
            .all(|s| (1..=8).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_alphanumeric()))
}

/// OpenID Connect Registration's `*_encrypted_response_alg|enc` and
/// `request_object_encryption_alg|enc`.
fn is_encryption_parameter(key: &str) -> bool {
    (key.ends_with("_encrypted_response_alg")
        || key.ends_with("_encrypted_response_enc")
        || key == "request_object_encryption_alg"
        || key == "request_object_encryption_enc")
        && !key.contains('#')
}

/// RFC 7517 §5: an object whose `keys` is an array of objects, each with a string `kty`.
fn is_jwk_set(value: &Value) -> bool {
    value
        .get("keys")
        .and_then(Value::as_array)
        .is_some_and(|keys| {
            keys.iter()
                .all(|key| key.get("kty").is_some_and(Value::is_string))
        })
}

#[cfg(test)]
mod tests;
