//! `clients`: OAuth 2.0 clients declared in the file (synced to the database as static clients).

use std::{collections::HashSet, path::PathBuf};

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use url::Url;

use crate::{
    path::{index, join},
    problem::Problem,
    secret::{self, Secret, SecretSource},
};

/// How a client authenticates at the token endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ClientAuthMethod {
    /// A public client: no authentication.
    None,
    /// `client_id` and `client_secret` in HTTP Basic authentication.
    ClientSecretBasic,
    /// `client_id` and `client_secret` in the request body.
    ClientSecretPost,
    /// A JWT assertion signed with the client secret (HMAC).
    ClientSecretJwt,
    /// A JWT assertion signed with one of the client's private keys.
    PrivateKeyJwt,
}

impl ClientAuthMethod {
    /// Whether the method proves possession of a shared secret.
    #[must_use]
    pub fn uses_secret(self) -> bool {
        matches!(
            self,
            Self::ClientSecretBasic | Self::ClientSecretPost | Self::ClientSecretJwt
        )
    }
}

/// One OAuth 2.0 client.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ClientConfig {
    /// The client's identifier. MAS uses ULIDs; any non-empty string is accepted.
    pub client_id: String,

    /// How the client authenticates.
    pub client_auth_method: ClientAuthMethod,

    /// Human-readable name of the client.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_name: Option<String>,

    /// Home page of the client.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_uri: Option<Url>,

    /// The client secret, for the `client_secret_*` methods.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_secret: Option<Secret>,

    /// File holding the client secret.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_secret_file: Option<PathBuf>,

    /// The client's public keys (a JWK set), for `private_key_jwt`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jwks: Option<serde_json::Value>,

    /// Where to fetch the client's public keys, for `private_key_jwt`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jwks_uri: Option<Url>,

    /// Redirect URIs the client may use.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub redirect_uris: Vec<Url>,
}

impl ClientConfig {
    /// Where the client secret comes from.
    #[must_use]
    pub fn client_secret(&self) -> Option<SecretSource> {
        secret::source(
            self.client_secret.as_ref(),
            self.client_secret_file.as_ref(),
        )
    }

    fn validate(&self, path: &str, problems: &mut Vec<Problem>) {
        if self.client_id.trim().is_empty() {
            problems.push(Problem::error(
                join(path, "client_id"),
                "the client id is empty",
            ));
        }
        let has_secret = (
            self.client_secret.is_some(),
            self.client_secret_file.is_some(),
        );
        let method = self.client_auth_method;
        if has_secret.0 && has_secret.1 {
            secret::check_pair(
                problems,
                path,
                "client_secret",
                has_secret,
                secret::Presence::Optional,
            );
        } else if method.uses_secret() && !has_secret.0 && !has_secret.1 {
            problems.push(
                Problem::error(
                    join(path, "client_secret"),
                    "the client authenticates with a secret, but none is given",
                )
                .with_hint("set `client_secret` or `client_secret_file`"),
            );
        } else if !method.uses_secret() && (has_secret.0 || has_secret.1) {
            problems.push(
                Problem::error(
                    join(path, "client_secret"),
                    format!(
                        "a client using `{}` must not have a secret",
                        method_name(method)
                    ),
                )
                .with_hint("remove the secret, or pick a client_secret_* method"),
            );
        }
        match (method, &self.jwks, &self.jwks_uri) {
            (ClientAuthMethod::PrivateKeyJwt, Some(_), Some(_)) => problems.push(
                Problem::error(join(path, "jwks"), "both `jwks` and `jwks_uri` are set")
                    .with_hint("keep exactly one of them"),
            ),
            (ClientAuthMethod::PrivateKeyJwt, None, None) => problems.push(Problem::error(
                join(path, "jwks"),
                "a `private_key_jwt` client needs `jwks` or `jwks_uri`",
            )),
            (ClientAuthMethod::PrivateKeyJwt, _, _) => {}
            (_, jwks, jwks_uri) => {
                if jwks.is_some() || jwks_uri.is_some() {
                    problems.push(Problem::warning(
                        join(path, if jwks.is_some() { "jwks" } else { "jwks_uri" }),
                        "only used by `private_key_jwt` clients, ignored",
                    ));
                }
            }
        }
        if let Some(jwks) = &self.jwks
            && !jwks.get("keys").is_some_and(serde_json::Value::is_array)
        {
            problems.push(Problem::error(
                join(path, "jwks"),
                "not a JWK set: expected an object with a `keys` list",
            ));
        }
    }
}

fn method_name(method: ClientAuthMethod) -> String {
    serde_json::to_value(method)
        .ok()
        .and_then(|value| value.as_str().map(str::to_owned))
        .unwrap_or_default()
}

/// Every problem in the `clients` list.
#[must_use]
pub fn validate(clients: &[ClientConfig]) -> Vec<Problem> {
    let mut problems = Vec::new();
    let mut ids = HashSet::new();
    for (i, client) in clients.iter().enumerate() {
        let path = index("clients", i);
        if !ids.insert(client.client_id.as_str()) {
            problems.push(Problem::error(
                join(&path, "client_id"),
                format!("the client id `{}` is used twice", client.client_id),
            ));
        }
        client.validate(&path, &mut problems);
    }
    problems
}

pub(crate) fn redact_secrets(clients: &mut [ClientConfig]) {
    for client in clients {
        secret::redact(&mut client.client_secret);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client(method: ClientAuthMethod) -> ClientConfig {
        ClientConfig {
            client_id: "01H8PKNWKKRPCBW4YGH1RWV279".to_owned(),
            client_auth_method: method,
            client_name: None,
            client_uri: None,
            client_secret: None,
            client_secret_file: None,
            jwks: None,
            jwks_uri: None,
            redirect_uris: Vec::new(),
        }
    }

    #[test]
    fn a_secret_client_without_a_secret_is_an_error() {
        let problems = validate(&[client(ClientAuthMethod::ClientSecretPost)]);
        assert_eq!(problems.len(), 1);
        assert_eq!(problems[0].path, "clients[0].client_secret");
    }

    #[test]
    fn a_public_client_with_a_secret_is_an_error() {
        let mut public = client(ClientAuthMethod::None);
        public.client_secret = Some(Secret::new("s"));
        let problems = validate(&[public]);
        assert!(problems[0].message.contains("`none`"));
    }

    #[test]
    fn a_private_key_jwt_client_needs_exactly_one_key_source() {
        let mut both = client(ClientAuthMethod::PrivateKeyJwt);
        both.jwks = Some(serde_json::json!({"keys": []}));
        both.jwks_uri = Some(Url::parse("https://client.example/jwks").expect("a valid URL"));
        assert_eq!(validate(&[both]).len(), 1);
        assert_eq!(
            validate(&[client(ClientAuthMethod::PrivateKeyJwt)]).len(),
            1
        );
    }

    #[test]
    fn a_secret_given_as_a_file_is_accepted() {
        let mut confidential = client(ClientAuthMethod::ClientSecretBasic);
        confidential.client_secret_file = Some(PathBuf::from("/run/secrets/client"));
        assert!(validate(&[confidential]).is_empty());
    }
}
