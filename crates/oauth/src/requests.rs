//! Requests to and responses from the OAuth endpoints.
//!
//! Requests arrive as `application/x-www-form-urlencoded` parameters (query string or body). Each
//! endpoint with non-trivial parameters has two types: a `…Params` struct that serde fills from
//! the form, with every value still a string, and the typed request parsed from it, whose parse
//! error carries the right OAuth error code. Unknown parameters are ignored (RFC 6749 §3.1), a
//! repeated parameter is a deserialisation error (RFC 6749 §3.1: "MUST NOT be included more than
//! once"), and a parameter with an empty value counts as absent (RFC 6749 §3.1).
//!
//! - Authorization endpoint: RFC 6749 §4.1.1, OpenID Connect Core §3.1.2.1 and §3.2.2.1,
//!   OAuth 2.0 Multiple Response Type Encoding Practices, OAuth 2.0 Form Post Response Mode,
//!   RFC 9207 (`iss` in responses), OpenID Connect Initiating User Registration (`prompt=create`).
//! - Token endpoint: RFC 6749 §4.1.3, §4.4.2, §5.1, §6; RFC 8628 §3.4.
//! - Introspection: RFC 7662 §2. Revocation: RFC 7009 §2.1. Device authorization: RFC 8628 §3.1.

use std::{collections::BTreeSet, fmt, str::FromStr};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use url::Url;

use crate::{
    errors::{ClientError, ErrorCode, ToClientError},
    form::{empty_as_none, non_empty},
    pkce::{Pkce, PkceError},
    scope::{OPENID, Scope, ScopeError},
    token::UserCode,
};

// ------------------------------------------------------------------------------------------------
// Response types and response modes
// ------------------------------------------------------------------------------------------------

/// One value of a `response_type` parameter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ResponseType {
    /// `code`: an authorization code.
    Code,
    /// `id_token`: an ID token in the front channel.
    IdToken,
    /// `token`: an access token in the front channel (implicit grant; never issued here).
    Token,
}

impl ResponseType {
    /// The value as on the wire.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Code => "code",
            Self::IdToken => "id_token",
            Self::Token => "token",
        }
    }
}

/// A `response_type`: a non-empty set of [`ResponseType`]s, whose order on the wire does not
/// matter (OAuth 2.0 Multiple Response Types §3).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ResponseTypes(BTreeSet<ResponseType>);

impl ResponseTypes {
    /// Whether the set contains `response_type`.
    #[must_use]
    pub fn contains(&self, response_type: ResponseType) -> bool {
        self.0.contains(&response_type)
    }

    /// Whether an ID token or access token travels in the authorization response.
    #[must_use]
    pub fn has_front_channel_token(&self) -> bool {
        self.contains(ResponseType::IdToken) || self.contains(ResponseType::Token)
    }

    /// The response mode used when the request names none: `query` for `code` alone, `fragment`
    /// as soon as a token is returned (OAuth 2.0 Multiple Response Types §2.1 and §5).
    #[must_use]
    pub fn default_response_mode(&self) -> ResponseMode {
        if self.has_front_channel_token() {
            ResponseMode::Fragment
        } else {
            ResponseMode::Query
        }
    }

    /// Whether `mode` may carry this response. Tokens must never be in a query string, where they
    /// end up in logs and `Referer` headers (OAuth 2.0 Multiple Response Types §5).
    #[must_use]
    pub fn allows_response_mode(&self, mode: ResponseMode) -> bool {
        !(mode == ResponseMode::Query && self.has_front_channel_token())
    }
}

impl FromStr for ResponseTypes {
    type Err = ResponseTypeError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let mut set = BTreeSet::new();
        for value in s.split(' ') {
            let response_type = match value {
                "code" => ResponseType::Code,
                "id_token" => ResponseType::IdToken,
                "token" => ResponseType::Token,
                "" => return Err(ResponseTypeError::Malformed),
                _ => return Err(ResponseTypeError::Unsupported),
            };
            if !set.insert(response_type) {
                return Err(ResponseTypeError::Malformed);
            }
        }
        Ok(Self(set))
    }
}

/// Written in a canonical order: `code id_token token`.
impl fmt::Display for ResponseTypes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (index, response_type) in self.0.iter().enumerate() {
            if index > 0 {
                f.write_str(" ")?;
            }
            f.write_str(response_type.as_str())?;
        }
        Ok(())
    }
}

impl Serialize for ResponseTypes {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for ResponseTypes {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(deserializer)?;
        raw.parse().map_err(serde::de::Error::custom)
    }
}

/// Why a string is not a `response_type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ResponseTypeError {
    /// Empty, an empty value between spaces, or a repeated value.
    #[error("response_type is malformed")]
    Malformed,
    /// A value other than `code`, `id_token` and `token`.
    #[error("response_type has an unsupported value")]
    Unsupported,
}

/// How the authorization response reaches the client.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ResponseMode {
    /// Parameters in the query string of the redirect URI.
    Query,
    /// Parameters in the fragment of the redirect URI.
    Fragment,
    /// Parameters POSTed by an auto-submitting HTML form (OAuth 2.0 Form Post Response Mode).
    FormPost,
}

impl ResponseMode {
    /// The value as on the wire.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Query => "query",
            Self::Fragment => "fragment",
            Self::FormPost => "form_post",
        }
    }
}

impl FromStr for ResponseMode {
    type Err = crate::registration::UnknownName;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        [Self::Query, Self::Fragment, Self::FormPost]
            .into_iter()
            .find(|mode| mode.as_str() == s)
            .ok_or_else(|| crate::registration::UnknownName {
                what: "response mode",
                value: s.to_owned(),
            })
    }
}

// ------------------------------------------------------------------------------------------------
// Prompt
// ------------------------------------------------------------------------------------------------

/// One value of the OpenID Connect `prompt` parameter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum PromptValue {
    /// `none`: no user interaction at all.
    None,
    /// `login`: re-authenticate the user.
    Login,
    /// `consent`: ask for consent.
    Consent,
    /// `select_account`: let the user choose an account.
    SelectAccount,
    /// `create`: start with registration (OpenID Connect Initiating User Registration).
    Create,
}

/// The `prompt` parameter: a set of [`PromptValue`]s, `none` only on its own
/// (OpenID Connect Core §3.1.2.1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Prompt(BTreeSet<PromptValue>);

impl Prompt {
    /// Whether `value` was requested.
    #[must_use]
    pub fn contains(&self, value: PromptValue) -> bool {
        self.0.contains(&value)
    }
}

impl FromStr for Prompt {
    type Err = PromptError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let mut set = BTreeSet::new();
        for value in s.split(' ') {
            let value = match value {
                "none" => PromptValue::None,
                "login" => PromptValue::Login,
                "consent" => PromptValue::Consent,
                "select_account" => PromptValue::SelectAccount,
                "create" => PromptValue::Create,
                // The Initiating User Registration spec asks for invalid_request on values the
                // server does not support.
                _ => return Err(PromptError::Unsupported),
            };
            set.insert(value);
        }
        if set.contains(&PromptValue::None) && set.len() > 1 {
            return Err(PromptError::NoneWithOthers);
        }
        Ok(Self(set))
    }
}

/// Why a string is not a `prompt`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PromptError {
    /// A value this server does not know, or an empty value.
    #[error("prompt has an unsupported value")]
    Unsupported,
    /// `none` together with another value.
    #[error("prompt=none cannot be combined with other values")]
    NoneWithOthers,
}

// ------------------------------------------------------------------------------------------------
// Login hint
// ------------------------------------------------------------------------------------------------

/// A `login_hint` this server understands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LoginHint {
    /// `mxid:@localpart:server_name`, on this server.
    MatrixUser {
        /// The user's localpart.
        localpart: String,
    },
    /// An email address.
    Email(String),
}

impl LoginHint {
    /// Parse a login hint for the homeserver `server_name`.
    ///
    /// # Errors
    /// [`LoginHintError`]; the endpoint then ignores the hint rather than failing (OpenID Connect
    /// Core §3.1.2.1 makes the hint advisory).
    pub fn parse(hint: &str, server_name: &str) -> Result<Self, LoginHintError> {
        if let Some(mxid) = hint.strip_prefix("mxid:") {
            // Matrix user IDs are at most 255 bytes.
            if mxid.len() > 255 {
                return Err(LoginHintError::MalformedMatrixId);
            }
            let (localpart, server) = mxid
                .strip_prefix('@')
                .and_then(|rest| rest.split_once(':'))
                .ok_or(LoginHintError::MalformedMatrixId)?;
            if !is_valid_localpart(localpart) {
                return Err(LoginHintError::MalformedMatrixId);
            }
            if server != server_name {
                return Err(LoginHintError::OtherServer);
            }
            return Ok(Self::MatrixUser {
                localpart: localpart.to_owned(),
            });
        }
        if is_plausible_email(hint) {
            return Ok(Self::Email(hint.to_owned()));
        }
        Err(LoginHintError::Unrecognised)
    }
}

/// The Matrix user ID grammar: `a-z 0-9 . _ = - / +`, not empty.
fn is_valid_localpart(localpart: &str) -> bool {
    !localpart.is_empty()
        && localpart.bytes().all(
            |b| matches!(b, b'a'..=b'z' | b'0'..=b'9' | b'.' | b'_' | b'=' | b'-' | b'/' | b'+'),
        )
}

/// One `@` with something on both sides and nothing blank or invisible: enough to tell an
/// address from other hints; whether it belongs to someone is for the database.
fn is_plausible_email(value: &str) -> bool {
    let Some((local, domain)) = value.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && !domain.is_empty()
        && !domain.contains('@')
        && !value.chars().any(|c| c.is_whitespace() || c.is_control())
}

/// Why a login hint is not understood.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum LoginHintError {
    /// `mxid:` followed by something that is not a Matrix user ID.
    #[error("the login hint is not a valid Matrix user ID")]
    MalformedMatrixId,
    /// A Matrix user ID on another homeserver.
    #[error("the login hint names a user of another server")]
    OtherServer,
    /// Neither `mxid:` nor an email address.
    #[error("the login hint is not understood")]
    Unrecognised,
}

// ------------------------------------------------------------------------------------------------
// Authorization request
// ------------------------------------------------------------------------------------------------

/// The parameters of an authorization request, as received.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct AuthorizationParams {
    /// `response_type`
    #[serde(default, deserialize_with = "empty_as_none")]
    pub response_type: Option<String>,
    /// `response_mode`
    #[serde(default, deserialize_with = "empty_as_none")]
    pub response_mode: Option<String>,
    /// `client_id`
    #[serde(default, deserialize_with = "empty_as_none")]
    pub client_id: Option<String>,
    /// `redirect_uri`
    #[serde(default, deserialize_with = "empty_as_none")]
    pub redirect_uri: Option<String>,
    /// `scope`
    #[serde(default, deserialize_with = "empty_as_none")]
    pub scope: Option<String>,
    /// `state`
    #[serde(default, deserialize_with = "empty_as_none")]
    pub state: Option<String>,
    /// `nonce`
    #[serde(default, deserialize_with = "empty_as_none")]
    pub nonce: Option<String>,
    /// `prompt`
    #[serde(default, deserialize_with = "empty_as_none")]
    pub prompt: Option<String>,
    /// `max_age`
    #[serde(default, deserialize_with = "empty_as_none")]
    pub max_age: Option<String>,
    /// `login_hint`
    #[serde(default, deserialize_with = "empty_as_none")]
    pub login_hint: Option<String>,
    /// `code_challenge`
    #[serde(default, deserialize_with = "empty_as_none")]
    pub code_challenge: Option<String>,
    /// `code_challenge_method`
    #[serde(default, deserialize_with = "empty_as_none")]
    pub code_challenge_method: Option<String>,
    /// `id_token_hint`
    #[serde(default, deserialize_with = "empty_as_none")]
    pub id_token_hint: Option<String>,
    /// `ui_locales`
    #[serde(default, deserialize_with = "empty_as_none")]
    pub ui_locales: Option<String>,
    /// `request` (a request object; not supported).
    #[serde(default, deserialize_with = "empty_as_none")]
    pub request: Option<String>,
    /// `request_uri` (not supported).
    #[serde(default, deserialize_with = "empty_as_none")]
    pub request_uri: Option<String>,
    /// `registration` (not supported).
    #[serde(default, deserialize_with = "empty_as_none")]
    pub registration: Option<String>,
}

impl AuthorizationParams {
    /// The response mode for an error response, usable even when the request did not parse: the
    /// requested mode when valid and allowed, otherwise the default of the response type,
    /// otherwise `query`.
    #[must_use]
    pub fn error_response_mode(&self) -> ResponseMode {
        let response_types = self
            .response_type
            .as_deref()
            .and_then(|r| r.parse::<ResponseTypes>().ok());
        let requested = self
            .response_mode
            .as_deref()
            .and_then(|m| m.parse::<ResponseMode>().ok());
        match (response_types, requested) {
            (Some(types), Some(mode)) if types.allows_response_mode(mode) => mode,
            (Some(types), _) => types.default_response_mode(),
            (None, Some(mode)) if mode != ResponseMode::Query => mode,
            (None, _) => ResponseMode::Query,
        }
    }
}

/// A parsed authorization request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthorizationRequest {
    /// The client.
    pub client_id: String,
    /// The redirect URI; absent only when the client may rely on its single registered one
    /// (RFC 6749 §3.1.2.3). Required for OpenID Connect requests.
    pub redirect_uri: Option<Url>,
    /// What is asked for. Never contains [`ResponseType::Token`].
    pub response_type: ResponseTypes,
    /// The response mode in effect: the requested one or the default of the response type.
    pub response_mode: ResponseMode,
    /// The requested scope (possibly empty).
    pub scope: Scope,
    /// Opaque value echoed back in the response.
    pub state: Option<String>,
    /// Value echoed in the ID token; required when an ID token is returned from the
    /// authorization endpoint (OpenID Connect Core §3.2.2.1).
    pub nonce: Option<String>,
    /// OpenID Connect `prompt`.
    pub prompt: Option<Prompt>,
    /// Maximum age of the authentication, in seconds.
    pub max_age: Option<u64>,
    /// `login_hint`, raw; see [`LoginHint::parse`].
    pub login_hint: Option<String>,
    /// PKCE parameters.
    pub pkce: Option<Pkce>,
    /// `id_token_hint`, raw.
    pub id_token_hint: Option<String>,
    /// Preferred languages, in order.
    pub ui_locales: Vec<String>,
}

impl TryFrom<AuthorizationParams> for AuthorizationRequest {
    type Error = AuthorizationRequestError;

    /// Errors about `client_id` and `redirect_uri` come first: they are the ones that must not
    /// be redirected (RFC 6749 §4.1.2.1).
    fn try_from(params: AuthorizationParams) -> Result<Self, Self::Error> {
        use AuthorizationRequestError as E;

        let client_id = params.client_id.ok_or(E::MissingParameter("client_id"))?;
        let redirect_uri = params
            .redirect_uri
            .as_deref()
            .map(Url::parse)
            .transpose()
            .map_err(|_| E::InvalidRedirectUri)?;
        let scope: Scope = params
            .scope
            .as_deref()
            .map(str::parse)
            .transpose()
            .map_err(E::Scope)?
            .unwrap_or_default();
        // OpenID Connect Core §3.1.2.1: redirect_uri is REQUIRED.
        if redirect_uri.is_none() && scope.contains(OPENID) {
            return Err(E::MissingParameter("redirect_uri"));
        }

        // OpenID Connect Core §6.1, §6.2, §7.2.1.
        if params.request.is_some() {
            return Err(E::RequestNotSupported);
        }
        if params.request_uri.is_some() {
            return Err(E::RequestUriNotSupported);
        }
        if params.registration.is_some() {
            return Err(E::RegistrationNotSupported);
        }

        let response_type: ResponseTypes = params
            .response_type
            .as_deref()
            .ok_or(E::MissingParameter("response_type"))?
            .parse()
            .map_err(E::ResponseType)?;
        // RFC 9700 §2.1.2: access tokens are not issued from the authorization endpoint.
        if response_type.contains(ResponseType::Token) {
            return Err(E::TokenResponseTypeNotSupported);
        }

        let response_mode = match params.response_mode.as_deref() {
            None => response_type.default_response_mode(),
            Some(raw) => {
                let mode = raw.parse().map_err(|_| E::UnsupportedResponseMode)?;
                if !response_type.allows_response_mode(mode) {
                    return Err(E::QueryModeWithFrontChannelToken);
                }
                mode
            }
        };

        if response_type.contains(ResponseType::IdToken) && params.nonce.is_none() {
            return Err(E::MissingParameter("nonce"));
        }

        let prompt = params
            .prompt
            .as_deref()
            .map(str::parse)
            .transpose()
            .map_err(E::Prompt)?;
        let max_age = params
            .max_age
            .as_deref()
            .map(|raw| {
                // u64's parser accepts a leading `+`; RFC 6749's integers do not have one.
                if raw.starts_with('+') {
                    return Err(E::InvalidMaxAge);
                }
                raw.parse::<u64>().map_err(|_| E::InvalidMaxAge)
            })
            .transpose()?;
        let pkce = Pkce::from_parameters(
            params.code_challenge.as_deref(),
            params.code_challenge_method.as_deref(),
        )
        .map_err(E::Pkce)?;
        let ui_locales = params
            .ui_locales
            .as_deref()
            .map(|raw| {
                raw.split(' ')
                    .filter(|l| !l.is_empty())
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default();

        Ok(Self {
            client_id,
            redirect_uri,
            response_type,
            response_mode,
            scope,
            state: params.state,
            nonce: params.nonce,
            prompt,
            max_age,
            login_hint: params.login_hint,
            pkce,
            id_token_hint: params.id_token_hint,
            ui_locales,
        })
    }
}

/// Why an authorization request is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthorizationRequestError {
    /// A required parameter is absent.
    #[error("missing parameter: {0}")]
    MissingParameter(&'static str),
    /// `redirect_uri` is not a URL.
    #[error("redirect_uri is not a valid URL")]
    InvalidRedirectUri,
    /// `request` was sent.
    #[error("request objects are not supported")]
    RequestNotSupported,
    /// `request_uri` was sent.
    #[error("request_uri is not supported")]
    RequestUriNotSupported,
    /// `registration` was sent.
    #[error("the registration parameter is not supported")]
    RegistrationNotSupported,
    /// `response_type` does not parse.
    #[error(transparent)]
    ResponseType(ResponseTypeError),
    /// `response_type` contains `token`.
    #[error("response_type token is not supported")]
    TokenResponseTypeNotSupported,
    /// `response_mode` is not `query`, `fragment` or `form_post`.
    #[error("response_mode is not supported")]
    UnsupportedResponseMode,
    /// `response_mode=query` for a response that carries a token.
    #[error("response_mode=query cannot be used when a token is returned")]
    QueryModeWithFrontChannelToken,
    /// `scope` does not parse.
    #[error(transparent)]
    Scope(ScopeError),
    /// `prompt` does not parse.
    #[error(transparent)]
    Prompt(PromptError),
    /// `max_age` is not a non-negative integer.
    #[error("max_age must be a non-negative integer")]
    InvalidMaxAge,
    /// The PKCE parameters are invalid.
    #[error(transparent)]
    Pkce(PkceError),
}

impl AuthorizationRequestError {
    /// Whether the error may be sent to the redirect URI. Errors about the client or the redirect
    /// URI itself must be shown to the user instead (RFC 6749 §4.1.2.1); the endpoint must also
    /// have checked the client and the redirect URI before redirecting any other error.
    #[must_use]
    pub fn is_redirectable(&self) -> bool {
        !matches!(
            self,
            Self::MissingParameter("client_id" | "redirect_uri") | Self::InvalidRedirectUri
        )
    }
}

impl ToClientError for AuthorizationRequestError {
    fn error_code(&self) -> ErrorCode {
        match self {
            Self::RequestNotSupported => ErrorCode::RequestNotSupported,
            Self::RequestUriNotSupported => ErrorCode::RequestUriNotSupported,
            Self::RegistrationNotSupported => ErrorCode::RegistrationNotSupported,
            Self::ResponseType(ResponseTypeError::Unsupported)
            | Self::TokenResponseTypeNotSupported => ErrorCode::UnsupportedResponseType,
            Self::Scope(_) => ErrorCode::InvalidScope,
            Self::MissingParameter(_)
            | Self::InvalidRedirectUri
            | Self::ResponseType(ResponseTypeError::Malformed)
            | Self::UnsupportedResponseMode
            | Self::QueryModeWithFrontChannelToken
            | Self::Prompt(_)
            | Self::InvalidMaxAge
            | Self::Pkce(_) => ErrorCode::InvalidRequest,
        }
    }
}

// ------------------------------------------------------------------------------------------------
// Authorization response
// ------------------------------------------------------------------------------------------------

/// Where and how the browser is sent back to the client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthorizationRedirect {
    /// A `303 See Other` (or `302`) to this URL.
    Redirect(Url),
    /// An auto-submitting HTML form POSTing `fields` to `action`.
    FormPost {
        /// The redirect URI.
        action: Url,
        /// Name and value of each hidden field, in order.
        fields: Vec<(String, String)>,
    },
}

/// A successful authorization response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthorizationResponse {
    /// The authorization code, when `code` was asked for.
    pub code: Option<String>,
    /// The ID token, when `id_token` was asked for.
    pub id_token: Option<String>,
    /// The `state` of the request, echoed.
    pub state: Option<String>,
    /// The issuer identifier, exactly as in the discovery document (RFC 9207 §2).
    pub iss: String,
}

impl AuthorizationResponse {
    /// The redirect carrying this response to `redirect_uri` with `mode`.
    #[must_use]
    pub fn redirect(&self, redirect_uri: &Url, mode: ResponseMode) -> AuthorizationRedirect {
        let mut fields = Vec::with_capacity(4);
        push_field(&mut fields, "code", self.code.as_deref());
        push_field(&mut fields, "id_token", self.id_token.as_deref());
        push_field(&mut fields, "state", self.state.as_deref());
        push_field(&mut fields, "iss", Some(&self.iss));
        build_redirect(redirect_uri, mode, fields)
    }
}

/// An error sent back to the client through the redirect URI (RFC 6749 §4.1.2.1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthorizationErrorResponse {
    /// The error and its description.
    pub error: ClientError,
    /// The `state` of the request, echoed.
    pub state: Option<String>,
    /// The issuer identifier, exactly as in the discovery document (RFC 9207 §2: error
    /// responses carry it too).
    pub iss: String,
}

impl AuthorizationErrorResponse {
    /// The redirect carrying this error to `redirect_uri` with `mode`.
    #[must_use]
    pub fn redirect(&self, redirect_uri: &Url, mode: ResponseMode) -> AuthorizationRedirect {
        let mut fields = Vec::with_capacity(4);
        push_field(&mut fields, "error", Some(self.error.error.as_str()));
        push_field(
            &mut fields,
            "error_description",
            self.error.error_description.as_deref(),
        );
        push_field(&mut fields, "state", self.state.as_deref());
        push_field(&mut fields, "iss", Some(&self.iss));
        build_redirect(redirect_uri, mode, fields)
    }
}

fn push_field(fields: &mut Vec<(String, String)>, name: &str, value: Option<&str>) {
    if let Some(value) = value {
        fields.push((name.to_owned(), value.to_owned()));
    }
}

fn build_redirect(
    redirect_uri: &Url,
    mode: ResponseMode,
    fields: Vec<(String, String)>,
) -> AuthorizationRedirect {
    match mode {
        ResponseMode::Query => {
            // RFC 6749 §3.1.2: the query of the registered URI is kept; ours is appended.
            let mut url = redirect_uri.clone();
            url.query_pairs_mut().extend_pairs(&fields);
            AuthorizationRedirect::Redirect(url)
        }
        ResponseMode::Fragment => {
            // RFC 6749 §3.1.2: a redirect URI has no fragment of its own, so it is all ours.
            let mut url = redirect_uri.clone();
            let encoded = url::form_urlencoded::Serializer::new(String::new())
                .extend_pairs(&fields)
                .finish();
            url.set_fragment(Some(&encoded));
            AuthorizationRedirect::Redirect(url)
        }
        ResponseMode::FormPost => AuthorizationRedirect::FormPost {
            action: redirect_uri.clone(),
            fields,
        },
    }
}

// ------------------------------------------------------------------------------------------------
// Token endpoint
// ------------------------------------------------------------------------------------------------

/// A grant type, as in `grant_type` and in client metadata `grant_types`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum GrantType {
    /// `authorization_code`
    AuthorizationCode,
    /// `implicit` (client metadata only: it has no token request)
    Implicit,
    /// `refresh_token`
    RefreshToken,
    /// `client_credentials`
    ClientCredentials,
    /// `urn:ietf:params:oauth:grant-type:device_code` (RFC 8628 §3.4)
    DeviceCode,
}

impl GrantType {
    /// The grant type as on the wire.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::AuthorizationCode => "authorization_code",
            Self::Implicit => "implicit",
            Self::RefreshToken => "refresh_token",
            Self::ClientCredentials => "client_credentials",
            Self::DeviceCode => "urn:ietf:params:oauth:grant-type:device_code",
        }
    }
}

impl FromStr for GrantType {
    type Err = UnsupportedGrantType;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        [
            Self::AuthorizationCode,
            Self::Implicit,
            Self::RefreshToken,
            Self::ClientCredentials,
            Self::DeviceCode,
        ]
        .into_iter()
        .find(|g| g.as_str() == s)
        .ok_or(UnsupportedGrantType)
    }
}

impl fmt::Display for GrantType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for GrantType {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for GrantType {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(deserializer)?;
        raw.parse().map_err(serde::de::Error::custom)
    }
}

/// A grant type this server does not support.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("unsupported grant type")]
pub struct UnsupportedGrantType;

/// The client authentication parameters any back-channel endpoint may receive in its body
/// (RFC 6749 §2.3.1 `client_secret_post`, RFC 7523 §2.2 assertions, or just `client_id` for
/// public clients). Which of them count is the client authentication's business.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct ClientAuthParams {
    /// `client_id`
    #[serde(default, deserialize_with = "empty_as_none")]
    pub client_id: Option<String>,
    /// `client_secret`
    #[serde(default, deserialize_with = "empty_as_none")]
    pub client_secret: Option<String>,
    /// `client_assertion`
    #[serde(default, deserialize_with = "empty_as_none")]
    pub client_assertion: Option<String>,
    /// `client_assertion_type`
    #[serde(default, deserialize_with = "empty_as_none")]
    pub client_assertion_type: Option<String>,
}

/// The parameters of a token request, as received.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct TokenParams {
    /// `grant_type`
    #[serde(default, deserialize_with = "empty_as_none")]
    pub grant_type: Option<String>,
    /// `code`
    #[serde(default, deserialize_with = "empty_as_none")]
    pub code: Option<String>,
    /// `redirect_uri`
    #[serde(default, deserialize_with = "empty_as_none")]
    pub redirect_uri: Option<String>,
    /// `code_verifier`
    #[serde(default, deserialize_with = "empty_as_none")]
    pub code_verifier: Option<String>,
    /// `refresh_token`
    #[serde(default, deserialize_with = "empty_as_none")]
    pub refresh_token: Option<String>,
    /// `scope`
    #[serde(default, deserialize_with = "empty_as_none")]
    pub scope: Option<String>,
    /// `device_code`
    #[serde(default, deserialize_with = "empty_as_none")]
    pub device_code: Option<String>,
    /// Client authentication.
    #[serde(flatten)]
    pub client: ClientAuthParams,
}

/// A parsed token request, by grant type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenRequest {
    /// RFC 6749 §4.1.3.
    AuthorizationCode {
        /// The authorization code.
        code: String,
        /// Must be the one of the authorization request, if that had one.
        redirect_uri: Option<Url>,
        /// PKCE verifier.
        code_verifier: Option<String>,
    },
    /// RFC 6749 §6.
    RefreshToken {
        /// The refresh token.
        refresh_token: String,
        /// A narrower scope, if asked for.
        scope: Option<Scope>,
    },
    /// RFC 6749 §4.4.2.
    ClientCredentials {
        /// The requested scope (possibly empty).
        scope: Scope,
    },
    /// RFC 8628 §3.4.
    DeviceCode {
        /// The device code.
        device_code: String,
    },
}

impl TokenRequest {
    /// The grant type of this request.
    #[must_use]
    pub const fn grant_type(&self) -> GrantType {
        match self {
            Self::AuthorizationCode { .. } => GrantType::AuthorizationCode,
            Self::RefreshToken { .. } => GrantType::RefreshToken,
            Self::ClientCredentials { .. } => GrantType::ClientCredentials,
            Self::DeviceCode { .. } => GrantType::DeviceCode,
        }
    }
}

impl TryFrom<&TokenParams> for TokenRequest {
    type Error = TokenRequestError;

    fn try_from(params: &TokenParams) -> Result<Self, Self::Error> {
        use TokenRequestError as E;
        let required =
            |value: &Option<String>, name| value.clone().ok_or(E::MissingParameter(name));
        let scope = || {
            params
                .scope
                .as_deref()
                .map(str::parse::<Scope>)
                .transpose()
                .map_err(E::Scope)
        };

        let grant_type: GrantType = params
            .grant_type
            .as_deref()
            .ok_or(E::MissingParameter("grant_type"))?
            .parse()
            .map_err(|_| E::UnsupportedGrantType)?;
        match grant_type {
            GrantType::AuthorizationCode => Ok(Self::AuthorizationCode {
                code: required(&params.code, "code")?,
                redirect_uri: params
                    .redirect_uri
                    .as_deref()
                    .map(Url::parse)
                    .transpose()
                    .map_err(|_| E::InvalidRedirectUri)?,
                code_verifier: params.code_verifier.clone(),
            }),
            GrantType::RefreshToken => Ok(Self::RefreshToken {
                refresh_token: required(&params.refresh_token, "refresh_token")?,
                scope: scope()?,
            }),
            GrantType::ClientCredentials => Ok(Self::ClientCredentials {
                scope: scope()?.unwrap_or_default(),
            }),
            GrantType::DeviceCode => Ok(Self::DeviceCode {
                device_code: required(&params.device_code, "device_code")?,
            }),
            // The implicit grant has no token request.
            GrantType::Implicit => Err(E::UnsupportedGrantType),
        }
    }
}

/// Why a token request is refused before looking at any grant.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenRequestError {
    /// A required parameter is absent.
    #[error("missing parameter: {0}")]
    MissingParameter(&'static str),
    /// `grant_type` is not supported.
    #[error("unsupported grant_type")]
    UnsupportedGrantType,
    /// `redirect_uri` is not a URL.
    #[error("redirect_uri is not a valid URL")]
    InvalidRedirectUri,
    /// `scope` does not parse.
    #[error(transparent)]
    Scope(ScopeError),
}

impl ToClientError for TokenRequestError {
    fn error_code(&self) -> ErrorCode {
        match self {
            Self::MissingParameter(_) | Self::InvalidRedirectUri => ErrorCode::InvalidRequest,
            Self::UnsupportedGrantType => ErrorCode::UnsupportedGrantType,
            Self::Scope(_) => ErrorCode::InvalidScope,
        }
    }
}

/// The `token_type` of an access token response (RFC 6750 §4). Parsed case-insensitively
/// (RFC 6749 §5.1), always written `Bearer`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub enum AccessTokenType {
    /// A bearer token.
    #[default]
    #[serde(rename = "Bearer", alias = "bearer", alias = "BEARER")]
    Bearer,
}

/// A successful token response (RFC 6749 §5.1, OpenID Connect Core §3.1.3.3).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessTokenResponse {
    /// The access token.
    pub access_token: String,
    /// Always `Bearer`.
    pub token_type: AccessTokenType,
    /// Lifetime of the access token in seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_in: Option<u64>,
    /// The refresh token.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
    /// The granted scope.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<Scope>,
    /// The ID token, when `openid` was granted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id_token: Option<String>,
}

// ------------------------------------------------------------------------------------------------
// Introspection and revocation
// ------------------------------------------------------------------------------------------------

/// The `token_type_hint` of introspection and revocation requests. Unknown hints are kept as
/// [`TokenTypeHint::Unknown`] and ignored, which both RFC 7009 §2.1 and RFC 7662 §2.1 allow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TokenTypeHint {
    /// `access_token`
    AccessToken,
    /// `refresh_token`
    RefreshToken,
    /// Any other value.
    #[serde(other, skip_serializing)]
    Unknown,
}

/// An introspection request (RFC 7662 §2.1).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct IntrospectionRequest {
    /// The token to introspect.
    #[serde(deserialize_with = "non_empty")]
    pub token: String,
    /// What the caller thinks the token is.
    #[serde(default)]
    pub token_type_hint: Option<TokenTypeHint>,
    /// Client authentication.
    #[serde(flatten)]
    pub client: ClientAuthParams,
}

/// A revocation request (RFC 7009 §2.1).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct RevocationRequest {
    /// The token to revoke.
    #[serde(deserialize_with = "non_empty")]
    pub token: String,
    /// What the caller thinks the token is.
    #[serde(default)]
    pub token_type_hint: Option<TokenTypeHint>,
    /// Client authentication.
    #[serde(flatten)]
    pub client: ClientAuthParams,
}

/// An introspection response (RFC 7662 §2.2); absent fields are omitted.
///
/// `token_type` carries MAS's values (`access_token`, `refresh_token`) rather than RFC 6749 §5.1
/// types, because that is what homeservers built against MAS have seen.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct IntrospectionResponse {
    /// Whether the token is currently valid.
    pub active: bool,
    /// The scope of the token.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<Scope>,
    /// The client the token was issued to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    /// The user's localpart.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    /// What kind of token it is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_type: Option<TokenTypeHint>,
    /// Expiry, in seconds since the epoch.
    #[serde(
        default,
        with = "chrono::serde::ts_seconds_option",
        skip_serializing_if = "Option::is_none"
    )]
    pub exp: Option<DateTime<Utc>>,
    /// Seconds until expiry.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_in: Option<u64>,
    /// Issue time, in seconds since the epoch.
    #[serde(
        default,
        with = "chrono::serde::ts_seconds_option",
        skip_serializing_if = "Option::is_none"
    )]
    pub iat: Option<DateTime<Utc>>,
    /// Not-before time, in seconds since the epoch.
    #[serde(
        default,
        with = "chrono::serde::ts_seconds_option",
        skip_serializing_if = "Option::is_none"
    )]
    pub nbf: Option<DateTime<Utc>>,
    /// The user's subject identifier.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sub: Option<String>,
    /// The audiences of the token.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aud: Option<Vec<String>>,
    /// The issuer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iss: Option<String>,
    /// The token's identifier.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jti: Option<String>,
    /// The Matrix device of the session.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device_id: Option<String>,
}

impl IntrospectionResponse {
    /// The answer for any token that is unknown, expired, revoked or otherwise not usable:
    /// `{"active":false}` and nothing else (RFC 7662 §2.2), so nothing leaks about why.
    #[must_use]
    pub fn inactive() -> Self {
        Self::default()
    }
}

// ------------------------------------------------------------------------------------------------
// Device authorization
// ------------------------------------------------------------------------------------------------

/// The parameters of a device authorization request, as received (RFC 8628 §3.1).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct DeviceAuthorizationParams {
    /// `scope`
    #[serde(default, deserialize_with = "empty_as_none")]
    pub scope: Option<String>,
    /// Client authentication.
    #[serde(flatten)]
    pub client: ClientAuthParams,
}

/// A parsed device authorization request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceAuthorizationRequest {
    /// The requested scope (possibly empty).
    pub scope: Scope,
}

impl TryFrom<&DeviceAuthorizationParams> for DeviceAuthorizationRequest {
    type Error = ScopeError;

    fn try_from(params: &DeviceAuthorizationParams) -> Result<Self, Self::Error> {
        Ok(Self {
            scope: params.scope.as_deref().unwrap_or_default().parse()?,
        })
    }
}

/// A device authorization response (RFC 8628 §3.2).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceAuthorizationResponse {
    /// The secret the device polls with.
    pub device_code: String,
    /// The code the user types.
    pub user_code: UserCode,
    /// Where the user goes to type it.
    pub verification_uri: Url,
    /// A URL that already includes the user code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verification_uri_complete: Option<Url>,
    /// Lifetime of both codes, in seconds.
    pub expires_in: u64,
    /// Seconds the device waits between polls (5 when absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interval: Option<u64>,
}

#[cfg(test)]
mod tests;
