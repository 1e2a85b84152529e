//! Scopes explained in words, for the consent pages.
//!
//! A person deciding whether to let an application in cannot be expected to read
//! `urn:matrix:client:api:*`; each scope gets a sentence saying what it allows. Matrix scopes
//! are accepted in their stable form (MSC2967 as merged) and in the unstable
//! `urn:matrix:org.matrix.msc2967.client:` form that older clients still send.

use serde::Serialize;

/// Prefixes of the Matrix client scopes: stable first, then unstable.
const MATRIX_CLIENT_PREFIXES: [&str; 2] = [
    "urn:matrix:client:",
    "urn:matrix:org.matrix.msc2967.client:",
];

/// One requested scope, as a consent page lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ScopeView {
    /// The scope token itself.
    pub token: String,
    /// What it allows, in a sentence.
    pub description: String,
    /// Whether it grants administrative powers over other people's accounts, which pages
    /// point out.
    pub admin: bool,
}

impl ScopeView {
    /// Describes one scope token.
    #[must_use]
    pub fn new(token: &str) -> Self {
        Self {
            token: token.to_owned(),
            description: describe_scope(token),
            admin: is_admin_scope(token),
        }
    }
}

/// Describes every token of a space-separated `scope` parameter, in order, once each.
#[must_use]
pub fn describe_scopes(scope: &str) -> Vec<ScopeView> {
    let mut seen = Vec::new();
    scope
        .split_ascii_whitespace()
        .filter(|token| {
            let new = !seen.contains(token);
            seen.push(token);
            new
        })
        .map(ScopeView::new)
        .collect()
}

/// What a scope token allows, in one sentence for the person consenting.
#[must_use]
pub fn describe_scope(token: &str) -> String {
    match token {
        "openid" => return "See your username and confirm that it is you".to_owned(),
        "email" => return "See your email address".to_owned(),
        "urn:synapse:admin:*" => {
            return "Administer the Matrix server: manage every user, room and file on it"
                .to_owned();
        }
        "urn:mas:admin" => {
            return "Administer this account service: manage every user and end their sessions"
                .to_owned();
        }
        "urn:mas:graphql:*" => {
            return "Manage your account: your profile, email addresses and sessions".to_owned();
        }
        _ => {}
    }
    if let Some(rest) = MATRIX_CLIENT_PREFIXES
        .iter()
        .find_map(|prefix| token.strip_prefix(prefix))
    {
        if rest == "api:*" {
            return "Use your Matrix account: read and send messages, join rooms and change \
                    your settings on your behalf"
                .to_owned();
        }
        if let Some(device_id) = rest.strip_prefix("device:")
            && !device_id.is_empty()
        {
            return format!("Use this device ID: {device_id}");
        }
    }
    format!("Other access that this server does not know: {token}")
}

fn is_admin_scope(token: &str) -> bool {
    matches!(token, "urn:synapse:admin:*" | "urn:mas:admin")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn openid_is_described_as_knowing_who_you_are() {
        assert_eq!(
            describe_scope("openid"),
            "See your username and confirm that it is you"
        );
    }

    #[test]
    fn email_is_described_as_seeing_the_address() {
        assert_eq!(describe_scope("email"), "See your email address");
    }

    #[test]
    fn the_matrix_api_scope_is_described_as_using_the_account() {
        assert!(describe_scope("urn:matrix:client:api:*").starts_with("Use your Matrix account"));
    }

    #[test]
    fn the_unstable_matrix_api_scope_is_described_like_the_stable_one() {
        assert_eq!(
            describe_scope("urn:matrix:org.matrix.msc2967.client:api:*"),
            describe_scope("urn:matrix:client:api:*")
        );
    }

    #[test]
    fn a_device_scope_names_the_device_id() {
        assert_eq!(
            describe_scope("urn:matrix:client:device:ABCDEFGH"),
            "Use this device ID: ABCDEFGH"
        );
    }

    #[test]
    fn an_unstable_device_scope_names_the_device_id() {
        assert_eq!(
            describe_scope("urn:matrix:org.matrix.msc2967.client:device:XYZ"),
            "Use this device ID: XYZ"
        );
    }

    #[test]
    fn a_device_scope_without_an_id_is_unknown() {
        assert!(describe_scope("urn:matrix:client:device:").starts_with("Other access"));
    }

    #[test]
    fn the_synapse_admin_scope_is_an_admin_scope() {
        let view = ScopeView::new("urn:synapse:admin:*");

        assert!(view.admin);
        assert!(view.description.starts_with("Administer the Matrix server"));
    }

    #[test]
    fn the_mas_admin_scope_is_an_admin_scope() {
        let view = ScopeView::new("urn:mas:admin");

        assert!(view.admin);
        assert!(
            view.description
                .starts_with("Administer this account service")
        );
    }

    #[test]
    fn the_graphql_scope_is_described_as_managing_the_account() {
        assert!(describe_scope("urn:mas:graphql:*").starts_with("Manage your account"));
    }

    #[test]
    fn an_unknown_scope_is_shown_as_it_is() {
        assert_eq!(
            describe_scope("profile:read"),
            "Other access that this server does not know: profile:read"
        );
    }

    #[test]
    fn a_scope_parameter_is_described_token_by_token_without_repeats() {
        let views = describe_scopes("openid  email openid");

        let tokens: Vec<&str> = views.iter().map(|view| view.token.as_str()).collect();
        assert_eq!(tokens, ["openid", "email"]);
    }
}
