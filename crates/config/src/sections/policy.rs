//! `policy`: the rules deciding registrations, client registrations and authorizations.

use std::path::PathBuf;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::problem::Problem;

/// The policy module, its entry points and the data it is given.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct PolicyConfig {
    /// MAS's compiled policy (WebAssembly): not loaded here, where Rego is evaluated directly
    /// (`rego_directory`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wasm_module: Option<PathBuf>,

    /// A directory of `.rego` files (searched recursively, `*_test.rego` left out), added to
    /// the built-in policy, or replacing it with `replace_default_policy`. Relative to the
    /// working directory, as other paths.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rego_directory: Option<PathBuf>,

    /// Whether the files of `rego_directory` replace the built-in policy (a MAS policy's whole
    /// sources) instead of adding rules to it.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub replace_default_policy: bool,

    /// Entry point for dynamic client registration.
    #[serde(default = "default_client_registration_entrypoint")]
    pub client_registration_entrypoint: String,

    /// Entry point for user registration.
    #[serde(default = "default_register_entrypoint")]
    pub register_entrypoint: String,

    /// Entry point for authorization grants.
    #[serde(default = "default_authorization_grant_entrypoint")]
    pub authorization_grant_entrypoint: String,

    /// Entry point for compatibility logins.
    #[serde(default = "default_compat_login_entrypoint")]
    pub compat_login_entrypoint: String,

    /// Entry point for password changes (kept for MAS compatibility; MAS no longer uses it).
    #[serde(default = "default_password_entrypoint")]
    pub password_entrypoint: String,

    /// Entry point for adding an email address.
    #[serde(default = "default_email_entrypoint")]
    pub email_entrypoint: String,

    /// Free-form data passed to the policy (`admin_users`, `client_registration`, ...).
    #[serde(default = "default_data")]
    pub data: serde_json::Value,
}

fn default_client_registration_entrypoint() -> String {
    "client_registration/violation".to_owned()
}

fn default_register_entrypoint() -> String {
    "register/violation".to_owned()
}

fn default_authorization_grant_entrypoint() -> String {
    "authorization_grant/violation".to_owned()
}

fn default_compat_login_entrypoint() -> String {
    "compat_login/violation".to_owned()
}

fn default_password_entrypoint() -> String {
    "password/violation".to_owned()
}

fn default_email_entrypoint() -> String {
    "email/violation".to_owned()
}

fn default_data() -> serde_json::Value {
    serde_json::Value::Object(serde_json::Map::new())
}

impl Default for PolicyConfig {
    fn default() -> Self {
        Self {
            wasm_module: None,
            rego_directory: None,
            replace_default_policy: false,
            client_registration_entrypoint: default_client_registration_entrypoint(),
            register_entrypoint: default_register_entrypoint(),
            authorization_grant_entrypoint: default_authorization_grant_entrypoint(),
            compat_login_entrypoint: default_compat_login_entrypoint(),
            password_entrypoint: default_password_entrypoint(),
            email_entrypoint: default_email_entrypoint(),
            data: default_data(),
        }
    }
}

/// The errors in policy data pushed through the Admin API, checked as `policy.data` is: the
/// shapes of the keys MAS's default policy reads (paths start with `data.`).
#[must_use]
pub fn data_errors(data: &serde_json::Map<String, serde_json::Value>) -> Vec<Problem> {
    super::policy_data::problems(data)
        .into_iter()
        .filter(Problem::is_error)
        .map(|mut problem| {
            problem.path = problem
                .path
                .strip_prefix("policy.")
                .unwrap_or(&problem.path)
                .to_owned();
            problem
        })
        .collect()
}

impl PolicyConfig {
    /// Every problem in this section (the Rego itself is checked when it is loaded).
    #[must_use]
    pub fn validate(&self) -> Vec<Problem> {
        let mut problems = Vec::new();
        if let Some(module) = &self.wasm_module {
            problems.push(
                Problem::warning(
                    "policy.wasm_module",
                    format!(
                        "`{}` is not loaded: policies are Rego evaluated in-process, and the \
                         built-in policy (MAS's default rules, with `policy.data`) is used",
                        module.display()
                    ),
                )
                .with_hint(
                    "remove `wasm_module`; if the module was built from your own Rego, point \
                     `policy.rego_directory` at its .rego sources (with \
                     `replace_default_policy: true` for a whole policy)",
                ),
            );
        }
        if self.replace_default_policy && self.rego_directory.is_none() {
            problems.push(Problem::error(
                "policy.replace_default_policy",
                "needs `policy.rego_directory`: there is no policy to replace the built-in one with",
            ));
        }
        match &self.data {
            serde_json::Value::Object(data) => problems.extend(super::policy_data::problems(data)),
            _ => problems.push(Problem::error(
                "policy.data",
                "expected a map of values for the policy",
            )),
        }
        problems
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_data_keys_pass_and_a_misplaced_one_is_a_warning_naming_it() {
        let config = PolicyConfig {
            data: serde_json::json!({
                "admin_users": ["alice"],
                "admin_clients": [],
                "registration": {"banned_usernames": {"literals": ["root"]}},
                "emails": {"banned_domains": ["example.org"]},
            }),
            ..PolicyConfig::default()
        };
        let problems = config.validate();
        let paths: Vec<String> = problems.iter().map(|p| p.path.clone()).collect();
        // `banned_domains` sits at the top of `policy.data` in MAS, not under `emails`.
        assert_eq!(paths, ["policy.data.emails.banned_domains"]);
        assert!(problems.iter().all(|p| !p.is_error()), "{problems:?}");
    }

    #[test]
    fn a_wasm_module_is_a_warning_naming_it() {
        let config = PolicyConfig {
            wasm_module: Some(PathBuf::from("/etc/mas/policy.wasm")),
            ..PolicyConfig::default()
        };
        let problems = config.validate();
        assert_eq!(problems.len(), 1);
        assert_eq!(problems[0].path, "policy.wasm_module");
        assert!(problems[0].message.contains("/etc/mas/policy.wasm"));
        assert!(!problems[0].is_error());
    }

    #[test]
    fn replacing_the_default_policy_needs_a_directory() {
        let config = PolicyConfig {
            replace_default_policy: true,
            ..PolicyConfig::default()
        };
        let problems = config.validate();
        assert_eq!(problems.len(), 1);
        assert_eq!(problems[0].path, "policy.replace_default_policy");
        assert!(problems[0].is_error());
    }

    #[test]
    fn malformed_values_of_known_keys_are_errors_naming_their_path() {
        let config = PolicyConfig {
            data: serde_json::json!({
                "admin_users": "alice",
                "client_registration": {"allow_insecure_uris": "yes"},
                "registration": {"banned_usernames": {"regexes": ["^admin", "(unclosed"]}},
                "requester": {"banned_ips": ["10.0.0.0/8", "192.0.2.1", "not-an-ip"]},
                "emails": ["nope"],
            }),
            ..PolicyConfig::default()
        };
        let errors: Vec<(String, String)> = config
            .validate()
            .into_iter()
            .filter(Problem::is_error)
            .map(|p| (p.path, p.message))
            .collect();
        let paths: Vec<&str> = errors.iter().map(|(path, _)| path.as_str()).collect();
        assert_eq!(
            paths,
            [
                "policy.data.admin_users",
                "policy.data.client_registration.allow_insecure_uris",
                "policy.data.emails",
                "policy.data.registration.banned_usernames.regexes[1]",
                "policy.data.requester.banned_ips[2]",
            ],
            "{errors:?}"
        );
        assert!(
            errors[3].1.contains("not a regular expression"),
            "{errors:?}"
        );
        assert!(errors[4].1.contains("\"not-an-ip\""), "{errors:?}");
    }

    #[test]
    fn an_unknown_key_inside_a_known_object_is_a_warning_with_a_guess() {
        let config = PolicyConfig {
            data: serde_json::json!({
                "registration": {"baned_usernames": {"literals": ["root"]}, "colour": "red"},
                "my_custom_rule": {"anything": 1},
            }),
            ..PolicyConfig::default()
        };
        let problems = config.validate();
        assert!(problems.iter().all(|p| !p.is_error()), "{problems:?}");
        let typo = problems
            .iter()
            .find(|p| p.path == "policy.data.registration.baned_usernames")
            .expect("the misspelt key is reported");
        assert!(
            typo.message.contains("did you mean banned_usernames?"),
            "{typo:?}"
        );
        let other = problems
            .iter()
            .find(|p| p.path == "policy.data.registration.colour")
            .expect("the unknown key is reported");
        assert!(
            other
                .message
                .contains("allowed_usernames, banned_usernames"),
            "{other:?}"
        );
        // A key of a custom policy is not judged beyond the usual `not applied` warning.
        assert!(
            !problems
                .iter()
                .any(|p| p.path.starts_with("policy.data.my_custom_rule."))
        );
    }

    #[test]
    fn a_well_formed_mas_policy_data_has_no_error() {
        let config = PolicyConfig {
            data: serde_json::json!({
                "admin_users": ["alice"],
                "admin_clients": ["01J000000000000000000000AB"],
                "client_registration": {"allow_insecure_uris": true, "allow_host_mismatch": false},
                "registration": {
                    "allowed_usernames": {"regexes": ["^[a-z]+$"], "prefixes": ["team-"]},
                    "banned_usernames": {"literals": ["root"], "substrings": ["admin"]},
                },
                "emails": {"banned_addresses": {"suffixes": ["@spam.example"]}},
                "allowed_domains": ["*.example.com"],
                "banned_domains": ["evil.example"],
                "requester": {"banned_ips": ["10.0.0.0/8", "2001:db8::1"], "banned_user_agents": {"substrings": ["curl"]}},
            }),
            ..PolicyConfig::default()
        };
        let problems = config.validate();
        assert!(problems.iter().all(|p| !p.is_error()), "{problems:?}");
        assert!(
            problems.iter().all(|p| p.message.contains("not applied")),
            "{problems:?}"
        );
    }

    #[test]
    fn the_applied_keys_alone_give_no_warning() {
        let config = PolicyConfig {
            data: serde_json::json!({"admin_users": ["alice"], "admin_clients": ["bot"]}),
            ..PolicyConfig::default()
        };
        assert!(config.validate().is_empty());
    }
}
