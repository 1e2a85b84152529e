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
    /// What it allows, in a sentence, in English.
    pub description: String,
    /// The translation key of that sentence, for the pages' `_()`.
    pub key: String,
    /// The value of the sentence's `{value}` placeholder (a device ID, an unknown scope).
    pub value: String,
    /// Whether it grants administrative powers over other people's accounts, which pages
    /// point out.
    pub admin: bool,
}

impl ScopeView {
    /// Describes one scope token.
    #[must_use]
    pub fn new(token: &str) -> Self {
        let (key, value) = scope_text(token);
        Self {
            token: token.to_owned(),
            description: describe_scope(token),
            key: key.to_owned(),
            value,
            admin: is_admin_scope(token),
        }
    }
}

/// Describes each scope token, in order, once each.
#[must_use]
pub fn describe_scopes<'a>(tokens: impl IntoIterator<Item = &'a str>) -> Vec<ScopeView> {
    let mut seen = Vec::new();
    tokens
        .into_iter()
        .filter(|token| {
            let new = !seen.contains(token);
            seen.push(token);
            new
        })
        .map(ScopeView::new)
        .collect()
}

/// What a scope token allows, in one sentence for the person consenting, in English.
#[must_use]
pub fn describe_scope(token: &str) -> String {
    let (key, value) = scope_text(token);
    crate::i18n::translate(crate::i18n::Locale::En, key, &[("value", &value)])
}

/// The translation key of a scope's sentence, and the value of its `{value}` placeholder.
fn scope_text(token: &str) -> (&'static str, String) {
    match token {
        "openid" => return ("scope.openid", String::new()),
        "email" => return ("scope.email", String::new()),
        "urn:synapse:admin:*" => return ("scope.synapse_admin", String::new()),
        "urn:mas:admin" => return ("scope.mas_admin", String::new()),
        "urn:mas:graphql:*" => return ("scope.graphql", String::new()),
        "urn:portcullis:account:cross_signing_reset" => {
            return ("scope.cross_signing_reset", String::new());
        }
        _ => {}
    }
    if let Some(rest) = MATRIX_CLIENT_PREFIXES
        .iter()
        .find_map(|prefix| token.strip_prefix(prefix))
    {
        if rest == "api:*" {
            return ("scope.client_api", String::new());
        }
        if let Some(device_id) = rest.strip_prefix("device:")
            && !device_id.is_empty()
        {
            return ("scope.device", device_id.to_owned());
        }
    }
    ("scope.unknown", token.to_owned())
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
        let views = describe_scopes("openid  email openid".split_ascii_whitespace());

        let tokens: Vec<&str> = views.iter().map(|view| view.token.as_str()).collect();
        assert_eq!(tokens, ["openid", "email"]);
    }
}
