//! Scopes: their syntax (RFC 6749 §3.3), the Matrix scopes (MSC2967 and the stable
//! `urn:matrix:client:*` names), and the default policy on who may request which.
//!
//! | scope | who may request it |
//! | --- | --- |
//! | `openid`, `email`, `urn:mas:graphql:*` | anyone |
//! | `urn:matrix:client:api:*` | interactive grants (authorization code, device code) only |
//! | `urn:matrix:client:device:<id>` | interactive only; at most one; requires the API scope |
//! | `urn:synapse:admin:*` | interactive, and a user allowed to request admin scopes |
//! | `urn:mas:admin` | interactive by an admin user, or client credentials of an admin client |
//! | anything else | nobody (`invalid_scope`) |
//!
//! Each Matrix scope also exists under the unstable `urn:matrix:org.matrix.msc2967.client:`
//! namespace; one request may not mix the two namespaces.

use std::{collections::BTreeSet, fmt, str::FromStr};

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::errors::{ErrorCode, ToClientError};

/// `openid`: OpenID Connect; the token response carries an ID token.
pub const OPENID: &str = "openid";
/// `email`: the user's email address.
pub const EMAIL: &str = "email";
/// Full access to the Matrix client-server API.
pub const MATRIX_API: &str = "urn:matrix:client:api:*";
/// [`MATRIX_API`] in the unstable MSC2967 namespace.
pub const MATRIX_API_UNSTABLE: &str = "urn:matrix:org.matrix.msc2967.client:api:*";
/// Prefix of the scope that binds a session to a Matrix device.
pub const MATRIX_DEVICE_PREFIX: &str = "urn:matrix:client:device:";
/// [`MATRIX_DEVICE_PREFIX`] in the unstable MSC2967 namespace.
pub const MATRIX_DEVICE_PREFIX_UNSTABLE: &str = "urn:matrix:org.matrix.msc2967.client:device:";
/// The Synapse admin API.
pub const SYNAPSE_ADMIN: &str = "urn:synapse:admin:*";
/// The Admin API of this server.
pub const MAS_ADMIN: &str = "urn:mas:admin";
/// The internal GraphQL API used by the account management interface.
pub const MAS_GRAPHQL: &str = "urn:mas:graphql:*";
/// Lets a token open its own user's cross-signing reset window
/// (`POST /api/account/v1/allow-cross-signing-reset`): Portcullis's own, granted to personal
/// access tokens only.
pub const ACCOUNT_CROSS_SIGNING_RESET: &str = "urn:portcullis:account:cross_signing_reset";

/// One scope token: non-empty, printable ASCII except space, `"` and `\` (RFC 6749 §3.3).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ScopeToken(String);

impl ScopeToken {
    /// The token as on the wire.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The device scope for `device_id` in `namespace`.
    ///
    /// Only the scope-token syntax is checked here, not the device ID rule of
    /// [`is_valid_device_id`]: compatibility sessions may carry device IDs that predate it.
    ///
    /// # Errors
    /// [`ScopeError`] when the device ID has a character a scope token cannot have.
    pub fn matrix_device(namespace: MatrixNamespace, device_id: &str) -> Result<Self, ScopeError> {
        let prefix = match namespace {
            MatrixNamespace::Stable => MATRIX_DEVICE_PREFIX,
            MatrixNamespace::Unstable => MATRIX_DEVICE_PREFIX_UNSTABLE,
        };
        format!("{prefix}{device_id}").parse()
    }

    /// The API scope in `namespace`.
    #[must_use]
    pub fn matrix_api(namespace: MatrixNamespace) -> Self {
        Self(
            match namespace {
                MatrixNamespace::Stable => MATRIX_API,
                MatrixNamespace::Unstable => MATRIX_API_UNSTABLE,
            }
            .to_owned(),
        )
    }

    /// What this token means to this server.
    #[must_use]
    pub fn kind(&self) -> ScopeKind<'_> {
        let token = self.as_str();
        match token {
            OPENID => return ScopeKind::OpenId,
            EMAIL => return ScopeKind::Email,
            MATRIX_API => return ScopeKind::MatrixApi(MatrixNamespace::Stable),
            MATRIX_API_UNSTABLE => return ScopeKind::MatrixApi(MatrixNamespace::Unstable),
            SYNAPSE_ADMIN => return ScopeKind::SynapseAdmin,
            MAS_ADMIN => return ScopeKind::MasAdmin,
            MAS_GRAPHQL => return ScopeKind::MasGraphql,
            ACCOUNT_CROSS_SIGNING_RESET => return ScopeKind::AccountCrossSigningReset,
            _ => {}
        }
        let device = token
            .strip_prefix(MATRIX_DEVICE_PREFIX)
            .map(|id| (MatrixNamespace::Stable, id))
            .or_else(|| {
                token
                    .strip_prefix(MATRIX_DEVICE_PREFIX_UNSTABLE)
                    .map(|id| (MatrixNamespace::Unstable, id))
            });
        match device {
            Some((namespace, device_id)) if is_valid_device_id(device_id) => {
                ScopeKind::MatrixDevice {
                    namespace,
                    device_id,
                }
            }
            Some((namespace, _)) => ScopeKind::MalformedMatrixDevice { namespace },
            None => ScopeKind::Unknown,
        }
    }
}

impl FromStr for ScopeToken {
    type Err = ScopeError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s.is_empty() {
            return Err(ScopeError::EmptyToken);
        }
        // RFC 6749 §3.3: scope-token = 1*( %x21 / %x23-5B / %x5D-7E )
        if !s
            .bytes()
            .all(|b| matches!(b, 0x21 | 0x23..=0x5B | 0x5D..=0x7E))
        {
            return Err(ScopeError::InvalidCharacter);
        }
        Ok(Self(s.to_owned()))
    }
}

impl fmt::Display for ScopeToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Which namespace a Matrix scope is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MatrixNamespace {
    /// `urn:matrix:client:`
    Stable,
    /// `urn:matrix:org.matrix.msc2967.client:`
    Unstable,
}

/// What a scope token means to this server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScopeKind<'a> {
    /// `openid`
    OpenId,
    /// `email`
    Email,
    /// `urn:matrix:client:api:*` or its unstable form.
    MatrixApi(MatrixNamespace),
    /// A device scope whose device ID follows [`is_valid_device_id`].
    MatrixDevice {
        /// The namespace of the scope.
        namespace: MatrixNamespace,
        /// The device ID.
        device_id: &'a str,
    },
    /// A device scope whose device ID breaks [`is_valid_device_id`].
    MalformedMatrixDevice {
        /// The namespace of the scope.
        namespace: MatrixNamespace,
    },
    /// `urn:synapse:admin:*`
    SynapseAdmin,
    /// `urn:mas:admin`
    MasAdmin,
    /// `urn:mas:graphql:*`
    MasGraphql,
    /// `urn:portcullis:account:cross_signing_reset`
    AccountCrossSigningReset,
    /// Anything else.
    Unknown,
}

/// MAS's rule for the device ID of a device scope: at least 10 characters, each an RFC 3986
/// unreserved or sub-delimiter character, `:`, `@` or `/` (what a URN segment may hold without
/// escaping).
#[must_use]
pub fn is_valid_device_id(device_id: &str) -> bool {
    device_id.len() >= 10
        && device_id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._~!$&'()*+,;=:@/-".contains(&b))
}

/// A set of scope tokens, in a stable (sorted) order. It may be empty.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Scope(BTreeSet<ScopeToken>);

impl Scope {
    /// The empty scope.
    #[must_use]
    pub const fn empty() -> Self {
        Self(BTreeSet::new())
    }

    /// Whether no token is in the scope.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The number of tokens.
    #[must_use]
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// The tokens, in order.
    pub fn iter(&self) -> impl Iterator<Item = &ScopeToken> {
        self.0.iter()
    }

    /// Whether `token` is in the scope.
    #[must_use]
    pub fn contains(&self, token: &str) -> bool {
        self.0.iter().any(|t| t.as_str() == token)
    }

    /// Add a token; returns whether it was new.
    pub fn insert(&mut self, token: ScopeToken) -> bool {
        self.0.insert(token)
    }

    /// Whether every token of this scope is in `other` (RFC 6749 §6: a refreshed scope may not
    /// exceed the original one).
    #[must_use]
    pub fn is_subset_of(&self, other: &Self) -> bool {
        self.0.is_subset(&other.0)
    }

    /// The ID of the device this scope binds the session to, if it has a valid device scope.
    #[must_use]
    pub fn device_id(&self) -> Option<&str> {
        self.0.iter().find_map(|token| match token.kind() {
            ScopeKind::MatrixDevice { device_id, .. } => Some(device_id),
            _ => None,
        })
    }
}

impl FromStr for Scope {
    type Err = ScopeError;

    /// RFC 6749 §3.3: tokens separated by single spaces. The empty string is the empty scope;
    /// an empty token (leading, trailing or doubled space) is refused. Duplicates collapse.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s.is_empty() {
            return Ok(Self::empty());
        }
        s.split(' ').map(ScopeToken::from_str).collect()
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (index, token) in self.0.iter().enumerate() {
            if index > 0 {
                f.write_str(" ")?;
            }
            f.write_str(token.as_str())?;
        }
        Ok(())
    }
}

impl FromIterator<ScopeToken> for Scope {
    fn from_iter<I: IntoIterator<Item = ScopeToken>>(iter: I) -> Self {
        Self(iter.into_iter().collect())
    }
}

impl<'a> IntoIterator for &'a Scope {
    type Item = &'a ScopeToken;
    type IntoIter = std::collections::btree_set::Iter<'a, ScopeToken>;

    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

impl Serialize for Scope {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Scope {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(deserializer)?;
        raw.parse().map_err(serde::de::Error::custom)
    }
}

/// Why a string is not a scope.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ScopeError {
    /// Two spaces in a row, or a leading or trailing space.
    #[error("scope tokens are separated by single spaces")]
    EmptyToken,
    /// A character outside RFC 6749 §3.3's set.
    #[error("a scope token contains a character it may not have")]
    InvalidCharacter,
}

impl ToClientError for ScopeError {
    fn error_code(&self) -> ErrorCode {
        ErrorCode::InvalidScope
    }
}

/// The scope Synapse is given when it introspects a token: every Matrix API and device scope in
/// both its stable and unstable form, so homeservers that only know one of them understand it.
#[must_use]
pub fn normalize_for_introspection(scope: &Scope) -> Scope {
    let mut normalized = scope.clone();
    for token in scope {
        let mirrored = if token.as_str() == MATRIX_API {
            Some(ScopeToken::matrix_api(MatrixNamespace::Unstable))
        } else if token.as_str() == MATRIX_API_UNSTABLE {
            Some(ScopeToken::matrix_api(MatrixNamespace::Stable))
        } else if let Some(id) = token.as_str().strip_prefix(MATRIX_DEVICE_PREFIX) {
            ScopeToken::matrix_device(MatrixNamespace::Unstable, id).ok()
        } else if let Some(id) = token.as_str().strip_prefix(MATRIX_DEVICE_PREFIX_UNSTABLE) {
            ScopeToken::matrix_device(MatrixNamespace::Stable, id).ok()
        } else {
            None
        };
        // Mirroring swaps one valid prefix for another, so it cannot fail; `.ok()` only avoids
        // a panic path.
        if let Some(mirrored) = mirrored {
            normalized.insert(mirrored);
        }
    }
    normalized
}

/// The grant through which a scope is requested.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum GrantKind {
    /// Authorization code grant: a user is present (interactive).
    AuthorizationCode,
    /// Device authorization grant: a user approves on another device (interactive).
    DeviceCode,
    /// Client credentials grant: no user (not interactive).
    ClientCredentials,
}

impl GrantKind {
    /// Whether a user takes part in the grant.
    #[must_use]
    pub const fn is_interactive(self) -> bool {
        !matches!(self, Self::ClientCredentials)
    }
}

/// What the scope rules need to know about a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScopeContext {
    /// The grant.
    pub grant: GrantKind,
}

/// Whether this server can issue `scope` in `context`: scopes it knows, well-formed device
/// IDs, user scopes only where there is a user, one device that comes with the API scope, one
/// namespace. Who may have which scope (admin scopes, banned requesters, session limits) is
/// the policy's decision (`authorization_grant/violation`), taken once the user is known.
///
/// # Errors
/// The first [`ScopeViolation`] found: first the tokens one by one in order, then the rules on
/// combinations (one device, device needs the API scope, no mixed namespaces).
pub fn check_requested_scope(scope: &Scope, context: &ScopeContext) -> Result<(), ScopeViolation> {
    let interactive = context.grant.is_interactive();
    let mut api = None;
    let mut devices: Vec<&ScopeToken> = Vec::new();
    let mut stable = false;
    let mut unstable = false;

    for token in scope {
        let violation = |reason| Err(ScopeViolation::of(token, reason));
        match token.kind() {
            ScopeKind::OpenId | ScopeKind::Email | ScopeKind::MasGraphql => {}
            ScopeKind::MatrixApi(namespace) | ScopeKind::MatrixDevice { namespace, .. } => {
                if !interactive {
                    return violation(ScopeViolationReason::RequiresInteractiveGrant);
                }
                match namespace {
                    MatrixNamespace::Stable => stable = true,
                    MatrixNamespace::Unstable => unstable = true,
                }
                if matches!(token.kind(), ScopeKind::MatrixApi(_)) {
                    api = Some(token);
                } else {
                    devices.push(token);
                }
            }
            ScopeKind::MalformedMatrixDevice { .. } => {
                return violation(ScopeViolationReason::InvalidDeviceId);
            }
            ScopeKind::SynapseAdmin => {
                if !interactive {
                    return violation(ScopeViolationReason::RequiresInteractiveGrant);
                }
            }
            ScopeKind::MasAdmin => {}
            ScopeKind::AccountCrossSigningReset => {
                return violation(ScopeViolationReason::PersonalTokensOnly);
            }
            ScopeKind::Unknown => return violation(ScopeViolationReason::Unknown),
        }
    }

    if let Some(second) = devices.get(1) {
        return Err(ScopeViolation::of(
            second,
            ScopeViolationReason::MoreThanOneDevice,
        ));
    }
    if let (Some(device), None) = (devices.first(), api) {
        return Err(ScopeViolation::of(
            device,
            ScopeViolationReason::DeviceWithoutApi,
        ));
    }
    if stable && unstable {
        return Err(ScopeViolation {
            token: None,
            reason: ScopeViolationReason::MixedNamespaces,
        });
    }
    Ok(())
}

/// A scope the policy refuses, and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}{reason}", token.as_ref().map(|t| format!("scope `{t}`: ")).unwrap_or_default())]
pub struct ScopeViolation {
    /// The offending token, when one token is to blame.
    pub token: Option<ScopeToken>,
    /// The rule broken.
    pub reason: ScopeViolationReason,
}

impl ScopeViolation {
    fn of(token: &ScopeToken, reason: ScopeViolationReason) -> Self {
        Self {
            token: Some(token.clone()),
            reason,
        }
    }
}

/// The rules of the scope policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ScopeViolationReason {
    /// A scope this server does not know.
    #[error("unknown scope")]
    Unknown,
    /// A device scope whose device ID breaks [`is_valid_device_id`].
    #[error("a device ID has at least 10 characters among A-Z a-z 0-9 ._~!$&'()*+,;=:@/-")]
    InvalidDeviceId,
    /// A Matrix API, device or Synapse admin scope in a grant without a user.
    #[error("may only be requested by a grant with a user")]
    RequiresInteractiveGrant,
    /// More than one device scope.
    #[error("only one device scope may be requested")]
    MoreThanOneDevice,
    /// A device scope without the Matrix API scope.
    #[error("a device scope requires the Matrix client API scope")]
    DeviceWithoutApi,
    /// Stable and unstable Matrix scopes in one request.
    #[error("stable and unstable (MSC2967) Matrix scopes cannot be mixed")]
    MixedNamespaces,
    /// A scope given to personal access tokens only, never through a grant.
    #[error("this scope is given to personal access tokens only")]
    PersonalTokensOnly,
}

/// Every violation is `invalid_scope` (RFC 6749 §4.1.2.1, §5.2). A scope the policy refuses to
/// this user is `access_denied` instead, decided where the policy is asked.
impl ToClientError for ScopeViolation {
    fn error_code(&self) -> ErrorCode {
        ErrorCode::InvalidScope
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DEVICE: &str = "urn:matrix:client:device:ABCDEFGHIJ";
    const DEVICE_UNSTABLE: &str = "urn:matrix:org.matrix.msc2967.client:device:ABCDEFGHIJ";

    fn scope(s: &str) -> Scope {
        s.parse().expect("valid scope")
    }

    fn interactive_user() -> ScopeContext {
        ScopeContext {
            grant: GrantKind::AuthorizationCode,
        }
    }

    fn admin_user() -> ScopeContext {
        interactive_user()
    }

    fn device_grant() -> ScopeContext {
        ScopeContext {
            grant: GrantKind::DeviceCode,
        }
    }

    fn client_credentials(_admin_client: bool) -> ScopeContext {
        ScopeContext {
            grant: GrantKind::ClientCredentials,
        }
    }

    fn reason(scope_str: &str, context: &ScopeContext) -> Option<ScopeViolationReason> {
        check_requested_scope(&scope(scope_str), context)
            .err()
            .map(|v| v.reason)
    }

    #[test]
    fn the_cross_signing_reset_scope_is_never_granted_through_a_grant() {
        for context in [admin_user(), interactive_user(), client_credentials(true)] {
            assert_eq!(
                reason(&format!("openid {ACCOUNT_CROSS_SIGNING_RESET}"), &context),
                Some(ScopeViolationReason::PersonalTokensOnly),
                "{context:?}"
            );
        }
    }

    #[test]
    fn a_space_separated_scope_parses_into_its_tokens() {
        let parsed = scope("openid urn:matrix:client:api:*");
        assert_eq!(parsed.len(), 2);
        assert!(parsed.contains("openid"));
        assert!(parsed.contains(MATRIX_API));
    }

    #[test]
    fn an_empty_string_is_the_empty_scope() {
        assert!(scope("").is_empty());
    }

    #[test]
    fn a_scope_displays_its_tokens_sorted_and_space_separated() {
        assert_eq!(scope("openid email").to_string(), "email openid");
    }

    #[test]
    fn duplicate_tokens_collapse() {
        assert_eq!(scope("openid openid").len(), 1);
    }

    #[test]
    fn a_double_space_is_refused() {
        assert_eq!(
            "openid  email".parse::<Scope>(),
            Err(ScopeError::EmptyToken)
        );
    }

    #[test]
    fn a_leading_space_is_refused() {
        assert_eq!(" openid".parse::<Scope>(), Err(ScopeError::EmptyToken));
    }

    #[test]
    fn a_trailing_space_is_refused() {
        assert_eq!("openid ".parse::<Scope>(), Err(ScopeError::EmptyToken));
    }

    #[test]
    fn a_tab_separator_is_refused() {
        assert_eq!(
            "openid\temail".parse::<Scope>(),
            Err(ScopeError::InvalidCharacter)
        );
    }

    #[test]
    fn a_double_quote_in_a_token_is_refused() {
        assert_eq!(
            "open\"id".parse::<Scope>(),
            Err(ScopeError::InvalidCharacter)
        );
    }

    #[test]
    fn a_backslash_in_a_token_is_refused() {
        assert_eq!(
            "open\\id".parse::<Scope>(),
            Err(ScopeError::InvalidCharacter)
        );
    }

    #[test]
    fn a_non_ascii_token_is_refused() {
        assert_eq!("öpenid".parse::<Scope>(), Err(ScopeError::InvalidCharacter));
    }

    #[test]
    fn the_boundary_characters_of_rfc_6749_are_accepted() {
        assert!("!#[]~".parse::<Scope>().is_ok());
    }

    #[test]
    fn a_scope_round_trips_through_json_as_a_string() {
        let original = scope("openid urn:matrix:client:api:*");
        let json = serde_json::to_string(&original).expect("serialisable");
        assert_eq!(json, "\"openid urn:matrix:client:api:*\"");
        let back: Scope = serde_json::from_str(&json).expect("deserialisable");
        assert_eq!(back, original);
    }

    #[test]
    fn a_subset_is_recognised() {
        assert!(scope("openid").is_subset_of(&scope("openid email")));
    }

    #[test]
    fn a_superset_is_not_a_subset() {
        assert!(!scope("openid email").is_subset_of(&scope("openid")));
    }

    #[test]
    fn the_device_id_comes_from_the_stable_device_scope() {
        assert_eq!(scope(DEVICE).device_id(), Some("ABCDEFGHIJ"));
    }

    #[test]
    fn the_device_id_comes_from_the_unstable_device_scope() {
        assert_eq!(scope(DEVICE_UNSTABLE).device_id(), Some("ABCDEFGHIJ"));
    }

    #[test]
    fn a_scope_without_device_has_no_device_id() {
        assert_eq!(scope("openid urn:matrix:client:api:*").device_id(), None);
    }

    #[test]
    fn a_device_scope_with_a_short_id_has_no_device_id() {
        assert_eq!(scope("urn:matrix:client:device:ABC").device_id(), None);
    }

    #[test]
    fn device_ids_of_ten_allowed_characters_are_valid() {
        assert!(is_valid_device_id("aZ09._~!$&"));
        assert!(is_valid_device_id("'()*+,;=:@/-"));
    }

    #[test]
    fn device_ids_shorter_than_ten_characters_are_invalid() {
        assert!(!is_valid_device_id("ABCDEFGHI"));
    }

    #[test]
    fn device_ids_with_a_percent_sign_are_invalid() {
        assert!(!is_valid_device_id("ABCDEFGHI%"));
    }

    #[test]
    fn device_ids_with_non_ascii_characters_are_invalid() {
        assert!(!is_valid_device_id("ABCDEFGHIé"));
    }

    #[test]
    fn scope_kinds_are_recognised() {
        let kinds = [
            ("openid", ScopeKind::OpenId),
            ("email", ScopeKind::Email),
            (MATRIX_API, ScopeKind::MatrixApi(MatrixNamespace::Stable)),
            (
                MATRIX_API_UNSTABLE,
                ScopeKind::MatrixApi(MatrixNamespace::Unstable),
            ),
            (SYNAPSE_ADMIN, ScopeKind::SynapseAdmin),
            (MAS_ADMIN, ScopeKind::MasAdmin),
            (MAS_GRAPHQL, ScopeKind::MasGraphql),
            (
                ACCOUNT_CROSS_SIGNING_RESET,
                ScopeKind::AccountCrossSigningReset,
            ),
            ("urn:matrix:client:api:read", ScopeKind::Unknown),
            ("profile", ScopeKind::Unknown),
        ];
        for (token, kind) in kinds {
            let token: ScopeToken = token.parse().expect("valid token");
            assert_eq!(token.kind(), kind, "{token}");
        }
    }

    #[test]
    fn normalisation_adds_the_unstable_form_of_stable_matrix_scopes() {
        let normalized = normalize_for_introspection(&scope(&format!("{MATRIX_API} {DEVICE}")));
        assert_eq!(
            normalized,
            scope(&format!(
                "{MATRIX_API} {MATRIX_API_UNSTABLE} {DEVICE} {DEVICE_UNSTABLE}"
            ))
        );
    }

    #[test]
    fn normalisation_adds_the_stable_form_of_unstable_matrix_scopes() {
        let normalized = normalize_for_introspection(&scope(&format!(
            "{MATRIX_API_UNSTABLE} {DEVICE_UNSTABLE}"
        )));
        assert_eq!(
            normalized,
            scope(&format!(
                "{MATRIX_API} {MATRIX_API_UNSTABLE} {DEVICE} {DEVICE_UNSTABLE}"
            ))
        );
    }

    #[test]
    fn normalisation_keeps_other_scopes_unchanged() {
        let original = scope("openid email urn:synapse:admin:*");
        assert_eq!(normalize_for_introspection(&original), original);
    }

    #[test]
    fn a_typical_element_x_scope_is_allowed() {
        assert_eq!(
            reason(
                &format!("openid {MATRIX_API} {DEVICE}"),
                &interactive_user()
            ),
            None
        );
    }

    #[test]
    fn the_unstable_matrix_scopes_are_allowed_together() {
        assert_eq!(
            reason(
                &format!("openid {MATRIX_API_UNSTABLE} {DEVICE_UNSTABLE}"),
                &interactive_user()
            ),
            None
        );
    }

    #[test]
    fn the_empty_scope_is_allowed() {
        assert_eq!(reason("", &client_credentials(false)), None);
    }

    #[test]
    fn the_device_grant_is_interactive() {
        assert_eq!(
            reason(&format!("{MATRIX_API} {DEVICE}"), &device_grant()),
            None
        );
    }

    #[test]
    fn openid_email_and_graphql_are_allowed_to_client_credentials() {
        assert_eq!(
            reason("openid email urn:mas:graphql:*", &client_credentials(false)),
            None
        );
    }

    #[test]
    fn an_unknown_scope_is_refused() {
        assert_eq!(
            reason("openid profile", &interactive_user()),
            Some(ScopeViolationReason::Unknown)
        );
    }

    #[test]
    fn a_violation_names_the_offending_token() {
        let violation = check_requested_scope(&scope("openid profile"), &interactive_user())
            .expect_err("profile is unknown");
        assert_eq!(
            violation.token.as_ref().map(ScopeToken::as_str),
            Some("profile")
        );
        assert_eq!(violation.to_string(), "scope `profile`: unknown scope");
    }

    #[test]
    fn the_api_scope_is_refused_to_client_credentials() {
        assert_eq!(
            reason(MATRIX_API, &client_credentials(true)),
            Some(ScopeViolationReason::RequiresInteractiveGrant)
        );
    }

    #[test]
    fn the_unstable_api_scope_is_refused_to_client_credentials() {
        assert_eq!(
            reason(MATRIX_API_UNSTABLE, &client_credentials(true)),
            Some(ScopeViolationReason::RequiresInteractiveGrant)
        );
    }

    #[test]
    fn a_device_scope_is_refused_to_client_credentials() {
        assert_eq!(
            reason(DEVICE, &client_credentials(true)),
            Some(ScopeViolationReason::RequiresInteractiveGrant)
        );
    }

    #[test]
    fn a_device_scope_with_an_invalid_id_is_refused() {
        assert_eq!(
            reason(
                &format!("{MATRIX_API} urn:matrix:client:device:SHORT"),
                &interactive_user()
            ),
            Some(ScopeViolationReason::InvalidDeviceId)
        );
    }

    #[test]
    fn a_device_scope_with_an_empty_id_is_refused() {
        assert_eq!(
            reason(
                &format!("{MATRIX_API} urn:matrix:client:device:"),
                &interactive_user()
            ),
            Some(ScopeViolationReason::InvalidDeviceId)
        );
    }

    #[test]
    fn two_device_scopes_are_refused() {
        assert_eq!(
            reason(
                &format!("{MATRIX_API} {DEVICE} urn:matrix:client:device:KLMNOPQRST"),
                &interactive_user()
            ),
            Some(ScopeViolationReason::MoreThanOneDevice)
        );
    }

    #[test]
    fn a_device_scope_without_the_api_scope_is_refused() {
        assert_eq!(
            reason(DEVICE, &interactive_user()),
            Some(ScopeViolationReason::DeviceWithoutApi)
        );
    }

    #[test]
    fn a_stable_device_with_the_unstable_api_scope_is_refused() {
        assert_eq!(
            reason(
                &format!("{MATRIX_API_UNSTABLE} {DEVICE}"),
                &interactive_user()
            ),
            Some(ScopeViolationReason::MixedNamespaces)
        );
    }

    #[test]
    fn both_api_scopes_together_are_refused() {
        assert_eq!(
            reason(
                &format!("{MATRIX_API} {MATRIX_API_UNSTABLE}"),
                &interactive_user()
            ),
            Some(ScopeViolationReason::MixedNamespaces)
        );
    }

    #[test]
    fn the_same_device_in_both_namespaces_is_refused() {
        assert_eq!(
            reason(
                &format!("{MATRIX_API} {DEVICE} {DEVICE_UNSTABLE}"),
                &interactive_user()
            ),
            Some(ScopeViolationReason::MoreThanOneDevice)
        );
    }

    #[test]
    fn synapse_admin_is_allowed_to_an_admin_user() {
        assert_eq!(
            reason(&format!("{MATRIX_API} {SYNAPSE_ADMIN}"), &admin_user()),
            None
        );
    }

    #[test]
    fn synapse_admin_is_refused_to_client_credentials_even_of_an_admin_client() {
        assert_eq!(
            reason(SYNAPSE_ADMIN, &client_credentials(true)),
            Some(ScopeViolationReason::RequiresInteractiveGrant)
        );
    }

    #[test]
    fn mas_admin_is_allowed_to_an_admin_user() {
        assert_eq!(reason(MAS_ADMIN, &admin_user()), None);
    }

    #[test]
    fn mas_admin_is_allowed_to_an_admin_client_through_client_credentials() {
        assert_eq!(reason(MAS_ADMIN, &client_credentials(true)), None);
    }

    #[test]
    fn an_unknown_scope_is_invalid_scope() {
        let violation =
            check_requested_scope(&scope("profile"), &interactive_user()).expect_err("unknown");
        assert_eq!(violation.error_code(), ErrorCode::InvalidScope);
    }

    #[test]
    fn a_malformed_scope_is_invalid_scope() {
        assert_eq!(ScopeError::EmptyToken.error_code(), ErrorCode::InvalidScope);
    }

    #[test]
    fn a_device_scope_is_built_for_a_device_id() {
        let token = ScopeToken::matrix_device(MatrixNamespace::Unstable, "ABCDEFGHIJ")
            .expect("valid device id");
        assert_eq!(token.as_str(), DEVICE_UNSTABLE);
    }

    #[test]
    fn a_device_scope_cannot_be_built_for_a_device_id_with_a_space() {
        assert!(ScopeToken::matrix_device(MatrixNamespace::Stable, "AB CD").is_err());
    }
}
