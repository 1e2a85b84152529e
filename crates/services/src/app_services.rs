//! Application services (bridges) that sign their users in with `m.login.application_service`
//! at the Matrix login API: the homeserver's registration files (Synapse's format), listed
//! under `matrix.app_service_config_files`. A login presents the appservice's `as_token` as its
//! bearer token, and names a user in one of the appservice's exclusive user namespaces, or its
//! sender.

use serde::Deserialize;
use subtle::ConstantTimeEq as _;
use zeroize::Zeroizing;

/// One appservice, as its registration file describes it.
pub struct AppService {
    pub id: String,
    as_token: Zeroizing<String>,
    pub sender_localpart: String,
    /// The user namespaces: whether each is exclusive, and its pattern (matched from the start
    /// of the full Matrix ID, as Synapse does).
    users: Vec<(bool, regex::Regex)>,
}

impl std::fmt::Debug for AppService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppService")
            .field("id", &self.id)
            .field("sender_localpart", &self.sender_localpart)
            .finish_non_exhaustive()
    }
}

#[derive(Deserialize)]
struct Registration {
    id: String,
    as_token: String,
    sender_localpart: String,
    #[serde(default)]
    namespaces: Namespaces,
}

#[derive(Deserialize, Default)]
struct Namespaces {
    #[serde(default)]
    users: Vec<Namespace>,
}

#[derive(Deserialize)]
struct Namespace {
    #[serde(default)]
    exclusive: bool,
    regex: String,
}

impl AppService {
    /// Reads a registration file's YAML.
    ///
    /// # Errors
    /// What is wrong with it: not YAML, a missing key (`id`, `as_token`, `sender_localpart`),
    /// an empty token, or a namespace whose `regex` is not a regular expression.
    pub fn parse(yaml: &str) -> Result<Self, String> {
        let registration: Registration =
            serde_yaml_ng::from_str(yaml).map_err(|error| error.to_string())?;
        if registration.as_token.trim().is_empty() {
            return Err("`as_token` is empty".to_owned());
        }
        let users = registration
            .namespaces
            .users
            .into_iter()
            .map(|namespace| {
                regex::Regex::new(&format!("^(?:{})", namespace.regex))
                    .map(|regex| (namespace.exclusive, regex))
                    .map_err(|error| {
                        format!(
                            "the user namespace {:?} is not a regular expression: {error}",
                            namespace.regex
                        )
                    })
            })
            .collect::<Result<_, _>>()?;
        Ok(Self {
            id: registration.id,
            as_token: Zeroizing::new(registration.as_token),
            sender_localpart: registration.sender_localpart,
            users,
        })
    }

    /// Whether `token` is this appservice's `as_token` (compared in constant time).
    #[must_use]
    pub fn has_token(&self, token: &str) -> bool {
        self.as_token.as_bytes().ct_eq(token.as_bytes()).into()
    }

    /// Whether the appservice may sign in `localpart` (`@localpart:server_name`): its sender, or
    /// a user of one of its exclusive namespaces.
    #[must_use]
    pub fn may_sign_in(&self, localpart: &str, server_name: &str) -> bool {
        if localpart == self.sender_localpart {
            return true;
        }
        let mxid = format!("@{localpart}:{server_name}");
        self.users
            .iter()
            .any(|(exclusive, regex)| *exclusive && regex.is_match(&mxid))
    }
}

/// The appservice whose `as_token` is `token`, if any.
#[must_use]
pub fn by_token<'a>(services: &'a [AppService], token: &str) -> Option<&'a AppService> {
    services.iter().find(|service| service.has_token(token))
}

#[cfg(test)]
mod tests {
    use super::*;

    const REGISTRATION: &str = r#"
id: "telegram"
url: "http://localhost:29317"
as_token: "as-secret"
hs_token: "hs-secret"
sender_localpart: "telegrambot"
rate_limited: false
namespaces:
  users:
    - exclusive: true
      regex: '@telegram_.*:example\.com'
    - exclusive: false
      regex: '@shared_.*:example\.com'
  aliases:
    - exclusive: true
      regex: '#telegram_.*:example\.com'
"#;

    #[test]
    fn a_synapse_registration_file_names_who_the_bridge_may_sign_in() {
        let service = AppService::parse(REGISTRATION).expect("parsed");
        assert_eq!(service.id, "telegram");
        assert!(service.has_token("as-secret"));
        assert!(!service.has_token("hs-secret"));
        assert!(
            service.may_sign_in("telegrambot", "example.com"),
            "the sender"
        );
        assert!(service.may_sign_in("telegram_12345", "example.com"));
        assert!(!service.may_sign_in("telegram_12345", "other.example"));
        assert!(
            !service.may_sign_in("shared_1", "example.com"),
            "not exclusive"
        );
        assert!(!service.may_sign_in("alice", "example.com"));
        assert!(
            !service.may_sign_in("xtelegram_1", "example.com"),
            "matched from the start"
        );
        let services = [service];
        assert!(by_token(&services, "as-secret").is_some());
        assert!(by_token(&services, "as-secre").is_none());
    }

    #[test]
    fn a_broken_registration_says_what_is_wrong() {
        assert!(AppService::parse("not: [yaml").is_err());
        assert!(
            AppService::parse("id: x\nsender_localpart: y\n")
                .expect_err("no token")
                .contains("as_token")
        );
        let bad_regex = "id: x\nas_token: t\nsender_localpart: y\nnamespaces:\n  users:\n    - exclusive: true\n      regex: '@a_(:x'\n";
        assert!(
            AppService::parse(bad_regex)
                .expect_err("a bad regex")
                .contains("not a regular expression")
        );
    }
}
