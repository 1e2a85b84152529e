//! `upstream_oauth2`: upstream OpenID Connect / OAuth 2.0 providers users can sign in with.

use std::{
    collections::{BTreeMap, HashSet},
    path::PathBuf,
};

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use url::Url;

use crate::{
    path::{index, join},
    problem::Problem,
    secret::{self, Presence, Secret, SecretSource},
    sections::{check_url_text, default_true, is_default},
};

/// The providers.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
pub struct UpstreamOAuth2Config {
    /// Upstream providers. Synced to the database at startup; removed ones are disabled.
    #[serde(default)]
    pub providers: Vec<ProviderConfig>,
}

/// JWS algorithms (RFC 7518 and extensions).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum JwsAlgorithm {
    /// HMAC with SHA-256.
    #[serde(rename = "HS256")]
    Hs256,
    /// HMAC with SHA-384.
    #[serde(rename = "HS384")]
    Hs384,
    /// HMAC with SHA-512.
    #[serde(rename = "HS512")]
    Hs512,
    /// RSASSA-PKCS1-v1_5 with SHA-256.
    #[serde(rename = "RS256")]
    Rs256,
    /// RSASSA-PKCS1-v1_5 with SHA-384.
    #[serde(rename = "RS384")]
    Rs384,
    /// RSASSA-PKCS1-v1_5 with SHA-512.
    #[serde(rename = "RS512")]
    Rs512,
    /// RSASSA-PSS with SHA-256.
    #[serde(rename = "PS256")]
    Ps256,
    /// RSASSA-PSS with SHA-384.
    #[serde(rename = "PS384")]
    Ps384,
    /// RSASSA-PSS with SHA-512.
    #[serde(rename = "PS512")]
    Ps512,
    /// ECDSA P-256 with SHA-256.
    #[serde(rename = "ES256")]
    Es256,
    /// ECDSA P-384 with SHA-384.
    #[serde(rename = "ES384")]
    Es384,
    /// ECDSA P-521 with SHA-512.
    #[serde(rename = "ES512")]
    Es512,
    /// ECDSA secp256k1 with SHA-256.
    #[serde(rename = "ES256K")]
    Es256K,
    /// EdDSA.
    #[serde(rename = "EdDSA")]
    EdDsa,
    /// No signature.
    #[serde(rename = "none")]
    None,
}

/// How this service authenticates to the provider's token endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum TokenAuthMethod {
    /// No authentication.
    None,
    /// `client_id` and `client_secret` in HTTP Basic authentication.
    ClientSecretBasic,
    /// `client_id` and `client_secret` in the request body.
    ClientSecretPost,
    /// A JWT assertion signed with the client secret.
    ClientSecretJwt,
    /// A JWT assertion signed with this service's keys (`secrets.keys`).
    PrivateKeyJwt,
    /// Sign in with Apple's own scheme (see `sign_in_with_apple`).
    SignInWithApple,
}

impl TokenAuthMethod {
    fn uses_secret(self) -> bool {
        matches!(
            self,
            Self::ClientSecretBasic | Self::ClientSecretPost | Self::ClientSecretJwt
        )
    }

    fn signs_jwt(self) -> bool {
        matches!(self, Self::ClientSecretJwt | Self::PrivateKeyJwt)
    }
}

/// How the provider's endpoints are found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum DiscoveryMode {
    /// OIDC discovery with strict metadata checks.
    #[default]
    Oidc,
    /// OIDC discovery without the metadata checks.
    Insecure,
    /// No discovery: the endpoints are given in the configuration.
    Disabled,
}

/// Whether to use PKCE with the provider.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum PkceMethod {
    /// When discovery says the provider supports it.
    #[default]
    Auto,
    /// Always, with S256.
    Always,
    /// Never.
    Never,
}

/// How the provider sends its answer to the callback.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ResponseMode {
    /// In the query string (default).
    Query,
    /// In a POSTed form.
    FormPost,
}

/// What to do on an OIDC back-channel logout from the provider.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum OnBackchannelLogout {
    /// Validate and log the request, nothing more.
    #[default]
    DoNothing,
    /// End the browser session started through that upstream session.
    LogoutBrowserOnly,
    /// End every session started through it, client sessions included.
    LogoutAll,
}

/// Sign in with Apple's parameters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct SignInWithApple {
    /// The private key signing the client assertion.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub private_key: Option<Secret>,
    /// File holding the private key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub private_key_file: Option<PathBuf>,
    /// Team ID from the Apple developer portal.
    pub team_id: String,
    /// Key ID from the Apple developer portal.
    pub key_id: String,
}

impl SignInWithApple {
    /// Where the private key comes from.
    #[must_use]
    pub fn private_key(&self) -> Option<SecretSource> {
        secret::source(self.private_key.as_ref(), self.private_key_file.as_ref())
    }
}

/// What to do with an imported claim.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum ImportAction {
    /// Ignore it.
    #[default]
    Ignore,
    /// Offer it; the user may opt out.
    Suggest,
    /// Use it when present.
    Force,
    /// Use it, and fail the login when missing.
    Require,
}

/// What to do when the imported localpart is already taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum OnConflict {
    /// Fail the login.
    #[default]
    Fail,
    /// Link the upstream account to the existing user.
    Add,
    /// Replace the existing user's link for this provider.
    Replace,
    /// Link only if the existing user has no link for this provider.
    Set,
}

/// Legacy email verification setting, accepted for compatibility with older MAS files.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum SetEmailVerification {
    /// Mark the email verified.
    Always,
    /// Mark it unverified.
    Never,
    /// Follow the `email_verified` claim.
    Import,
}

/// The subject identifying the upstream account.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
pub struct SubjectImport {
    /// Template of the subject; `{{ user.sub }}` when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub template: Option<String>,
}

/// The Matrix localpart.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
pub struct LocalpartImport {
    /// What to do with it.
    #[serde(default)]
    pub action: ImportAction,
    /// Template; `{{ user.preferred_username }}` when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub template: Option<String>,
    /// What to do when the localpart is taken.
    #[serde(default)]
    pub on_conflict: OnConflict,
}

/// The display name.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
pub struct DisplaynameImport {
    /// What to do with it.
    #[serde(default)]
    pub action: ImportAction,
    /// Template; `{{ user.name }}` when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub template: Option<String>,
}

/// The email address.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
pub struct EmailImport {
    /// What to do with it.
    #[serde(default)]
    pub action: ImportAction,
    /// Template; `{{ user.email }}` when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub template: Option<String>,
    /// Legacy option of older MAS versions; accepted and not used.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub set_email_verification: Option<SetEmailVerification>,
}

/// A name for the upstream account, shown to the user.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
pub struct AccountNameImport {
    /// Template; no account name when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub template: Option<String>,
}

/// How the provider's claims become the new user's attributes. Templates are Jinja2, with the
/// claims in `user`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
pub struct ClaimsImports {
    /// The subject.
    #[serde(default, skip_serializing_if = "is_default")]
    pub subject: SubjectImport,
    /// Skip the confirmation screen at registration; needs `localpart.action: require` and no
    /// `suggest` action.
    #[serde(default, skip_serializing_if = "is_default")]
    pub skip_confirmation: bool,
    /// The localpart.
    #[serde(default, skip_serializing_if = "is_default")]
    pub localpart: LocalpartImport,
    /// The display name.
    #[serde(default, skip_serializing_if = "is_default")]
    pub displayname: DisplaynameImport,
    /// The email address.
    #[serde(default, skip_serializing_if = "is_default")]
    pub email: EmailImport,
    /// The account name.
    #[serde(default, skip_serializing_if = "is_default")]
    pub account_name: AccountNameImport,
}

/// One upstream provider.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[expect(
    clippy::struct_excessive_bools,
    reason = "each switch is an independent option of the file"
)]
pub struct ProviderConfig {
    /// Unique identifier. MAS uses ULIDs; any non-empty string is accepted.
    pub id: String,

    /// Whether users may sign in with it.
    #[serde(default = "default_true")]
    pub enabled: bool,

    /// The provider's id in Synapse (`oidc-<idp_id>`, or `oidc`), for migrations.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub synapse_idp_id: Option<String>,

    /// Issuer URL; required unless discovery is disabled.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issuer: Option<String>,

    /// Name shown on the login page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub human_name: Option<String>,

    /// Brand whose logo is shown (`apple`, `google`, `facebook`, `github`, `gitlab`, `twitter`,
    /// `discord`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub brand_name: Option<String>,

    /// Client id registered at the provider.
    pub client_id: String,

    /// Client secret, for the `client_secret_*` methods.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_secret: Option<Secret>,

    /// File holding the client secret.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_secret_file: Option<PathBuf>,

    /// How to authenticate to the token endpoint.
    pub token_endpoint_auth_method: TokenAuthMethod,

    /// Parameters of `sign_in_with_apple`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sign_in_with_apple: Option<SignInWithApple>,

    /// Signing algorithm of the client assertion, for `client_secret_jwt` and `private_key_jwt`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_endpoint_auth_signing_alg: Option<JwsAlgorithm>,

    /// Expected signing algorithm of ID tokens.
    #[serde(default = "default_id_token_alg")]
    pub id_token_signed_response_alg: JwsAlgorithm,

    /// Scopes to request.
    #[serde(default = "default_scope")]
    pub scope: String,

    /// How endpoints are found.
    #[serde(default)]
    pub discovery_mode: DiscoveryMode,

    /// Whether to use PKCE.
    #[serde(default)]
    pub pkce_method: PkceMethod,

    /// Fetch claims from the userinfo endpoint as well as the ID token.
    #[serde(default)]
    pub fetch_userinfo: bool,

    /// Expected signing algorithm of userinfo responses; unsigned JSON when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub userinfo_signed_response_alg: Option<JwsAlgorithm>,

    /// Userinfo endpoint, overriding discovery.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub userinfo_endpoint: Option<Url>,

    /// Authorization endpoint, overriding discovery.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authorization_endpoint: Option<Url>,

    /// Token endpoint, overriding discovery.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_endpoint: Option<Url>,

    /// JWKS URI, overriding discovery.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jwks_uri: Option<Url>,

    /// How the provider answers the callback.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response_mode: Option<ResponseMode>,

    /// Extra authorization request parameters; values are templates over `params`, the
    /// downstream request's query. Empty results are dropped.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub additional_authorization_parameters: BTreeMap<String, String>,

    /// Deprecated: forward `login_hint` (prefer
    /// `login_hint: "{{ params.login_hint }}"` in `additional_authorization_parameters`).
    #[serde(default)]
    pub forward_login_hint: bool,

    /// What to do on a back-channel logout.
    #[serde(default)]
    pub on_backchannel_logout: OnBackchannelLogout,

    /// Registering through this provider requires a registration token.
    #[serde(default)]
    pub registration_token_required: bool,

    /// How claims become user attributes.
    #[serde(default, skip_serializing_if = "is_default")]
    pub claims_imports: ClaimsImports,
}

fn default_id_token_alg() -> JwsAlgorithm {
    JwsAlgorithm::Rs256
}

fn default_scope() -> String {
    "openid".to_owned()
}

impl ProviderConfig {
    /// Where the client secret comes from.
    #[must_use]
    pub fn client_secret(&self) -> Option<SecretSource> {
        secret::source(
            self.client_secret.as_ref(),
            self.client_secret_file.as_ref(),
        )
    }

    fn validate(&self, path: &str, problems: &mut Vec<Problem>) {
        if self.id.trim().is_empty() {
            problems.push(Problem::error(join(path, "id"), "the provider id is empty"));
        }
        match &self.issuer {
            Some(issuer) => check_url_text(problems, &join(path, "issuer"), issuer),
            None if self.discovery_mode != DiscoveryMode::Disabled => problems.push(
                Problem::error(
                    join(path, "issuer"),
                    "missing: the issuer is required when discovery is enabled",
                )
                .with_hint("set `issuer`, or `discovery_mode: disabled` with explicit endpoints"),
            ),
            None => {}
        }
        if self.discovery_mode == DiscoveryMode::Disabled {
            for (name, set) in [
                (
                    "authorization_endpoint",
                    self.authorization_endpoint.is_some(),
                ),
                ("token_endpoint", self.token_endpoint.is_some()),
            ] {
                if !set {
                    problems.push(Problem::error(
                        join(path, name),
                        "missing: required when discovery is disabled",
                    ));
                }
            }
        }
        self.validate_authentication(path, problems);
        self.claims_imports
            .validate(&join(path, "claims_imports"), problems);
    }

    /// The token endpoint authentication method and the options it needs or forbids.
    fn validate_authentication(&self, path: &str, problems: &mut Vec<Problem>) {
        let method = self.token_endpoint_auth_method;
        let method_name = serde_json::to_value(method)
            .ok()
            .and_then(|value| value.as_str().map(str::to_owned))
            .unwrap_or_default();
        let secret_given = (
            self.client_secret.is_some(),
            self.client_secret_file.is_some(),
        );
        if secret_given.0 && secret_given.1 {
            secret::check_pair(
                problems,
                path,
                "client_secret",
                secret_given,
                Presence::Optional,
            );
        } else if method.uses_secret() && self.client_secret().is_none() {
            problems.push(
                Problem::error(
                    join(path, "client_secret"),
                    format!("missing: `{method_name}` needs a client secret"),
                )
                .with_hint("set `client_secret` or `client_secret_file`"),
            );
        } else if !method.uses_secret() && self.client_secret().is_some() {
            problems.push(Problem::error(
                join(path, "client_secret"),
                format!("unexpected with `{method_name}`, which uses no client secret"),
            ));
        }

        match (
            method.signs_jwt(),
            self.token_endpoint_auth_signing_alg.is_some(),
        ) {
            (true, false) => problems.push(Problem::error(
                join(path, "token_endpoint_auth_signing_alg"),
                format!("missing: `{method_name}` needs a signing algorithm"),
            )),
            (false, true) => problems.push(Problem::error(
                join(path, "token_endpoint_auth_signing_alg"),
                format!("unexpected with `{method_name}`"),
            )),
            _ => {}
        }

        match (
            method == TokenAuthMethod::SignInWithApple,
            &self.sign_in_with_apple,
        ) {
            (true, None) => problems.push(Problem::error(
                join(path, "sign_in_with_apple"),
                "missing: required by the `sign_in_with_apple` method",
            )),
            (false, Some(_)) => problems.push(Problem::error(
                join(path, "sign_in_with_apple"),
                format!("unexpected with `{method_name}`"),
            )),
            (true, Some(apple)) => secret::check_pair(
                problems,
                &join(path, "sign_in_with_apple"),
                "private_key",
                (
                    apple.private_key.is_some(),
                    apple.private_key_file.is_some(),
                ),
                Presence::Required,
            ),
            (false, None) => {}
        }
    }
}

impl ClaimsImports {
    fn validate(&self, imports_path: &str, problems: &mut Vec<Problem>) {
        let imports = self;
        if imports.skip_confirmation {
            if imports.localpart.action != ImportAction::Require {
                problems.push(Problem::error(
                    join(imports_path, "localpart.action"),
                    "must be `require` when `skip_confirmation` is true",
                ));
            }
            for (name, action) in [
                ("email", imports.email.action),
                ("displayname", imports.displayname.action),
            ] {
                if action == ImportAction::Suggest {
                    problems.push(Problem::error(
                        join(imports_path, &format!("{name}.action")),
                        "must not be `suggest` when `skip_confirmation` is true",
                    ));
                }
            }
        }
        if imports.localpart.on_conflict != OnConflict::Fail
            && !matches!(
                imports.localpart.action,
                ImportAction::Force | ImportAction::Require
            )
        {
            problems.push(Problem::error(
                join(imports_path, "localpart.action"),
                "must be `force` or `require` when `on_conflict` is add, replace or set",
            ));
        }
    }
}

impl UpstreamOAuth2Config {
    /// Every problem in this section.
    #[must_use]
    pub fn validate(&self) -> Vec<Problem> {
        let mut problems = Vec::new();
        let mut ids = HashSet::new();
        for (i, provider) in self.providers.iter().enumerate() {
            let path = index("upstream_oauth2.providers", i);
            if !ids.insert(provider.id.as_str()) {
                problems.push(Problem::error(
                    join(&path, "id"),
                    format!("the provider id `{}` is used twice", provider.id),
                ));
            }
            provider.validate(&path, &mut problems);
        }
        problems
    }

    pub(crate) fn redact_secrets(&mut self) {
        for provider in &mut self.providers {
            secret::redact(&mut provider.client_secret);
            if let Some(apple) = &mut provider.sign_in_with_apple {
                secret::redact(&mut apple.private_key);
            }
        }
    }
}
