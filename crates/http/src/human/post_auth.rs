//! Where to go once the user has signed in: the flow that sent them to the login page.

use serde::{Deserialize, Serialize};
use ulid::Ulid;

use portcullis_urls::UrlBuilder;

/// The longest MSC4191 `action` or `device_id` carried through a sign-in; anything longer is
/// dropped rather than copied from URL to URL.
const MAX_ACCOUNT_PARAM_LEN: usize = 255;

/// The flow to continue after signing in, carried in the login page's query string
/// (`?kind=continue_authorization_grant&id=…`, the names MAS uses).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum PostAuthAction {
    ContinueAuthorizationGrant {
        id: Ulid,
    },
    ContinueDeviceCodeGrant {
        id: Ulid,
    },
    ContinueCompatSsoLogin {
        id: Ulid,
    },
    /// The account pages, with the MSC4191 deep link (`?action=…&device_id=…`) the client
    /// opened them with, so that it survives the sign-in.
    ManageAccount {
        action: Option<String>,
        device_id: Option<String>,
    },
}

impl PostAuthAction {
    /// The page that continues the flow.
    #[must_use]
    pub fn destination(&self, urls: &UrlBuilder) -> url::Url {
        match self {
            Self::ContinueAuthorizationGrant { id } => urls.consent(*id),
            Self::ContinueDeviceCodeGrant { id } => urls.device_consent(*id),
            Self::ContinueCompatSsoLogin { id } => urls.compat_sso_complete(*id),
            Self::ManageAccount { action, device_id } => {
                let mut url = urls.account_management_uri();
                {
                    let mut query = url.query_pairs_mut();
                    if let Some(action) = action {
                        query.append_pair("action", action);
                    }
                    if let Some(device_id) = device_id {
                        query.append_pair("device_id", device_id);
                    }
                }
                if url.query() == Some("") {
                    url.set_query(None);
                }
                url
            }
        }
    }

    /// The account pages, opened with this MSC4191 `action` and `device_id` (each dropped when
    /// empty or unreasonably long).
    #[must_use]
    pub fn manage_account(action: Option<&str>, device_id: Option<&str>) -> Self {
        let keep = |value: Option<&str>| {
            value
                .filter(|value| !value.is_empty() && value.len() <= MAX_ACCOUNT_PARAM_LEN)
                .map(str::to_owned)
        };
        Self::ManageAccount {
            action: keep(action),
            device_id: keep(device_id),
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
            Self::ManageAccount { action, device_id } => {
                let mut pairs = vec![("kind", "manage_account".to_owned())];
                if let Some(action) = action {
                    pairs.push(("action", action.clone()));
                }
                if let Some(device_id) = device_id {
                    pairs.push(("device_id", device_id.clone()));
                }
                pairs
            }
        }
    }

    /// Reads it back from the query string's `kind` and `id` (and, for the account pages,
    /// `action` and `device_id`); anything unknown is ignored (the user then lands on the home
    /// page after signing in).
    #[must_use]
    pub fn from_query(query: &ContinuationQuery<'_>) -> Option<Self> {
        let id = query.id.and_then(|id| id.parse::<Ulid>().ok());
        match (query.kind?, id) {
            ("continue_authorization_grant", Some(id)) => {
                Some(Self::ContinueAuthorizationGrant { id })
            }
            ("continue_device_code_grant", Some(id)) => Some(Self::ContinueDeviceCodeGrant { id }),
            ("continue_compat_sso_login", Some(id)) => Some(Self::ContinueCompatSsoLogin { id }),
            ("manage_account", _) => Some(Self::manage_account(query.action, query.device_id)),
            _ => None,
        }
    }
}

/// The query-string parameters a [`PostAuthAction`] is read from.
#[derive(Debug, Clone, Copy, Default)]
pub struct ContinuationQuery<'a> {
    pub kind: Option<&'a str>,
    pub id: Option<&'a str>,
    /// MSC4191 `action`, for `kind=manage_account`.
    pub action: Option<&'a str>,
    /// MSC4191 `device_id`, for `kind=manage_account`.
    pub device_id: Option<&'a str>,
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
        if let Some(action) = &action {
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

/// The query string of the sign-in and registration pages: the flow to continue, a hint, and
/// the user code of a device grant carried through to its approval page.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct FlowQuery {
    kind: Option<String>,
    id: Option<String>,
    pub(crate) login_hint: Option<String>,
    /// The user code of a device grant, carried through to the approval page.
    pub(crate) code: Option<String>,
    /// MSC4191 deep link into the account pages, for `kind=manage_account`.
    action: Option<String>,
    device_id: Option<String>,
}

impl FlowQuery {
    /// The flow to continue afterwards, if any.
    pub(crate) fn action(&self) -> Option<PostAuthAction> {
        PostAuthAction::from_query(&ContinuationQuery {
            kind: self.kind.as_deref(),
            id: self.id.as_deref(),
            action: self.action.as_deref(),
            device_id: self.device_id.as_deref(),
        })
    }

    /// `url` with the device grant's user code, when the flow is a device grant.
    fn with_code(&self, mut url: url::Url) -> url::Url {
        if let (Some(PostAuthAction::ContinueDeviceCodeGrant { .. }), Some(code)) =
            (self.action(), &self.code)
        {
            url.query_pairs_mut().append_pair("code", code);
        }
        url
    }

    /// `url` with this query's continuation, hint and device code.
    pub(crate) fn carry(&self, url: url::Url) -> url::Url {
        self.with_code(with_continuation(
            url,
            self.action(),
            self.login_hint.as_deref(),
        ))
    }

    /// Where the user goes once signed in.
    pub(crate) fn destination(&self, urls: &UrlBuilder) -> url::Url {
        let destination = self
            .action()
            .map_or_else(|| urls.index(), |action| action.destination(urls));
        self.with_code(destination)
    }

    /// A query continuing a device grant (for tests and links).
    #[cfg(test)]
    pub(crate) fn device_grant(id: Ulid, code: &str) -> Self {
        Self {
            kind: Some("continue_device_code_grant".to_owned()),
            id: Some(id.to_string()),
            code: Some(code.to_owned()),
            ..Self::default()
        }
    }
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
        let url = login_url(&urls, Some(action.clone()), Some("mxid:@alice:example.com"));
        let pairs: std::collections::HashMap<_, _> = url.query_pairs().into_owned().collect();
        let back = PostAuthAction::from_query(&query_of(&pairs));
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
        let url = login_url(&urls, Some(action.clone()), None);
        let pairs: std::collections::HashMap<_, _> = url.query_pairs().into_owned().collect();
        assert_eq!(
            pairs.get("kind").map(String::as_str),
            Some("continue_compat_sso_login")
        );
        let back = PostAuthAction::from_query(&query_of(&pairs));
        assert_eq!(back, Some(action.clone()));
        assert_eq!(
            action.destination(&urls).as_str(),
            format!("https://auth.example.com/complete-compat-sso/{id}")
        );
    }

    fn query_of(pairs: &std::collections::HashMap<String, String>) -> ContinuationQuery<'_> {
        ContinuationQuery {
            kind: pairs.get("kind").map(String::as_str),
            id: pairs.get("id").map(String::as_str),
            action: pairs.get("action").map(String::as_str),
            device_id: pairs.get("device_id").map(String::as_str),
        }
    }

    #[test]
    fn an_unknown_kind_is_ignored() {
        let query = ContinuationQuery {
            kind: Some("take_over_the_world"),
            ..ContinuationQuery::default()
        };
        assert_eq!(PostAuthAction::from_query(&query), None);
    }

    #[test]
    fn an_account_deep_link_survives_the_trip_through_the_login_url() {
        let urls = UrlBuilder::new(
            "https://auth.example.com/".parse().expect("valid"),
            "https://example.com/".parse().expect("valid"),
        );
        let action =
            PostAuthAction::manage_account(Some("org.matrix.device_view"), Some("ABC DEF&x=1"));
        let url = login_url(&urls, Some(action.clone()), None);
        let pairs: std::collections::HashMap<_, _> = url.query_pairs().into_owned().collect();
        let back = PostAuthAction::from_query(&query_of(&pairs));
        assert_eq!(back, Some(action.clone()));
        assert_eq!(
            action.destination(&urls).as_str(),
            "https://auth.example.com/account/?action=org.matrix.device_view&device_id=ABC+DEF%26x%3D1"
        );
    }

    #[test]
    fn the_account_pages_without_a_deep_link_have_a_clean_url() {
        let urls = UrlBuilder::new(
            "https://auth.example.com/".parse().expect("valid"),
            "https://example.com/".parse().expect("valid"),
        );
        let action = PostAuthAction::manage_account(Some(""), None);
        assert_eq!(
            action.destination(&urls).as_str(),
            "https://auth.example.com/account/"
        );
        assert_eq!(action.query_pairs().len(), 1);
        let long = "x".repeat(300);
        assert_eq!(
            PostAuthAction::manage_account(Some(&long), Some("D")),
            PostAuthAction::ManageAccount {
                action: None,
                device_id: Some("D".to_owned())
            }
        );
    }

    #[test]
    fn the_device_code_rides_along_only_with_a_device_grant() {
        let urls = UrlBuilder::new(
            "https://auth.example.com/".parse().expect("valid"),
            "https://example.com/".parse().expect("valid"),
        );
        let id = ulid::Ulid::new();
        let device = FlowQuery::device_grant(id, "ABCD-EFGH");
        let url = device.carry(urls.register_password());
        assert_eq!(
            url.as_str(),
            format!(
                "https://auth.example.com/register/password?kind=continue_device_code_grant&id={id}&code=ABCD-EFGH"
            )
        );
        let stray = FlowQuery {
            code: Some("ABCD-EFGH".to_owned()),
            ..FlowQuery::default()
        };
        assert_eq!(
            stray.carry(urls.register()).as_str(),
            "https://auth.example.com/register"
        );
    }
}
