//! The input documents of the five decisions, as MAS's policy receives them, so that a policy
//! written for MAS reads the same fields here.

use serde::Serialize;

/// Who is making the request.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Requester {
    /// The client's IP address, as the listener resolved it (proxy protocol or forwarded
    /// headers from trusted proxies).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ip_address: Option<String>,
    /// The `User-Agent` header.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_agent: Option<String>,
}

/// How an account is being created.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum RegistrationMethod {
    /// The register page, with a password.
    #[serde(rename = "password")]
    Password,
    /// After signing in with an upstream provider.
    #[serde(rename = "upstream-oauth2")]
    UpstreamOAuth2,
}

/// `register/violation`.
#[derive(Debug, Clone, Serialize)]
pub struct RegisterInput<'a> {
    pub registration_method: RegistrationMethod,
    pub username: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<&'a str>,
    pub requester: &'a Requester,
}

/// `email/violation`.
#[derive(Debug, Clone, Serialize)]
pub struct EmailInput<'a> {
    pub email: &'a str,
    pub requester: &'a Requester,
}

/// `client_registration/violation`: the metadata as the client posted it.
#[derive(Debug, Clone, Serialize)]
pub struct ClientRegistrationInput<'a> {
    pub client_metadata: &'a serde_json::Value,
    pub requester: &'a Requester,
}

/// The user a decision is about.
#[derive(Debug, Clone, Serialize)]
pub struct UserInput<'a> {
    /// The user's ID (a ULID).
    pub id: String,
    /// The localpart.
    pub username: &'a str,
    /// Allowed to request admin scopes by an administrator (`manage promote-admin`, the Admin
    /// API), besides `data.admin_users`.
    pub can_request_admin: bool,
}

/// The client a grant is for.
#[derive(Debug, Clone, Serialize)]
pub struct ClientInput<'a> {
    /// The client ID (what `data.admin_clients` lists).
    pub id: &'a str,
    /// The same, under its OAuth 2.0 name.
    pub client_id: &'a str,
}

/// How many sessions a user holds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct SessionCounts {
    pub total: u64,
    pub oauth2: u64,
    pub compat: u64,
    pub personal: u64,
}

impl SessionCounts {
    /// Counts with their total.
    #[must_use]
    pub const fn new(oauth2: u64, compat: u64, personal: u64) -> Self {
        Self {
            total: oauth2 + compat + personal,
            oauth2,
            compat,
            personal,
        }
    }
}

/// The grant being authorized.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum GrantType {
    #[serde(rename = "authorization_code")]
    AuthorizationCode,
    #[serde(rename = "urn:ietf:params:oauth:grant-type:device_code")]
    DeviceCode,
    #[serde(rename = "client_credentials")]
    ClientCredentials,
}

/// `authorization_grant/violation`.
#[derive(Debug, Clone, Serialize)]
pub struct AuthorizationGrantInput<'a> {
    /// The user, for grants that have one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user: Option<UserInput<'a>>,
    /// The user's sessions, for grants that have a user.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub session_counts: Option<SessionCounts>,
    pub client: ClientInput<'a>,
    /// Space-separated, as in the request.
    pub scope: String,
    pub grant_type: GrantType,
    pub requester: &'a Requester,
}

/// What kind of compat login this is.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "type")]
pub enum CompatLogin<'a> {
    /// The web step of SSO login, where the user is present and can end sessions.
    #[serde(rename = "m.login.sso")]
    Sso { redirect_uri: &'a str },
    /// The final step of SSO login, exchanging the login token.
    #[serde(rename = "m.login.token")]
    Token,
    /// A password sent over the client API.
    #[serde(rename = "m.login.password")]
    Password,
}

/// `compat_login/violation`.
#[derive(Debug, Clone, Serialize)]
pub struct CompatLoginInput<'a> {
    pub user: UserInput<'a>,
    pub session_counts: SessionCounts,
    /// Whether the login reuses a device ID, replacing that device's session.
    pub session_replaced: bool,
    pub login: CompatLogin<'a>,
    /// Whether the user is at a browser (the SSO web step), as older MAS policies read it.
    pub is_interactive: bool,
    pub requester: &'a Requester,
}
