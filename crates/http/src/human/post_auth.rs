//! Where to go once the user has signed in: the flow that sent them to the login page.

use serde::{Deserialize, Serialize};
use ulid::Ulid;

use crate::url_builder::UrlBuilder;

/// The flow to continue after signing in, carried in the login page's query string
/// (`?kind=continue_authorization_grant&id=…`, the names MAS uses).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum PostAuthAction {
    ContinueAuthorizationGrant { id: Ulid },
    ContinueDeviceCodeGrant { id: Ulid },
    ContinueCompatSsoLogin { id: Ulid },
    ManageAccount,
}

impl PostAuthAction {
    /// The page that continues the flow.
    #[must_use]
    pub fn destination(&self, urls: &UrlBuilder) -> url::Url {
        match self {
            Self::ContinueAuthorizationGrant { id } => urls.consent(*id),
            Self::ContinueDeviceCodeGrant { id } => urls.device_consent(*id),
            Self::ContinueCompatSsoLogin { id } => urls.compat_sso_complete(*id),
            Self::ManageAccount => urls.account_management_uri(),
        }
    }

    /// The query-string pairs that carry it.
    #[must_use]
    pub fn query_pairs(&self) -> Vec<(&'static str, String)> {
        match self {
            Self::ContinueAuthorizationGrant { id } => {
                vec![
                    ("kind", "continue_authorization_grant".to_owned()),
                    ("id", id.to_string()),
                ]
            }
            Self::ContinueDeviceCodeGrant { id } => {
                vec![
                    ("kind", "continue_device_code_grant".to_owned()),
                    ("id", id.to_string()),
                ]
            }
            Self::ContinueCompatSsoLogin { id } => {
                vec![
                    ("kind", "continue_compat_sso_login".to_owned()),
                    ("id", id.to_string()),
                ]
            }
            Self::ManageAccount => vec![("kind", "manage_account".to_owned())],
        }
    }

    /// Reads it back from the query string's `kind` and `id`; anything unknown is ignored
    /// (the user then lands on the home page after signing in).
    #[must_use]
    pub fn from_query(kind: Option<&str>, id: Option<&str>) -> Option<Self> {
        let id = id.and_then(|id| id.parse::<Ulid>().ok());
        match (kind?, id) {
            ("continue_authorization_grant", Some(id)) => {
                Some(Self::ContinueAuthorizationGrant { id })
            }
            ("continue_device_code_grant", Some(id)) => Some(Self::ContinueDeviceCodeGrant { id }),
            ("continue_compat_sso_login", Some(id)) => Some(Self::ContinueCompatSsoLogin { id }),
            ("manage_account", _) => Some(Self::ManageAccount),
            _ => None,
        }
    }
}

/// The login page URL that continues with `action` afterwards, with a login hint if any.
#[must_use]
pub fn login_url(
    urls: &UrlBuilder,
    action: Option<PostAuthAction>,
    login_hint: Option<&str>,
) -> url::Url {
    with_continuation(urls.login(), action, login_hint)
}

/// The registration page URL that continues with `action` once the account exists, with a
/// login hint if any.
#[must_use]
pub fn register_url(
    urls: &UrlBuilder,
    action: Option<PostAuthAction>,
    login_hint: Option<&str>,
) -> url::Url {
    with_continuation(urls.register(), action, login_hint)
}

/// `url` with the query pairs of `action` and the `login_hint`, and no empty `?`.
#[must_use]
pub fn with_continuation(
    mut url: url::Url,
    action: Option<PostAuthAction>,
    login_hint: Option<&str>,
) -> url::Url {
    {
        let mut query = url.query_pairs_mut();
        if let Some(action) = action {
            for (key, value) in action.query_pairs() {
                query.append_pair(key, &value);
            }
        }
        if let Some(hint) = login_hint {
            query.append_pair("login_hint", hint);
        }
    }
    if url.query() == Some("") {
        url.set_query(None);
    }
    url
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_action_survives_the_trip_through_the_login_url() {
        let urls = UrlBuilder::new(
            "https://auth.example.com/".parse().expect("valid"),
            "https://example.com/".parse().expect("valid"),
        );
        let id = Ulid::new();
        let action = PostAuthAction::ContinueAuthorizationGrant { id };
        let url = login_url(&urls, Some(action), Some("mxid:@alice:example.com"));
        let pairs: std::collections::HashMap<_, _> = url.query_pairs().into_owned().collect();
        let back = PostAuthAction::from_query(
            pairs.get("kind").map(String::as_str),
            pairs.get("id").map(String::as_str),
        );
        assert_eq!(back, Some(action));
        assert_eq!(
            pairs.get("login_hint").map(String::as_str),
            Some("mxid:@alice:example.com")
        );
    }

    #[test]
    fn a_single_sign_on_login_continues_on_its_consent_page() {
        let urls = UrlBuilder::new(
            "https://auth.example.com/".parse().expect("valid"),
            "https://example.com/".parse().expect("valid"),
        );
        let id = Ulid::new();
        let action = PostAuthAction::ContinueCompatSsoLogin { id };
        let url = login_url(&urls, Some(action), None);
        let pairs: std::collections::HashMap<_, _> = url.query_pairs().into_owned().collect();
        assert_eq!(
            pairs.get("kind").map(String::as_str),
            Some("continue_compat_sso_login")
        );
        let back = PostAuthAction::from_query(
            pairs.get("kind").map(String::as_str),
            pairs.get("id").map(String::as_str),
        );
        assert_eq!(back, Some(action));
        assert_eq!(
            action.destination(&urls).as_str(),
            format!("https://auth.example.com/complete-compat-sso/{id}")
        );
    }

    #[test]
    fn an_unknown_kind_is_ignored() {
        assert_eq!(
            PostAuthAction::from_query(Some("take_over_the_world"), None),
            None
        );
    }
}
